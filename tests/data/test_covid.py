"""CONSTRAINT COVID-19 posts: three splits, ids made unique with the split name."""

from __future__ import annotations

from pathlib import Path

import pytest

from veracity.data import load_dataset
from veracity.data.covid import load_covid
from veracity.errors import DataFormatError
from veracity.settings import Settings

COUNTS = {
    "train": {"reliable": 3360, "fake": 3060},
    "valid": {"reliable": 1120, "fake": 1020},
    "test": {"reliable": 1120, "fake": 1020},
}


@pytest.mark.parametrize("split", ["train", "valid", "test"])
def test_real_split_counts(split: str, real_settings: Settings) -> None:
    ds = load_dataset(f"covid_constraint:{split}", settings=real_settings)
    frame = ds.frame
    assert ds.kind == "post"
    assert ds.name == f"covid_constraint:{split}"
    assert frame["label"].value_counts().to_dict() == COUNTS[split]
    assert len(frame) == sum(COUNTS[split].values())
    assert frame["id"].iloc[0] == f"{split}-1"
    assert (frame["title"] == "").all()
    assert set(frame["split"]) == {split}


def test_real_all_splits_have_unique_ids(real_settings: Settings) -> None:
    ds = load_dataset("covid_constraint", settings=real_settings)
    frame = ds.frame
    assert len(frame) == 10700
    assert frame["id"].is_unique
    assert frame["split"].value_counts().to_dict() == {"train": 6420, "valid": 2140, "test": 2140}
    assert [s.rows for s in ds.sources] == [6420, 2140, 2140]
    # some tweets hold newlines inside quoted fields (CRLF file): kept inside the text
    assert frame["text"].str.contains("\n").any()
    assert not frame["text"].str.endswith("\r").any()


def _split_files(tmp_path: Path, train: str) -> Path:
    (tmp_path / "train.csv").write_text(train, encoding="utf-8")
    for split in ("valid", "test"):
        (tmp_path / f"{split}.csv").write_text("id,tweet,label\r\n1,x,fake\r\n", encoding="utf-8")
    return tmp_path


def test_synthetic_folder_by_path(tmp_path: Path, settings: Settings) -> None:
    folder = _split_files(tmp_path, 'id,tweet,label\r\n1,"two\r\nlines",real\r\n2,b,fake\r\n')
    ds = load_dataset(str(folder), settings=settings)
    assert ds.kind == "post"
    assert ds.frame["id"].tolist() == ["train-1", "train-2", "valid-1", "test-1"]
    assert ds.frame["text"].iloc[0] == "two\r\nlines"
    assert ds.labels() == ["reliable", "fake", "fake", "fake"]


def test_missing_tweet_column(tmp_path: Path, settings: Settings) -> None:
    _split_files(tmp_path, "id,text,label\n1,x,real\n")
    with pytest.raises(DataFormatError, match=r"train\.csv: missing column\(s\) 'tweet'"):
        load_covid(tmp_path, settings=settings, splits=("train",))


def test_unknown_split(tmp_path: Path, settings: Settings) -> None:
    with pytest.raises(DataFormatError, match="unknown covid_constraint split 'dev'"):
        load_covid(tmp_path, settings=settings, splits=("dev",))
