"""Train on one dataset, test on another: the cross-dataset matrix.

In-dataset accuracy of fake-news classifiers is mostly a measure of how well they
learn one collection's sources and habits. The honest number is how well a model
trained on dataset A does on dataset B, collected by other people from other
sources. :func:`cross_dataset_matrix` measures that, leakage-free:

1. every dataset must carry binary ``fake``/``reliable`` labels (LIAR's six ratings
   are already mapped by its loader; the mapping is recorded in the result);
2. each dataset is (optionally) subsampled, stratified and seeded, then
   deduplicated (exact and near duplicates; :func:`veracity.data.deduplicate`);
3. ``"pairwise"``: for each dataset A, a model is trained on a deduplicated 80%
   split of A and tested on the held-out 20% (the diagonal, *in-domain*) and on
   every other dataset B (off the diagonal); ``"leave-one-out"``: for each dataset
   B, a model is trained on all the others (stacked and deduplicated again) and
   tested on B;
4. before testing on B, rows of B that are exact or near duplicates of any
   training row are dropped (:func:`veracity.data.leaks.drop_leaks`) and counted;
5. every cell gets ROC-AUC, accuracy and macro-F1 with 95% bootstrap intervals,
   ECE, Brier score, the confusion matrix and ``n``.

Examples
--------
>>> from veracity.data import load_dataset  # doctest: +SKIP
>>> sets = [load_dataset(n) for n in ("fakenewsamt", "celebrity")]  # doctest: +SKIP
>>> matrix = cross_dataset_matrix(sets)  # doctest: +SKIP
>>> print(matrix.cell("fakenewsamt", "celebrity").metrics.roc_auc)  # doctest: +SKIP
0.571 [0.520, 0.621]
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from veracity.data import Dataset, deduplicate, split_dataset
from veracity.data.leaks import drop_leaks
from veracity.errors import InputError
from veracity.evaluate.metrics import MetricReport
from veracity.evaluate.run import score
from veracity.models import fit_model, make_model
from veracity.types import FAKE, RELIABLE

__all__ = [
    "CrossCell",
    "CrossMatrix",
    "Mode",
    "cross_dataset_matrix",
    "label_mapping",
    "stratified_subsample",
]

Mode = Literal["pairwise", "leave-one-out"]
MODES: tuple[Mode, ...] = ("pairwise", "leave-one-out")
Stage = Callable[[str], None]
Advance = Callable[[int], None]


def stratified_subsample(frame: pd.DataFrame, max_rows: int | None, seed: int) -> pd.DataFrame:
    """At most ``max_rows`` rows of ``frame``, keeping the label shares (seeded).

    Each label keeps ``round(max_rows * share)`` rows (at least one), drawn without
    replacement; rows keep their original index and order. ``None`` or a limit at
    or above ``len(frame)`` returns ``frame`` itself.

    Examples
    --------
    >>> frame = pd.DataFrame({"label": ["fake"] * 30 + ["reliable"] * 70})
    >>> stratified_subsample(frame, 10, seed=0)["label"].value_counts().to_dict()
    {'reliable': 7, 'fake': 3}
    """
    if max_rows is None or len(frame) <= max_rows:
        return frame
    if max_rows < 2:
        raise InputError(f"max_rows_per_dataset must be at least 2, got {max_rows}")
    rng = np.random.default_rng(seed)
    labels = frame["label"].astype(str).to_numpy()
    values, counts = np.unique(labels, return_counts=True)
    take = np.maximum(1, np.round(max_rows * counts / len(frame)).astype(int))
    while take.sum() > max_rows:  # rounding up small classes can overshoot by a few
        take[int(np.argmax(take))] -= 1
    chosen: list[int] = []
    for value, k in zip(values, take, strict=True):
        positions = np.flatnonzero(labels == value)
        chosen.extend(rng.choice(positions, size=int(k), replace=False).tolist())
    return frame.iloc[sorted(chosen)]


def label_mapping(dataset: Dataset) -> dict[str, Any]:
    """How ``dataset``'s ``label`` column came to be ``fake``/``reliable``, with counts.

    Datasets with a finer rating (LIAR's ``label6``) list which raw values became
    which label, as found in the data; other datasets carry their source's own
    binary labels (e.g. ``real`` → ``reliable``), mapped by their loader.
    """
    frame = dataset.frame
    counts = frame["label"].astype(str).value_counts()
    out: dict[str, Any] = {
        "positive": FAKE,
        "negative": RELIABLE,
        "counts": {label: int(counts.get(label, 0)) for label in (FAKE, RELIABLE)},
    }
    if "label6" in frame.columns:
        pairs = frame[["label6", "label"]].astype(str).drop_duplicates()
        out["source_column"] = "label6"
        out["mapping"] = {
            label: sorted(pairs.loc[pairs["label"] == label, "label6"].tolist())
            for label in (FAKE, RELIABLE)
        }
    else:
        out["source_column"] = "label"
        out["mapping"] = "the source's own binary labels, mapped by the loader"
    return out


@dataclass(frozen=True)
class CrossCell:
    """One train → test result of the matrix.

    Attributes
    ----------
    train : str
        Dataset(s) the model was trained on (``"A"``, or ``"all but B"`` for leave-one-out).
    test : str
        Dataset it was tested on.
    in_domain : bool
        True for the diagonal: tested on a held-out split of its own training dataset.
    train_rows : int
        Deduplicated rows the model was fitted on.
    leaks_dropped : int
        Test rows dropped because they duplicate a training row.
    metrics : MetricReport or None
        Metrics on the remaining test rows; None when no row was left.
    """

    train: str
    test: str
    in_domain: bool
    train_rows: int
    leaks_dropped: int
    metrics: MetricReport | None

    @property
    def n(self) -> int:
        """Test rows scored."""
        return 0 if self.metrics is None else self.metrics.n

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: the cell's identity plus the metrics (intervals as dicts)."""
        out: dict[str, Any] = {
            "train": self.train,
            "test": self.test,
            "in_domain": self.in_domain,
            "train_rows": self.train_rows,
            "leaks_dropped": self.leaks_dropped,
            "n": self.n,
        }
        if self.metrics is not None:
            m = self.metrics.to_dict()
            out.update(
                roc_auc=m["roc_auc"],
                accuracy=m["accuracy"],
                macro_f1=m["macro_f1"],
                ece=m["ece"],
                brier=m["brier"],
                confusion=m["confusion"],
                labels=m["labels"],
            )
        return out


@dataclass
class CrossMatrix:
    """All cells of a cross-dataset evaluation, and how it was run.

    Attributes
    ----------
    mode : {"pairwise", "leave-one-out"}
        How training and test sets were formed.
    preset : str
        Model preset trained for every row.
    params : dict
        Parameters given to the preset (``random_state`` included).
    datasets : list of str
        Dataset names, in the order given.
    cells : list of CrossCell
        Row by row (training set), then column by column (test set).
    data : dict
        Per dataset: rows loaded, after subsampling and after deduplication, the
        duplicates dropped, its kind, sha256 and :func:`label_mapping`.
    fit_seconds : dict of str to float
        Seconds spent fitting each row's model.
    seconds : float
        Wall time of the whole run.
    settings : dict
        ``seed``, ``n_boot``, ``near_threshold``, ``test_size``, ``max_rows_per_dataset``.
    """

    mode: Mode
    preset: str
    params: dict[str, Any]
    datasets: list[str]
    cells: list[CrossCell] = field(default_factory=list)
    data: dict[str, dict[str, Any]] = field(default_factory=dict)
    fit_seconds: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def train_names(self) -> list[str]:
        """Row labels: training sets in order of first appearance."""
        return list(dict.fromkeys(c.train for c in self.cells))

    @property
    def test_names(self) -> list[str]:
        """Column labels: the datasets tested on (all of them, in the order given)."""
        return list(self.datasets)

    def cell(self, train: str, test: str) -> CrossCell | None:
        """The cell trained on ``train`` and tested on ``test``, or None."""
        for c in self.cells:
            if c.train == train and c.test == test:
                return c
        return None

    def values(self, metric: str = "roc_auc") -> NDArray[np.float64]:
        """A (rows, columns) array of one metric's point values; NaN where undefined.

        ``metric`` is ``roc_auc``, ``accuracy``, ``macro_f1``, ``ece`` or ``brier``.
        """
        rows, cols = self.train_names, self.test_names
        out = np.full((len(rows), len(cols)), np.nan)
        for c in self.cells:
            if c.metrics is None:
                continue
            value = getattr(c.metrics, metric)
            if value is None:
                continue
            number = value if isinstance(value, float | int) else value.value
            out[rows.index(c.train), cols.index(c.test)] = float(number)
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: settings, per-dataset data and label mappings, and every cell."""
        return {
            "mode": self.mode,
            "preset": self.preset,
            "params": {k: list(v) if isinstance(v, tuple) else v for k, v in self.params.items()},
            "datasets": self.datasets,
            "rows": self.train_names,
            "columns": self.test_names,
            "settings": self.settings,
            "data": self.data,
            "fit_seconds": self.fit_seconds,
            "seconds": self.seconds,
            "cells": [c.to_dict() for c in self.cells],
        }


@dataclass
class _Prepared:
    """One dataset, checked, subsampled and deduplicated, with model input in ``doc``."""

    name: str
    frame: pd.DataFrame
    info: dict[str, Any]


def _check_binary(dataset: Dataset) -> None:
    frame = dataset.frame
    if "label" not in frame.columns or not dataset.labelled:
        raise InputError(
            f"dataset {dataset.name!r} has no labels; the cross-dataset matrix needs "
            "fake/reliable labels on every dataset (give --label-col for a file)"
        )
    found = set(frame["label"].astype(str).unique())
    unknown = sorted(found - {FAKE, RELIABLE})
    if unknown:
        raise InputError(
            f"dataset {dataset.name!r} has labels {unknown}, but the cross-dataset matrix "
            f"compares binary {FAKE!r}/{RELIABLE!r} labels; map them (--label-map) first"
        )
    if len(frame) == 0:
        raise InputError(f"dataset {dataset.name!r} is empty")


def _prepare(dataset: Dataset, max_rows: int | None, near_threshold: float, seed: int) -> _Prepared:
    _check_binary(dataset)
    sampled = stratified_subsample(dataset.frame, max_rows, seed)
    dedup = deduplicate(sampled, threshold=near_threshold, seed=seed)
    kept = dedup.frame.copy()
    kept["doc"] = Dataset(dataset.name, kept, dataset.sources, dataset.kind).texts()
    kept["y"] = kept["label"].astype(str)
    kept["dataset"] = dataset.name  # the domain of each row, for domain-robust presets
    counts = kept["y"].value_counts()
    info = {
        "kind": dataset.kind,
        "sha256": dataset.sha256,
        "rows_loaded": len(dataset.frame),
        "rows_sampled": len(sampled),
        "exact_dropped": dedup.exact_dropped,
        "near_dropped": dedup.near_dropped,
        "conflicting_labels": dedup.conflicting_labels,
        "rows": len(kept),
        "fake": int(counts.get(FAKE, 0)),
        "reliable": int(counts.get(RELIABLE, 0)),
        "label_mapping": label_mapping(dataset),
    }
    return _Prepared(dataset.name, kept, info)


def _score(
    estimator: Any, test: pd.DataFrame, n_boot: int, seed: int, advance: Advance | None
) -> MetricReport | None:
    if len(test) == 0:
        return None
    return score(
        estimator,
        test["doc"].tolist(),
        test["y"].tolist(),
        n_boot=n_boot,
        seed=seed,
        advance=advance,
    )


def cross_dataset_matrix(
    datasets: Sequence[Dataset],
    *,
    preset: str = "tfidf-lr.v1",
    params: dict[str, Any] | None = None,
    mode: Mode = "pairwise",
    seed: int = 42,
    n_boot: int = 1000,
    test_size: float = 0.2,
    near_threshold: float = 0.8,
    max_rows_per_dataset: int | None = None,
    stage: Stage | None = None,
    advance: Advance | None = None,
) -> CrossMatrix:
    """Train on each dataset (or all but one) and test on the others, leakage-free.

    Parameters
    ----------
    datasets : sequence of Dataset
        At least two datasets with binary ``fake``/``reliable`` labels and distinct names.
    preset : str, default "tfidf-lr.v1"
        Model preset trained for every row (see :data:`veracity.models.PRESETS`).
    params : dict, optional
        Overrides of the preset's parameters; ``random_state`` defaults to ``seed``.
    mode : {"pairwise", "leave-one-out"}, default "pairwise"
        ``"pairwise"``: train on each dataset's 80% split, test on its 20% (diagonal) and
        on every other dataset. ``"leave-one-out"``: train on all but one, test on that one.
    seed : int, default 42
        Seeds subsampling, splits, MinHash, the model and the bootstrap.
    n_boot : int, default 1000
        Bootstrap resamples per confidence interval.
    test_size : float, default 0.2
        Held-out share of each dataset for the in-domain diagonal (pairwise mode).
    near_threshold : float, default 0.8
        Jaccard similarity of word 5-shingles at which rows count as near duplicates.
    max_rows_per_dataset : int, optional
        Subsample every dataset to at most this many rows first (stratified by label).
    stage, advance : callable, optional
        Progress: ``stage(text)`` when a step starts, ``advance(n)`` as test rows are scored.

    Returns
    -------
    CrossMatrix

    Raises
    ------
    InputError
        Fewer than two datasets, repeated names, an unknown mode, or a dataset without
        binary fake/reliable labels (or too small to split and train on).
    """
    say: Stage = stage or (lambda _text: None)
    if mode not in MODES:
        raise InputError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    names = [ds.name for ds in datasets]
    if len(names) < 2:
        raise InputError("the cross-dataset matrix needs at least two datasets (--data A --data B)")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise InputError(f"each dataset may be given once; repeated: {', '.join(repeated)}")
    model_params = dict(params or {})
    model_params.setdefault("random_state", seed)
    make_model(preset, **model_params)  # unknown preset or parameter: fail before any work
    started = time.perf_counter()
    result = CrossMatrix(
        mode=mode,
        preset=preset,
        params=model_params,
        datasets=names,
        settings={
            "seed": seed,
            "n_boot": n_boot,
            "near_threshold": near_threshold,
            "test_size": test_size if mode == "pairwise" else None,
            "max_rows_per_dataset": max_rows_per_dataset,
        },
    )
    prepared: list[_Prepared] = []
    for ds in datasets:
        say(f"deduplicating {ds.name}")
        prep = _prepare(ds, max_rows_per_dataset, near_threshold, seed)
        prepared.append(prep)
        result.data[ds.name] = prep.info

    def fit(train: pd.DataFrame, row: str) -> Any:
        say(f"fitting {preset} on {row} ({len(train):,} rows)")
        estimator = make_model(preset, **model_params)
        t0 = time.perf_counter()
        fit_model(
            estimator, train["doc"].tolist(), train["y"].tolist(), domains=train["dataset"].tolist()
        )
        result.fit_seconds[row] = round(time.perf_counter() - t0, 2)
        return estimator

    def test_on(estimator: Any, train: pd.DataFrame, row: str, target: _Prepared) -> None:
        say(f"{row} → {target.name}: dropping leaks")
        test, leaked = drop_leaks(train, target.frame, near_threshold, seed)
        say(f"{row} → {target.name}: scoring {len(test):,} rows")
        result.cells.append(
            CrossCell(
                train=row,
                test=target.name,
                in_domain=False,
                train_rows=len(train),
                leaks_dropped=leaked,
                metrics=_score(estimator, test, n_boot, seed, advance),
            )
        )

    if mode == "pairwise":
        for source in prepared:
            say(f"splitting {source.name}")
            split = split_dataset(
                source.frame, test_size=test_size, seed=seed, near_threshold=near_threshold
            )
            estimator = fit(split.train, source.name)
            for target in prepared:
                if target is not source:
                    test_on(estimator, split.train, source.name, target)
                    continue
                say(f"{source.name}: scoring {len(split.test):,} held-out rows")
                result.cells.append(
                    CrossCell(
                        train=source.name,
                        test=source.name,
                        in_domain=True,
                        train_rows=len(split.train),
                        leaks_dropped=0,  # split_dataset keeps every cluster on one side
                        metrics=_score(estimator, split.test, n_boot, seed, advance),
                    )
                )
    else:
        for target in prepared:
            row = f"all but {target.name}"
            others = pd.concat([p.frame for p in prepared if p is not target], ignore_index=True)
            say(f"deduplicating {row}")
            train = deduplicate(others, threshold=near_threshold, seed=seed).frame
            estimator = fit(train, row)
            test_on(estimator, train, row, target)
    result.seconds = round(time.perf_counter() - started, 2)
    say("done")
    return result
