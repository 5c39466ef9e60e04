"""Load any CSV, TSV, JSON Lines or Parquet file with a text column.

The format comes from the file name (``.csv``, ``.tsv``/``.tab``, ``.jsonl``/``.ndjson``
/``.json``, ``.parquet``/``.pq``; any of the text formats may end in ``.gz``). Columns
are named with ``text_col``/``title_col``/``label_col``/``id_col`` or found among
common names (:data:`TEXT_NAMES`, :data:`TITLE_NAMES`, :data:`LABEL_NAMES`,
:data:`ID_NAMES`, case-insensitively). An empty string switches a column off:
``title_col=""`` (no title), ``label_col=""`` (unlabelled), ``id_col=""`` (ids are
row numbers). Labels are mapped by :func:`veracity.data.labels.map_labels`.

Without a label column the data is for scoring only: ``label`` is ``""`` and
``frame.attrs["labelled"]`` is False.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Literal

import pandas as pd

from veracity.data._io import (
    RawFile,
    check_file,
    parse_delimited,
    parse_json_records,
    parse_parquet,
    read_raw,
)
from veracity.data.dataset import (
    CORE_COLUMNS,
    OPTIONAL_COLUMNS,
    Dataset,
    SourceFile,
    finalize_frame,
)
from veracity.data.labels import IS_FAKE_MAP, map_labels
from veracity.errors import DataFormatError
from veracity.settings import Settings

__all__ = [
    "FORMATS",
    "ID_NAMES",
    "LABEL_NAMES",
    "TEXT_NAMES",
    "TITLE_NAMES",
    "FileFormat",
    "file_format",
    "file_stem",
    "load_file",
]

FileFormat = Literal["csv", "tsv", "jsonl", "parquet"]

#: File suffix (after any ``.gz``) → format.
FORMATS: Mapping[str, FileFormat] = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}
#: Column names tried, in order, when ``text_col`` is not given.
TEXT_NAMES: tuple[str, ...] = ("text", "content", "body", "article", "statement", "tweet")
#: Column names tried, in order, when ``title_col`` is not given.
TITLE_NAMES: tuple[str, ...] = ("title", "headline")
#: Column names tried, in order, when ``label_col`` is not given.
LABEL_NAMES: tuple[str, ...] = ("label", "class", "target", "truth", "is_fake")
#: Column names tried when ``id_col`` is not given.
ID_NAMES: tuple[str, ...] = ("id",)

_PARSERS: Mapping[FileFormat, Callable[[RawFile], pd.DataFrame]] = {
    "csv": parse_delimited,
    "tsv": lambda raw: parse_delimited(raw, sep="\t"),
    "jsonl": parse_json_records,
    "parquet": parse_parquet,
}


def file_format(path: Path) -> FileFormat:
    """The format of ``path`` from its name (``data.jsonl.gz`` → ``"jsonl"``).

    Raises
    ------
    DataFormatError
        The suffix is not one veracity reads.
    """
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    fmt = FORMATS.get(suffixes[-1]) if suffixes else None
    if fmt is None:
        known = ", ".join(sorted(FORMATS))
        raise DataFormatError(
            f"{path}: unknown file type; veracity reads {known} (text formats may be gzipped). "
            "Rename the file to its real extension."
        )
    if fmt == "parquet" and path.name.lower().endswith(".gz"):
        raise DataFormatError(f"{path}: Parquet is compressed inside; do not gzip it.")
    return fmt


def file_stem(path: Path) -> str:
    """The file name without ``.gz`` and its format suffix (``news.csv.gz`` → ``news``)."""
    name = path.name
    lower = name.lower()
    if lower.endswith(".gz"):
        name, lower = name[:-3], lower[:-3]
    for suffix in FORMATS:
        if lower.endswith(suffix):
            return name[: -len(suffix)] or name
    return name


def load_file(
    path: Path,
    *,
    text_col: str | None = None,
    title_col: str | None = None,
    label_col: str | None = None,
    id_col: str | None = None,
    positive: str | None = None,
    label_map: Mapping[str, str] | None = None,
    settings: Settings,
) -> Dataset:
    """Load one CSV/TSV/JSONL/Parquet file as a :class:`Dataset`.

    Parameters
    ----------
    path : Path
        The file; its name gives the format.
    text_col, title_col, label_col, id_col : str, optional
        Column names; found among common names when None, switched off when ``""``
        (text cannot be switched off).
    positive : str, optional
        The raw label value meaning *fake* (needed for 0/1 labels).
    label_map : mapping of str to str, optional
        Raw label value → ``"fake"``/``"reliable"``; wins over ``positive``.
    settings : Settings
        For the file size limit.

    Returns
    -------
    Dataset
        Named after the file stem, kind ``"article"``. Known extra columns
        (:data:`~veracity.data.dataset.OPTIONAL_COLUMNS`) are kept.

    Raises
    ------
    DataFormatError
        Unreadable file, missing column or unknown label values; the message says
        which option (``--text-col``, ``--label-map``…) fixes it.
    InputTooLargeError
        The file is over ``settings.max_file_bytes``.

    Examples
    --------
    >>> load_file(Path("claims.jsonl"), text_col="claim", positive="1",
    ...           settings=Settings())  # doctest: +SKIP
    """
    fmt = file_format(check_file(path, settings))
    raw = read_raw(path, settings)
    frame = _PARSERS[fmt](raw)
    where = str(raw.path)
    text = _pick(frame, where, text_col or None, TEXT_NAMES, "text")
    if text is None:
        raise DataFormatError(
            f"{where}: no text column found (looked for {', '.join(TEXT_NAMES)}); columns "
            f"found: {', '.join(repr(str(c)) for c in frame.columns)}. Name the text column "
            "with text_col= (--text-col)."
        )
    title = _pick(frame, where, title_col, TITLE_NAMES, "title")
    label = _pick(frame, where, label_col, LABEL_NAMES, "label")
    ident = _pick(frame, where, id_col, ID_NAMES, "id")
    n = len(frame)
    columns: dict[str, Sequence[object]] = {
        "id": frame[ident].tolist() if ident else [str(i) for i in range(1, n + 1)],
        "title": frame[title].tolist() if title and title != text else [""] * n,
        "text": frame[text].tolist(),
    }
    if label:
        if label_map is None and positive is None and label.strip().lower() == "is_fake":
            label_map = IS_FAKE_MAP
        columns["label"] = map_labels(
            frame[label].tolist(), where=where, column=label, label_map=label_map, positive=positive
        )
    else:
        columns["label"] = [""] * n
    used = {c for c in (text, title, label, ident) if c}
    by_lower = {str(c).strip().lower(): str(c) for c in frame.columns if c not in used}
    for extra in OPTIONAL_COLUMNS:
        source = by_lower.get(extra)
        if source is not None and extra not in CORE_COLUMNS:
            columns[extra] = frame[source].tolist()
    out = finalize_frame(columns, where=where, labelled=bool(label))
    return Dataset(file_stem(raw.path), out, [SourceFile(where, raw.sha256, len(out))])


def _pick(
    frame: pd.DataFrame,
    where: str,
    given: str | None,
    candidates: tuple[str, ...],
    role: str,
) -> str | None:
    """The column for ``role``: the one given (exact, else case-insensitive), or the first
    candidate present; None when switched off (``""``) or not found."""
    names = [str(c) for c in frame.columns]
    if given == "":
        return None
    if given is not None:
        if given in names:
            return given
        folded = [c for c in names if c.strip().lower() == given.strip().lower()]
        if len(folded) == 1:
            return folded[0]
        raise DataFormatError(
            f"{where}: has no column {given!r} (given as {role}_col= / --{role}-col); "
            f"columns found: {', '.join(repr(c) for c in names)}. Pass one of them."
        )
    lowered = {c.strip().lower(): c for c in reversed(names)}
    for candidate in candidates:
        if candidate in lowered:
            return lowered[candidate]
    return None
