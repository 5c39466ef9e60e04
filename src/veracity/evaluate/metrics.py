"""Classification and calibration metrics, with bootstrap confidence intervals.

All functions take ``y_true`` as labels, and the probability of the *positive*
label (``fake`` by default) as scores, so that the same code serves binary
verdicts and any other pair of labels.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.metrics import (
    brier_score_loss,
    confusion_matrix,
)

__all__ = [
    "Interval",
    "MetricReport",
    "bootstrap_interval",
    "evaluate_binary",
    "expected_calibration_error",
    "multiclass_report",
    "risk_coverage",
]

#: Shares answered at which :func:`risk_coverage` reports the accuracy.
COVERAGES: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)

FloatArray = NDArray[np.float64]


def risk_coverage(
    correct: Sequence[bool] | NDArray[Any],
    confidence: Sequence[float] | FloatArray,
    coverages: Sequence[float] = COVERAGES,
) -> list[tuple[float, float]]:
    """Accuracy when answering only the most confident share of texts, per share.

    ``confidence`` orders the texts (e.g. ``|P(fake) - 0.5|``, minus any widening of the
    "not sure" band); for each coverage ``c`` the ``c`` most confident texts are
    answered and their accuracy is reported: the risk-coverage curve.

    Examples
    --------
    >>> risk_coverage([True, True, False, False], [0.4, 0.3, 0.2, 0.1], (0.5, 1.0))
    [(0.5, 1.0), (1.0, 0.5)]
    """
    ok = np.asarray(correct, dtype=bool)
    conf = np.asarray(confidence, dtype=np.float64)
    if ok.shape != conf.shape or len(ok) == 0:
        raise ValueError("need the same, non-zero number of outcomes and confidences")
    order = np.argsort(-conf, kind="stable")
    curve = []
    for c in coverages:
        k = max(1, round(float(c) * len(ok)))
        curve.append((float(c), float(ok[order[:k]].mean())))
    return curve


def expected_calibration_error(
    y_true: Sequence[int] | NDArray[Any], proba: Sequence[float] | FloatArray, n_bins: int = 15
) -> float:
    """Expected calibration error of a binary forecast with equal-width bins.

    ``y_true`` holds 1 for the positive class; ``proba`` the predicted probability of it.
    ECE is the bin-size-weighted mean of ``|mean(y) - mean(p)|`` over ``n_bins`` bins.

    Examples
    --------
    >>> expected_calibration_error([0, 1, 1, 0], [0.0, 1.0, 1.0, 0.0])
    0.0
    """
    y = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(proba, dtype=np.float64)
    if y.shape != p.shape or y.ndim != 1:
        raise ValueError("y_true and proba must be 1-D and of the same length")
    if len(y) == 0:
        return float("nan")
    bins = np.minimum((p * n_bins).astype(int), n_bins - 1)
    total = 0.0
    for b in range(n_bins):
        mask = bins == b
        if mask.any():
            total += mask.sum() * abs(float(y[mask].mean()) - float(p[mask].mean()))
    return total / len(y)


@dataclass(frozen=True)
class Interval:
    """A point estimate with a percentile bootstrap confidence interval."""

    value: float
    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.value:.3f} [{self.low:.3f}, {self.high:.3f}]"


def _macro_f1(y: NDArray[Any], pred: NDArray[Any], labels: Sequence[int]) -> float:
    """Macro-F1 over ``labels`` (0 for a label never true nor predicted), as sklearn's
    ``f1_score(average="macro", zero_division=0)``, in plain numpy."""
    scores = []
    for label in labels:
        truth, guess = y == label, pred == label
        tp = float(np.sum(truth & guess))
        wrong = float(np.sum(truth != guess))
        scores.append(2 * tp / (2 * tp + wrong) if 2 * tp + wrong > 0 else 0.0)
    return float(np.mean(scores))


def bootstrap_interval(
    metric: Callable[[NDArray[Any], FloatArray], float],
    y: NDArray[Any],
    p: FloatArray,
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 42,
) -> Interval:
    """Percentile bootstrap CI of ``metric(y, p)`` over resampled rows (seeded).

    Resamples in which the metric is undefined (e.g. ROC-AUC with one class) are skipped.
    """
    value = metric(y, p)
    rng = np.random.default_rng(seed)
    n = len(y)
    stats: list[float] = []
    for _ in range(n_boot):
        idx = rng.integers(0, n, n)
        try:
            stats.append(metric(y[idx], p[idx]))
        except ValueError:
            continue
    if not stats:
        return Interval(value, float("nan"), float("nan"))
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(np.asarray(stats), [alpha, 1.0 - alpha])
    return Interval(value, float(low), float(high))


@dataclass
class MetricReport:
    """Everything ``veracity evaluate`` prints for one model on one dataset."""

    n: int
    positive: str
    labels: list[str]
    accuracy: Interval
    macro_f1: Interval
    roc_auc: Interval | None
    ece: float
    brier: float
    confusion: list[list[int]]
    abstained: int = 0
    accuracy_answered: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (intervals as ``{value, low, high}``)."""
        return asdict(self)


def evaluate_binary(
    y_true: Sequence[str],
    proba_positive: Sequence[float] | FloatArray,
    *,
    positive: str = "fake",
    negative: str = "reliable",
    abstained: Sequence[bool] | None = None,
    n_boot: int = 1000,
    seed: int = 42,
) -> MetricReport:
    """Accuracy, macro-F1, ROC-AUC (with 95% bootstrap CIs), ECE, Brier and confusion matrix.

    The predicted label is ``positive`` when its probability is at least 0.5.
    ``confusion[i][j]`` counts rows whose true label is ``labels[i]`` and predicted ``labels[j]``,
    with ``labels = [negative, positive]``. When ``abstained`` is given, the accuracy on the
    rows that were answered is reported too.
    """
    y_lab = np.asarray(list(y_true), dtype=object)
    unknown = set(y_lab.tolist()) - {positive, negative}
    if unknown:
        raise ValueError(f"labels {sorted(unknown)} are neither {positive!r} nor {negative!r}")
    y = (y_lab == positive).astype(np.int64)
    p = np.asarray(proba_positive, dtype=np.float64)
    if len(y) == 0 or len(y) != len(p):
        raise ValueError("need the same, non-zero number of labels and probabilities")

    # Plain numpy (the same numbers as sklearn's accuracy_score, f1_score(average="macro",
    # zero_division=0) and roc_auc_score): the bootstrap calls each 1,000 times, and
    # sklearn's per-call validation made that most of the time of an evaluation.
    def acc(yy: NDArray[Any], pp: FloatArray) -> float:
        return float(np.mean(yy == (pp >= 0.5)))

    def f1(yy: NDArray[Any], pp: FloatArray) -> float:
        return _macro_f1(yy, (pp >= 0.5).astype(np.int64), (0, 1))

    def auc(yy: NDArray[Any], pp: FloatArray) -> float:
        from scipy.stats import rankdata

        n_pos = int(np.sum(yy == 1))
        n_neg = len(yy) - n_pos
        if n_pos == 0 or n_neg == 0:
            raise ValueError("one class only")
        ranks = rankdata(pp)  # ties share their mean rank: a tie counts one half
        return float((ranks[yy == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))

    kw: dict[str, Any] = {"n_boot": n_boot, "seed": seed}
    roc = bootstrap_interval(auc, y, p, **kw) if len(np.unique(y)) == 2 else None
    report = MetricReport(
        n=len(y),
        positive=positive,
        labels=[negative, positive],
        accuracy=bootstrap_interval(acc, y, p, **kw),
        macro_f1=bootstrap_interval(f1, y, p, **kw),
        roc_auc=roc,
        ece=expected_calibration_error(y, p, 15),
        brier=float(brier_score_loss(y, p)),
        confusion=confusion_matrix(y, (p >= 0.5).astype(np.int64), labels=[0, 1]).tolist(),
    )
    if abstained is not None:
        mask = ~np.asarray(list(abstained), dtype=bool)
        report.abstained = int((~mask).sum())
        if mask.any():
            report.accuracy_answered = acc(y[mask], p[mask])
    return report


def multiclass_report(
    y_true: Sequence[str],
    proba: NDArray[np.float64],
    classes: Sequence[str],
    *,
    n_boot: int = 1000,
    seed: int = 42,
) -> MetricReport:
    """Accuracy and macro-F1 with CIs for more than two labels (e.g. LIAR's six ratings).

    ``proba`` columns follow ``classes``; the prediction is the most probable class.
    ROC-AUC, ECE and Brier are left undefined (None / NaN).
    """
    classes = list(classes)
    unknown = set(y_true) - set(classes)
    if unknown:
        raise ValueError(f"labels {sorted(unknown)} are not among the model's classes {classes}")
    y = np.array([classes.index(v) for v in y_true], dtype=np.int64)
    pred = np.asarray(proba).argmax(axis=1).astype(np.float64)
    labels = list(range(len(classes)))

    def acc(yy: NDArray[Any], pp: FloatArray) -> float:
        return float(np.mean(yy == pp))

    def f1(yy: NDArray[Any], pp: FloatArray) -> float:
        return _macro_f1(yy, pp, labels)

    kw: dict[str, Any] = {"n_boot": n_boot, "seed": seed}
    return MetricReport(
        n=len(y),
        positive="",
        labels=classes,
        accuracy=bootstrap_interval(acc, y, pred, **kw),
        macro_f1=bootstrap_interval(f1, y, pred, **kw),
        roc_auc=None,
        ece=float("nan"),
        brier=float("nan"),
        confusion=confusion_matrix(y, pred.astype(np.int64), labels=labels).tolist(),
    )
