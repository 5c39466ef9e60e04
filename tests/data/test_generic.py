"""The generic loader: formats, column detection, label vocabularies and bad files."""

from __future__ import annotations

import csv
import gzip
import json
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from veracity.data import load_dataset
from veracity.data.generic import file_stem
from veracity.errors import DataFormatError, InputError, InputTooLargeError
from veracity.settings import Settings

ROWS = [
    {"id": "r1", "title": "First headline", "text": "First body, with a comma.", "label": "fake"},
    {"id": "r2", "title": "", "text": 'Second "quoted" body\nover two lines', "label": "real"},
    {"id": "r3", "title": "Third", "text": "Third body", "label": "fake"},
]


def _load(path: Path, settings: Settings, **options: object) -> pd.DataFrame:
    return load_dataset(str(path), settings=settings, **options).frame  # type: ignore[arg-type]


def _write_jsonl(path: Path, rows: Sequence[Mapping[str, object]]) -> None:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


# --- round trips -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["news.csv", "news.csv.gz", "news.tsv", "news.tsv.gz"])
def test_delimited_round_trip(name: str, tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / name
    sep = "\t" if ".tsv" in name else ","
    pd.DataFrame(ROWS).to_csv(path, sep=sep, index=False)
    ds = load_dataset(str(path), settings=settings)
    assert ds.name == "news"
    assert ds.kind == "article"
    assert ds.frame["id"].tolist() == ["r1", "r2", "r3"]
    assert ds.frame["text"].tolist() == [r["text"] for r in ROWS]
    assert ds.frame["title"].tolist() == [r["title"] for r in ROWS]
    assert ds.labels() == ["fake", "reliable", "fake"]
    assert ds.texts()[1] == ROWS[1]["text"]  # empty title: the text alone
    assert ds.labelled and ds.frame.attrs["labelled"] is True
    assert ds.sources[0].rows == 3


@pytest.mark.parametrize("name", ["news.jsonl", "news.ndjson", "news.jsonl.gz"])
def test_jsonl_round_trip(name: str, tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / name
    _write_jsonl(path, ROWS)
    frame = _load(path, settings)
    assert frame["id"].tolist() == ["r1", "r2", "r3"]
    assert frame["text"].tolist() == [r["text"] for r in ROWS]
    assert frame["label"].tolist() == ["fake", "reliable", "fake"]


def test_jsonl_values_become_text(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "mixed.jsonl"
    rows: list[dict[str, object]] = [
        {"id": 1, "text": "a", "label": "fake", "subject": None},
        {"id": 2, "text": None, "title": "Only a title", "label": "real", "subject": ["x"]},
    ]
    _write_jsonl(path, rows)
    path.write_text(path.read_text(encoding="utf-8") + "\n\n", encoding="utf-8")  # blank lines
    frame = _load(path, settings)
    assert frame["id"].tolist() == ["1", "2"]
    assert frame["text"].tolist() == ["a", ""]  # null → ""
    assert frame["title"].tolist() == ["", "Only a title"]  # missing key → ""
    assert frame["subject"].tolist() == ["", '["x"]']


def test_json_array_is_read(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "news.json"
    path.write_text(json.dumps(ROWS), encoding="utf-8")
    assert _load(path, settings)["id"].tolist() == ["r1", "r2", "r3"]


def test_parquet_round_trip_with_numbers_and_nulls(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "news.parquet"
    pd.DataFrame(
        {
            "id": [10, 11, 12],
            "headline": ["H1", None, "H3"],
            "content": ["one", "two", None],
            "is_fake": [True, False, True],
            "date": [1.0, float("nan"), 2.5],
        }
    ).to_parquet(path)
    frame = _load(path, settings)
    assert frame["id"].tolist() == ["10", "11", "12"]
    assert frame["title"].tolist() == ["H1", "", "H3"]
    assert frame["text"].tolist() == ["one", "two", ""]
    assert frame["label"].tolist() == ["fake", "reliable", "fake"]  # is_fake: true means fake
    assert frame["date"].tolist() == ["1", "", "2.5"]


def test_nan_like_cells_stay_text_and_empty_cells_are_empty(
    tmp_path: Path, settings: Settings
) -> None:
    path = tmp_path / "nan.csv"
    path.write_text("text,title,label\nNaN,NA,fake\nnull,,real\n,,fake\n", encoding="utf-8")
    ds = load_dataset(str(path), settings=settings)
    assert ds.frame["text"].tolist() == ["NaN", "null"]
    assert ds.frame["title"].tolist() == ["NA", ""]
    assert ds.dropped_empty == 1  # the row with neither title nor text
    assert not ds.frame.isna().any().any()


def test_column_names_are_detected(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "other.csv"
    path.write_text("Headline,Body,Class,extra\nH,B,FAKE,e\n", encoding="utf-8")
    ds = load_dataset(str(path), settings=settings)
    assert ds.frame[["id", "title", "text", "label"]].iloc[0].tolist() == ["1", "H", "B", "fake"]
    assert "extra" not in ds.frame.columns  # unknown columns are not carried along


def test_explicit_columns_win(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "claims.csv"
    path.write_text("text,claim,verdict,key\nnot this,The claim,REAL,k1\n", encoding="utf-8")
    frame = _load(path, settings, text_col="claim", label_col="verdict", id_col="key")
    assert frame[["id", "text", "label"]].iloc[0].tolist() == ["k1", "The claim", "reliable"]


def test_empty_option_switches_a_column_off(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "dup_ids.csv"
    path.write_text("id,title,text,label\n7,T,a,fake\n7,T,b,fake\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"ids must be unique.*'7'"):
        _load(path, settings)
    frame = _load(path, settings, id_col="", title_col="")
    assert frame["id"].tolist() == ["1", "2"]
    assert frame["title"].tolist() == ["", ""]


def test_unlabelled_file_is_for_scoring(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "score.csv"
    path.write_text("text\nfirst\nsecond\n", encoding="utf-8")
    ds = load_dataset(str(path), settings=settings)
    assert ds.labels() == ["", ""]
    assert ds.labelled is False
    assert ds.frame.attrs["labelled"] is False
    assert [d.label for d in ds.documents()] == [None, None]


def test_known_extra_columns_are_kept(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "extra.csv"
    path.write_text("text,label,Subject,split,speaker\nx,fake,politics,train,bob\n", "utf-8")
    frame = _load(path, settings)
    assert list(frame.columns) == ["id", "title", "text", "label", "subject", "speaker", "split"]
    assert frame[["subject", "speaker", "split"]].iloc[0].tolist() == ["politics", "bob", "train"]


def test_file_stem() -> None:
    assert file_stem(Path("a/news.csv.gz")) == "news"
    assert file_stem(Path("my.data.jsonl")) == "my.data"
    assert file_stem(Path("x.PARQUET")) == "x"


# --- labels ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["FAKE", "REAL"], ["fake", "reliable"]),
        (["fake", "real"], ["fake", "reliable"]),
        (["true", "false"], ["reliable", "fake"]),
        (["True", "FALSE"], ["reliable", "fake"]),
        (["reliable", "unreliable"], ["reliable", "fake"]),
        ([" Real ", "Fake"], ["reliable", "fake"]),
    ],
)
def test_label_vocabularies(
    values: list[str], expected: list[str], tmp_path: Path, settings: Settings
) -> None:
    path = tmp_path / "v.csv"
    pd.DataFrame({"text": ["a", "b"], "label": values}).to_csv(path, index=False)
    assert _load(path, settings)["label"].tolist() == expected


def test_zero_one_labels_need_positive(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "binary.csv"
    pd.DataFrame({"text": ["a", "b", "c"], "label": [0, 1, 1]}).to_csv(path, index=False)
    with pytest.raises(DataFormatError) as info:
        _load(path, settings)
    message = str(info.value)
    assert "binary.csv" in message
    assert "--positive 1" in message and "--positive 0" in message
    assert "WELFake" in message  # conventions differ between datasets
    assert _load(path, settings, positive="1")["label"].tolist() == ["reliable", "fake", "fake"]
    assert _load(path, settings, positive="0")["label"].tolist() == ["fake", "reliable", "reliable"]


def test_positive_must_fit_the_column(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "three.csv"
    pd.DataFrame({"text": ["a", "b", "c"], "label": [0, 1, 2]}).to_csv(path, index=False)
    with pytest.raises(DataFormatError, match=r"positive='1' does not fit column 'label'"):
        _load(path, settings, positive="1")


def test_label_map_wins(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "m.csv"
    pd.DataFrame({"text": ["a", "b", "c"], "label": ["pants-fire", "true", "TRUE"]}).to_csv(
        path, index=False
    )
    mapping = {"pants-fire": "fake", "true": "fake"}  # overrides the true → reliable vocabulary
    frame = _load(path, settings, label_map=mapping, positive="true")
    assert frame["label"].tolist() == ["fake", "fake", "fake"]
    with pytest.raises(InputError, match=r"maps 'x' to 'yes'"):
        _load(path, settings, label_map={"x": "yes"})


def test_unknown_labels_are_listed(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "odd.csv"
    labels = ["fake", "satire", "satire", "mixture", "", "a", "b", "c"]
    pd.DataFrame({"text": list("abcdefgh"), "label": labels}).to_csv(path, index=False)
    with pytest.raises(DataFormatError) as info:
        _load(path, settings)
    message = str(info.value)
    assert "odd.csv" in message
    assert "'satire' (2 rows)" in message and "'mixture' (1 rows)" in message
    assert "and 1 more" in message  # six unknown values, five shown
    assert "label_map" in message


# --- bad files ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["nope.csv", "nope.xyz", "dir/nope.parquet"])
def test_missing_file(name: str, tmp_path: Path, settings: Settings) -> None:
    with pytest.raises(DataFormatError, match=rf"{name.split('/')[-1]}: no such file"):
        _load(tmp_path / name, settings)


def test_zero_byte_file(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(DataFormatError, match=r"empty\.csv: the file is empty \(0 bytes\)"):
        _load(path, settings)


@pytest.mark.parametrize(
    ("name", "content"),
    [("head.csv", "text,label\n"), ("head.tsv", "text\tlabel\n"), ("blank.csv", "\n \n")],
)
def test_header_only_or_blank_file(
    name: str, content: str, tmp_path: Path, settings: Settings
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataFormatError, match=rf"{name}: .*(no data rows|empty)"):
        _load(path, settings)


def test_empty_jsonl(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "none.jsonl"
    path.write_text("\n\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"none\.jsonl: holds no records"):
        _load(path, settings)


def test_binary_file(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "image.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(DataFormatError, match=r"image\.csv: looks like a binary file"):
        _load(path, settings)


def test_nul_byte_late_in_file(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "late.csv"
    path.write_bytes(b"text,label\n" + b"x,fake\n" * 2000 + b"bad\x00,fake\n")
    with pytest.raises(DataFormatError, match=r"late\.csv: contains a NUL byte .*line 2002"):
        _load(path, settings)


def test_zip_file(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(b"PK\x03\x04" + b"rest of a zip")
    with pytest.raises(DataFormatError, match=r"data\.csv: is a ZIP archive"):
        _load(path, settings)


def test_gzip_that_does_not_decompress(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "broken.csv.gz"
    good = gzip.compress(b"text,label\n" + b"some text,fake\n" * 100)
    path.write_bytes(good[: len(good) // 2])
    with pytest.raises(DataFormatError, match=r"broken\.csv\.gz: is a damaged or truncated gzip"):
        _load(path, settings)


def test_gz_name_without_gzip_data(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "plain.csv.gz"
    path.write_text("text,label\nx,fake\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"plain\.csv\.gz: is named \.gz but is not gzip"):
        _load(path, settings)


def test_not_utf8(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("text,label\nok,fake\ncaf\u00e9,real\n".encode("latin-1"))
    with pytest.raises(DataFormatError) as info:
        _load(path, settings)
    message = str(info.value)
    assert "latin1.csv: is not valid UTF-8" in message
    assert "offset 22, line 3" in message
    assert "re-encode the file as UTF-8" in message
    assert isinstance(info.value.__cause__, UnicodeDecodeError)


def test_missing_text_column(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "cols.csv"
    path.write_text("words,label\nx,fake\n", encoding="utf-8")
    with pytest.raises(DataFormatError) as info:
        _load(path, settings)
    message = str(info.value)
    assert "cols.csv: no text column" in message
    assert "'words', 'label'" in message  # available columns
    assert "--text-col" in message


def test_missing_given_column(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "cols.csv"
    path.write_text("text,label\nx,fake\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"has no column 'verdict' .*--label-col.*'text'"):
        _load(path, settings, label_col="verdict")


def test_malformed_jsonl_line(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "a", "label": "fake"}\n\n{"text": "b", "label": \n', "utf-8")
    with pytest.raises(DataFormatError, match=r"bad\.jsonl: line 3 is not valid JSON"):
        _load(path, settings)


def test_jsonl_line_that_is_not_an_object(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "list.jsonl"
    path.write_text('{"text": "a"}\n["b"]\n', encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"list\.jsonl: line 2 is a JSON list"):
        _load(path, settings)


def test_broken_parquet(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"PAR1" + b"\x00garbage" * 10 + b"PAR1")
    with pytest.raises(
        DataFormatError, match=r"broken\.parquet: cannot be read as Parquet"
    ) as info:
        _load(path, settings)
    assert info.value.__cause__ is not None


def test_csv_named_parquet(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "fake.parquet"
    path.write_text("text,label\nx,fake\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"fake\.parquet: is not a Parquet file"):
        _load(path, settings)


def test_unknown_extension(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "sheet.xlsx"
    path.write_bytes(b"PK\x03\x04")
    with pytest.raises(DataFormatError, match=r"sheet\.xlsx: unknown file type"):
        _load(path, settings)


def test_unparseable_csv(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("text,label\na,fake\nb,fake,extra,more\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"ragged\.csv: cannot be parsed as CSV") as info:
        _load(path, settings)
    assert isinstance(info.value.__cause__, pd.errors.ParserError)


def test_file_over_the_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text("text,label\n" + "word,fake\n" * 20, encoding="utf-8")
    small = Settings(max_file_bytes=64)
    with pytest.raises(InputTooLargeError, match=r"big\.csv: 211 bytes is over the limit of 64"):
        _load(path, small)
    assert issubclass(InputTooLargeError, InputError)
    assert len(_load(path, Settings(max_file_bytes=211))) == 20


def test_gzip_bomb_is_stopped(tmp_path: Path) -> None:
    path = tmp_path / "bomb.csv.gz"
    path.write_bytes(gzip.compress(b"text,label\n" + b"a" * 200_000 + b",fake\n"))
    tiny = Settings(max_file_bytes=path.stat().st_size)
    with pytest.raises(InputTooLargeError, match=r"bomb\.csv\.gz: decompresses to more than"):
        _load(path, tiny)


# --- property: arbitrary cells round-trip or fail cleanly -----------------------------------

# any character, with the ones that trouble CSV readers drawn often
_TRICKY = [",", '"', "'", "\r", "\n", "\t", " ", "\x00", "#", "\ufeff", "\u2028", "\x85"]
_cells = st.text(
    st.one_of(st.sampled_from(_TRICKY), st.characters(exclude_categories=("Cs",))), max_size=40
)  # lone surrogates cannot be written to a UTF-8 file at all


@hsettings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(st.tuples(_cells, _cells, st.sampled_from(["fake", "real"])), min_size=1),
    writer=st.sampled_from(["pandas", "csv-module"]),
)
def test_csv_cells_round_trip_or_raise_data_format_error(
    rows: list[tuple[str, str, str]], writer: str
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "prop.csv"
        if writer == "pandas":
            pd.DataFrame(rows, columns=["title", "text", "label"]).to_csv(path, index=False)
        else:
            with path.open("w", encoding="utf-8", newline="") as fh:
                out = csv.writer(fh)
                out.writerow(["title", "text", "label"])
                out.writerows(rows)
        try:
            ds = load_dataset(str(path), settings=Settings())
        except DataFormatError as exc:
            # the only cells a text file cannot hold are NUL characters
            assert any("\x00" in cell for row in rows for cell in row), exc
            return
    kept = [r for r in rows if r[0].strip() or r[1].strip()]
    assert ds.frame["title"].tolist() == [r[0] for r in kept]
    assert ds.frame["text"].tolist() == [r[1] for r in kept]
    assert ds.labels() == ["fake" if r[2] == "fake" else "reliable" for r in kept]
    assert ds.dropped_empty == len(rows) - len(kept)


@hsettings(max_examples=40, deadline=None)
@given(rows=st.lists(st.tuples(_cells, _cells), min_size=1, max_size=5))
def test_jsonl_cells_round_trip(rows: list[tuple[str, str]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "prop.jsonl"
        _write_jsonl(path, [{"title": a, "text": b, "label": "fake"} for a, b in rows])
        ds = load_dataset(str(path), settings=Settings())  # JSON escapes every character
    kept = [r for r in rows if r[0].strip() or r[1].strip()]
    assert list(zip(ds.frame["title"], ds.frame["text"], strict=True)) == kept
