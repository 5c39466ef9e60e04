"""LIAR: quoting off, 14 columns, six-way ratings mapped to the binary labels."""

from __future__ import annotations

from pathlib import Path

import pytest

from veracity.data import load_dataset
from veracity.data.liar import BINARY, LIAR_COLUMNS, load_liar
from veracity.errors import DataFormatError
from veracity.settings import Settings

LABEL6 = {
    "train": {
        "half-true": 2123,
        "false": 1998,
        "mostly-true": 1966,
        "true": 1683,
        "barely-true": 1657,
        "pants-fire": 842,
    },
    "valid": {
        "false": 263,
        "mostly-true": 251,
        "half-true": 248,
        "barely-true": 237,
        "true": 169,
        "pants-fire": 116,
    },
    "test": {
        "half-true": 267,
        "false": 250,
        "mostly-true": 249,
        "barely-true": 214,
        "true": 211,
        "pants-fire": 92,
    },
}
ROWS = {"train": 10269, "valid": 1284, "test": 1283}


@pytest.mark.parametrize("split", ["train", "valid", "test"])
def test_real_split_counts(split: str, real_settings: Settings) -> None:
    ds = load_dataset(f"liar:{split}", settings=real_settings)
    frame = ds.frame
    assert ds.name == f"liar:{split}"
    assert ds.kind == "claim"
    assert len(frame) == ROWS[split]  # 10,240 / 1,267 if quotes were honoured
    assert frame["label6"].value_counts().to_dict() == LABEL6[split]
    counts = LABEL6[split]
    fake = counts["pants-fire"] + counts["false"] + counts["barely-true"]
    assert frame["label"].value_counts().to_dict() == {
        "fake": fake,
        "reliable": ROWS[split] - fake,
    }
    assert set(frame["split"]) == {split}
    assert (frame["title"] == "").all()
    assert ds.sources[0].rows == ROWS[split]


def test_real_binary_counts(real_settings: Settings) -> None:
    train = load_dataset("liar:train", settings=real_settings).frame
    assert train["label"].value_counts().to_dict() == {"reliable": 5772, "fake": 4497}


def test_real_all_splits(real_settings: Settings) -> None:
    ds = load_dataset("liar", settings=real_settings)
    frame = ds.frame
    assert len(frame) == 12836
    assert frame["split"].value_counts().to_dict() == ROWS
    assert frame["id"].is_unique  # no id is shared between splits
    assert [s.rows for s in ds.sources] == [10269, 1284, 1283]
    assert [Path(s.path).name for s in ds.sources] == [
        "train.tsv.gz",
        "valid.tsv.gz",
        "test.tsv.gz",
    ]
    first = frame.iloc[0]
    assert first["id"] == "2635.json"
    assert first["label6"] == "false" and first["label"] == "fake"
    assert first["text"].startswith("Says the Annies List political group")
    assert first["speaker"] == "dwayne-bohac" and first["party"] == "republican"
    assert first["context"] == "a mailer"
    assert str(frame["credit_false"].dtype) == "Int64"
    assert int(frame["credit_false"].iloc[0]) == 1


def test_statement_with_stray_quote_stays_one_row(real_settings: Settings) -> None:
    frame = load_dataset("liar:train", settings=real_settings).frame
    quoted = frame[frame["text"].str.count('"') % 2 == 1]
    assert len(quoted) > 0  # the rows pandas' default quoting would merge
    assert not quoted["text"].str.contains("\t").any()


def _row(ident: str, rating: str, statement: str = "A claim.") -> str:
    fields = [ident, rating, statement, "tax", "someone", "job", "Ohio", "none"]
    return "\t".join([*fields, "1", "2", "3", "4", "5", "a speech"]) + "\n"


def _liar_dir(tmp_path: Path, train: str) -> Path:
    for split, body in (("train", train), ("valid", _row("v1.json", "true"))):
        (tmp_path / f"{split}.tsv").write_text(body, encoding="utf-8")
    (tmp_path / "test.tsv").write_text(_row("t1.json", "pants-fire"), encoding="utf-8")
    return tmp_path


def test_synthetic_liar_folder(tmp_path: Path, settings: Settings) -> None:
    body = _row("1.json", "half-true", 'He said "no') + _row("2.json", "barely-true")
    ds = load_dataset(str(_liar_dir(tmp_path, body)), settings=settings)
    frame = ds.frame
    assert frame["id"].tolist() == ["1.json", "2.json", "v1.json", "t1.json"]
    assert frame["label"].tolist() == ["reliable", "fake", "reliable", "fake"]
    assert frame["text"].iloc[0] == 'He said "no'
    assert frame["credit_pants_fire"].tolist() == [5, 5, 5, 5]
    assert len(LIAR_COLUMNS) == 14
    assert set(BINARY.values()) == {"fake", "reliable"}


def test_unknown_rating_is_reported(tmp_path: Path, settings: Settings) -> None:
    _liar_dir(tmp_path, _row("1.json", "half-flip"))
    with pytest.raises(DataFormatError, match=r"train\.tsv.*'half-flip'"):
        load_liar(tmp_path, settings=settings, splits=("train",))


def test_wrong_field_count_is_reported(tmp_path: Path, settings: Settings) -> None:
    _liar_dir(tmp_path, "1.json\tfalse\tonly three fields\n")
    with pytest.raises(DataFormatError, match=r"train\.tsv: has 3 tab-separated columns"):
        load_liar(tmp_path, settings=settings, splits=("train",))


def test_ragged_rows_are_reported(tmp_path: Path, settings: Settings) -> None:
    _liar_dir(tmp_path, _row("1.json", "false") + _row("2.json", "true").replace("\n", "\tx\n"))
    with pytest.raises(DataFormatError, match=r"train\.tsv: cannot be parsed as TSV"):
        load_liar(tmp_path, settings=settings, splits=("train",))


def test_non_numeric_credit_count(tmp_path: Path, settings: Settings) -> None:
    _liar_dir(tmp_path, _row("1.json", "false").replace("\t3\t", "\tmany\t"))
    with pytest.raises(DataFormatError, match=r"credit_half_true.*'many'"):
        load_liar(tmp_path, settings=settings, splits=("train",))
