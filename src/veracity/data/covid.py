"""CONSTRAINT@AAAI2021 COVID-19 fake news (Patwa et al. 2021): English posts.

Three CSV files ``train.csv``, ``valid.csv`` and ``test.csv`` (gzip or not) with
columns ``id,tweet,label`` and ``label`` ``real``/``fake``. Each split numbers its
rows from 1, so ids repeat across splits; veracity prefixes them with the split
(``train-1``, ``valid-1``…). Real posts come mostly from official accounts, so
hashtags and ``t.co`` links are a strong shortcut.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from veracity.data._io import parse_delimited, read_raw, require_columns
from veracity.data.dataset import Dataset, SourceFile, finalize_frame
from veracity.data.labels import map_labels
from veracity.errors import DataFormatError
from veracity.settings import Settings
from veracity.types import FAKE, RELIABLE

__all__ = ["COVID_COLUMNS", "COVID_SPLITS", "find_covid_file", "load_covid"]

#: The splits, in the order they are concatenated.
COVID_SPLITS: tuple[str, ...] = ("train", "valid", "test")
#: Columns of each split file.
COVID_COLUMNS: tuple[str, ...] = ("id", "tweet", "label")

_LABELS = {"real": RELIABLE, "fake": FAKE}


def find_covid_file(directory: Path, split: str) -> Path | None:
    """``<split>.csv.gz`` or ``<split>.csv`` in ``directory``, or None."""
    for name in (f"{split}.csv.gz", f"{split}.csv"):
        if (directory / name).is_file():
            return directory / name
    return None


def load_covid(
    directory: Path,
    *,
    settings: Settings,
    splits: Sequence[str] = COVID_SPLITS,
    name: str = "covid_constraint",
) -> Dataset:
    """Load CONSTRAINT COVID-19 splits, concatenated in the order given.

    Parameters
    ----------
    directory : Path
        Folder holding ``train.csv(.gz)``, ``valid.csv(.gz)``, ``test.csv(.gz)``.
    settings : Settings
        For the file size limit.
    splits : sequence of str, default ("train", "valid", "test")
        Which splits to load.
    name : str, default "covid_constraint"
        The dataset's name (``"covid_constraint:test"`` for one split).

    Returns
    -------
    Dataset
        Kind ``"post"``; ``title`` is ``""``, ``text`` the post, ``split`` the split,
        ids ``<split>-<id>``.

    Raises
    ------
    DataFormatError
        A file is missing or unreadable, lacks a column or has labels other than real/fake.
    """
    directory = directory.expanduser().absolute()
    columns: dict[str, list[str]] = {k: [] for k in ("id", "title", "text", "label", "split")}
    sources: list[tuple[str, str]] = []
    for split in splits:
        if split not in COVID_SPLITS:
            raise DataFormatError(
                f"unknown covid_constraint split {split!r}; choose from {', '.join(COVID_SPLITS)}."
            )
        file = find_covid_file(directory, split) or directory / f"{split}.csv.gz"
        raw = read_raw(file, settings)
        frame = parse_delimited(raw)
        require_columns(
            raw.path, frame, COVID_COLUMNS, "CONSTRAINT files have the columns id,tweet,label."
        )
        n = len(frame)
        columns["id"] += [f"{split}-{i}" for i in frame["id"].tolist()]
        columns["title"] += [""] * n
        columns["text"] += frame["tweet"].tolist()
        columns["label"] += map_labels(
            frame["label"].tolist(), where=str(raw.path), column="label", label_map=_LABELS
        )
        columns["split"] += [split] * n
        sources.append((str(raw.path), raw.sha256))
    out = finalize_frame(columns, where=str(directory))
    per_split = out["split"].value_counts()
    files = [
        SourceFile(path, sha, int(per_split.get(split, 0)))
        for (path, sha), split in zip(sources, splits, strict=True)
    ]
    return Dataset(name, out, files, "post")
