"""`veracity batch` on a real LocalCluster: same verdicts as check_many, rejects, resuming."""

from __future__ import annotations

import gzip
import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from veracity.batch import Columns, score_files
from veracity.cli import app
from veracity.detector import Detector
from veracity.settings import Settings

runner = CliRunner()


def _inputs(tmp_path: Path, corpus: pd.DataFrame) -> list[str]:
    """A CSV of the corpus plus bad rows, and a JSONL file with more bad rows."""
    frame = corpus.copy()
    frame.loc[5, ["title", "text"]] = ["", "   "]  # empty text
    csv_path = tmp_path / "news.csv"
    frame.to_csv(csv_path, index=False)
    with open(csv_path, "ab") as handle:  # a row with a Latin-1 byte: not UTF-8
        handle.write(b'bad-bytes,,"caf\xe9 au lait with the senate budget committee",fake\n')
    jsonl = tmp_path / "more.jsonl"
    lines = [
        json.dumps({"id": "j-ok", "text": " ".join(corpus.loc[0, "text"].split()[::-1])}),
        json.dumps({"id": "j-missing", "title": ""}),  # no text at all
        "{not json",
        json.dumps({"id": "j-big", "text": "word " * 400}),  # over the 1,000-byte limit below
    ]
    jsonl.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [str(csv_path), str(tmp_path / "*.jsonl")]


def _docs(frame: pd.DataFrame) -> list[str]:
    return [
        f"{title}\n\n{text}" if title.strip() else text
        for title, text in zip(frame["title"], frame["text"], strict=True)
    ]


def test_same_verdicts_as_check_many_and_rejects_with_reasons(
    tmp_path: Path, corpus: pd.DataFrame, model_dir: Path, scheduler: str
) -> None:
    settings = Settings(max_document_bytes=1_000)
    result = score_files(
        _inputs(tmp_path, corpus),
        tmp_path / "out.parquet",
        model=model_dir,
        partition_rows=25,
        scheduler=scheduler,
        settings=settings,
    )
    assert (result.partitions, result.skipped) == (6, 0)  # 121 CSV rows in 5, 4 JSONL in 1
    scored = pd.read_parquet(tmp_path / "out.parquet")  # the _rejects folder is not read
    rejects = pd.read_parquet(tmp_path / "out.parquet" / "_rejects")
    assert list(scored.columns) == ["id", "label", "probability", "abstained", "model_id"]
    assert (result.scored, result.rejected) == (len(scored), len(rejects)) == (120, 5)

    reasons = dict(zip(rejects["id"], rejects["reason"], strict=True))
    assert reasons[corpus.loc[5, "id"]] == "empty text"
    assert reasons["bad-bytes"] == "undecodable bytes: not UTF-8"
    assert reasons["j-missing"] == "missing text"
    assert reasons["j-big"].startswith("too large: 2,000 bytes is over max_document_bytes")
    assert rejects.loc[rejects["reason"].str.startswith("malformed record"), "row"].tolist() == [3]
    assert result.reasons == {
        "empty text": 1,
        "undecodable bytes": 1,
        "missing text": 1,
        "malformed record": 1,
        "too large": 1,
    }

    # every good row once, in file order, with exactly check_many's verdicts
    good = corpus.drop(index=5)
    expected_ids = [*good["id"], "j-ok"]
    assert scored["id"].tolist() == expected_ids
    texts = [*_docs(good), " ".join(corpus.loc[0, "text"].split()[::-1])]
    verdicts = Detector.from_path(model_dir, settings).check_many(texts)
    assert scored["label"].tolist() == [v.label for v in verdicts]
    assert scored["probability"].tolist() == [v.probability for v in verdicts]
    assert scored["abstained"].tolist() == [v.abstained for v in verdicts]
    assert set(scored["model_id"]) == {verdicts[0].model_id}
    assert {"fake", "reliable"} == set(scored["label"])


def test_a_rerun_redoes_only_missing_or_damaged_parts(
    tmp_path: Path, corpus: pd.DataFrame, model_dir: Path, scheduler: str
) -> None:
    inputs, out = _inputs(tmp_path, corpus), tmp_path / "out.parquet"
    first = score_files(inputs, out, model=model_dir, partition_rows=25, scheduler=scheduler)
    before = pd.read_parquet(out)
    # an interrupted run: one part never written, one cut short, a temporary file left over
    (out / "part-00001.parquet").unlink()
    damaged = out / "part-00003.parquet"
    damaged.write_bytes(damaged.read_bytes()[:40])
    (out / ".part-00004.parquet.deadbeef.tmp").write_bytes(b"half a file")
    again = score_files(inputs, out, model=model_dir, partition_rows=25, scheduler=scheduler)
    assert again.skipped == first.partitions - 2
    after = pd.read_parquet(out)
    assert not after["id"].duplicated().any()
    pd.testing.assert_frame_equal(after, before)
    assert (again.scored, again.rejected) == (first.scored, first.rejected)
    assert not list(out.glob(".*.tmp"))


def test_a_killed_run_resumes_without_duplicates(
    tmp_path: Path, corpus: pd.DataFrame, model_dir: Path, scheduler: str
) -> None:
    big = pd.concat([corpus] * 10, ignore_index=True)
    big["id"] = [f"r{i}" for i in range(len(big))]
    path = tmp_path / "big.csv"
    big.to_csv(path, index=False)
    out = tmp_path / "out.parquet"
    args = [
        "batch",
        "-i",
        str(path),
        "-o",
        str(out),
        "--model",
        str(model_dir),
        "--partition-rows",
        "10",
        "--scheduler",
        scheduler,
    ]
    code = "import sys; from veracity.cli import main; sys.argv[0] = 'veracity'; main()"
    process = subprocess.Popen(
        [sys.executable, "-c", code, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(list(out.glob("part-*.parquet"))) < 3:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)  # the client dies mid-run
    process.wait()
    done = len(list(out.glob("part-*.parquet")))
    assert 3 <= done < 120, "the run finished before it could be killed"
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["partitions"] == 120 and summary["skipped"] >= done
    assert summary["scored"] == len(big) and summary["rejected"] == 0
    scored = pd.read_parquet(out)
    assert scored["id"].tolist() == big["id"].tolist()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-i", "{tmp}/nope.csv"], "no such file"),
        (["-i", "{tmp}/*.parquet"], "no file matches"),
        (["-i", "{tmp}/notes.docx"], "unknown file type"),
        (["-i", "{tmp}/plain.csv"], "no text column found"),
        (["-i", "{tmp}/plain.csv", "--text-col", "body"], "has no column 'body'"),
        (["-i", "{tmp}/array.json"], "is a JSON array"),
        (["-i", "{tmp}/corrupt.csv.gz"], "corrupt.csv.gz: is a damaged or truncated gzip"),
        (["-i", "{tmp}/bomb.csv.gz"], "bomb.csv.gz: decompresses to more than 1,000,000 bytes"),
        (["-i", "{tmp}/plain.csv", "--scheduler", "tcp://127.0.0.1:9"], "cannot reach"),
        (["-i", "{tmp}/plain.csv", "--scheduler", "nonsense://x:1"], "not a Dask scheduler"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, model_dir: Path, args: list[str], message: str
) -> None:
    (tmp_path / "notes.docx").write_bytes(b"PK\x03\x04")
    (tmp_path / "plain.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (tmp_path / "array.json").write_text('[{"text": "x"}]\n', encoding="utf-8")
    (tmp_path / "corrupt.csv.gz").write_bytes(corrupt_gzip())
    (tmp_path / "bomb.csv.gz").write_bytes(gzip.compress(b"text\n" + b"a" * 3_000_000))
    if "--scheduler" in args:
        (tmp_path / "plain.csv").write_text("text\nhello\n", encoding="utf-8")
    argv = [
        "batch",
        *(a.format(tmp=tmp_path) for a in args),
        "-o",
        str(tmp_path / "o"),
        "--model",
        str(model_dir),
    ]
    result = runner.invoke(app, argv, env={"VERACITY_MAX_DECOMPRESSED_BYTES": "1000000"})
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) <= 3
    assert not list((tmp_path / "o").rglob("*.tmp"))  # no half-staged file is left


def corrupt_gzip() -> bytes:
    """A gzip file whose deflate data is damaged (``zlib.error`` when read)."""
    data = bytearray(gzip.compress(b"id,text\n" + b"1,some words of news\n" * 2_000))
    for i in range(12, 40):
        data[i] ^= 0xFF
    return bytes(data)


def test_an_output_of_another_run_is_refused(
    tmp_path: Path, corpus: pd.DataFrame, model_dir: Path, scheduler: str
) -> None:
    inputs, out = _inputs(tmp_path, corpus), tmp_path / "out.parquet"
    score_files(inputs[:1], out, model=model_dir, partition_rows=60, scheduler=scheduler)
    result = runner.invoke(
        app,
        [
            "batch",
            "-i",
            inputs[0],
            "-o",
            str(out),
            "--model",
            str(model_dir),
            "--partition-rows",
            "30",
            "--scheduler",
            scheduler,
        ],
    )
    assert result.exit_code == 2
    assert "holds a run with other inputs" in result.stderr


def test_columns_are_chosen_like_the_generic_loader(
    tmp_path: Path, corpus: pd.DataFrame, model_dir: Path, scheduler: str
) -> None:
    frame = corpus.rename(columns={"id": "key", "text": "body", "title": "headline"})
    path = tmp_path / "renamed.parquet"
    frame.to_parquet(path, index=False, row_group_size=50)
    out = tmp_path / "out.parquet"
    result = score_files(
        [str(path)],
        out,
        model=model_dir,
        scheduler=scheduler,
        partition_rows=1000,
        columns=Columns(text_col="body", id_col="key"),
    )
    assert result.partitions == 3  # one per row group
    assert pd.read_parquet(out)["id"].tolist() == corpus["id"].tolist()


def test_importing_the_cli_and_batch_does_not_load_dask() -> None:
    code = (
        "import sys, veracity.cli, veracity.batch; "
        "print(sorted(m for m in ('dask', 'distributed') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_a_rerun_with_nothing_left_says_so_and_gives_no_rate(
    tmp_path: Path, corpus: pd.DataFrame, model_dir: Path, scheduler: str
) -> None:
    path = tmp_path / "news.csv"
    corpus.to_csv(path, index=False)
    args = ["batch", "-i", str(path), "-o", str(tmp_path / "out.parquet")]
    args += ["--model", str(model_dir), "--partition-rows", "40", "--scheduler", scheduler]
    first = runner.invoke(app, args, env={"COLUMNS": "300"})
    assert first.exit_code == 0, first.output
    said = " ".join(first.stdout.split())
    assert (
        f"scored {len(corpus):,} rows" in said and "this run read 120 rows of 3 partitions" in said
    )
    assert re.search(r"\(\d[\d,]* rows/s\)", said), said
    again = runner.invoke(app, args, env={"COLUMNS": "300"})
    assert again.exit_code == 0, again.output
    said = " ".join(again.stdout.split())
    assert "nothing left to do: all 3 partitions were already scored" in said, said
    assert "nothing scored this run" in said and "120 scored rows and 0 rejected" in said
    assert "rows/s" not in said
    summary = json.loads(runner.invoke(app, [*args, "--json"]).stdout)
    assert (summary["skipped"], summary["rows_this_run"], summary["scored"]) == (3, 0, 120)


def test_a_client_whose_event_loop_is_slow_to_start_is_tried_once_more(
    monkeypatch: pytest.MonkeyPatch, scheduler: str
) -> None:
    """distributed asserts when its IO-loop thread takes over 10 s to start (a busy machine)."""
    import distributed

    from veracity.batch.scoring import cluster_client
    from veracity.errors import InputError

    real = distributed.Client
    failures = [1]

    def flaky(*args: object, **kwargs: object) -> object:
        if failures:
            failures.pop()
            raise AssertionError
        return real(*args, **kwargs)

    monkeypatch.setattr(distributed, "Client", flaky)
    with cluster_client(scheduler=scheduler) as client:
        assert client.scheduler_info()["address"] == scheduler
    assert not failures

    def always(*args: object, **kwargs: object) -> object:
        raise AssertionError

    monkeypatch.setattr(distributed, "Client", always)
    with pytest.raises(InputError, match="event loop did not start"):
        with cluster_client(scheduler=scheduler):
            pass
