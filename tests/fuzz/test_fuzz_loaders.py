"""Every loader answers hostile files with a documented error (or a Dataset), never a crash.

Files are fuzzed bytes: CSV/TSV with quoting tricks and ragged rows, JSON Lines and JSON
arrays with odd values and very deep nesting, bytes in mixed encodings, gzip (truncated
too), and Parquet-looking bytes. The only exceptions allowed out are
:class:`~veracity.errors.VeracityError` subclasses (DataFormatError, InputTooLargeError).
"""

from __future__ import annotations

import gzip
import io
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzz.strategies import TEXT, delimited, file_bytes, json_records, well_formed
from veracity.data import Dataset, load_dataset
from veracity.data.articles import ARTICLE_COLUMNS, load_articles
from veracity.data.covid import COVID_COLUMNS, load_covid
from veracity.data.isot import ISOT_COLUMNS, load_isot_kaggle, load_isot_sample
from veracity.data.liar import LIAR_COLUMNS, load_liar
from veracity.errors import VeracityError
from veracity.settings import Settings

FUZZ = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SETTINGS = Settings(max_file_bytes=2_000_000)


@contextmanager
def folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


def load_or_refuse(load: Callable[[], Dataset]) -> None:
    """``load()`` returns a well-formed Dataset or raises a VeracityError; nothing else."""
    try:
        dataset = load()
    except VeracityError as exc:
        assert str(exc)  # every error says something
        return
    frame = dataset.frame
    # rows with neither title nor text are dropped and counted (maybe all of them)
    assert len(frame) + dataset.dropped_empty == dataset.rows_read > 0
    assert all(isinstance(t, str) for t in dataset.texts())
    assert set(dataset.labels()) <= {"fake", "reliable", ""}


@FUZZ
@given(
    st.sampled_from([".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".tab"]),
    st.data(),
)
def test_delimited_files(suffix: str, data: st.DataObject) -> None:
    sep = "\t" if ".t" in suffix and suffix != ".txt" else ","
    columns = data.draw(st.sampled_from([["text", "label"], ["id", "title", "text", "label"]]))
    text = st.one_of(delimited(sep=sep), well_formed(columns, sep=sep))
    content = data.draw(file_bytes(text, gz=suffix.endswith(".gz")))
    with folder() as where:
        path = where / f"news{suffix}"
        path.write_bytes(content)
        load_or_refuse(lambda: load_dataset(str(path), settings=SETTINGS))
        load_or_refuse(
            lambda: load_dataset(
                str(path), settings=SETTINGS, text_col="text", label_col="label", positive="1"
            )
        )


@FUZZ
@given(st.sampled_from([".jsonl", ".json", ".ndjson", ".jsonl.gz"]), st.data())
def test_json_files(suffix: str, data: st.DataObject) -> None:
    content = data.draw(file_bytes(json_records(), gz=suffix.endswith(".gz")))
    with folder() as where:
        path = where / f"news{suffix}"
        path.write_bytes(content)
        load_or_refuse(lambda: load_dataset(str(path), settings=SETTINGS))


def _parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, engine="pyarrow")
    return buffer.getvalue()


@FUZZ
@given(st.data())
def test_parquet_files(data: st.DataObject) -> None:
    kind = data.draw(st.sampled_from(["frame", "bytes", "damaged"]))
    if kind == "bytes":
        content = b"PAR1" + data.draw(st.binary(max_size=500)) + b"PAR1"
    else:
        n = data.draw(st.integers(0, 4))
        column = st.one_of(
            st.lists(TEXT, min_size=n, max_size=n),
            st.lists(st.one_of(st.none(), st.integers(-5, 5)), min_size=n, max_size=n),
            st.lists(st.lists(st.integers(0, 3), max_size=2), min_size=n, max_size=n),
            st.lists(st.binary(max_size=5), min_size=n, max_size=n),
        )
        names = data.draw(st.lists(st.sampled_from(["text", "label", "title", "x"]), unique=True))
        try:  # a frame pandas or pyarrow cannot hold (lone surrogates) is not a test case
            frame = pd.DataFrame({name: data.draw(column) for name in names} or {"x": [1] * n})
            content = _parquet(frame)
        except Exception:
            content = b"PAR1PAR1"
        if kind == "damaged" and len(content) > 12:
            cut = data.draw(st.integers(4, len(content) - 5))
            content = content[:cut] + bytes([content[cut] ^ 0xFF]) + content[cut + 1 :]
    with folder() as where:
        path = where / "news.parquet"
        path.write_bytes(content)
        load_or_refuse(lambda: load_dataset(str(path), settings=SETTINGS))


def _layout_file(
    data: st.DataObject, columns: tuple[str, ...], sep: str = ",", gz: bool = False
) -> bytes:
    header = data.draw(st.sampled_from([list(columns), list(columns)[:-1], []]))
    if data.draw(st.booleans()):
        text = data.draw(well_formed(list(columns), sep=sep))
    else:
        text = data.draw(delimited(header or None, sep=sep))
    if sep == "\t":
        text = text.split("\n", 1)[-1]  # LIAR files have no header
    return data.draw(file_bytes(st.just(text), gz=gz))


@FUZZ
@given(st.data())
def test_isot_loaders(data: st.DataObject) -> None:
    with folder() as where:
        sample = where / "isot_sample.csv.gz"
        sample.write_bytes(_layout_file(data, (*ISOT_COLUMNS, "label"), gz=True))
        load_or_refuse(lambda: load_isot_sample(sample, settings=SETTINGS))
        for name in ("True.csv", "Fake.csv"):
            (where / name).write_bytes(_layout_file(data, ISOT_COLUMNS))
        load_or_refuse(lambda: load_isot_kaggle(where, settings=SETTINGS))
        load_or_refuse(lambda: load_dataset(str(where), settings=SETTINGS))


@FUZZ
@given(st.data())
def test_liar_loader(data: st.DataObject) -> None:
    with folder() as where:
        for split in ("train", "valid", "test"):
            (where / f"{split}.tsv").write_bytes(_layout_file(data, LIAR_COLUMNS, sep="\t"))
        load_or_refuse(lambda: load_liar(where, settings=SETTINGS))
        load_or_refuse(lambda: load_liar(where, settings=SETTINGS, splits=("test",)))


@FUZZ
@given(st.data())
def test_covid_and_articles_loaders(data: st.DataObject) -> None:
    with folder() as where:
        for split in ("train", "valid", "test"):
            (where / f"{split}.csv.gz").write_bytes(_layout_file(data, COVID_COLUMNS, gz=True))
        load_or_refuse(lambda: load_covid(where, settings=SETTINGS))
        (where / "data.csv").write_bytes(_layout_file(data, ARTICLE_COLUMNS))
        load_or_refuse(lambda: load_articles(where, settings=SETTINGS))


def test_a_gzip_bomb_is_refused_by_size() -> None:
    with folder() as where:
        path = where / "bomb.csv.gz"
        path.write_bytes(gzip.compress(b"text,label\n" + b"a" * 50_000_000))
        with pytest.raises(VeracityError, match="decompresses to more than"):
            load_dataset(str(path), settings=Settings(max_file_bytes=1_000_000))


# -- what the fuzzers found, kept as plain regression tests --------------------------


@pytest.mark.parametrize(
    "content",
    [
        b'{"text": "a", "label": "fake"}\n' + b"[" * 100_000 + b"]" * 100_000,
        b"[" * 100_000 + b"]" * 100_000,
        b'[{"text": "a", "label": "fake", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}]",
    ],
)
def test_deeply_nested_json_is_a_data_format_error(content: bytes) -> None:
    with folder() as where:
        path = where / "deep.jsonl"
        path.write_bytes(content)
        with pytest.raises(VeracityError, match="nested too deeply"):
            load_dataset(str(path), settings=SETTINGS)


def test_lone_surrogate_escapes_in_json_become_replacement_characters() -> None:
    with folder() as where:
        path = where / "s.jsonl"
        path.write_bytes(b'{"text": "a \\udcff b \\ud83d\\ude00", "label": "fake"}\n')
        dataset = load_dataset(str(path), settings=SETTINGS)
    assert dataset.texts() == ["a \ufffd b \U0001f600"]  # a valid pair stays an emoji


def test_damaged_parquet_strings_are_a_data_format_error() -> None:
    content = bytearray(_parquet(pd.DataFrame({"text": ["", "0\x80"], "label": ["fake"] * 2})))
    at = content.index("0\x80".encode())
    content[at + 1] ^= 0xFF  # valid Parquet structure, invalid UTF-8 inside a string
    with folder() as where:
        path = where / "bad.parquet"
        path.write_bytes(bytes(content))
        with pytest.raises(VeracityError, match="cannot be read as Parquet"):
            load_dataset(str(path), settings=SETTINGS)


@pytest.mark.parametrize("name", ["a" * 300 + ".csv", "~no-such-user-xyz/x.csv"])
def test_unusable_paths_are_data_format_errors(name: str) -> None:
    with pytest.raises(VeracityError, match="cannot be used as a file name"):
        load_dataset(name, settings=SETTINGS)
