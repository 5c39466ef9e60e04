"""Score an estimator or a detector on labelled data and compute its metrics."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from veracity.evaluate.metrics import (
    MetricReport,
    evaluate_binary,
    multiclass_report,
    risk_coverage,
)
from veracity.types import FAKE, RELIABLE

if TYPE_CHECKING:
    from veracity.data import Dataset
    from veracity.detector import Detector

__all__ = ["evaluate_dataset", "predict_proba_batched", "score", "training_overlap"]


def predict_proba_batched(
    estimator: Any,
    texts: Sequence[str],
    *,
    batch_size: int = 512,
    advance: Callable[[int], None] | None = None,
) -> NDArray[np.float64]:
    """``estimator.predict_proba`` in batches, calling ``advance(n)`` after each (progress bars).

    ``texts`` may also be a frame of texts and metadata (what a metadata model's
    ``model_input`` gives, see :mod:`veracity.models.protocol`); it is then sliced by rows.
    """
    parts = []
    for start in range(0, len(texts), batch_size):
        chunk: Any = texts[start : start + batch_size]
        if not hasattr(chunk, "columns"):  # a DataFrame slice stays a DataFrame
            chunk = list(chunk)
        parts.append(np.asarray(estimator.predict_proba(chunk), dtype=np.float64))
        if advance is not None:
            advance(len(chunk))
    if not parts:
        return np.zeros((0, len(estimator.classes_)), dtype=np.float64)
    return np.vstack(parts)


def score(
    estimator: Any,
    texts: Sequence[str],
    y_true: Sequence[str],
    *,
    seed: int = 42,
    n_boot: int = 1000,
    abstained: Sequence[bool] | None = None,
    advance: Callable[[int], None] | None = None,
    proba: NDArray[np.float64] | None = None,
) -> MetricReport:
    """Metrics of ``estimator`` on ``texts``: binary metrics for fake/reliable, else multi-class."""
    classes = [str(c) for c in estimator.classes_]
    if proba is None:
        proba = predict_proba_batched(estimator, texts, advance=advance)
    if sorted(classes) == sorted((FAKE, RELIABLE)):
        return evaluate_binary(
            y_true, proba[:, classes.index(FAKE)], abstained=abstained, seed=seed, n_boot=n_boot
        )
    return multiclass_report(y_true, proba, classes, seed=seed)


def training_overlap(trained_on: Sequence[Any], dataset: Dataset) -> str | None:
    """A warning when ``dataset`` is, or may contain, what the model was trained on.

    ``trained_on`` is the card's ``training_data`` (each with ``name`` and ``sha256``,
    as attributes or keys).
    The same content hash means the very same rows; the same dataset name means they
    may overlap, unless both name different splits (``liar:train`` against
    ``liar:test``). Metrics on such rows are in-sample: optimistic, not a test.
    """
    base, _, split = dataset.name.partition(":")
    for item in trained_on:
        if isinstance(item, Mapping):
            name, sha = str(item.get("name", "")), str(item.get("sha256", ""))
        else:
            name, sha = str(getattr(item, "name", "")), str(getattr(item, "sha256", ""))
        if sha and dataset.sources and sha == dataset.sha256:
            return (
                f"{dataset.name} is the model's training data ({name}): these numbers are "
                "in-sample and overstate how well it does on new texts"
            )
        t_base, _, t_split = name.partition(":")
        if t_base == base and not (split and t_split and split != t_split):
            return (
                f"{dataset.name} overlaps the model's training data ({name}): these numbers "
                "are partly in-sample and overstate how well it does on new texts"
            )
    return None


def _detector_scores(
    detector: Detector,
    texts: Sequence[str],
    advance: Callable[[int], None] | None,
    batch_size: int = 512,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """``detector.scores`` in batches (P(fake), novelty, band half-width), for progress bars."""
    parts = []
    for start in range(0, len(texts), batch_size):
        chunk = list(texts[start : start + batch_size])
        p, u, h = detector.scores(chunk)
        if u is None or h is None:
            u = h = np.full(len(chunk), np.nan)
        parts.append(np.column_stack([p, u, h]))
        if advance is not None:
            advance(len(chunk))
    stacked = np.vstack(parts) if parts else np.zeros((0, 3))
    return stacked[:, 0], stacked[:, 1], stacked[:, 2]


def evaluate_dataset(
    detector: Detector,
    dataset: Dataset,
    *,
    target: str = "label",
    seed: int = 42,
    advance: Callable[[int], None] | None = None,
) -> MetricReport:
    """Score ``detector`` on a labelled dataset; counts the rows it would answer 'not sure'."""
    from veracity.errors import InputError

    if target not in dataset.frame.columns or not dataset.frame.attrs.get("labelled", True):
        raise InputError(
            f"dataset {dataset.name!r} has no {target!r} labels to evaluate against; "
            "give --label-col (and --positive for 0/1 labels)"
        )
    texts = dataset.texts()
    estimator = detector.estimator
    classes = [str(c) for c in estimator.classes_]
    abstained = None
    if hasattr(estimator, "proba_and_novelty") and FAKE in classes:
        p_fake, novelty, half = _detector_scores(detector, texts, advance)
        proba = np.column_stack([1.0 - p_fake, p_fake])
        if classes.index(FAKE) == 0:
            proba = proba[:, ::-1]
        abstained = [
            detector.abstain_reason(t, float(p), float(u), float(h)) is not None
            for t, p, u, h in zip(texts, p_fake, novelty, half, strict=True)
        ]
    else:
        X = estimator.model_input(dataset)
        proba = predict_proba_batched(estimator, X, advance=advance)
        if FAKE in classes:
            p_fake = proba[:, classes.index(FAKE)]
            abstained = [
                detector.abstain_reason(t, float(p)) is not None
                for t, p in zip(texts, p_fake, strict=True)
            ]
    y_true = dataset.frame[target].astype(str).tolist()
    report = score(estimator, texts, y_true, seed=seed, abstained=abstained, proba=proba)
    if FAKE in classes:
        p_fake = np.asarray(proba[:, classes.index(FAKE)], dtype=np.float64)
        confidence = np.abs(p_fake - 0.5)
        if hasattr(estimator, "proba_and_novelty"):  # the band widens with novelty
            confidence = confidence - (half - float(estimator.abstain_base_))
        correct = (p_fake >= 0.5) == (np.asarray(y_true) == FAKE)
        report.extra["risk_coverage"] = risk_coverage(correct, confidence)
    report.extra["dataset"] = dataset.name
    report.extra["model_id"] = detector.model_id
    report.extra["training_overlap"] = training_overlap(detector.model.card.training_data, dataset)
    return report
