"""Models: versioned presets, the estimators behind them, and their artifacts.

A preset name such as ``"tfidf-lr.v1"`` maps to a factory of an unfitted
scikit-learn estimator with every default written out. A change of behaviour
(new defaults, new features) gets a new name (``.v2``); a published ``.v1`` is
never edited, so a model card's ``preset`` always means the same recipe.

Estimator modules are imported by the factories, not here, so importing
``veracity.models`` (or ``veracity.models.artifact``) does not load scikit-learn.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from veracity.errors import InputError

if TYPE_CHECKING:
    from sklearn.base import BaseEstimator

__all__ = ["PRESETS", "make_model", "tfidf_lr_v1"]

#: Every parameter of ``tfidf-lr.v1`` with its value; frozen once published.
_TFIDF_LR_V1: dict[str, Any] = {
    "word_ngram_range": (1, 2),
    "char_ngram_range": (2, 5),
    "max_word_features": 100_000,
    "max_char_features": 100_000,
    "min_df": 2,
    "C": 10.0,
    "calibration": "sigmoid",
    "cv": 5,
    "preprocess": True,
    "random_state": None,
}


def _check_params(preset: str, allowed: dict[str, Any], params: dict[str, Any]) -> None:
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise InputError(
            f"preset {preset!r} has no parameter {', '.join(map(repr, unknown))}; "
            f"its parameters are: {', '.join(allowed)}"
        )


def tfidf_lr_v1(**params: Any) -> BaseEstimator:
    """Word 1-2-gram + char_wb 2-5-gram TF-IDF into a sigmoid-calibrated logistic regression.

    Parameters
    ----------
    **params
        Overrides of the preset's values (see
        :class:`veracity.models.linear.TfidfLogisticClassifier`).

    Returns
    -------
    TfidfLogisticClassifier
        Unfitted.
    """
    from veracity.models.linear import TfidfLogisticClassifier

    _check_params("tfidf-lr.v1", _TFIDF_LR_V1, params)
    return TfidfLogisticClassifier(**{**_TFIDF_LR_V1, **params})


#: Preset name → factory of an unfitted estimator.
PRESETS: dict[str, Callable[..., BaseEstimator]] = {
    "tfidf-lr.v1": tfidf_lr_v1,
}


def make_model(preset: str, **params: Any) -> BaseEstimator:
    """An unfitted estimator of the named preset, with ``params`` overriding its values.

    Raises
    ------
    veracity.errors.InputError
        For an unknown preset (the message lists the known ones) or parameter.

    Examples
    --------
    >>> make_model("tfidf-lr.v1", C=3.0).C
    3.0
    """
    try:
        factory = PRESETS[preset]
    except KeyError:
        raise InputError(
            f"unknown model preset {preset!r}; known presets: {', '.join(sorted(PRESETS))}"
        ) from None
    return factory(**params)
