"""ISOT "Fake and real news" (Ahmed, Traore and Saad 2017), in its two layouts.

* ``isot_sample``: one file ``isot_sample.csv.gz`` with columns
  ``title,text,subject,date,label`` and ``label`` ``real``/``fake``;
* the Kaggle layout: a folder with ``True.csv`` (reliable) and ``Fake.csv`` (fake),
  columns ``title,text,subject,date`` (``.csv.gz`` also accepted).

``subject`` and ``date`` are kept, verbatim, but both separate the classes almost
perfectly in ISOT: never use them as features. Rows with neither title nor text
are dropped and counted (``Dataset.dropped_empty``); an empty text under a real
title is kept.
"""

from __future__ import annotations

from pathlib import Path

from veracity.data._io import RawFile, parse_delimited, read_raw, require_columns
from veracity.data.dataset import Dataset, SourceFile, finalize_frame
from veracity.data.labels import map_labels
from veracity.errors import DataFormatError
from veracity.settings import Settings
from veracity.types import FAKE, RELIABLE, Label

__all__ = [
    "ISOT_COLUMNS",
    "ISOT_LABELS",
    "find_kaggle_files",
    "load_isot_kaggle",
    "load_isot_sample",
]

#: Columns both ISOT layouts must have (plus ``label`` in the single-file sample).
ISOT_COLUMNS: tuple[str, ...] = ("title", "text", "subject", "date")
#: ISOT's label words and the veracity labels they mean.
ISOT_LABELS: dict[str, str] = {"real": RELIABLE, "fake": FAKE}

_HINT = (
    "ISOT files need title, text, subject and date (and label in the sample); "
    "for other layouts load the file by path with text_col=/title_col=/label_col=."
)


def load_isot_sample(path: Path, *, settings: Settings, name: str = "isot_sample") -> Dataset:
    """Load the single-file ISOT sample (``isot_sample.csv.gz``).

    Parameters
    ----------
    path : Path
        The CSV (gzip or not) with columns ``title,text,subject,date,label``.
    settings : Settings
        For the file size limit.
    name : str, default "isot_sample"
        The dataset's name.

    Returns
    -------
    Dataset
        Kind ``"article"``; ids are the 1-based data-row numbers in the file.

    Raises
    ------
    DataFormatError
        The file is unreadable, lacks a column or has labels other than real/fake.
    """
    raw = read_raw(path, settings)
    frame = parse_delimited(raw)
    require_columns(raw.path, frame, (*ISOT_COLUMNS, "label"), _HINT)
    labels = map_labels(
        frame["label"].tolist(), where=str(raw.path), column="label", label_map=ISOT_LABELS
    )
    out = finalize_frame(
        {
            "id": [str(i) for i in range(1, len(frame) + 1)],
            "title": frame["title"].tolist(),
            "text": frame["text"].tolist(),
            "label": labels,
            "subject": frame["subject"].tolist(),
            "date": frame["date"].tolist(),
        },
        where=str(raw.path),
    )
    return Dataset(name, out, [SourceFile(str(raw.path), raw.sha256, len(out))], "article")


def find_kaggle_files(directory: Path) -> tuple[Path, Path] | None:
    """``(True.csv, Fake.csv)`` in ``directory`` (any case, ``.csv`` or ``.csv.gz``), or None."""
    if not directory.is_dir():
        return None
    by_name = {p.name.lower(): p for p in directory.iterdir() if p.is_file()}
    found: list[Path] = []
    for stem in ("true", "fake"):
        match = by_name.get(f"{stem}.csv") or by_name.get(f"{stem}.csv.gz")
        if match is None:
            return None
        found.append(match)
    return found[0], found[1]


def load_isot_kaggle(directory: Path, *, settings: Settings) -> Dataset:
    """Load ISOT in the Kaggle layout: ``True.csv`` (reliable) + ``Fake.csv`` (fake).

    Parameters
    ----------
    directory : Path
        Folder holding both files, with columns ``title,text,subject,date``.
    settings : Settings
        For the file size limit.

    Returns
    -------
    Dataset
        Named after the folder, kind ``"article"``; reliable rows first. Ids are
        ``true-<n>`` and ``fake-<n>`` with ``n`` the 1-based data-row number.

    Raises
    ------
    DataFormatError
        A file is missing, unreadable or lacks a column.
    """
    directory = directory.expanduser().absolute()
    files = find_kaggle_files(directory)
    if files is None:
        raise DataFormatError(
            f"{directory}: the ISOT Kaggle layout needs True.csv and Fake.csv in this folder."
        )
    columns: dict[str, list[str]] = {
        k: [] for k in ("id", "title", "text", "label", "subject", "date")
    }
    raws: list[RawFile] = []
    prefixes: list[str] = []
    for path, label, prefix in ((files[0], RELIABLE, "true"), (files[1], FAKE, "fake")):
        raw = read_raw(path, settings)
        frame = parse_delimited(raw)
        require_columns(raw.path, frame, ISOT_COLUMNS, _HINT)
        n = len(frame)
        file_label: Label = label
        columns["id"] += [f"{prefix}-{i}" for i in range(1, n + 1)]
        columns["label"] += [file_label] * n
        for col in ISOT_COLUMNS:
            columns[col] += frame[col].tolist()
        raws.append(raw)
        prefixes.append(prefix)
    out = finalize_frame(columns, where=str(directory))
    sources = [
        SourceFile(str(raw.path), raw.sha256, int(out["id"].str.startswith(f"{p}-").sum()))
        for raw, p in zip(raws, prefixes, strict=True)
    ]
    return Dataset(directory.name, out, sources, "article")
