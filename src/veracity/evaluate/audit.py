"""Shortcut and leakage audit: what gives the label away without being about truth.

:func:`audit_dataset` looks at a labelled dataset the way a sceptical reviewer
would, before any model is trained, and reports four things:

1. **Token shortcuts.** Words and 2-3-word phrases of the lower-cased *raw* title
   and text (before scrubbing) whose presence points to one class: the Reuters
   dateline (``reuters``, ``washington reuters``), ``featured image via``, ``21st
   century wire``… Each term gets its rows per class, its purity ``P(class |
   present)``, its coverage (share of that class's rows that contain it) and its
   **separation**, the ranking score: coverage minus the share of the *other*
   class's rows that contain it (Youden's J of the rule "present → that class",
   twice its balanced-accuracy gain over chance; 1.0 = the term alone separates
   the classes, whatever their balance; ``reuters`` in ISOT: 0.99). A term is
   *flagged* when purity ≥ 0.95, coverage ≥ 2% of its class, it occurs in at
   least 10 rows and its one-sided hypergeometric p-value is below ``0.01 / terms
   tested`` (Bonferroni: chance purity among thousands of rare terms is not
   flagged). Terms that mark the same rows are folded into the strongest one
   (``related``). ``survives_prepare`` is the share of (up to 50 sampled) rows
   with the term that still have it after :func:`veracity.text.prepare`: whether
   veracity's own models can lean on it.
2. **Metadata and format leaks** (:mod:`veracity.evaluate.leaks`): extra columns
   (``subject``, ``date``, ``speaker``, ``credit_*``…), the id, the row order, date
   formats and ranges, and text properties (length, casing, punctuation,
   non-ASCII, trailing whitespace, URLs, handles…).
3. **Duplicates**: exact and near duplicates (:func:`veracity.data.deduplicate`),
   clusters with conflicting labels and, when the frame has a ``split`` column,
   clusters that span splits.
4. **Baselines**: a logistic regression that sees *only* the flagged shortcut
   features (token flags plus flagged metadata/format features; not the id or row
   order), and one that sees only the format features, each scored with seeded
   stratified 5-fold cross-validation. Their accuracy is what a model gets for free.
   The flagged features are chosen on all rows, so the shortcut-only numbers are
   slightly optimistic for weak shortcuts (not for the strong ones that matter).

Examples
--------
>>> from veracity.data import load_dataset  # doctest: +SKIP
>>> report = audit_dataset(load_dataset("isot_sample"))  # doctest: +SKIP
>>> t = report.flagged_tokens[0]  # doctest: +SKIP
>>> t.term, t.points_to, t.purity, t.survives_prepare, t.related[:2]  # doctest: +SKIP
('reuters', 'reliable', 0.9887, 0.0, ['washington reuters', 'reuters the'])
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from itertools import combinations
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from veracity.errors import InputError
from veracity.evaluate.leak_stats import (
    ALPHA,
    FOLDS,
    MIN_AUC,
    MIN_COVERAGE,
    MIN_PURITY,
    MIN_SUPPORT,
    cross_validated,
)
from veracity.evaluate.leaks import DateSummary, FeatureLeak, column_leaks, format_leaks
from veracity.evaluate.token_shortcuts import BASELINE_TERMS, TokenShortcut, token_shortcuts
from veracity.types import FAKE, RELIABLE

if TYPE_CHECKING:
    from veracity.data import Dataset

__all__ = [
    "AUDIT_STEPS",
    "AuditReport",
    "Baseline",
    "DuplicateSummary",
    "TokenShortcut",
    "audit_dataset",
]

#: Number of ``advance(1)`` calls :func:`audit_dataset` makes (for a progress bar).
AUDIT_STEPS = 5


@dataclass(frozen=True)
class DuplicateSummary:
    """Exact and near duplicates in the audited rows.

    Attributes
    ----------
    rows : int
        Rows looked at.
    exact_dropped, near_dropped : int
        Rows that deduplication would drop (same prepared text; near duplicate).
    clusters, duplicate_clusters, largest_cluster : int
        Clusters in all, clusters with more than one row, and the biggest size.
    conflicting_labels : int
        Clusters holding both labels.
    conflicting_examples : list of list of str
        Ids of up to three such clusters (up to four ids each).
    across_splits : dict of str to int or None
        With a ``split`` column: clusters shared by each pair of splits
        (``"train/test"``); None without one.
    rows_across_splits : int or None
        Rows in clusters that span more than one split.
    """

    rows: int
    exact_dropped: int
    near_dropped: int
    clusters: int
    duplicate_clusters: int
    largest_cluster: int
    conflicting_labels: int
    conflicting_examples: list[list[str]]
    across_splits: dict[str, int] | None = None
    rows_across_splits: int | None = None


@dataclass(frozen=True)
class Baseline:
    """A cross-validated model that sees only some shortcut features.

    Attributes
    ----------
    name : str
        ``"shortcut-only"`` or ``"format-only"``.
    features : list of str
        What it saw.
    accuracy : float
        Out-of-fold accuracy (probability ≥ 0.5 → fake).
    roc_auc : float
        Out-of-fold ROC-AUC (0.5 when it saw nothing).
    majority : float
        Accuracy of always answering the larger class.
    folds : int
        Folds of the stratified cross-validation.
    note : str
        How it was built.
    """

    name: str
    features: list[str]
    accuracy: float
    roc_auc: float
    majority: float
    folds: int
    note: str = ""


@dataclass
class AuditReport:
    """What :func:`audit_dataset` found in one dataset.

    Attributes
    ----------
    dataset : str
        Its name.
    rows, rows_audited : int
        Rows in the dataset, and labelled rows looked at (after ``max_rows``).
    labels : dict of str to int
        Audited rows per class.
    seed : int
        Seed of the sampling, the folds and the MinHash signatures.
    tokens : list of TokenShortcut
        Flagged terms by separation (at most 40), then up to 5 strongest unflagged ones.
    terms_flagged : int
        Terms (before folding related ones together) that pass the shortcut rule.
    leaks : list of FeatureLeak
        Format features, then the row order, id and columns.
    dates : list of DateSummary
        One per date column.
    duplicates : DuplicateSummary
    baselines : list of Baseline
        ``shortcut-only`` and ``format-only``.
    notes : list of str
        Anything skipped or worth knowing.
    thresholds : dict of str to float
        The flagging thresholds used.
    seconds : float
        Time the audit took.
    """

    dataset: str
    rows: int
    rows_audited: int
    labels: dict[str, int]
    seed: int
    tokens: list[TokenShortcut]
    terms_flagged: int
    leaks: list[FeatureLeak]
    dates: list[DateSummary]
    duplicates: DuplicateSummary
    baselines: list[Baseline]
    notes: list[str]
    thresholds: dict[str, float]
    seconds: float

    @property
    def flagged_tokens(self) -> list[TokenShortcut]:
        """The flagged terms, strongest first."""
        return [t for t in self.tokens if t.flagged]

    @property
    def flagged_leaks(self) -> list[FeatureLeak]:
        """The flagged metadata and format features."""
        return [r for r in self.leaks if r.flagged]

    def baseline(self, name: str) -> Baseline:
        """The baseline called ``name`` (``"shortcut-only"`` or ``"format-only"``)."""
        for b in self.baselines:
            if b.name == name:
                return b
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: the fields, plus ``flagged`` (term and feature names); NaN → None."""
        data = asdict(self)
        data["flagged"] = {
            "tokens": [f"{t.field}: {t.term}" for t in self.flagged_tokens],
            "features": [r.feature for r in self.flagged_leaks],
        }
        clean: dict[str, Any] = _no_nan(data)
        return clean


def _no_nan(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_no_nan(v) for v in value]
    return value


def audit_dataset(
    dataset: Dataset,
    *,
    seed: int = 42,
    max_rows: int | None = None,
    advance: Callable[[int], None] | None = None,
) -> AuditReport:
    """Find what gives the label away in ``dataset`` without being about truth.

    Parameters
    ----------
    dataset : Dataset
        A labelled dataset (rows labelled neither fake nor reliable are left out).
    seed : int, default 42
        Seed of the row sample, the cross-validation folds and the MinHash signatures.
    max_rows : int, optional
        Audit a stratified sample of at most this many rows (original order kept).
    advance : callable, optional
        Called with 1 after each of the :data:`AUDIT_STEPS` steps.

    Returns
    -------
    AuditReport

    Raises
    ------
    InputError
        The dataset is unlabelled, lacks one of the labels, or ``max_rows`` < 20.

    Examples
    --------
    >>> report = audit_dataset(load_dataset("isot_sample"))  # doctest: +SKIP
    >>> report.baseline("shortcut-only").accuracy  # doctest: +SKIP
    0.999
    """
    started = time.perf_counter()
    step = advance if advance is not None else (lambda n: None)
    frame, y, notes = _labelled_rows(dataset, max_rows, seed)
    titles = ["" if pd.isna(t) else str(t) for t in frame["title"].tolist()]
    texts = ["" if pd.isna(t) else str(t) for t in frame["text"].tolist()]
    n_fake = int(y.sum())
    min_df = max(MIN_SUPPORT, math.floor(MIN_PURITY * MIN_COVERAGE * min(n_fake, len(y) - n_fake)))
    tokens, token_features, terms_flagged = token_shortcuts(titles, texts, y, seed, min_df)
    step(1)
    format_rows, format_features = format_leaks(titles, texts, y)
    step(1)
    column_rows, dates, column_features, column_notes = column_leaks(frame, y, seed=seed)
    notes.extend(column_notes)
    step(1)
    duplicates = _duplicates(frame, seed)
    step(1)
    leaks = format_rows + column_rows
    flagged = {r.feature for r in leaks if r.flagged and r.kind not in ("order", "id", "group")}
    shortcut = pd.concat(
        [
            token_features,
            format_features[[c for c in format_features.columns if c in flagged]],
            column_features[[c for c in column_features.columns if c in flagged]],
        ],
        axis=1,
    )
    what = f"flagged terms (up to {BASELINE_TERMS}) and flagged metadata/format features"
    baselines = [
        _baseline("shortcut-only", shortcut, y, seed, what),
        _baseline("format-only", format_features, y, seed, "every format feature"),
    ]
    step(1)
    return AuditReport(
        dataset=dataset.name,
        rows=len(dataset.frame),
        rows_audited=len(frame),
        labels={FAKE: n_fake, RELIABLE: len(y) - n_fake},
        seed=seed,
        tokens=tokens,
        terms_flagged=terms_flagged,
        leaks=leaks,
        dates=dates,
        duplicates=duplicates,
        baselines=baselines,
        notes=notes,
        thresholds={
            "min_purity": MIN_PURITY,
            "min_coverage": MIN_COVERAGE,
            "min_support": MIN_SUPPORT,
            "alpha": ALPHA,
            "min_auc": MIN_AUC,
            "min_df": min_df,
        },
        seconds=round(time.perf_counter() - started, 2),
    )


def _labelled_rows(
    dataset: Dataset, max_rows: int | None, seed: int
) -> tuple[pd.DataFrame, NDArray[np.int64], list[str]]:
    """The fake/reliable rows (a stratified sample of ``max_rows``), 0/1 labels, notes."""
    frame = dataset.frame
    if "label" not in frame.columns or not frame.attrs.get("labelled", True):
        raise InputError(
            f"dataset {dataset.name!r} has no labels to audit; give --label-col "
            "(and --positive for 0/1 labels)"
        )
    if max_rows is not None and max_rows < 20:
        raise InputError(f"max_rows must be at least 20, got {max_rows}.")
    notes: list[str] = []
    labels = frame["label"].astype(str)
    keep = labels.isin([FAKE, RELIABLE]).to_numpy()
    if not keep.all():
        notes.append(f"{int((~keep).sum()):,} rows labelled neither fake nor reliable left out")
    frame = frame.loc[keep].reset_index(drop=True)
    y = (frame["label"].astype(str) == FAKE).to_numpy().astype(np.int64)
    n_fake = int(y.sum())
    if min(n_fake, len(y) - n_fake) < FOLDS:
        raise InputError(
            f"dataset {dataset.name!r} has {n_fake} fake and {len(y) - n_fake} reliable rows; "
            f"the audit needs at least {FOLDS} of each."
        )
    if max_rows is not None and len(frame) > max_rows:
        from sklearn.model_selection import train_test_split

        picked, _ = train_test_split(
            np.arange(len(frame)), train_size=max_rows, stratify=y, random_state=seed
        )
        order = np.sort(np.asarray(picked))
        notes.append(f"audited a stratified sample of {max_rows:,} of {len(frame):,} rows")
        frame = frame.iloc[order].reset_index(drop=True)
        y = y[order]
    return frame, y, notes


# ---------------------------------------------------------------- duplicates and baselines


def _duplicates(frame: pd.DataFrame, seed: int) -> DuplicateSummary:
    from veracity.data import deduplicate

    result = deduplicate(frame, near=True, seed=seed)
    ids = result.cluster.to_numpy()
    sizes = np.bincount(ids) if len(ids) else np.zeros(0, dtype=np.int64)
    table = pd.DataFrame(
        {"cluster": ids, "label": frame["label"].astype(str).to_numpy(), "id": frame["id"]}
    )
    mixed = table.groupby("cluster")["label"].nunique()
    examples = [
        [str(v) for v in table.loc[table["cluster"] == c, "id"].head(4)]
        for c in mixed[mixed > 1].index[:3]
    ]
    across: dict[str, int] | None = None
    rows_across: int | None = None
    if "split" in frame.columns and frame["split"].nunique() > 1:
        table["split"] = frame["split"].astype(str).to_numpy()
        per_cluster: dict[int, set[str]] = {}
        for cluster, split in zip(ids.tolist(), table["split"].tolist(), strict=True):
            per_cluster.setdefault(int(cluster), set()).add(str(split))
        spanning = {c for c, splits in per_cluster.items() if len(splits) > 1}
        across = {}
        rank = {v: i for i, v in enumerate(dict.fromkeys(table["split"].tolist()))}
        for c in sorted(spanning):
            for a, b in combinations(sorted(per_cluster[c], key=rank.__getitem__), 2):
                across[f"{a}/{b}"] = across.get(f"{a}/{b}", 0) + 1
        rows_across = int(table["cluster"].isin(spanning).sum())
    return DuplicateSummary(
        rows=len(frame),
        exact_dropped=result.exact_dropped,
        near_dropped=result.near_dropped,
        clusters=len(sizes),
        duplicate_clusters=int((sizes > 1).sum()),
        largest_cluster=int(sizes.max()) if len(sizes) else 0,
        conflicting_labels=result.conflicting_labels,
        conflicting_examples=examples,
        across_splits=across,
        rows_across_splits=rows_across,
    )


def _baseline(
    name: str, features: pd.DataFrame, y: NDArray[np.int64], seed: int, note: str
) -> Baseline:
    n_fake = int(y.sum())
    majority = round(max(n_fake, len(y) - n_fake) / len(y), 4)
    folds = min(FOLDS, n_fake, len(y) - n_fake)
    if features.shape[1] == 0:
        return Baseline(name, [], majority, 0.5, majority, folds, "nothing flagged: majority class")
    accuracy, auc = cross_validated(features, y, seed)
    used = [str(c) for c in features.columns]
    note = f"logistic regression on {note}"
    return Baseline(name, used, round(accuracy, 4), round(auc, 4), majority, folds, note)
