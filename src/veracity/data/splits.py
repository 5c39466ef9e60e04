"""Train/test splits that keep duplicates and near duplicates out of the test side.

:func:`split_dataset` first clusters exact and near-duplicate rows
(:func:`veracity.data.dedup.deduplicate`), keeps the first row of each cluster and
drops the rest (counted), then splits the kept rows:

* ``"random"``: stratified by label (scikit-learn ``train_test_split``);
* ``"group"``: every value of ``group_col`` stays on one side
  (``StratifiedGroupKFold`` with ``round(1 / test_size)`` folds, the first fold
  being the test side; ``GroupShuffleSplit`` for unlabelled data);
* ``"temporal"``: train on the past, test on the future. Dates in ``date_col`` are
  parsed leniently (``pandas.to_datetime(format="mixed")`` on stripped strings, so
  ISOT's ``"December 31, 2017 "``, ``"Dec 31, 2017"`` and ``"31-Dec-17"`` all
  parse); the test side is the latest ``test_size`` share of the dated rows,
  rounded up to whole dates, so every test date is later than every train date.
  Rows whose date does not parse are **dropped** from both sides (counted as
  ``undated_dropped``): an undated row could be from the test period.

All are deterministic for a given ``seed``. Rows keep their original index and order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from veracity.data.dedup import deduplicate
from veracity.errors import InputError
from veracity.types import LABELS

__all__ = ["SplitResult", "split_dataset"]


@dataclass
class SplitResult:
    """The two sides of a split and how they were made.

    Attributes
    ----------
    train, test : pandas.DataFrame
        Rows of the input (original index and order), one per duplicate cluster.
    duplicates_dropped : int
        Exact plus near duplicates removed before splitting.
    report : dict of str to int, float or str
        ``rows_in``, ``exact_dropped``, ``near_dropped``, ``duplicates_dropped``,
        ``clusters``, ``conflicting_labels``, ``train_rows``, ``test_rows``,
        ``test_fraction``, ``train_fake``/``train_reliable``/``test_fake``/
        ``test_reliable`` (labelled data), ``train_groups``/``test_groups`` (group
        strategy), ``undated_dropped`` and the ISO dates ``train_first``/``train_last``/
        ``test_first``/``test_last`` (temporal strategy).
    """

    train: pd.DataFrame
    test: pd.DataFrame
    duplicates_dropped: int
    report: dict[str, int | float | str]


def split_dataset(
    frame: pd.DataFrame,
    *,
    test_size: float = 0.2,
    strategy: Literal["random", "group", "temporal"] = "random",
    group_col: str | None = None,
    seed: int = 42,
    near_threshold: float = 0.8,
    date_col: str = "date",
) -> SplitResult:
    """Split ``frame`` into train and test with no duplicate cluster on both sides.

    Parameters
    ----------
    frame : pandas.DataFrame
        A dataset frame (``text``; ``title`` and ``label`` used when present).
    test_size : float, default 0.2
        Share of rows (``"random"``), ``1 / folds`` (``"group"``) or share of the
        dated rows, rounded up to whole dates (``"temporal"``), for the test side.
    strategy : {"random", "group", "temporal"}, default "random"
        Stratified random split, grouped split on ``group_col``, or the latest
        dates in ``date_col`` as the test side.
    group_col : str, optional
        Column whose values must not span train and test; required for ``"group"``.
    seed : int, default 42
        Seed for the split and the MinHash signatures.
    near_threshold : float, default 0.8
        Jaccard similarity of word 5-shingles at which rows count as near duplicates.
    date_col : str, default "date"
        Column holding the dates, for ``"temporal"``; rows whose date does not
        parse are dropped and counted (``undated_dropped``).

    Returns
    -------
    SplitResult

    Raises
    ------
    InputError
        Bad ``test_size``/``strategy``/``group_col``/``date_col``, or too few rows,
        labels, groups or distinct dates to split as asked.

    Examples
    --------
    >>> frame = dataset.frame  # doctest: +SKIP
    >>> result = split_dataset(frame, strategy="group", group_col="speaker")  # doctest: +SKIP
    >>> result.report["duplicates_dropped"]  # doctest: +SKIP
    17
    >>> isot = split_dataset(frame, strategy="temporal", date_col="date")  # doctest: +SKIP
    >>> isot.report["test_first"], isot.report["test_last"]  # doctest: +SKIP
    ('2017-11-09', '2018-02-19')
    """
    if not 0.0 < test_size < 1.0:
        raise InputError(f"test_size must be between 0 and 1, got {test_size}.")
    if strategy not in ("random", "group", "temporal"):
        raise InputError(f"strategy must be 'random', 'group' or 'temporal', got {strategy!r}.")
    if strategy == "temporal" and date_col not in frame.columns:
        raise InputError(
            f"the temporal strategy needs date_col naming a column; got {date_col!r}, "
            f"columns are {list(frame.columns)}."
        )
    if strategy == "group" and (group_col is None or group_col not in frame.columns):
        raise InputError(
            f"the group strategy needs group_col naming a column; got {group_col!r}, "
            f"columns are {list(frame.columns)}."
        )
    dedup = deduplicate(frame, near=True, threshold=near_threshold, seed=seed)
    kept = dedup.frame
    extra: dict[str, int | float | str] = {}
    if strategy == "temporal":
        dates = _parse_dates(kept[date_col])
        extra["undated_dropped"] = int(dates.isna().sum())
        kept, dates = kept[dates.notna().to_numpy()], dates[dates.notna()]
    labels = _labels(kept)
    if len(kept) < 2:
        raise InputError(f"cannot split {len(kept)} unique row(s); at least 2 are needed.")
    try:
        if strategy == "temporal":
            train_pos, test_pos = _temporal(dates, test_size)
        elif strategy == "random":
            train_pos, test_pos = _random(len(kept), labels, test_size, seed)
        else:
            assert group_col is not None
            groups = ["" if pd.isna(g) else str(g) for g in kept[group_col].tolist()]
            train_pos, test_pos = _grouped(groups, labels, test_size, seed)
    except ValueError as exc:
        raise InputError(
            f"cannot split {len(kept)} unique rows with strategy {strategy!r} and "
            f"test_size={test_size}: {exc}"
        ) from exc
    train = kept.iloc[sorted(train_pos)]
    test = kept.iloc[sorted(test_pos)]
    dropped = dedup.exact_dropped + dedup.near_dropped
    report: dict[str, int | float | str] = {
        "rows_in": len(frame),
        "exact_dropped": dedup.exact_dropped,
        "near_dropped": dedup.near_dropped,
        "duplicates_dropped": dropped,
        "clusters": len(kept),
        "conflicting_labels": dedup.conflicting_labels,
        "train_rows": len(train),
        "test_rows": len(test),
        "test_fraction": round(len(test) / len(kept), 4),
    }
    if labels is not None:
        for side, part in (("train", train), ("test", test)):
            counts = part["label"].value_counts()
            for label in LABELS:
                report[f"{side}_{label}"] = int(counts.get(label, 0))
    if strategy == "group":
        assert group_col is not None
        report["train_groups"] = int(train[group_col].nunique())
        report["test_groups"] = int(test[group_col].nunique())
    if strategy == "temporal":
        report.update(extra)
        for side, pos in (("train", train_pos), ("test", test_pos)):
            side_dates = dates.iloc[sorted(pos)]
            report[f"{side}_first"] = side_dates.min().date().isoformat()
            report[f"{side}_last"] = side_dates.max().date().isoformat()
    return SplitResult(train=train, test=test, duplicates_dropped=dropped, report=report)


def _labels(frame: pd.DataFrame) -> list[str] | None:
    """The labels to stratify on, or None when the frame is unlabelled."""
    if "label" not in frame.columns:
        return None
    labels = [str(v) for v in frame["label"].tolist()]
    if all(v == "" for v in labels):
        return None
    return labels


def _parse_dates(values: pd.Series) -> pd.Series:
    """Dates from strings in any common form (NaT when unparseable), index kept."""
    strs = values.astype("string").str.strip().fillna("")
    return pd.to_datetime(strs, format="mixed", errors="coerce")


def _temporal(dates: pd.Series, test_size: float) -> tuple[list[int], list[int]]:
    """Positions before and from the cutoff date: the latest ``test_size`` share, whole dates."""
    import numpy as np

    values = dates.to_numpy()
    ordered = np.sort(values)
    n_test = min(max(1, round(test_size * len(values))), len(values) - 1)
    cutoff = ordered[len(values) - n_test]
    test = values >= cutoff
    if test.all():  # the cutoff is the earliest date: its rows go to train instead
        test = values > cutoff
    if not test.any():
        raise ValueError(f"every row is dated {pd.Timestamp(cutoff).date()}")
    positions = np.arange(len(values))
    return positions[~test].tolist(), positions[test].tolist()


def _random(
    n: int, labels: Sequence[str] | None, test_size: float, seed: int
) -> tuple[list[int], list[int]]:
    from sklearn.model_selection import train_test_split

    positions = list(range(n))
    train, test = train_test_split(
        positions, test_size=test_size, random_state=seed, shuffle=True, stratify=labels
    )
    return [int(i) for i in train], [int(i) for i in test]


def _grouped(
    groups: Sequence[str], labels: Sequence[str] | None, test_size: float, seed: int
) -> tuple[list[int], list[int]]:
    import numpy as np
    from sklearn.model_selection import GroupShuffleSplit, StratifiedGroupKFold

    x = np.zeros((len(groups), 1))
    if labels is None:
        splitter = GroupShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
        train, test = next(splitter.split(x, groups=groups))
    else:
        folds = max(2, round(1 / test_size))
        skf = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
        train, test = next(skf.split(x, labels, groups=groups))
    return [int(i) for i in train], [int(i) for i in test]
