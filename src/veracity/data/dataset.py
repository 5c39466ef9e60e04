"""The loaded-dataset record every loader returns, and the frame contract it keeps.

A :class:`Dataset` wraps a :class:`pandas.DataFrame` whose columns are always
``id``, ``title``, ``text`` and ``label`` (see :data:`CORE_COLUMNS`), followed by
whichever of :data:`OPTIONAL_COLUMNS` the source has. :func:`finalize_frame` is
where every loader enforces that contract.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from veracity.errors import DataFormatError
from veracity.types import FAKE, RELIABLE, Document, Label

__all__ = [
    "CORE_COLUMNS",
    "CREDIT_COLUMNS",
    "OPTIONAL_COLUMNS",
    "Dataset",
    "Kind",
    "SourceFile",
    "finalize_frame",
]

Kind = Literal["article", "claim", "post"]

#: Columns every dataset frame has, in this order.
CORE_COLUMNS: tuple[str, ...] = ("id", "title", "text", "label")
#: LIAR's speaker credit-history counts (they include the current statement: a label leak).
CREDIT_COLUMNS: tuple[str, ...] = (
    "credit_barely_true",
    "credit_false",
    "credit_half_true",
    "credit_mostly_true",
    "credit_pants_fire",
)
#: Extra columns kept, in this order, when a source has them.
OPTIONAL_COLUMNS: tuple[str, ...] = (
    "label6",
    "subject",
    "date",
    "speaker",
    "job",
    "state",
    "party",
    "context",
    "split",
    "source_dataset",
    # where an article came from: kept so splits can group by it and the audit can see it
    "source",
    "site",
    "domain",
    "source_domain",
    "publisher",
    "author",
    "url",
    "news_url",
    *CREDIT_COLUMNS,
)


@dataclass(frozen=True)
class SourceFile:
    """One file a dataset was read from.

    Attributes
    ----------
    path : str
        Absolute path of the file as read.
    sha256 : str
        SHA-256 of the file's bytes on disk.
    rows : int
        Rows this file contributed to the dataset (after empty rows were dropped).
    """

    path: str
    sha256: str
    rows: int


@dataclass
class Dataset:
    """A loaded dataset: a frame with the standard columns plus where it came from.

    Attributes
    ----------
    name : str
        ``"isot_sample"``, ``"liar:test"``…, or the file stem for generic files.
    frame : pandas.DataFrame
        Columns ``id`` (unique str), ``title`` (str, may be ``""``), ``text`` (str),
        ``label`` (``"fake"``/``"reliable"``, or ``""`` when unlabelled), then any of
        :data:`OPTIONAL_COLUMNS`. ``frame.attrs`` holds ``rows_read``,
        ``dropped_empty`` and ``labelled``.
    sources : list of SourceFile
        The files read, in reading order.
    kind : {"article", "claim", "post"}
        What one row is: a news article, a short claim (LIAR) or a social-media post.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"id": ["1"], "title": ["T"], "text": ["Body"], "label": ["fake"]})
    >>> Dataset("demo", frame, [], "article").texts()
    ['T\\n\\nBody']
    """

    name: str
    frame: pd.DataFrame
    sources: list[SourceFile] = field(default_factory=list)
    kind: Kind = "article"

    def texts(self) -> list[str]:
        """Model input per row: ``title + "\\n\\n" + text``, or ``text`` when the title is blank."""
        return [
            f"{title}\n\n{text}" if title.strip() else text
            for title, text in zip(
                self.frame["title"].tolist(), self.frame["text"].tolist(), strict=True
            )
        ]

    def labels(self) -> list[str]:
        """The ``label`` column as a list (``""`` entries when the data is unlabelled)."""
        return [str(v) for v in self.frame["label"].tolist()]

    def documents(self) -> list[Document]:
        """The rows as :class:`veracity.types.Document` records (``meta`` = extra columns)."""
        extra = [c for c in self.frame.columns if c not in CORE_COLUMNS]
        docs: list[Document] = []
        for row in self.frame.to_dict("records"):
            raw_label = str(row["label"])
            label: Label | None = (
                FAKE if raw_label == FAKE else RELIABLE if raw_label == RELIABLE else None
            )
            meta = {str(c): "" if pd.isna(row[c]) else str(row[c]) for c in extra}
            docs.append(
                Document(
                    id=str(row["id"]),
                    text=str(row["text"]),
                    title=str(row["title"]),
                    label=label,
                    source=self.name,
                    meta=meta,
                )
            )
        return docs

    @property
    def sha256(self) -> str:
        """One id for the data: SHA-256 over the sorted source SHA-256s, newline-joined."""
        joined = "\n".join(sorted(s.sha256 for s in self.sources))
        return hashlib.sha256(joined.encode("ascii")).hexdigest()

    @property
    def dropped_empty(self) -> int:
        """Rows dropped at load because both title and text were empty or whitespace."""
        return int(self.frame.attrs.get("dropped_empty", 0))

    @property
    def rows_read(self) -> int:
        """Rows read from the sources, before empty rows were dropped."""
        return int(self.frame.attrs.get("rows_read", len(self.frame)))

    @property
    def labelled(self) -> bool:
        """False when the source had no label column (``label`` is then ``""``)."""
        return bool(self.frame.attrs.get("labelled", True))


def finalize_frame(
    columns: Mapping[str, Sequence[object]],
    *,
    where: str,
    labelled: bool = True,
    keep_empty: bool = False,
) -> pd.DataFrame:
    """Build a dataset frame from column lists and enforce the frame contract.

    Columns are put in the standard order (core, then the optional ones present;
    anything else is left out), rows whose title and text are both empty or
    whitespace are dropped and counted, the index is reset and ids are checked
    to be unique.

    Parameters
    ----------
    columns : mapping of str to sequence
        Column name → cells; must include every name in :data:`CORE_COLUMNS`.
    where : str
        The file(s) the data came from, for error messages.
    labelled : bool, default True
        Recorded as ``frame.attrs["labelled"]``.
    keep_empty : bool, default False
        Keep rows with neither title nor text instead of dropping them.

    Returns
    -------
    pandas.DataFrame
        With ``attrs`` ``rows_read``, ``dropped_empty`` and ``labelled``.

    Raises
    ------
    DataFormatError
        Ids repeat or are empty.
    """
    missing = [c for c in CORE_COLUMNS if c not in columns]
    if missing:
        raise ValueError(f"finalize_frame needs columns {missing}")
    order = [*CORE_COLUMNS, *(c for c in OPTIONAL_COLUMNS if c in columns)]
    frame = pd.DataFrame({c: columns[c] for c in order})
    for col in order:
        if col in CREDIT_COLUMNS:
            frame[col] = pd.array(_as_counts(columns[col], where, col), dtype="Int64")
        else:
            frame[col] = frame[col].astype("str")
    rows_read = len(frame)
    if keep_empty:
        dropped = 0
    else:
        keep = [
            bool(title.strip() or text.strip())
            for title, text in zip(frame["title"].tolist(), frame["text"].tolist(), strict=True)
        ]
        dropped = keep.count(False)
        frame = frame.loc[keep].reset_index(drop=True)
    ids = frame["id"]
    empty_ids = int((ids == "").sum())
    if empty_ids:
        raise DataFormatError(f"{where}: {empty_ids} rows have an empty id; every row needs one.")
    repeated = ids[ids.duplicated()].unique().tolist()
    if repeated:
        shown = ", ".join(repr(v) for v in repeated[:5])
        raise DataFormatError(
            f"{where}: ids must be unique, but {len(repeated)} repeat (e.g. {shown}); "
            "fix the file or choose another id column (id_col='' numbers the rows)."
        )
    frame.attrs.update(rows_read=rows_read, dropped_empty=dropped, labelled=labelled)
    return frame


def _as_counts(cells: Sequence[object], where: str, column: str) -> list[int | None]:
    out: list[int | None] = []
    for cell in cells:
        if cell is None or isinstance(cell, int):
            out.append(cell)
            continue
        text = str(cell).strip()
        if not text:
            out.append(None)
            continue
        try:
            out.append(int(float(text)))
        except ValueError as exc:
            raise DataFormatError(
                f"{where}: column {column!r} holds {text!r}, not a count."
            ) from exc
    return out
