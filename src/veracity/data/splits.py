"""Train/test splits that keep duplicates and near duplicates out of the test side.

:func:`split_dataset` first clusters exact and near-duplicate rows
(:func:`veracity.data.dedup.deduplicate`), keeps the first row of each cluster and
drops the rest (counted), then splits the kept rows:

* ``"random"``: stratified by label (scikit-learn ``train_test_split``);
* ``"group"``: every value of ``group_col`` stays on one side
  (``StratifiedGroupKFold`` with ``round(1 / test_size)`` folds, the first fold
  being the test side; ``GroupShuffleSplit`` for unlabelled data).

Both are deterministic for a given ``seed``. Rows keep their original index and order.
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
    report : dict of str to int or float
        ``rows_in``, ``exact_dropped``, ``near_dropped``, ``duplicates_dropped``,
        ``clusters``, ``conflicting_labels``, ``train_rows``, ``test_rows``,
        ``test_fraction``, ``train_fake``/``train_reliable``/``test_fake``/
        ``test_reliable`` (labelled data), ``train_groups``/``test_groups`` (group strategy).
    """

    train: pd.DataFrame
    test: pd.DataFrame
    duplicates_dropped: int
    report: dict[str, int | float]


def split_dataset(
    frame: pd.DataFrame,
    *,
    test_size: float = 0.2,
    strategy: Literal["random", "group"] = "random",
    group_col: str | None = None,
    seed: int = 42,
    near_threshold: float = 0.8,
) -> SplitResult:
    """Split ``frame`` into train and test with no duplicate cluster on both sides.

    Parameters
    ----------
    frame : pandas.DataFrame
        A dataset frame (``text``; ``title`` and ``label`` used when present).
    test_size : float, default 0.2
        Share of rows (``"random"``) or ``1 / folds`` (``"group"``) for the test side.
    strategy : {"random", "group"}, default "random"
        Stratified random split, or grouped split on ``group_col``.
    group_col : str, optional
        Column whose values must not span train and test; required for ``"group"``.
    seed : int, default 42
        Seed for the split and the MinHash signatures.
    near_threshold : float, default 0.8
        Jaccard similarity of word 5-shingles at which rows count as near duplicates.

    Returns
    -------
    SplitResult

    Raises
    ------
    InputError
        Bad ``test_size``/``strategy``/``group_col``, or too few rows, labels or
        groups to split as asked.

    Examples
    --------
    >>> frame = dataset.frame  # doctest: +SKIP
    >>> result = split_dataset(frame, strategy="group", group_col="speaker")  # doctest: +SKIP
    >>> result.report["duplicates_dropped"]  # doctest: +SKIP
    17
    """
    if not 0.0 < test_size < 1.0:
        raise InputError(f"test_size must be between 0 and 1, got {test_size}.")
    if strategy not in ("random", "group"):
        raise InputError(f"strategy must be 'random' or 'group', got {strategy!r}.")
    if strategy == "group" and (group_col is None or group_col not in frame.columns):
        raise InputError(
            f"the group strategy needs group_col naming a column; got {group_col!r}, "
            f"columns are {list(frame.columns)}."
        )
    dedup = deduplicate(frame, near=True, threshold=near_threshold, seed=seed)
    kept = dedup.frame
    labels = _labels(kept)
    if len(kept) < 2:
        raise InputError(f"cannot split {len(kept)} unique row(s); at least 2 are needed.")
    try:
        if strategy == "random":
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
    report: dict[str, int | float] = {
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
    return SplitResult(train=train, test=test, duplicates_dropped=dropped, report=report)


def _labels(frame: pd.DataFrame) -> list[str] | None:
    """The labels to stratify on, or None when the frame is unlabelled."""
    if "label" not in frame.columns:
        return None
    labels = [str(v) for v in frame["label"].tolist()]
    if all(v == "" for v in labels):
        return None
    return labels


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
