"""`veracity batch` never deletes or overwrites a file it did not write (#13).

It refuses (exit 2, one line, before writing anything) a blank ``--output``, an output
folder holding an input, and a folder holding files its manifest does not list; it keeps
resuming its own runs.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from veracity.batch import score_files
from veracity.cli import app

runner = CliRunner()
MANIFEST = ".veracity-batch.json"


def _snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative path → bytes)."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _batch(args: list[str], model_dir: Path, scheduler: str) -> tuple[int, str]:
    result = runner.invoke(
        app, ["batch", *args, "--model", str(model_dir), "--scheduler", scheduler]
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stderr


def _assert_one_line(code: int, err: str, expected: str) -> None:
    assert code == 2, err
    assert err.strip().startswith("error:") and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert expected in err, err


def test_inputs_in_the_output_folder_are_refused_and_kept(
    tmp_path: Path, corpus: pd.DataFrame, model_dir: Path, scheduler: str
) -> None:
    """The report of #13: inputs part-0/1.parquet in spark/, --output spark."""
    spark = tmp_path / "spark"
    spark.mkdir()
    corpus.iloc[:60].to_parquet(spark / "part-00000.parquet", index=False)
    corpus.iloc[60:].to_parquet(spark / "part-00001.parquet", index=False)
    before = _snapshot(spark)
    code, err = _batch(["-i", f"{spark}/*.parquet", "-o", str(spark)], model_dir, scheduler)
    _assert_one_line(code, err, "holds the input")
    assert _snapshot(spark) == before  # byte-identical, nothing added


def test_a_folder_above_the_inputs_is_refused(
    tmp_path: Path, corpus: pd.DataFrame, model_dir: Path, scheduler: str
) -> None:
    data = tmp_path / "data" / "2024"
    data.mkdir(parents=True)
    corpus.to_csv(data / "news.csv", index=False)
    before = _snapshot(tmp_path)
    code, err = _batch(["-i", str(data / "news.csv"), "-o", str(tmp_path)], model_dir, scheduler)
    _assert_one_line(code, err, "holds the input")
    assert _snapshot(tmp_path) == before


@pytest.mark.parametrize("stranger", ["notes.txt", ".foo.tmp", "part-00000.parquet"])
def test_a_folder_with_files_batch_did_not_write_is_refused_and_untouched(
    tmp_path: Path, corpus: pd.DataFrame, model_dir: Path, scheduler: str, stranger: str
) -> None:
    corpus.to_csv(tmp_path / "news.csv", index=False)
    out = tmp_path / "out"
    out.mkdir()
    (out / stranger).write_bytes(b"the user's own file")
    code, err = _batch(["-i", str(tmp_path / "news.csv"), "-o", str(out)], model_dir, scheduler)
    _assert_one_line(code, err, "batch did not write")
    assert stranger in err
    assert _snapshot(out) == {stranger: b"the user's own file"}  # no manifest, no parts


def test_a_users_tmp_file_in_an_earlier_output_survives(
    tmp_path: Path, corpus: pd.DataFrame, model_dir: Path, scheduler: str
) -> None:
    corpus.to_csv(tmp_path / "news.csv", index=False)
    out = tmp_path / "out"
    args = ["-i", str(tmp_path / "news.csv"), "-o", str(out), "--partition-rows", "50"]
    code, err = _batch(args, model_dir, scheduler)
    assert code == 0, err
    (out / ".foo.tmp").write_bytes(b"mine")
    (out / "_rejects" / "notes.md").write_bytes(b"mine too")
    before = _snapshot(out)
    code, err = _batch(args, model_dir, scheduler)
    _assert_one_line(code, err, "its manifest does not list")
    assert "'.foo.tmp'" in err and "'_rejects/notes.md'" in err
    assert _snapshot(out) == before


@pytest.mark.parametrize("blank", ["", "   "])
def test_a_blank_output_is_refused(
    tmp_path: Path,
    corpus: pd.DataFrame,
    model_dir: Path,
    scheduler: str,
    blank: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    corpus.to_csv(tmp_path / "news.csv", index=False)
    monkeypatch.chdir(tmp_path)
    code, err = _batch(["-i", "news.csv", "-o", blank], model_dir, scheduler)
    _assert_one_line(code, err, "--output is empty")
    assert [p.name for p in tmp_path.iterdir()] == ["news.csv"]


def test_an_empty_folder_is_used_and_the_manifest_lists_every_file(
    tmp_path: Path, corpus: pd.DataFrame, model_dir: Path, scheduler: str
) -> None:
    path = tmp_path / "news.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        corpus.to_csv(handle, index=False)
    out = tmp_path / "out"
    out.mkdir()
    result = score_files([str(path)], out, model=model_dir, partition_rows=50, scheduler=scheduler)
    assert (result.partitions, result.scored) == (3, 120)
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    parts = [f"part-{i:05d}.parquet" for i in range(3)]
    assert manifest["files"] == sorted(["_plan.json", *parts, *(f"_rejects/{p}" for p in parts)])
    assert set(_snapshot(out)) == {MANIFEST, *manifest["files"]}  # staging removed
    assert len(pd.read_parquet(out)) == 120  # readers skip the manifest


def test_a_resumed_run_still_cleans_its_own_leftovers(
    tmp_path: Path, corpus: pd.DataFrame, model_dir: Path, scheduler: str
) -> None:
    corpus.to_csv(tmp_path / "news.csv", index=False)
    out = tmp_path / "out"
    first = score_files(
        [str(tmp_path / "news.csv")], out, model=model_dir, partition_rows=30, scheduler=scheduler
    )
    before = pd.read_parquet(out)
    # what a killed run leaves: a missing part, temporary files of parts, rejects, manifest
    (out / "part-00002.parquet").unlink()
    for name in (
        ".part-00002.parquet.0123abcd.tmp",
        "_rejects/.part-00001.parquet.0123abcd.tmp",
        f".{MANIFEST}.0123abcd.tmp",
    ):
        (out / name).write_bytes(b"half a file")
    again = score_files(
        [str(tmp_path / "news.csv")], out, model=model_dir, partition_rows=30, scheduler=scheduler
    )
    assert again.skipped == first.partitions - 1
    pd.testing.assert_frame_equal(pd.read_parquet(out), before)
    assert not [p for p in out.rglob("*.tmp")]
