"""Memory limits of the loaders: one document per cell, and what a gzip file may expand to.

Every cell is held to ``max_document_bytes`` (the limit ``check`` uses), so one huge cell
cannot drive training or evaluation out of memory; a gzip file may expand to at most
``min(20 x max_file_bytes, max_decompressed_bytes)``, checked while it decompresses.
"""

from __future__ import annotations

import gzip
import json
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from veracity.cli import app
from veracity.data import load_dataset
from veracity.data.articles import load_articles
from veracity.data.covid import load_covid
from veracity.data.isot import load_isot_kaggle, load_isot_sample
from veracity.data.liar import LIAR_COLUMNS, load_liar
from veracity.errors import DataFormatError, InputTooLargeError
from veracity.settings import Settings

LIMIT = 1_000
SMALL = Settings(max_document_bytes=LIMIT)
BIG = "é" * 600  # 600 characters, 1,200 bytes of UTF-8: over LIMIT in bytes only
runner = CliRunner()


def _rows(n: int = 4) -> list[dict[str, str]]:
    return [
        {"id": f"r{i}", "title": f"Title {i}", "text": f"body {i} " * 20, "label": "fake"}
        for i in range(1, n + 1)
    ]


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    frame = pd.DataFrame(rows)
    name = path.name.removesuffix(".gz")
    if name.endswith(".parquet"):
        frame.to_parquet(path, index=False)
    elif name.endswith(".jsonl"):
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        path.write_bytes(gzip.compress(text.encode()) if path.suffix == ".gz" else text.encode())
    else:
        frame.to_csv(path, sep="\t" if ".tsv" in name else ",", index=False)


# --- one cell over max_document_bytes ------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "where"),
    [
        ("news.csv", "row 3"),
        ("news.csv.gz", "row 3"),
        ("news.tsv", "row 3"),
        ("news.jsonl", "line 3"),
        ("news.jsonl.gz", "line 3"),
        ("news.parquet", "row 3"),
    ],
)
def test_a_cell_over_the_document_limit_is_refused(tmp_path: Path, name: str, where: str) -> None:
    rows = _rows()
    rows[2]["text"] = BIG
    path = tmp_path / name
    _write(path, rows)
    with pytest.raises(InputTooLargeError) as info:
        load_dataset(str(path), settings=SMALL)
    message = str(info.value)
    assert message.startswith(f"{path}: {where}")
    assert "column 'text'" in message and "1,200 bytes" in message
    assert "1,000 bytes" in message and "VERACITY_MAX_DOCUMENT_BYTES" in message
    assert "\n" not in message
    # the limit is in bytes, inclusive: a cell of exactly LIMIT bytes is fine
    rows[2]["text"] = "é" * (LIMIT // 2)
    _write(path, rows)
    assert len(load_dataset(str(path), settings=SMALL).frame) == 4


def test_the_first_oversize_row_is_named_whatever_its_column(tmp_path: Path) -> None:
    rows = _rows(6)
    rows[4]["text"] = "x" * (LIMIT + 1)
    rows[3]["title"] = "y" * (LIMIT + 1)  # earlier row, other column
    path = tmp_path / "news.csv"
    _write(path, rows)
    with pytest.raises(InputTooLargeError, match=r"news\.csv: row 4, column 'title'"):
        load_dataset(str(path), settings=SMALL)


def _isot_sample(folder: Path) -> Callable[[], object]:
    rows = [{**r, "subject": "news", "date": "2017", "label": "fake"} for r in _rows()]
    rows[1]["text"] = BIG
    pd.DataFrame(rows).drop(columns="id").to_csv(folder / "isot_sample.csv.gz", index=False)
    return lambda: load_isot_sample(folder / "isot_sample.csv.gz", settings=SMALL)


def _isot_kaggle(folder: Path) -> Callable[[], object]:
    rows = [{**r, "subject": "news", "date": "2017"} for r in _rows()]
    pd.DataFrame(rows).drop(columns=["id", "label"]).to_csv(folder / "True.csv", index=False)
    rows[1]["text"] = BIG
    pd.DataFrame(rows).drop(columns=["id", "label"]).to_csv(folder / "Fake.csv", index=False)
    return lambda: load_isot_kaggle(folder, settings=SMALL)


def _liar(folder: Path) -> Callable[[], object]:
    for split in ("train", "valid", "test"):
        lines = []
        for i in range(1, 4):
            cells = dict.fromkeys(LIAR_COLUMNS, "0") | {"id": f"{split}-{i}.json"}
            cells |= {"label6": "false", "text": BIG if (split, i) == ("valid", 2) else "a claim"}
            lines.append("\t".join(cells[c] for c in LIAR_COLUMNS))
        (folder / f"{split}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return lambda: load_liar(folder, settings=SMALL)


def _covid(folder: Path) -> Callable[[], object]:
    for split in ("train", "valid", "test"):
        rows = [{"id": str(i), "tweet": f"post {i}", "label": "real"} for i in range(1, 4)]
        if split == "test":
            rows[1]["tweet"] = BIG
        pd.DataFrame(rows).to_csv(folder / f"{split}.csv", index=False)
    return lambda: load_covid(folder, settings=SMALL)


def _articles(folder: Path) -> Callable[[], object]:
    rows = [{**r, "source_dataset": "demo"} for r in _rows()]
    rows[1]["text"] = BIG
    pd.DataFrame(rows).to_csv(folder / "data.csv.gz", index=False)
    return lambda: load_articles(folder, settings=SMALL)


@pytest.mark.parametrize(
    ("make", "file", "where"),
    [
        (_isot_sample, "isot_sample.csv.gz", "row 2"),
        (_isot_kaggle, "Fake.csv", "row 2"),
        (_liar, "valid.tsv", "row 2"),
        (_covid, "test.csv", "row 2"),
        (_articles, "data.csv.gz", "row 2"),
    ],
)
def test_every_dataset_loader_holds_cells_to_the_limit(
    tmp_path: Path, make: Callable[[Path], Callable[[], object]], file: str, where: str
) -> None:
    load = make(tmp_path)
    with pytest.raises(InputTooLargeError, match=rf"{file}: {where}, column '\w+'.*1,000 bytes"):
        load()


def test_an_oversize_cell_is_refused_before_it_is_used(tmp_path: Path) -> None:
    """The check is on the parsed cells: nothing past the parser sees the oversize text."""
    rows = _rows()
    rows[0]["text"] = "w" * 200_000  # one 200 KB token
    path = tmp_path / "news.csv"
    _write(path, rows)
    tracemalloc.start()
    try:
        with pytest.raises(InputTooLargeError):
            load_dataset(str(path), settings=SMALL)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 200_000  # a few copies of the file, not a feature matrix


# --- gzip: the decompression cap ----------------------------------------------------------


def test_the_default_decompression_cap_is_one_gibibyte() -> None:
    from veracity.data._io import gzip_limit

    settings = Settings()
    assert settings.max_decompressed_bytes == 2**30
    assert gzip_limit(settings) == 2**30  # not 20 x the 2 GB file limit (40 GB)
    assert gzip_limit(Settings(max_file_bytes=1_000)) == 20_000  # the ratio still applies
    assert "1 GiB" in (Settings.model_fields["max_decompressed_bytes"].description or "")


def test_a_gzip_bomb_is_refused_while_it_decompresses(tmp_path: Path) -> None:
    path = tmp_path / "bomb.csv.gz"
    path.write_bytes(gzip.compress(b"text,label\n" + b"a" * 30_000_000 + b",fake\n"))
    settings = Settings(max_decompressed_bytes=2_000_000)  # the file limit allows 20x 2 GB
    tracemalloc.start()
    try:
        with pytest.raises(InputTooLargeError) as info:
            load_dataset(str(path), settings=settings)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "bomb.csv.gz: decompresses to more than 2,000,000 bytes" in str(info.value)
    assert "VERACITY_MAX_DECOMPRESSED_BYTES" in str(info.value)
    assert peak < 10_000_000  # stopped near the cap, not after 30 MB


def test_corrupt_deflate_data_is_a_data_format_error(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.csv.gz"
    path.write_bytes(corrupt_gzip())
    with pytest.raises(DataFormatError, match=r"corrupt\.csv\.gz: is a damaged"):
        load_dataset(str(path), settings=Settings())


def corrupt_gzip() -> bytes:
    """A gzip file whose deflate data is damaged (``zlib.error`` when read)."""
    data = bytearray(gzip.compress(b"text,label\n" + b"some words of news,fake\n" * 2_000))
    for i in range(12, 40):
        data[i] ^= 0xFF
    return bytes(data)


# --- through the command line: exit 2, one line ---------------------------------------------


def _one_line_error(args: list[str], env: dict[str, str] | None = None) -> str:
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 2, (result.stdout, result.stderr, result.exception)
    err = result.stderr.strip()
    assert err.startswith("error:") and "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    return err


@pytest.mark.parametrize("command", ["evaluate", "train"])
def test_cli_refuses_an_oversize_cell_in_one_line(tmp_path: Path, command: str) -> None:
    rows = _rows(30)
    for i, row in enumerate(rows):
        row["label"] = "fake" if i % 2 else "real"
    rows[7]["text"] = "w" * 3_000
    path = tmp_path / "news.csv"
    _write(path, rows)
    extra = ["--out", str(tmp_path / "model")] if command == "train" else []
    err = _one_line_error(
        [command, "--data", str(path), *extra], env={"VERACITY_MAX_DOCUMENT_BYTES": "2000"}
    )
    assert f"{path}: row 8, column 'text'" in err and "2,000 bytes" in err
    assert not (tmp_path / "model").exists()


@pytest.mark.parametrize("command", ["evaluate", "train"])
@pytest.mark.parametrize("kind", ["bomb", "corrupt"])
def test_cli_refuses_a_bad_gzip_in_one_line(tmp_path: Path, command: str, kind: str) -> None:
    path = tmp_path / f"{kind}.csv.gz"
    if kind == "bomb":
        path.write_bytes(gzip.compress(b"text,label\n" + b"a" * 5_000_000 + b",fake\n"))
    else:
        path.write_bytes(corrupt_gzip())
    extra = ["--out", str(tmp_path / "model")] if command == "train" else []
    err = _one_line_error(
        [command, "--data", str(path), *extra], env={"VERACITY_MAX_DECOMPRESSED_BYTES": "1000000"}
    )
    expected = "decompresses to more than 1,000,000 bytes" if kind == "bomb" else "damaged"
    assert f"{path}: " in err and expected in err
