"""LIAR (Wang, ACL 2017): PolitiFact claims with a six-way truth rating.

Three tab-separated files without a header, ``train.tsv``, ``valid.tsv`` and
``test.tsv`` (gzip or not), 14 columns each (see :data:`LIAR_COLUMNS`). They must be
read with quoting off: statements hold stray ``"`` characters, and pandas' default
quote handling merges rows (10,240 instead of 10,269 training rows).

``label6`` keeps the raw rating; ``label`` is the common binary mapping
:data:`BINARY` (pants-fire, false, barely-true → fake; the rest → reliable).
The ``credit_*`` counts include the statement's own rating, so they leak the label.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from veracity.data._io import parse_delimited, read_raw
from veracity.data.dataset import CREDIT_COLUMNS, Dataset, SourceFile, finalize_frame
from veracity.data.labels import map_labels
from veracity.errors import DataFormatError
from veracity.settings import Settings
from veracity.types import FAKE, RELIABLE

__all__ = ["BINARY", "LIAR_COLUMNS", "LIAR_SPLITS", "find_liar_file", "load_liar"]

#: The splits, in the order they are concatenated.
LIAR_SPLITS: tuple[str, ...] = ("train", "valid", "test")
#: The 14 columns of a LIAR file, as named in veracity's frame.
LIAR_COLUMNS: tuple[str, ...] = (
    "id",
    "label6",
    "text",
    "subject",
    "speaker",
    "job",
    "state",
    "party",
    *CREDIT_COLUMNS,
    "context",
)
#: Six-way rating → binary verdict label.
BINARY: dict[str, str] = {
    "pants-fire": FAKE,
    "false": FAKE,
    "barely-true": FAKE,
    "half-true": RELIABLE,
    "mostly-true": RELIABLE,
    "true": RELIABLE,
}


def find_liar_file(directory: Path, split: str) -> Path | None:
    """``<split>.tsv.gz`` or ``<split>.tsv`` in ``directory``, or None."""
    for name in (f"{split}.tsv.gz", f"{split}.tsv"):
        if (directory / name).is_file():
            return directory / name
    return None


def load_liar(
    directory: Path, *, settings: Settings, splits: Sequence[str] = LIAR_SPLITS, name: str = "liar"
) -> Dataset:
    """Load LIAR splits, concatenated in the order given, with a ``split`` column.

    Parameters
    ----------
    directory : Path
        Folder holding ``train.tsv(.gz)``, ``valid.tsv(.gz)``, ``test.tsv(.gz)``.
    settings : Settings
        For the file size limit.
    splits : sequence of str, default ("train", "valid", "test")
        Which splits to load.
    name : str, default "liar"
        The dataset's name (``"liar:test"`` for one split).

    Returns
    -------
    Dataset
        Kind ``"claim"``; ``title`` is ``""``, ``text`` the statement, ids as in the file
        (``2635.json``); ``credit_*`` columns are nullable integers.

    Raises
    ------
    DataFormatError
        A file is missing or unreadable, has a row without 14 fields, an unknown
        rating or a non-numeric credit count.
    """
    directory = directory.expanduser().absolute()
    parts: list[pd.DataFrame] = []
    sources: list[tuple[str, str]] = []
    for split in splits:
        if split not in LIAR_SPLITS:
            raise DataFormatError(
                f"unknown LIAR split {split!r}; choose from {', '.join(LIAR_SPLITS)}."
            )
        file = find_liar_file(directory, split) or directory / f"{split}.tsv.gz"
        raw = read_raw(file, settings)
        frame = parse_delimited(raw, sep="\t", header=False, quotes=False)
        if len(frame.columns) != len(LIAR_COLUMNS):
            raise DataFormatError(
                f"{raw.path}: has {len(frame.columns)} tab-separated columns, LIAR has "
                f"{len(LIAR_COLUMNS)} (id, label, statement, …, context); is this a LIAR file?"
            )
        frame.columns = list(LIAR_COLUMNS)
        frame["label"] = map_labels(
            frame["label6"].tolist(), where=str(raw.path), column="label (2)", label_map=BINARY
        )
        frame["split"] = split
        parts.append(frame)
        sources.append((str(raw.path), raw.sha256))
    joined = pd.concat(parts, ignore_index=True)
    columns: dict[str, list[object]] = {c: joined[c].tolist() for c in joined.columns}
    columns["title"] = [""] * len(joined)
    out = finalize_frame(columns, where=str(directory))
    per_split = out["split"].value_counts()
    files = [
        SourceFile(path, sha, int(per_split.get(split, 0)))
        for (path, sha), split in zip(sources, splits, strict=True)
    ]
    return Dataset(name, out, files, "claim")
