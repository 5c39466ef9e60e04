"""The statistics of the shortcut audit: presence tests, separability, baselines.

Shared by the token shortcuts (:mod:`veracity.evaluate.token_shortcuts`) and the
metadata and format leaks (:mod:`veracity.evaluate.leaks`):

* :func:`presence_stats` and :func:`presence_flags`: purity, coverage, separation
  and the one-sided hypergeometric p-value of features that are present or not, and
  the shortcut rule (purity at least :data:`MIN_PURITY`, coverage at least
  :data:`MIN_COVERAGE`, support at least :data:`MIN_SUPPORT`, p-value under
  ``ALPHA / tests``);
* :func:`oriented_auc`, :func:`threshold_accuracy` and :func:`oof_category_scores`:
  how well one feature alone separates the classes;
* :func:`cross_validated`: out-of-fold accuracy and ROC-AUC of a model that sees
  only some features (the audit's baselines).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

__all__ = [
    "ALPHA",
    "FOLDS",
    "MIN_AUC",
    "MIN_COVERAGE",
    "MIN_PURITY",
    "MIN_SUPPORT",
    "FloatArray",
    "cross_validated",
    "oof_category_scores",
    "oriented_auc",
    "presence_flags",
    "presence_stats",
    "threshold_accuracy",
]

#: Smallest share of present rows in one class for a presence feature to be a shortcut.
MIN_PURITY = 0.95
#: Smallest share of that class's rows the feature must cover.
MIN_COVERAGE = 0.02
#: Fewest rows a feature must occur in to be judged at all.
MIN_SUPPORT = 10
#: Family-wise error rate of the presence test (Bonferroni over the features tested).
ALPHA = 0.01
#: Separability (ROC-AUC, ≥ 0.5) at or above which a feature is flagged.
MIN_AUC = 0.75
#: Folds of the stratified cross-validation (categorical columns and baselines).
FOLDS = 5

FloatArray = NDArray[np.float64]


def oriented_auc(y: NDArray[Any], score: NDArray[Any]) -> tuple[float, int]:
    """ROC-AUC of ``score`` for ``y == 1``, flipped to ≥ 0.5, and the direction (+1: higher = 1)."""
    from sklearn.metrics import roc_auc_score

    s = np.asarray(score, dtype=np.float64)
    if len(np.unique(y)) < 2 or len(s) == 0 or np.all(s == s[0]):
        return 0.5, 0
    auc = float(roc_auc_score(y, s))
    return (auc, 1) if auc >= 0.5 else (1.0 - auc, -1)


def threshold_accuracy(y: NDArray[Any], score: NDArray[Any]) -> float:
    """Accuracy of the best rule ``score > t`` (either direction, any ``t``), in-sample."""
    s = np.asarray(score, dtype=np.float64)
    yy = np.asarray(y, dtype=np.int64)
    n = len(yy)
    if n == 0:
        return float("nan")
    order = np.argsort(s, kind="mergesort")
    s, yy = s[order], yy[order]
    pos = int(yy.sum())
    cum_pos = np.cumsum(yy)
    cum_neg = np.arange(1, n + 1) - cum_pos
    cut = np.r_[s[1:] != s[:-1], True]
    above_is_pos = cum_neg[cut] + (pos - cum_pos[cut])
    above_is_neg = cum_pos[cut] + ((n - pos) - cum_neg[cut])
    best = max(int(above_is_pos.max()), int(above_is_neg.max()), pos, n - pos)
    return best / n


def presence_stats(
    df_fake: NDArray[Any], df_reliable: NDArray[Any], n_fake: int, n_reliable: int
) -> dict[str, NDArray[Any]]:
    """Vectorised statistics of presence features, from the rows of each class that have them.

    Returns arrays ``present``; ``to_fake`` (the class the feature points to, the
    one over-represented among its rows, is fake); ``purity`` = P(that class |
    present); ``coverage`` = share of that class's rows with it; ``separation`` =
    coverage minus the share of the *other* class's rows with it (Youden's J of
    the rule "present → that class": 0 no signal, 1 perfect); ``p_value`` =
    one-sided hypergeometric P(at least this many of that class among the present).
    """
    from scipy.stats import hypergeom

    f = np.asarray(df_fake, dtype=np.int64)
    r = np.asarray(df_reliable, dtype=np.int64)
    n = n_fake + n_reliable
    present = f + r
    safe = np.maximum(present, 1)
    # point to the class that is over-represented relative to its share of the rows
    to_fake = f * n_reliable >= r * n_fake
    hits = np.where(to_fake, f, r)
    class_n = np.where(to_fake, n_fake, n_reliable)
    purity = hits / safe
    coverage = hits / np.maximum(class_n, 1)
    other = np.where(to_fake, r, f) / np.maximum(np.where(to_fake, n_reliable, n_fake), 1)
    separation = coverage - other
    p_value = hypergeom.sf(hits - 1, n, class_n, present)
    return {
        "present": present,
        "to_fake": to_fake,
        "purity": purity,
        "coverage": coverage,
        "separation": separation,
        "p_value": np.asarray(p_value, dtype=np.float64),
    }


def presence_flags(stats: dict[str, NDArray[Any]], tests: int) -> NDArray[np.bool_]:
    """The shortcut rule applied to :func:`presence_stats` (``tests`` for Bonferroni)."""
    flags: NDArray[np.bool_] = (
        (stats["present"] >= MIN_SUPPORT)
        & (stats["purity"] >= MIN_PURITY)
        & (stats["coverage"] >= MIN_COVERAGE)
        & (stats["p_value"] <= ALPHA / max(tests, 1))
    )
    return flags


def oof_category_scores(
    values: Sequence[str], y: NDArray[Any], seed: int
) -> tuple[FloatArray, NDArray[np.bool_]]:
    """Out-of-fold smoothed P(fake | value) and the label it predicts, per row."""
    from sklearn.model_selection import StratifiedKFold

    codes, _ = pd.factorize(pd.Series(list(values), dtype=object))
    codes = np.asarray(codes, dtype=np.int64)
    k = int(codes.max()) + 1 if len(codes) else 0
    yy = np.asarray(y, dtype=np.float64)
    scores = np.zeros(len(yy), dtype=np.float64)
    pred = np.zeros(len(yy), dtype=bool)
    folds = min(FOLDS, int(min(yy.sum(), len(yy) - yy.sum())))
    if folds < 2:
        return np.full(len(yy), float(yy.mean()) if len(yy) else 0.5), pred
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, test in splitter.split(np.zeros(len(yy)), yy):
        prior = float(yy[train].mean())
        fakes = np.bincount(codes[train], weights=yy[train], minlength=k)
        totals = np.bincount(codes[train], minlength=k).astype(np.float64)
        p = (fakes + prior) / (totals + 1.0)
        scores[test] = p[codes[test]]
        pred[test] = (scores[test] > 0.5) | ((scores[test] == 0.5) & (prior > 0.5))
    return scores, pred


def _signed_log1p(x: NDArray[Any]) -> NDArray[Any]:
    arr = np.asarray(x, dtype=np.float64)
    out: NDArray[Any] = np.sign(arr) * np.log1p(np.abs(arr))
    return out


def cross_validated(
    features: pd.DataFrame, y: NDArray[Any], seed: int, *, boosted: bool = False
) -> tuple[float, float]:
    """Out-of-fold accuracy and ROC-AUC of a model that sees only ``features``.

    By default a logistic regression: non-numeric columns one-hot encoded (unseen
    values ignored), numbers NaN → median, signed ``log1p``, standardised. With
    ``boosted``, gradient-boosted trees of depth 3 on the (numeric) columns, which
    also find thresholds and interactions. Stratified :data:`FOLDS`-fold
    cross-validation shuffled with ``seed``. The AUC is not turned (below 0.5: worse
    than chance on unseen rows).
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    yy = np.asarray(y, dtype=np.int64)
    folds = min(FOLDS, int(min(yy.sum(), len(yy) - yy.sum())))
    if folds < 2:
        return float("nan"), float("nan")
    model: Any
    if boosted:  # single-threaded on purpose: OpenMP boosting crawls on a busy machine
        impute = SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)
        trees = GradientBoostingClassifier(max_depth=3, random_state=seed)
        model = make_pipeline(impute, trees)
        features = features.astype(np.float64)
    else:
        categorical = [
            c for c in features.columns if not pd.api.types.is_numeric_dtype(features[c])
        ]
        numeric = [c for c in features.columns if c not in categorical]
        features = features.astype({c: object for c in categorical})
        numbers = make_pipeline(
            SimpleImputer(strategy="median", keep_empty_features=True),
            FunctionTransformer(_signed_log1p),
            StandardScaler(),
        )
        categories = OneHotEncoder(handle_unknown="ignore")
        encode = ColumnTransformer([("c", categories, categorical), ("n", numbers, numeric)])
        model = make_pipeline(encode, LogisticRegression(max_iter=2000))
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    proba = cross_val_predict(model, features, yy, cv=cv, method="predict_proba")[:, 1]
    accuracy = float(np.mean((proba >= 0.5) == (yy == 1)))
    return accuracy, float(roc_auc_score(yy, proba))
