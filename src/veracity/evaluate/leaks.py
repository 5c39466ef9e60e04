"""Metadata and format leaks: columns and text properties that give the label away.

The second half of the shortcut audit (:func:`veracity.evaluate.audit.audit_dataset`).
Each candidate becomes one :class:`FeatureLeak` row: the value per class, how well
the feature *alone* separates the classes, and whether it is flagged.

Separability is the ROC-AUC of the feature as a score for ``fake``, turned so that
it is at least 0.5 (0.5: no signal; 1.0: perfect separation):

* numeric and format features use their value directly (a one-number rule, so the
  in-sample AUC is honest);
* categorical columns (``subject``, ``speaker``, a date as written…) use the
  smoothed ``P(fake | value)`` learnt on the *other* folds of a stratified 5-fold
  split, so a column of unique values (an id) scores 0.5, not 1.0.

A feature is flagged when its separability is at least :data:`MIN_AUC`, or when
its presence (value > 0) alone points to one class with purity at least
:data:`MIN_PURITY`, covering at least :data:`MIN_COVERAGE` of that class, in at
least :data:`MIN_SUPPORT` rows, with a one-sided hypergeometric p-value under
``ALPHA / tests`` (Bonferroni) — the same rule as for tokens.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from veracity.evaluate.leak_stats import (
    ALPHA,
    FOLDS,
    MIN_AUC,
    MIN_COVERAGE,
    MIN_PURITY,
    MIN_SUPPORT,
    FloatArray,
    cross_validated,
    oof_category_scores,
    oriented_auc,
    presence_flags,
    presence_stats,
    threshold_accuracy,
)

__all__ = [
    "ALPHA",
    "FOLDS",
    "MIN_AUC",
    "MIN_COVERAGE",
    "MIN_PURITY",
    "MIN_SUPPORT",
    "DateSummary",
    "FeatureLeak",
    "FormatCount",
    "column_leaks",
    "cross_validated",
    "format_leaks",
    "presence_stats",
    "value_shape",
]

Kind = Literal["format", "column", "numeric", "date", "id", "order", "group"]

_NOTE_ORDER = "rows are in label order: never split by position (head/tail, unshuffled folds)"
_NOTE_ID_NUMBER = "ids in label order: files or rows were numbered class by class"
_NOTE_ID_FORM = "the id's form (digits as 0) names the class, e.g. one file name per class"
_NOTE_CREDIT = "LIAR credit history counts the statement being judged: a label leak"


@dataclass(frozen=True)
class FeatureLeak:
    """One metadata or format feature and how much of the label it gives away.

    Attributes
    ----------
    feature : str
        ``"subject"``, ``"date (format)"``, ``"text: non-ASCII characters"``…
    kind : str
        ``format`` (a property of title/text), ``column`` (categorical column),
        ``numeric`` (numeric column), ``date`` (parsed date), ``id`` (the id or
        its format), ``order`` (row position) or ``group`` (numeric columns together).
    statistic : str
        What ``fake`` and ``reliable`` hold: ``rate`` (share of rows), ``median``,
        ``mean``, or ``top values``.
    fake, reliable : float or str
        The statistic in each class.
    separability : float
        ROC-AUC of the feature alone, at least 0.5 (see the module docstring).
    accuracy : float
        Accuracy of the best one-feature rule: one threshold for numbers (in-sample),
        the majority label per value learnt on other folds for categories.
    higher_in : str
        The class with the larger values (``""`` for categories).
    purity, coverage : float or None
        For presence features: share of present rows in the class they point to,
        and share of that class's rows that have the feature.
    flagged : bool
        Whether the feature is a shortcut or a leak.
    survives_prepare : bool or None
        Whether models see it after :func:`veracity.text.prepare` (None for columns,
        which models never see).
    note : str
        Why it matters or how it was judged.
    """

    feature: str
    kind: Kind
    statistic: str
    fake: float | str
    reliable: float | str
    separability: float
    accuracy: float
    higher_in: str = ""
    purity: float | None = None
    coverage: float | None = None
    flagged: bool = False
    survives_prepare: bool | None = None
    note: str = ""


@dataclass(frozen=True)
class FormatCount:
    """How many rows of each class write a column's values in one shape."""

    shape: str
    fake: int
    reliable: int


@dataclass(frozen=True)
class DateSummary:
    """Per-class date ranges and date formats of one date column.

    Attributes
    ----------
    column : str
        The column's name.
    first, last : dict of str to str or None
        Earliest and latest parsed date (ISO ``YYYY-MM-DD``) per class.
    unparsed : dict of str to int
        Rows per class whose value is not a date.
    formats : list of FormatCount
        The most common shapes (:func:`value_shape`) with their counts per class.
    """

    column: str
    first: dict[str, str | None]
    last: dict[str, str | None]
    unparsed: dict[str, int]
    formats: list[FormatCount]


# ---------------------------------------------------------------- format features

_URL = re.compile(r"pic\.twitter\.com/\S*|(?:https?://|\bwww\.)\S+", re.IGNORECASE)
_HANDLE = re.compile(r"(?<![\w.])@\w{1,30}")
_CAPS_RUN = re.compile(r"\b[A-Z][A-Z'\u2019-]*[A-Z]\b(?:\W+\b[A-Z][A-Z'\u2019-]*[A-Z]\b){2,}")
_PUNCT = frozenset(b"!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")

# name → (statistic, presence feature?, survives prepare?)
_FORMAT: dict[str, tuple[str, bool, bool]] = {
    "text: length (characters)": ("median", False, True),
    "text: empty": ("rate", True, True),
    "text: trailing whitespace": ("rate", True, False),
    "text: non-ASCII characters": ("rate", True, False),
    "text: double spaces": ("rate", True, False),
    "text: upper-case share of letters": ("median", False, False),
    "text: punctuation per character": ("median", False, False),
    "text: URLs": ("mean", True, False),
    "text: @handles": ("mean", True, False),
    "title: empty": ("rate", True, True),
    "title: starts with a space": ("rate", True, False),
    "title: ALL-CAPS words (3 in a row)": ("rate", True, False),
    "title: non-ASCII characters": ("rate", True, False),
    "title: length (characters)": ("median", False, True),
}


def _ascii_counts(text: str, punct_table: NDArray[np.bool_]) -> tuple[int, int, int]:
    """Upper-case letters, letters and punctuation among the ASCII characters of ``text``."""
    data = np.frombuffer(text.encode("ascii", "ignore"), dtype=np.uint8)
    upper = int(np.count_nonzero((data >= 65) & (data <= 90)))
    lower = int(np.count_nonzero((data >= 97) & (data <= 122)))
    return upper, upper + lower, int(np.count_nonzero(punct_table[data]))


def format_features(titles: Sequence[str], texts: Sequence[str]) -> pd.DataFrame:
    """Per-row format features of raw titles and texts (columns named as in the report).

    Title features are left out when every title is empty.
    """
    punct_table = np.zeros(256, dtype=bool)
    punct_table[list(_PUNCT)] = True
    rows: list[list[float]] = []
    for text in texts:
        upper, letters, punct = _ascii_counts(text, punct_table)
        rows.append(
            [
                float(len(text)),
                float(not text.strip()),
                float(text != text.rstrip()),
                float(not text.isascii()),
                float("  " in text),
                upper / letters if letters else 0.0,
                punct / len(text) if text else 0.0,
                float(len(_URL.findall(text))),
                float(len(_HANDLE.findall(text))),
            ]
        )
    names = [n for n in _FORMAT if n.startswith("text:")]
    frame = pd.DataFrame(rows, columns=names, dtype=np.float64)
    if any(t.strip() for t in titles):
        frame["title: empty"] = [float(not t.strip()) for t in titles]
        frame["title: starts with a space"] = [float(t[:1].isspace()) for t in titles]
        frame["title: ALL-CAPS words (3 in a row)"] = [
            float(_CAPS_RUN.search(t) is not None) for t in titles
        ]
        frame["title: non-ASCII characters"] = [float(not t.isascii()) for t in titles]
        frame["title: length (characters)"] = [float(len(t)) for t in titles]
    return frame


def _numeric_row(
    name: str,
    kind: Kind,
    values: FloatArray,
    y: NDArray[Any],
    statistic: str = "median",
    *,
    presence: bool = False,
    tests: int = 1,
    why: str = "",
    force: bool = False,
) -> FeatureLeak:
    """A numeric feature's row; ``why`` is the note when flagged, ``force`` flags it anyway."""
    finite = np.isfinite(values)
    filled = np.where(finite, values, np.nanmin(values) - 1 if finite.any() else 0.0)
    auc, direction = oriented_auc(y, filled)
    per_class = [values[(y == c) & finite] for c in (1, 0)]
    stat = [
        round(float(np.median(v) if statistic == "median" else np.mean(v)), 4) if len(v) else 0.0
        for v in per_class
    ]
    purity = coverage = None
    flagged = force or auc >= MIN_AUC
    if presence:
        has = filled > 0
        counts = [np.array([(has & (y == c)).sum()]) for c in (1, 0)]
        stats = presence_stats(counts[0], counts[1], int(y.sum()), int((y == 0).sum()))
        purity, coverage = (round(float(stats[k][0]), 4) for k in ("purity", "coverage"))
        if bool(presence_flags(stats, tests)[0]):
            flagged = True
            side = "fake" if bool(stats["to_fake"][0]) else "reliable"
            why = why or f"present → {side} in {purity:.1%} of the rows that have it"
    return FeatureLeak(
        feature=name,
        kind=kind,
        statistic=statistic,
        fake=stat[0],
        reliable=stat[1],
        separability=round(auc, 4),
        accuracy=round(threshold_accuracy(y, filled), 4),
        higher_in={1: "fake", -1: "reliable"}.get(direction, ""),
        purity=purity,
        coverage=coverage,
        flagged=flagged,
        note=why if flagged else "",
    )


def format_leaks(
    titles: Sequence[str], texts: Sequence[str], y: NDArray[Any]
) -> tuple[list[FeatureLeak], pd.DataFrame]:
    """Format rows (text length, casing, punctuation, non-ASCII…) and the per-row features.

    Constant features are left out. Returns the rows and the feature frame they
    were computed from (same row order as ``texts``).
    """
    features = format_features(titles, texts)
    features = features.loc[:, features.nunique() > 1]
    rows = []
    tests = features.shape[1]
    for name in features.columns:
        stat, presence, survives = _FORMAT[str(name)]
        values = features[name].to_numpy(np.float64)
        row = _numeric_row(str(name), "format", values, y, stat, presence=presence, tests=tests)
        rows.append(replace(row, survives_prepare=survives))
    return rows, features


# ---------------------------------------------------------------- columns

_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_MON = "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec"
_MONTH_RE = re.compile(rf"\b(?:{_MONTHS})\b", re.IGNORECASE)
_MON_RE = re.compile(rf"\b(?:{_MON})\b\.?", re.IGNORECASE)
_DIGITS = re.compile(r"\d+")
_EDGE_SPACE = re.compile(r"^\s+|\s+$")


def value_shape(value: str) -> str:
    """The written form of a value: month names, digits and edge spaces made generic.

    Full month names become ``Month``, abbreviations ``Mon``, 4-digit runs ``YYYY``,
    1-2 digit runs ``D`` (``YY`` for the year in ``D-Mon-YY``), longer runs ``N``,
    and leading or trailing whitespace ``␠``.

    Examples
    --------
    >>> value_shape("December 31, 2017 ")
    'Month D, YYYY␠'
    >>> value_shape("31-Dec-17")
    'D-Mon-YY'
    """
    s = _MONTH_RE.sub("Month", value)
    s = _MON_RE.sub("Mon", s)

    def digits(m: re.Match[str]) -> str:
        n = len(m.group())
        return "YYYY" if n == 4 else "D" if n <= 2 else "N"

    s = _DIGITS.sub(digits, s)
    s = re.sub(r"-Mon-D$", "-Mon-YY", s.rstrip()) + s[len(s.rstrip()) :]
    return _EDGE_SPACE.sub(lambda m: "␠" * len(m.group()), s)


def _top_values(values: pd.Series, mask: NDArray[np.bool_], k: int = 3) -> str:
    counts = values[mask].value_counts()
    shown = [f"{_show(str(v))} ({int(c):,})" for v, c in counts.head(k).items()]
    more = len(counts) - k
    return ", ".join(shown) + (f" (+{more:,} more)" if more > 0 else "")


def _show(value: str) -> str:
    if not value.strip():
        return "(empty)" if not value else "␠" * len(value)
    value = _EDGE_SPACE.sub(lambda m: "␠" * len(m.group()), value)
    return value if len(value) <= 24 else value[:23] + "…"


def _category_row(
    name: str, kind: Kind, values: pd.Series, y: NDArray[Any], seed: int
) -> FeatureLeak:
    strs = ["" if pd.isna(v) else str(v) for v in values.tolist()]
    series = pd.Series(strs, dtype=object)
    scores, pred = oof_category_scores(strs, y, seed)
    auc, _ = oriented_auc(y, scores)
    table = pd.crosstab(series, y)
    purity = float(table.max(axis=1).sum() / len(strs)) if len(strs) else float("nan")
    fake_mask = np.asarray(y == 1)
    return FeatureLeak(
        feature=name,
        kind=kind,
        statistic="top values",
        fake=_top_values(series, fake_mask),
        reliable=_top_values(series, ~fake_mask),
        separability=round(auc, 4),
        accuracy=round(float(np.mean(pred == (y == 1))), 4),
        purity=round(purity, 4),
        flagged=auc >= MIN_AUC,
        note=f"{series.nunique():,} values",
    )


def _numbers(values: pd.Series) -> FloatArray | None:
    """The column as floats when at least 95% of its non-empty cells are numbers."""
    if pd.api.types.is_numeric_dtype(values.dtype):
        return np.asarray(
            values.astype("Float64").to_numpy(np.float64, na_value=np.nan), dtype=np.float64
        )
    strs = values.astype(str).str.strip()
    filled = strs[(strs != "") & (strs.str.lower() != "nan")]
    if filled.empty:
        return None
    parsed = pd.to_numeric(strs, errors="coerce")
    if parsed.notna().sum() < 0.95 * len(filled):
        return None
    return parsed.to_numpy(np.float64, na_value=np.nan)


def _date_summary(column: str, strs: pd.Series, y: NDArray[Any]) -> tuple[DateSummary, FloatArray]:
    parsed = pd.to_datetime(strs.str.strip(), format="mixed", errors="coerce")
    labels = np.where(y == 1, "fake", "reliable")
    first: dict[str, str | None] = {}
    last: dict[str, str | None] = {}
    unparsed: dict[str, int] = {}
    for label in ("fake", "reliable"):
        part = parsed[labels == label]
        ok = part.dropna()
        first[label] = None if ok.empty else ok.min().date().isoformat()
        last[label] = None if ok.empty else ok.max().date().isoformat()
        unparsed[label] = int(part.isna().sum())
    shapes = pd.Series([value_shape(v) for v in strs.tolist()], dtype=object)
    table = pd.crosstab(shapes, labels)
    table = table.reindex(columns=["fake", "reliable"], fill_value=0)
    table = table.loc[table.sum(axis=1).sort_values(ascending=False, kind="mergesort").index]
    formats = [
        FormatCount(str(shape), int(row["fake"]), int(row["reliable"]))
        for shape, row in table.head(8).iterrows()
    ]
    seconds = np.array([np.nan if pd.isna(t) else t.timestamp() for t in parsed], dtype=np.float64)
    return DateSummary(column, first, last, unparsed, formats), seconds


def column_leaks(
    frame: pd.DataFrame, y: NDArray[Any], *, seed: int
) -> tuple[list[FeatureLeak], list[DateSummary], pd.DataFrame, list[str]]:
    """Rows for the row order, the id and every extra column; date summaries; features; notes.

    Every column but ``title``, ``text`` and ``label*`` is judged: numeric columns
    by the AUC of their value, others as categories (out-of-fold AUC). A column
    whose name contains ``date`` also gets its shape (``date (format)``), parsed
    value (``date (parsed)``) and a :class:`DateSummary`. Two or more numeric
    columns are also judged together (kind ``group``, by gradient-boosted trees
    under cross-validation); when that is flagged, so is
    each of them. Columns named ``credit_*`` are always flagged (LIAR's leak by
    construction). ``features`` holds one column per judged feature (object dtype
    for categories), for the shortcut-only baseline; ``notes`` says what was skipped.
    """
    position = np.arange(len(frame), dtype=np.float64)
    rows = [_numeric_row("row order", "order", position, y, why=_NOTE_ORDER)]
    dates: list[DateSummary] = []
    notes: list[str] = []
    feats: dict[str, Any] = {}
    numeric: list[str] = []
    for col in frame.columns:
        name = str(col)
        strs = frame[col].astype(str).fillna("")
        if name in ("title", "text", "label"):
            continue
        if name.startswith("label"):
            notes.append(f"column {name!r} skipped: another form of the label")
            continue
        if strs.nunique() < 2:
            notes.append(f"column {name!r} skipped: one value only")
            continue
        if name == "id":
            rows.extend(_id_rows(strs, y, seed))
            continue
        numbers = _numbers(frame[col])
        if numbers is not None:
            credit = name.startswith("credit_")
            why = _NOTE_CREDIT if credit else ""
            rows.append(_numeric_row(name, "numeric", numbers, y, why=why, force=credit))
            feats[name] = numbers
            numeric.append(name)
            continue
        rows.append(_category_row(name, "column", strs, y, seed))
        feats[name] = strs.to_numpy(dtype=object)
        if "date" in name.lower():
            summary, seconds = _date_summary(name, strs, y)
            dates.append(summary)
            shapes = strs.map(value_shape)
            rows.append(_category_row(f"{name} (format)", "date", shapes, y, seed))
            feats[f"{name} (format)"] = shapes.to_numpy(dtype=object)
            if np.isfinite(seconds).sum() >= MIN_SUPPORT:
                why = "the classes cover different periods"
                row = _numeric_row(f"{name} (parsed)", "date", seconds, y, why=why)
                fake, reliable = (_day(row.fake), _day(row.reliable))
                rows.append(replace(row, statistic="median", fake=fake, reliable=reliable))
                feats[f"{name} (parsed)"] = seconds
    if len(numeric) >= 2:
        together = pd.DataFrame({c: feats[c] for c in numeric})
        accuracy, auc = cross_validated(together, y, seed, boosted=True)
        flagged = auc >= MIN_AUC
        why = f"jointly separable: out-of-fold AUC {auc:.2f} of gradient-boosted trees"
        rows = [
            replace(r, flagged=True, note=r.note or why) if flagged and r.kind == "numeric" else r
            for r in rows
        ]
        name = f"numeric columns together ({', '.join(numeric)})"
        group = FeatureLeak(name, "group", "", "", "", round(auc, 4), round(accuracy, 4))
        rows.append(replace(group, flagged=flagged, note=why if flagged else ""))
    return rows, dates, pd.DataFrame(feats, index=frame.index), notes


def _day(seconds: float | str) -> str:
    return pd.Timestamp(float(seconds), unit="s").date().isoformat()


def _id_rows(ids: pd.Series, y: NDArray[Any], seed: int) -> list[FeatureLeak]:
    """The id's number (first digit run) and its form: ids that carry the label."""
    rows = []
    digits = ids.str.extract(r"(\d+)", expand=False)
    if digits.notna().mean() >= 0.95:
        numbers = pd.to_numeric(digits, errors="coerce").to_numpy(np.float64, na_value=np.nan)
        rows.append(_numeric_row("id (number)", "id", numbers, y, why=_NOTE_ID_NUMBER))
    shapes = ids.str.replace(r"\d+", "0", regex=True)
    if 2 <= shapes.nunique() < len(shapes):
        row = _category_row("id (format)", "id", shapes, y, seed)
        rows.append(replace(row, note=_NOTE_ID_FORM if row.flagged else ""))
    return rows
