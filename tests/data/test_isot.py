"""ISOT: the single-file sample and the Kaggle True.csv + Fake.csv layout."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest

from veracity.data import Dataset, load_dataset
from veracity.data.isot import load_isot_kaggle, load_isot_sample
from veracity.errors import DataFormatError
from veracity.settings import Settings


def test_isot_sample_real_counts(isot: Dataset, real_root: Path) -> None:
    frame = isot.frame
    assert isot.rows_read == 6176
    assert isot.dropped_empty == 0  # no row lacks both title and text
    assert len(frame) == 6176
    assert frame["label"].value_counts().to_dict() == {"fake": 3377, "reliable": 2799}
    assert isot.kind == "article"
    assert isot.name == "isot_sample"
    assert list(frame.columns) == ["id", "title", "text", "label", "subject", "date"]
    assert frame["id"].is_unique
    (source,) = isot.sources
    assert source.path == str(real_root / "isot_sample" / "isot_sample.csv.gz")
    assert source.rows == 6176
    assert len(source.sha256) == 64


def test_isot_sample_keeps_empty_texts_with_titles(isot: Dataset) -> None:
    frame = isot.frame
    empty_text = frame["text"].str.strip() == ""
    assert int(empty_text.sum()) == 80  # MANIFEST: 80 fake rows with empty/whitespace text
    assert set(frame.loc[empty_text, "label"]) == {"fake"}
    assert (frame.loc[empty_text, "title"].str.strip() != "").all()
    assert not frame["text"].isna().any()


def test_isot_sample_subject_and_date_verbatim(isot: Dataset) -> None:
    frame = isot.frame
    real = frame[frame["label"] == "reliable"]
    assert set(real["subject"]) == {"politicsNews", "worldnews"}
    # every real date ends with a trailing space in ISOT: read verbatim, not stripped
    assert real["date"].str.endswith(" ").all()
    fake_subjects = frame.loc[frame["label"] == "fake", "subject"].value_counts().to_dict()
    assert fake_subjects["News"] == 1816


def test_isot_sample_texts_join_title_and_text(isot: Dataset) -> None:
    texts = isot.texts()
    row = isot.frame.iloc[0]
    assert texts[0] == f"{row['title']}\n\n{row['text']}"
    assert len(texts) == len(isot.labels()) == 6176


def _write_sample(path: Path, rows: list[dict[str, str]]) -> None:
    with gzip.open(path, "wt", encoding="utf-8", newline="") as fh:
        pd.DataFrame(rows).to_csv(fh, index=False)


def test_rows_without_title_and_text_are_dropped_and_counted(
    tmp_path: Path, settings: Settings
) -> None:
    base = {"subject": "News", "date": "May 1, 2017", "label": "fake"}
    rows = [
        {"title": "A title", "text": "Some text.", **base},
        {"title": " ", "text": " \n\t ", **base},  # nothing: dropped
        {"title": "Title only", "text": "", **base},  # kept: the title is text enough
        {"title": "", "text": "", **base},  # nothing: dropped
        {"title": "", "text": "Text only", **{**base, "label": "real"}},
    ]
    path = tmp_path / "isot_sample.csv.gz"
    _write_sample(path, rows)
    ds = load_isot_sample(path, settings=settings)
    assert ds.dropped_empty == 2
    assert ds.frame.attrs["dropped_empty"] == 2
    assert ds.rows_read == 5
    assert ds.frame["title"].tolist() == ["A title", "Title only", ""]
    assert ds.frame["label"].tolist() == ["fake", "fake", "reliable"]
    assert ds.frame["id"].tolist() == ["1", "3", "5"]  # data-row numbers in the file
    assert ds.texts() == ["A title\n\nSome text.", "Title only\n\n", "Text only"]
    assert ds.sources[0].rows == 3


def test_isot_sample_unknown_label_is_reported(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "isot_sample.csv.gz"
    row = {"title": "t", "text": "x", "subject": "News", "date": "d"}
    _write_sample(path, [{**row, "label": "fake"}, {**row, "label": "satire"}])
    with pytest.raises(DataFormatError, match=r"isot_sample\.csv\.gz.*'satire'"):
        load_isot_sample(path, settings=settings)


def test_isot_sample_missing_column_is_named(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "isot_sample.csv.gz"
    _write_sample(path, [{"title": "t", "text": "x", "date": "d", "label": "fake"}])
    with pytest.raises(DataFormatError, match=r"missing column\(s\) 'subject'.*columns found"):
        load_isot_sample(path, settings=settings)


@pytest.fixture(scope="module")
def kaggle_dir(isot: Dataset, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """True.csv + Fake.csv built from 150 real and 150 fake isot_sample rows."""
    folder = tmp_path_factory.mktemp("isot_kaggle")
    frame = isot.frame
    cols = ["title", "text", "subject", "date"]
    frame[frame["label"] == "reliable"].iloc[::18].head(150)[cols].to_csv(
        folder / "True.csv", index=False
    )
    frame[frame["label"] == "fake"].iloc[::22].head(150)[cols].to_csv(
        folder / "Fake.csv", index=False
    )
    return folder


def test_kaggle_layout_gives_the_same_rows_and_labels(
    kaggle_dir: Path, isot: Dataset, real_settings: Settings
) -> None:
    ds = load_dataset(str(kaggle_dir), settings=real_settings)
    assert ds.name == kaggle_dir.name
    assert ds.kind == "article"
    assert len(ds.frame) == 300
    assert ds.frame["label"].value_counts().to_dict() == {"reliable": 150, "fake": 150}
    assert ds.frame["id"].iloc[0] == "true-1" and ds.frame["id"].iloc[-1] == "fake-150"
    key = ["title", "text", "subject", "date", "label"]
    loaded = set(ds.frame[key].itertuples(index=False, name=None))
    original = set(isot.frame[key].itertuples(index=False, name=None))
    assert loaded <= original  # each row is an isot_sample row, label included
    assert len(loaded) == 300
    assert [s.rows for s in ds.sources] == [150, 150]
    assert [Path(s.path).name for s in ds.sources] == ["True.csv", "Fake.csv"]


def test_kaggle_layout_accepts_gzip_and_lower_case(tmp_path: Path, settings: Settings) -> None:
    row = 'title,text,subject,date\nHeadline,Body text,News,"May 1, 2017"\n'
    with gzip.open(tmp_path / "true.csv.gz", "wt", encoding="utf-8") as fh:
        fh.write(row)
    (tmp_path / "fake.csv").write_text(row, encoding="utf-8")
    ds = load_isot_kaggle(tmp_path, settings=settings)
    assert ds.frame["label"].tolist() == ["reliable", "fake"]
    assert ds.frame["date"].tolist() == ["May 1, 2017", "May 1, 2017"]


def test_kaggle_layout_missing_column_names_the_file(tmp_path: Path, settings: Settings) -> None:
    (tmp_path / "True.csv").write_text("title,text,subject,date\nt,x,s,d\n", encoding="utf-8")
    (tmp_path / "Fake.csv").write_text("title,body\nt,x\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"Fake\.csv: missing column\(s\) 'text'"):
        load_isot_kaggle(tmp_path, settings=settings)
