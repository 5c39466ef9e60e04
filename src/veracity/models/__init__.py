"""Models: versioned presets, the estimators behind them, and their artifacts.

A preset name such as ``"tfidf-lr.v1"`` maps to a factory of an unfitted
scikit-learn estimator with every default written out. A change of behaviour
(new defaults, new features) gets a new name (``.v2``); a published ``.v1`` is
never edited, so a model card's ``preset`` always means the same recipe.

Every estimator follows one protocol (:class:`veracity.models.protocol.VeracityModel`):
scikit-learn's ``fit`` / ``predict_proba``, plus ``model_input(data)``, which turns a
dataset, a frame with a ``doc`` column, or texts into the ``X`` the model takes
(texts for the text models, texts and metadata for ``claims-meta.v1``).

Estimator modules are imported by the factories, not here, so importing
``veracity.models`` (or ``veracity.models.artifact``) does not load scikit-learn.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from veracity._extras import require
from veracity.errors import InputError

if TYPE_CHECKING:
    from sklearn.base import BaseEstimator

__all__ = [
    "PRESETS",
    "PRESET_EXTRAS",
    "claims_lr_v1",
    "claims_meta_v1",
    "fit_model",
    "hashing_sgd_v1",
    "hashing_sgd_v2",
    "make_model",
    "minilm_lr_v1",
    "require_preset",
    "stack_light_v1",
    "stack_v1",
    "style_lgbm_v1",
    "tfidf_lr_v1",
    "tfidf_lr_v2",
]

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
    # added after publication with the value that keeps v1's behaviour (nothing dropped)
    "domain_drop": 0.0,
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


#: Every parameter of ``hashing-sgd.v1`` with its value; frozen once published.
_HASHING_SGD_V1: dict[str, Any] = {
    "word_ngram_range": (1, 2),
    "char_ngram_range": (3, 5),
    "n_word_features": 2**20,
    "n_char_features": 2**20,
    "alpha": 1e-5,
    "n_epochs": 5,
    "calibration": "sigmoid",
    "cv": 5,
    "calibration_rows": 2000,
    "calibration_fraction": 0.1,
    "preprocess": True,
    "random_state": None,
}


def hashing_sgd_v1(**params: Any) -> BaseEstimator:
    """Hashed word 1-2-gram + char_wb 3-5-gram features into a calibrated SGD logistic regression.

    No vocabulary (constant memory) and ``partial_fit`` for out-of-core training
    (``veracity train --engine dask``).

    Parameters
    ----------
    **params
        Overrides of the preset's values (see
        :class:`veracity.models.hashing.HashingSGDClassifier`).

    Returns
    -------
    HashingSGDClassifier
        Unfitted.
    """
    from veracity.models.hashing import HashingSGDClassifier

    _check_params("hashing-sgd.v1", _HASHING_SGD_V1, params)
    return HashingSGDClassifier(**{**_HASHING_SGD_V1, **params})


#: Every parameter of ``style-lgbm.v1`` with its value; frozen once published.
_STYLE_LGBM_V1: dict[str, Any] = {
    "n_estimators": 300,
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_child_samples": 20,
    "subsample": 0.8,
    "colsample_bytree": 0.8,
    "reg_lambda": 1.0,
    "form_features": True,
    "cv": 5,
    "n_jobs": 1,
    "random_state": None,
}


def style_lgbm_v1(**params: Any) -> BaseEstimator:
    """Writing-style features (punctuation, readability, word lists) into calibrated LightGBM.

    Parameters
    ----------
    **params
        Overrides of the preset's values (see
        :class:`veracity.models.style.StyleLGBMClassifier`).

    Returns
    -------
    StyleLGBMClassifier
        Unfitted.
    """
    from veracity.models.style import StyleLGBMClassifier

    _check_params("style-lgbm.v1", _STYLE_LGBM_V1, params)
    return StyleLGBMClassifier(**{**_STYLE_LGBM_V1, **params})


#: Every parameter of ``minilm-lr.v1`` with its value; frozen once published.
_MINILM_LR_V1: dict[str, Any] = {
    "chunk_words": 180,
    "max_chunks": 2,
    "C": 1.0,
    "calibration": "sigmoid",
    "cv": 5,
    "batch_size": 32,
    "num_threads": 2,
    "cache_dir": None,
    "progress": None,
    "random_state": None,
}


def minilm_lr_v1(**params: Any) -> BaseEstimator:
    """all-MiniLM-L6-v2 sentence embeddings into a calibrated logistic regression.

    Needs the ``embed`` extra (``pip install 'veracity[embed]'``) to fit or predict.

    Parameters
    ----------
    **params
        Overrides of the preset's values (see
        :class:`veracity.models.embed.MiniLMLogisticClassifier`).

    Returns
    -------
    MiniLMLogisticClassifier
        Unfitted.
    """
    from veracity.models.embed import MiniLMLogisticClassifier

    _check_params("minilm-lr.v1", _MINILM_LR_V1, params)
    return MiniLMLogisticClassifier(**{**_MINILM_LR_V1, **params})


#: Every parameter of ``claims-meta.v1`` with its value; frozen once published.
_CLAIMS_META_V1: dict[str, Any] = {
    "metadata": ("speaker", "party", "state", "job", "subject", "context"),
    "word_ngram_range": (1, 2),
    "char_ngram_range": (2, 5),
    "max_word_features": 100_000,
    "max_char_features": 100_000,
    "min_df": 2,
    "meta_min_count": 2,
    "speaker_prior": True,
    "prior_smoothing": 10.0,
    "prior_folds": 5,
    "C": 0.3,
    "calibration": "sigmoid",
    "cv": 5,
    "preprocess": True,
    "random_state": None,
}
#: ``claims-lr.v1``: the same recipe on the statement alone; frozen once published.
_CLAIMS_LR_V1: dict[str, Any] = {**_CLAIMS_META_V1, "metadata": (), "speaker_prior": False}


def claims_lr_v1(**params: Any) -> BaseEstimator:
    """Short-claim TF-IDF (word + char_wb) into a calibrated logistic regression, text only.

    Parameters
    ----------
    **params
        Overrides of the preset's values (see
        :class:`veracity.models.claims.ClaimsClassifier`).

    Returns
    -------
    ClaimsClassifier
        Unfitted, with ``metadata=()``.
    """
    from veracity.models.claims import ClaimsClassifier

    _check_params("claims-lr.v1", _CLAIMS_LR_V1, params)
    return ClaimsClassifier(**{**_CLAIMS_LR_V1, **params})


def claims_meta_v1(**params: Any) -> BaseEstimator:
    """Claim text + speaker, party, state, job, subjects, venue and an out-of-fold speaker prior.

    Never LIAR's ``credit_*`` counts (they include the judged statement's label).

    Parameters
    ----------
    **params
        Overrides of the preset's values (see
        :class:`veracity.models.claims.ClaimsClassifier`).

    Returns
    -------
    ClaimsClassifier
        Unfitted; ``fit``/``predict_proba`` take a frame with ``text`` + metadata columns.
    """
    from veracity.models.claims import ClaimsClassifier

    _check_params("claims-meta.v1", _CLAIMS_META_V1, params)
    return ClaimsClassifier(**{**_CLAIMS_META_V1, **params})


#: ``stack.v1``: every article model that generalizes differently; frozen once published.
_STACK_V1: dict[str, Any] = {
    "members": ("tfidf-lr.v1", "style-lgbm.v1", "minilm-lr.v1"),
    "cv": 4,
    "C": 1.0,
    "random_state": None,
}
#: ``stack-light.v1``: the same without the sentence encoder (no ``embed`` extra needed).
_STACK_LIGHT_V1: dict[str, Any] = {**_STACK_V1, "members": ("tfidf-lr.v1", "style-lgbm.v1")}


def stack_v1(**params: Any) -> BaseEstimator:
    """Stacked ensemble of tfidf-lr.v1, style-lgbm.v1 and minilm-lr.v1 (needs ``embed``).

    Parameters
    ----------
    **params
        Overrides (see :class:`veracity.models.ensemble.StackedEnsemble`).

    Returns
    -------
    StackedEnsemble
        Unfitted.
    """
    from veracity.models.ensemble import StackedEnsemble

    _check_params("stack.v1", _STACK_V1, params)
    return StackedEnsemble(**{**_STACK_V1, **params})


def stack_light_v1(**params: Any) -> BaseEstimator:
    """Stacked ensemble of tfidf-lr.v1 and style-lgbm.v1 (no sentence encoder).

    Parameters
    ----------
    **params
        Overrides (see :class:`veracity.models.ensemble.StackedEnsemble`).

    Returns
    -------
    StackedEnsemble
        Unfitted.
    """
    from veracity.models.ensemble import StackedEnsemble

    _check_params("stack-light.v1", _STACK_LIGHT_V1, params)
    return StackedEnsemble(**{**_STACK_LIGHT_V1, **params})


#: ``tfidf-lr.v2``: v1 plus domain-robust training (2% of features dropped as source markers).
_TFIDF_LR_V2: dict[str, Any] = {**_TFIDF_LR_V1, "domain_drop": 0.02}


def tfidf_lr_v2(**params: Any) -> BaseEstimator:
    """tfidf-lr.v1 that drops the 2% of features most tied to a text's dataset or source.

    With several training datasets, the features that best tell one dataset's texts
    from another's *within the same label* are zeroed before the regression is fitted
    (see ``domain_drop`` in :class:`veracity.models.linear.TfidfLogisticClassifier`).
    With one dataset it is tfidf-lr.v1.

    Parameters
    ----------
    **params
        Overrides of the preset's values.

    Returns
    -------
    TfidfLogisticClassifier
        Unfitted.
    """
    from veracity.models.linear import TfidfLogisticClassifier

    _check_params("tfidf-lr.v2", _TFIDF_LR_V2, params)
    return TfidfLogisticClassifier(**{**_TFIDF_LR_V2, **params})


#: Every parameter of ``hashing-sgd.v2`` with its value; frozen once published.
_HASHING_SGD_V2: dict[str, Any] = {
    **_HASHING_SGD_V1,
    "domain_weighting": "balanced",
    "worst_eta": 1.0,
    "novelty_buckets": 2**22,
    "min_seen": 2,
    "target_accuracy": 0.85,
    "min_coverage": 0.5,
}


def hashing_sgd_v2(**params: Any) -> BaseEstimator:
    """``hashing-sgd.v1`` calibrated on datasets it never saw, with novelty-aware abstention.

    Trained with each text's dataset (``domains``): datasets weigh the same, every
    text is scored by a model that never saw its dataset, and the calibrator and the
    "not sure" band are fitted on those scores (see
    :class:`veracity.models.offdomain.OffDomainHashingClassifier`).

    Parameters
    ----------
    **params
        Overrides of the preset's values.

    Returns
    -------
    OffDomainHashingClassifier
        Unfitted.
    """
    from veracity.models.offdomain import OffDomainHashingClassifier

    _check_params("hashing-sgd.v2", _HASHING_SGD_V2, params)
    return OffDomainHashingClassifier(**{**_HASHING_SGD_V2, **params})


#: Preset name → factory of an unfitted estimator.
PRESETS: dict[str, Callable[..., BaseEstimator]] = {
    "tfidf-lr.v1": tfidf_lr_v1,
    "tfidf-lr.v2": tfidf_lr_v2,
    "claims-lr.v1": claims_lr_v1,
    "claims-meta.v1": claims_meta_v1,
    "hashing-sgd.v1": hashing_sgd_v1,
    "hashing-sgd.v2": hashing_sgd_v2,
    "style-lgbm.v1": style_lgbm_v1,
    "minilm-lr.v1": minilm_lr_v1,
    "stack.v1": stack_v1,
    "stack-light.v1": stack_light_v1,
}


#: The optional extras a preset needs beyond the core install (a stack: its members').
PRESET_EXTRAS: dict[str, tuple[str, ...]] = {
    "style-lgbm.v1": ("style",),
    "minilm-lr.v1": ("embed",),
}


def require_preset(preset: str, params: Any = None) -> None:
    """Raise :class:`~veracity.errors.MissingExtraError` when ``preset`` needs a missing extra.

    A stack needs what its members need: ``params["members"]`` when given, else the
    preset's own. Unknown presets pass (:func:`make_model` says they are unknown).
    :func:`make_model` itself does not check (building an estimator only stores its
    parameters); fitting does, and so do ``veracity train`` (before reading any data)
    and :func:`~veracity.models.artifact.load_model` (before reading the model).
    """
    stacks = {"stack.v1": _STACK_V1, "stack-light.v1": _STACK_LIGHT_V1}
    members: Any = (preset,)
    if preset in stacks:
        given = params.get("members") if isinstance(params, dict) else None
        members = given if isinstance(given, list | tuple) else stacks[preset]["members"]
    for member in members:
        for extra in PRESET_EXTRAS.get(str(member), ()):
            require(extra, f"the {member} model")


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


def fit_model(
    estimator: Any,
    X: Any,
    y: Any,
    *,
    sample_weight: Any | None = None,
    domains: Sequence[str] | None = None,
) -> Any:
    """``estimator.fit(X, y, ...)``, passing ``domains`` only to estimators that take them.

    ``domains`` names the dataset or source of each training text; presets with a
    domain-robust option (``domain_drop``, stacked ensembles of them) use it, the
    others ignore it. ``sample_weight`` is passed when given.
    """
    kwargs: dict[str, Any] = {}
    if sample_weight is not None:
        kwargs["sample_weight"] = sample_weight
    if domains is not None and "domains" in inspect.signature(estimator.fit).parameters:
        kwargs["domains"] = list(domains)
    return estimator.fit(X, y, **kwargs)
