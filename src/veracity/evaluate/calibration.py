"""How far predicted probabilities can be trusted: reliability curves, ECE, Brier, temperature.

A forecast is *calibrated* when, of all the articles given P(fake) ≈ 0.8, about 80%
are fake. :func:`reliability_curve` bins the predictions (the same equal-width bins
as :func:`~veracity.evaluate.metrics.expected_calibration_error`) and returns,
per bin, the mean prediction and the observed share of positives: the data of a
reliability diagram (:func:`veracity.evaluate.plots.reliability_diagram`).
:func:`calibration_summary` adds ECE and the Brier score.

Temperature scaling (one scalar ``T``, ``p = sigmoid(score / T)``) lives with the
model (:class:`veracity.models.linear.TemperatureScaling`, used by
``TfidfLogisticClassifier(calibration="temperature")``); :func:`temperature_scale`
applies it to any set of scores, e.g. to re-calibrate a model's log-odds on
another dataset.

Examples
--------
>>> curve = reliability_curve([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9], n_bins=5)
>>> curve.counts.tolist()
[1, 1, 0, 0, 2]
>>> round(brier_score([0, 1], [0.2, 0.9]), 3)
0.025
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from veracity.errors import InputError
from veracity.evaluate.metrics import expected_calibration_error
from veracity.types import FAKE

__all__ = [
    "CalibrationSummary",
    "ReliabilityCurve",
    "as_binary",
    "brier_score",
    "calibration_summary",
    "reliability_curve",
    "temperature_scale",
]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class ReliabilityCurve:
    """Per-bin data of a reliability diagram (equal-width bins on ``[0, 1]``).

    Attributes
    ----------
    edges : ndarray of shape (n_bins + 1,)
        Bin edges, ``0, 1/n_bins, …, 1``.
    centers : ndarray of shape (n_bins,)
        Bin centres.
    mean_predicted : ndarray of shape (n_bins,)
        Mean predicted probability in each bin (NaN for an empty bin).
    observed : ndarray of shape (n_bins,)
        Observed share of positives in each bin (NaN for an empty bin).
    counts : ndarray of shape (n_bins,)
        Predictions per bin.
    """

    edges: FloatArray
    centers: FloatArray
    mean_predicted: FloatArray
    observed: FloatArray
    counts: NDArray[np.int64]

    @property
    def n_bins(self) -> int:
        """Number of bins."""
        return len(self.centers)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of lists (``None`` for an empty bin's mean and share)."""

        def listed(values: FloatArray) -> list[float | None]:
            return [None if np.isnan(v) else float(v) for v in values]

        return {
            "edges": [float(v) for v in self.edges],
            "centers": [float(v) for v in self.centers],
            "mean_predicted": listed(self.mean_predicted),
            "observed": listed(self.observed),
            "counts": [int(v) for v in self.counts],
        }


@dataclass(frozen=True)
class CalibrationSummary:
    """Calibration of one forecast: its reliability curve, ECE and Brier score."""

    curve: ReliabilityCurve
    ece: float
    brier: float
    n: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"n": self.n, "ece": self.ece, "brier": self.brier, "curve": self.curve.to_dict()}


def as_binary(y_true: Sequence[Any] | NDArray[Any], positive: str = FAKE) -> NDArray[np.int64]:
    """Labels as 0/1: ``1`` where the label is ``positive``; 0/1 or bool input is kept.

    Examples
    --------
    >>> as_binary(["fake", "reliable"]).tolist()
    [1, 0]
    >>> as_binary([True, False, True]).tolist()
    [1, 0, 1]
    """
    y = np.asarray(list(y_true) if not isinstance(y_true, np.ndarray) else y_true)
    if y.dtype.kind in "biuf":
        if not np.isin(y, (0, 1)).all():
            raise InputError("numeric labels must be 0 or 1 (1 = the positive class)")
        out: NDArray[np.int64] = y.astype(np.int64)
    else:
        out = (y.astype(str) == positive).astype(np.int64)
    return out


def _checked(y_true: Any, proba: Any, positive: str) -> tuple[NDArray[np.int64], FloatArray]:
    y = as_binary(y_true, positive)
    p = np.asarray(proba, dtype=np.float64)
    if y.ndim != 1 or y.shape != p.shape:
        raise InputError(
            f"need one probability per label: got {y.shape[0]} labels and shape {p.shape}"
        )
    if len(y) == 0:
        raise InputError("need at least one label and probability")
    if not (np.isfinite(p).all() and (p >= 0).all() and (p <= 1).all()):
        raise InputError("probabilities must be finite and in [0, 1]")
    return y, p


def reliability_curve(
    y_true: Sequence[Any] | NDArray[Any],
    proba: Sequence[float] | FloatArray,
    n_bins: int = 15,
    *,
    positive: str = FAKE,
) -> ReliabilityCurve:
    """Reliability-diagram data of a binary forecast.

    Parameters
    ----------
    y_true : sequence
        Labels (``"fake"``/``"reliable"``, compared with ``positive``) or 0/1.
    proba : sequence of float
        Predicted probability of the positive class.
    n_bins : int, default 15
        Equal-width bins; a prediction ``p`` falls in bin ``min(floor(p * n_bins), n_bins - 1)``,
        as in :func:`~veracity.evaluate.metrics.expected_calibration_error`.
    positive : str, default "fake"
        The label counted as positive.

    Returns
    -------
    ReliabilityCurve

    Raises
    ------
    InputError
        Mismatched lengths, no rows, probabilities outside ``[0, 1]`` or ``n_bins < 1``.
    """
    if n_bins < 1:
        raise InputError(f"n_bins must be at least 1, got {n_bins}")
    y, p = _checked(y_true, proba, positive)
    bins = np.minimum((p * n_bins).astype(np.int64), n_bins - 1)
    counts = np.bincount(bins, minlength=n_bins).astype(np.int64)
    sums_p = np.bincount(bins, weights=p, minlength=n_bins)
    sums_y = np.bincount(bins, weights=y.astype(np.float64), minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_p = np.where(counts > 0, sums_p / np.maximum(counts, 1), np.nan)
        observed = np.where(counts > 0, sums_y / np.maximum(counts, 1), np.nan)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    return ReliabilityCurve(
        edges=edges,
        centers=(edges[:-1] + edges[1:]) / 2.0,
        mean_predicted=mean_p.astype(np.float64),
        observed=observed.astype(np.float64),
        counts=counts,
    )


def brier_score(
    y_true: Sequence[Any] | NDArray[Any],
    proba: Sequence[float] | FloatArray,
    *,
    positive: str = FAKE,
) -> float:
    """Mean squared difference between the predicted probability and the 0/1 outcome."""
    y, p = _checked(y_true, proba, positive)
    return float(np.mean((p - y) ** 2))


def calibration_summary(
    y_true: Sequence[Any] | NDArray[Any],
    proba: Sequence[float] | FloatArray,
    n_bins: int = 15,
    *,
    positive: str = FAKE,
) -> CalibrationSummary:
    """Reliability curve, ECE (same bins) and Brier score of a binary forecast."""
    y, p = _checked(y_true, proba, positive)
    return CalibrationSummary(
        curve=reliability_curve(y, p, n_bins),
        ece=expected_calibration_error(y, p, n_bins),
        brier=brier_score(y, p),
        n=len(y),
    )


def temperature_scale(
    scores: Sequence[float] | FloatArray,
    y_true: Sequence[Any] | NDArray[Any],
    *,
    positive: str = FAKE,
) -> tuple[float, FloatArray]:
    """Fit one temperature to decision scores and return ``(T, sigmoid(scores / T))``.

    ``scores`` are log-odds of ``positive``; fit on held-out rows, not on the rows the
    model was trained on (those scores are over-confident by construction).

    Examples
    --------
    >>> t, p = temperature_scale([-8.0, -6.0, 6.0, 8.0, 7.0, -7.0], [0, 1, 1, 1, 0, 0])
    >>> bool(t > 1.0), p.shape
    (True, (6,))
    """
    from veracity.models.linear import TemperatureScaling

    y = as_binary(y_true, positive)
    scaler = TemperatureScaling().fit(scores, y)
    return float(scaler.temperature_), scaler.predict(scores)
