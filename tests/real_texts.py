"""Texts of the real datasets in ../shared/datasets, for tests that compare two code paths."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"

#: Every labelled dataset of ../shared/datasets.
DATASET_NAMES = (
    "isot_sample",
    "celebrity",
    "random_political",
    "fakenewsamt",
    "fakehealth_healthstory",
    "fakespeak_eng",
    "coaid_news",
    "covid_constraint",
    "liar",
)


def real_texts(name: str, rows: int) -> list[str]:
    """The first ``rows`` texts of dataset ``name`` (its first file); skips when it is absent."""
    path = DATASETS / name
    files = sorted(path.glob("*.csv.gz")) + sorted(path.glob("*.tsv.gz"))
    if not files:
        pytest.skip(f"{path} not found")
    if files[0].name.endswith(".tsv.gz"):
        frame = pd.read_csv(files[0], sep="\t", header=None, quoting=3, nrows=rows)
        column = 2  # LIAR's statement
    else:
        frame = pd.read_csv(files[0], nrows=rows)
        column = "text" if "text" in frame else frame.columns[-1]
    return frame[column].fillna("").astype(str).tolist()
