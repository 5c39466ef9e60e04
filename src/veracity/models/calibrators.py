"""Temperature scaling: one scalar ``T`` that turns binary decision scores into probabilities.

``p = sigmoid(score / T)``, with ``T`` fitted on (ideally out-of-fold) decision scores
by minimising log loss (:func:`fit_temperature`). Unlike the sigmoid (Platt)
calibrator it has no intercept, so it cannot move the decision threshold: it only
sharpens or softens the scores. :class:`~veracity.models.linear.TfidfLogisticClassifier`
and :class:`~veracity.models.claims.ClaimsClassifier` use it with
``calibration="temperature"`` (they store the fitted ``T``, not a
:class:`TemperatureScaling`); :mod:`veracity.evaluate.calibration` uses the class to
recalibrate any model's scores.

:func:`fit_platt` fits Platt scaling ``p = sigmoid(a * score + b)`` (or, without
the intercept, a temperature ``1 / a``) against Platt's smoothed targets; the
:class:`~veracity.models.hashing.HashingSGDClassifier` stores its ``(a, b)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from veracity.errors import InputError

__all__ = ["TemperatureScaling", "fit_platt", "fit_temperature", "sigmoid", "temperature_proba"]

# Search range of log T: T from about 0.001 to 1000.
_LOG_T_BOUNDS = (-7.0, 7.0)


def _temperature_log_loss(
    log_t: float, scores: NDArray[np.float64], y: NDArray[np.float64], weights: NDArray[np.float64]
) -> float:
    z = scores * np.exp(-log_t)
    # -log p(y | z) for p = sigmoid(z), computed without overflow
    losses = np.logaddexp(0.0, z) - y * z
    return float(np.sum(weights * losses) / np.sum(weights))


def fit_temperature(scores: Any, y: Any, sample_weight: Any | None = None) -> float:
    """The temperature ``T`` that minimises the log loss of ``sigmoid(scores / T)``.

    Parameters
    ----------
    scores : array-like of shape (n,)
        Decision scores (log-odds of the positive class), ideally out-of-fold.
    y : array-like of shape (n,)
        1 (or True) where the positive class is the truth, else 0 (False).
    sample_weight : array-like of shape (n,), optional
        Weights of the rows in the log loss.

    Returns
    -------
    float
        ``T`` in about ``[0.001, 1000]`` (bounded search on ``log T``); above 1 when the
        scores were over-confident, below 1 when under-confident.

    Examples
    --------
    >>> round(fit_temperature([-4.0, -4.0, 4.0, 4.0, 4.0], [0, 1, 1, 1, 0]), 1) > 1
    True
    """
    from scipy.optimize import minimize_scalar

    s = np.asarray(scores, dtype=np.float64).ravel()
    target = np.asarray(y, dtype=np.float64).ravel()
    if s.shape != target.shape or len(s) == 0:
        raise InputError(
            f"fit_temperature needs as many scores as labels (at least one); got {len(s)} "
            f"scores and {len(target)} labels"
        )
    if not np.isin(target, (0.0, 1.0)).all():
        raise InputError("fit_temperature needs 0/1 (or boolean) labels")
    if not np.isfinite(s).all():
        raise InputError("fit_temperature needs finite scores")
    weights = (
        np.ones_like(s) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    )
    if weights.shape != s.shape:
        raise InputError(f"sample_weight must have shape {s.shape}, got {weights.shape}")
    result = minimize_scalar(
        _temperature_log_loss,
        bounds=_LOG_T_BOUNDS,
        args=(s, target, weights),
        method="bounded",
        options={"xatol": 1e-6},
    )
    return float(np.exp(result.x))


class TemperatureScaling(BaseEstimator):  # type: ignore[misc]
    """Calibrate binary decision scores with one temperature: ``p = sigmoid(score / T)``.

    A calibrator in the style of scikit-learn's ``IsotonicRegression`` when used for
    calibration: ``fit(scores, y)`` then ``predict(scores)`` gives the probability
    of the positive class. ``T`` is fitted by minimising log loss over ``log T``
    (:func:`fit_temperature`).

    Attributes
    ----------
    temperature_ : float
        The fitted temperature (> 1 softens over-confident scores).

    Examples
    --------
    >>> scaler = TemperatureScaling().fit([-6.0, -5.0, 5.0, 6.0, 5.5, -5.5], [0, 1, 1, 1, 0, 0])
    >>> bool(scaler.temperature_ > 1.0)
    True
    >>> scaler.predict([0.0]).tolist()
    [0.5]
    """

    def fit(self, scores: Any, y: Any, sample_weight: Any | None = None) -> TemperatureScaling:
        """Fit ``T`` on decision scores and 0/1 targets; return ``self``."""
        self.temperature_ = fit_temperature(scores, y, sample_weight)
        return self

    def predict(self, scores: Any) -> NDArray[np.float64]:
        """Probability of the positive class for each score."""
        check_is_fitted(self)
        return temperature_proba(scores, self.temperature_)


def temperature_proba(scores: Any, temperature: float) -> NDArray[np.float64]:
    """``sigmoid(scores / temperature)``: temperature-scaled probability of the positive class.

    Examples
    --------
    >>> temperature_proba([0.0, 2.0], 2.0).round(3).tolist()
    [0.5, 0.731]
    """
    from scipy.special import expit

    p: NDArray[np.float64] = expit(np.asarray(scores, dtype=np.float64) / float(temperature))
    return p


def fit_platt(
    scores: Any, y: Any, sample_weight: Any | None = None, *, intercept: bool = True
) -> tuple[float, float]:
    """``(a, b)`` of the Platt calibrator ``p = sigmoid(a * score + b)``.

    Minimises the weighted log loss against Platt's smoothed targets
    (``(n+ + 1) / (n+ + 2)`` for positives, ``1 / (n- + 2)`` for negatives), which keeps
    ``a`` finite when the scores separate the classes perfectly. With
    ``intercept=False``, ``b`` is 0 and ``1 / a`` is a temperature.

    Parameters
    ----------
    scores : array-like of shape (n,)
        Decision scores of held-out texts.
    y : array-like of shape (n,)
        1 (or True) for the positive class, else 0.
    sample_weight : array-like of shape (n,), optional
        Row weights in the loss.
    intercept : bool, default=True
        Fit ``b`` too (Platt scaling), or keep it 0 (temperature scaling).

    Returns
    -------
    tuple of float
        ``(a, b)``.

    Examples
    --------
    >>> a, b = fit_platt([-2.0, -1.0, 1.0, 2.0, 1.5, -1.5], [0, 0, 1, 1, 1, 0])
    >>> a > 0
    True
    """
    from scipy.optimize import minimize

    s = np.asarray(scores, dtype=np.float64).ravel()
    target = np.asarray(y, dtype=np.float64).ravel()
    w = np.ones_like(s) if sample_weight is None else np.asarray(sample_weight, np.float64).ravel()
    if not (s.shape == target.shape == w.shape) or len(s) == 0:
        raise InputError("fit_platt needs as many scores, labels and weights (at least one)")
    n_pos, n_neg = float(np.sum(target == 1)), float(np.sum(target == 0))
    t = np.where(target == 1, (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0))
    total = float(np.sum(w))

    def loss(params: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        a, b = float(params[0]), float(params[1]) if intercept else 0.0
        z = a * s + b
        value = float(np.sum(w * (np.logaddexp(0.0, z) - t * z))) / total
        residual = w * (sigmoid(z) - t) / total
        grad = np.array([float(np.sum(residual * s)), float(np.sum(residual)) if intercept else 0])
        return value, grad

    result = minimize(loss, np.array([1.0, 0.0]), jac=True, method="L-BFGS-B")
    return float(result.x[0]), float(result.x[1]) if intercept else 0.0


def sigmoid(z: NDArray[np.float64]) -> NDArray[np.float64]:
    """The logistic function ``1 / (1 + exp(-z))``, element-wise."""
    from scipy.special import expit

    out: NDArray[np.float64] = expit(z)
    return out


def fit_calibrated(
    linear: Any,
    features: Any,
    y: Any,
    *,
    calibration: str,
    folds: Any,
    sample_weight: Any | None = None,
) -> tuple[Any, Any, float | None, Any]:
    """Fit ``linear`` once on everything and calibrate it on out-of-fold scores.

    ``calibration`` is ``"sigmoid"`` or ``"isotonic"`` (a
    ``CalibratedClassifierCV(ensemble=False)`` over ``folds``) or ``"temperature"``
    (one ``T`` fitted on out-of-fold log-odds of ``classes_[1]``, two classes only).

    Returns
    -------
    tuple
        ``(calibrated, final, temperature, classes)``: the CalibratedClassifierCV (None
        for temperature), the regression fitted on all rows (None unless temperature,
        where it lives inside ``calibrated``), ``T`` (None unless temperature), and the
        class labels.
    """
    from sklearn.base import clone
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.model_selection import cross_val_predict

    if calibration == "temperature":
        # Out-of-fold log-odds of classes_[1], then one T for all of them; the
        # final regression is fitted on every row (as with ensemble=False).
        weights = {} if sample_weight is None else {"sample_weight": sample_weight}
        scores = cross_val_predict(
            clone(linear), features, y, cv=folds, method="decision_function", params=weights
        )
        labels = np.unique(y)
        temperature = fit_temperature(scores, np.asarray(y) == labels[1], sample_weight)
        final = linear.fit(features, y, **weights)
        return None, final, temperature, final.classes_
    calibrated = CalibratedClassifierCV(linear, method=calibration, cv=folds, ensemble=False)
    calibrated.fit(features, y, sample_weight=sample_weight)
    return calibrated, None, None, calibrated.classes_
