"""The common data.csv.gz layout: fakenewsamt, celebrity, random_political and the
three sets with a ``site`` column (fakehealth_healthstory, fakespeak_eng, coaid_news)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest

from veracity.data import load_dataset
from veracity.data.articles import load_articles
from veracity.errors import DataFormatError
from veracity.settings import Settings


@pytest.mark.parametrize(
    ("name", "rows", "source_dataset"),
    [
        ("fakenewsamt", 480, "fakenewsamt"),
        ("celebrity", 500, "celebrity"),
        ("random_political", 150, "horne2017-random-political"),
    ],
)
def test_real_common_layout_counts(
    name: str, rows: int, source_dataset: str, real_settings: Settings, real_root: Path
) -> None:
    ds = load_dataset(name, settings=real_settings)
    frame = ds.frame
    assert ds.name == name
    assert ds.kind == "article"
    assert len(frame) == rows
    assert frame["label"].value_counts().to_dict() == {"fake": rows // 2, "reliable": rows // 2}
    assert list(frame.columns) == ["id", "title", "text", "label", "source_dataset"]
    assert set(frame["source_dataset"]) == {source_dataset}
    assert frame["id"].is_unique
    assert ds.dropped_empty == 0
    assert ds.sources[0].path == str(real_root / name / "data.csv.gz")


@pytest.mark.parametrize(
    ("name", "fake", "reliable", "source_dataset"),
    [
        ("fakehealth_healthstory", 441, 1117, "FakeHealth-HealthStory (Dai et al. 2020)"),
        ("fakespeak_eng", 2242, 626, "Fakespeak-ENG (Univ. Oslo; PolitiFact+Snopes)"),
        ("coaid_news", 167, 2707, "CoAID (Cui & Lee 2020), News*COVID-19.csv"),
    ],
)
def test_sets_with_a_site_column_load_without_it(
    name: str, fake: int, reliable: int, source_dataset: str, real_settings: Settings
) -> None:
    """Counts as in each MANIFEST; ``site`` (publisher/platform) leaks the label: never kept."""
    ds = load_dataset(name, settings=real_settings)
    assert ds.kind == "article"
    assert ds.frame["label"].value_counts().to_dict() == {"fake": fake, "reliable": reliable}
    assert list(ds.frame.columns) == ["id", "title", "text", "label", "source_dataset"]
    assert set(ds.frame["source_dataset"]) == {source_dataset}
    raw = pd.read_csv(ds.sources[0].path, keep_default_na=False)
    assert "site" in raw.columns  # the file has it; the dataset does not
    assert ds.dropped_empty == 0


def test_fakenewsamt_empty_titles_are_kept(real_settings: Settings) -> None:
    ds = load_dataset("fakenewsamt", settings=real_settings)
    no_title = ds.frame[ds.frame["title"] == ""]
    # MANIFEST: 30 fake items have no title line; their text is the whole item
    assert len(no_title) == 30
    assert set(no_title["label"]) == {"fake"}
    texts = ds.texts()
    first = int(no_title.index[0])
    assert texts[first] == no_title["text"].iloc[0]


def _folder(tmp_path: Path, rows: list[dict[str, str]]) -> Path:
    folder = tmp_path / "mini"
    folder.mkdir()
    with gzip.open(folder / "data.csv.gz", "wt", encoding="utf-8", newline="") as fh:
        pd.DataFrame(rows).to_csv(fh, index=False)
    return folder


def test_common_layout_folder_by_path(tmp_path: Path, settings: Settings) -> None:
    folder = _folder(
        tmp_path,
        [
            {"id": "x1", "title": "T1", "text": "Body one", "label": "real", "source_dataset": "m"},
            {"id": "x2", "title": "", "text": "Body two", "label": "fake", "source_dataset": "m"},
        ],
    )
    ds = load_dataset(str(folder), settings=settings)
    assert ds.name == "mini"
    assert ds.frame["id"].tolist() == ["x1", "x2"]
    assert ds.labels() == ["reliable", "fake"]
    assert ds.texts() == ["T1\n\nBody one", "Body two"]


def test_common_layout_rejects_unknown_labels(tmp_path: Path, settings: Settings) -> None:
    row = {"id": "x1", "title": "T", "text": "B", "source_dataset": "m"}
    folder = _folder(tmp_path, [{**row, "label": "real"}, {**row, "id": "x2", "label": "satire"}])
    with pytest.raises(DataFormatError, match=r"data\.csv\.gz.*'satire' \(1 rows\)"):
        load_articles(folder, settings=settings)


def test_common_layout_repeated_ids_are_an_error(tmp_path: Path, settings: Settings) -> None:
    row = {"id": "dup", "title": "T", "text": "B", "label": "fake", "source_dataset": "m"}
    folder = _folder(tmp_path, [row, {**row, "text": "other"}])
    with pytest.raises(DataFormatError, match=r"ids must be unique.*'dup'"):
        load_articles(folder, settings=settings)
