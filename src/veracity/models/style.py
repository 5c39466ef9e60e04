"""Writing-style features into gradient-boosted trees (LightGBM), calibrated.

:class:`StyleFeatures` turns a text into a few dozen numbers that describe *how*
it is written, not what it is about. Shortcut artefacts (datelines, photo
credits, URLs, handles — see :mod:`veracity.text.scrub`) are removed first, and
the length of a text is deliberately not a feature (it tells datasets apart, not
reliable from fake articles). There are two groups:

**Form-free features** are computed on :func:`veracity.text.prepare`'s output
(seed form: lower-case letters and spaces), so a raw article and its normalized
copy get exactly the same values: word length (mean, spread, share of words of
7+ letters), vocabulary richness (mean type-token ratio of consecutive 50-word
segments, so it does not depend on length), syllables per word and share of
words of 3+ syllables (vowel-group heuristic), the share of English function
words, and rates per 100 words of small built-in word lists: hedges,
attribution verbs, sensational words, intensifiers, negations, and first-person
singular, first-person plural and second-person pronouns (see the ``*_WORDS``
constants).

**Form features** need the raw text's punctuation, digits and case, and are
computed on :func:`veracity.text.scrub`'s output: words per sentence (mean and
spread), Flesch reading ease, exclamation and question marks per sentence, commas
per sentence, quotation marks, numbers, ALL-CAPS words and capitalized words per
100 words. A text without any sentence punctuation counts as one sentence. Text
in the seed form has none of these, and inventing values for it (zero
exclamation marks, one endless sentence) would make "was given normalized text"
a feature. So for seed-form text the form features are missing (NaN), and
:class:`StyleLGBMClassifier` keeps two boosted models: one on the form-free
features, trained on every text and used for seed-form input, and one on all
features, trained only on the raw texts and used for raw input. Whether an
input was normalized therefore never reaches a tree.

Each boosted model's raw scores are calibrated on out-of-fold predictions with a
logistic regression (Platt scaling; for more than two classes a multinomial one
on the vector of scores), like ``CalibratedClassifierCV(..., ensemble=False)``:
one final booster trained on all texts, one calibrator. Evidence comes from
LightGBM's exact per-feature SHAP values (``pred_contrib=True``), which add up
with the expected value to the booster's raw log-odds.

Saved models hold each booster as LightGBM's text model string (see
:meth:`StyleLGBMClassifier.__getstate__`), so the artifact contains no LightGBM
object and the skops allowlist needs only this module's two classes.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.utils import check_random_state, column_or_1d
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from veracity._extras import require
from veracity.errors import InputError
from veracity.explain import Attribution, Contributions, calibrate, rank_evidence
from veracity.models._text_input import check_texts
from veracity.models.protocol import TextInput
from veracity.models.style_features import (
    ATTRIBUTION_WORDS,
    FORM_FEATURES,
    FORM_FREE_FEATURES,
    HEDGE_WORDS,
    INTENSIFIER_WORDS,
    NEGATION_WORDS,
    SENSATIONAL_WORDS,
    form_features,
    form_free_features,
    format_feature_value,
)
from veracity.text import is_normalized, prepare, scrub
from veracity.types import FAKE, Evidence

__all__ = [
    "ATTRIBUTION_WORDS",
    "FORM_FEATURES",
    "FORM_FREE_FEATURES",
    "HEDGE_WORDS",
    "INTENSIFIER_WORDS",
    "NEGATION_WORDS",
    "SENSATIONAL_WORDS",
    "StyleFeatures",
    "StyleLGBMClassifier",
]


class StyleFeatures(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """How a text is written, as numbers: see the module docstring for every feature.

    Parameters
    ----------
    form_features : bool, default=True
        Also output the features that need raw punctuation, digits and case
        (:data:`FORM_FEATURES`, after :data:`FORM_FREE_FEATURES`); they are NaN for
        text in the seed form.

    Attributes
    ----------
    feature_names_ : list of str
        Human-readable name of each output column.

    Examples
    --------
    >>> features = StyleFeatures().fit(["Wow! Is this real?"])
    >>> row = features.transform(["Wow! Is this real?"])[0]
    >>> float(row[features.feature_names_.index("exclamation marks per sentence")])
    0.5
    >>> bool(np.isnan(features.transform(["wow  is this real "])[0, -1]))
    True
    """

    def __init__(self, *, form_features: bool = True) -> None:
        self.form_features = form_features

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.requires_fit = False
        return tags

    def fit(self, X: Sequence[str], y: Any = None) -> StyleFeatures:
        """Check ``X`` and record the feature names; nothing is learned from the texts."""
        check_texts(X)
        self.feature_names_ = list(FORM_FREE_FEATURES) + (
            list(FORM_FEATURES) if self.form_features else []
        )
        return self

    def transform(self, X: Sequence[str]) -> NDArray[np.float64]:
        """One row of features per text, columns in the order of ``feature_names_``."""
        check_is_fitted(self)
        texts = check_texts(X)
        n_free = len(FORM_FREE_FEATURES)
        out = np.full((len(texts), len(self.feature_names_)), np.nan, dtype=np.float64)
        for i, text in enumerate(texts):
            out[i, :n_free] = form_free_features(prepare(text))
            if self.form_features and not is_normalized(text):
                out[i, n_free:] = form_features(scrub(text))
        return out

    def get_feature_names_out(self, input_features: Any = None) -> NDArray[np.object_]:
        """The feature names as an array (scikit-learn's transformer API)."""
        check_is_fitted(self)
        return np.asarray(self.feature_names_, dtype=object)


#: The two boosted models: on form-free columns (every text) and on all columns (raw texts).
_FORM_FREE, _FULL = "form_free", "full"


class StyleLGBMClassifier(TextInput, ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Calibrated LightGBM on :class:`StyleFeatures` of each text.

    Parameters
    ----------
    n_estimators : int, default=300
        Boosting rounds.
    learning_rate : float, default=0.05
        Shrinkage of each tree.
    num_leaves : int, default=15
        Leaves per tree.
    min_child_samples : int, default=20
        Fewest texts in a leaf.
    subsample : float, default=0.8
        Share of texts each tree is grown on (resampled every round).
    colsample_bytree : float, default=0.8
        Share of features each tree may use.
    reg_lambda : float, default=1.0
        L2 regularization of leaf values.
    form_features : bool, default=True
        Use the punctuation/case features for raw input (a second booster trained on
        the raw training texts); False: only form-free features for every input.
    cv : int, default=5
        Stratified folds for the out-of-fold calibration scores.
    n_jobs : int, default=1
        LightGBM threads (results do not depend on it: ``deterministic=True``).
    random_state : int, RandomState instance or None, default=None
        Seeds the calibration folds and LightGBM's row and feature sampling.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The labels, sorted; ``predict_proba`` columns follow this order.
    features_ : StyleFeatures
        The fitted feature extractor.
    boosters_ : dict of str to lightgbm.Booster
        ``"form_free"`` (always) and ``"full"`` (when raw training texts allowed it).
    calibrators_ : dict of str to sklearn.linear_model.LogisticRegression
        Platt calibrator of each booster's raw scores.
    columns_ : dict of str to list of int
        The feature columns each booster reads.

    Examples
    --------
    >>> from veracity.models.style import StyleLGBMClassifier
    >>> calm = "Officials said the committee would meet again next week, according to a statement."
    >>> loud = "SHOCKING!!! You will NOT believe what they did!!! Wake up, people!"
    >>> texts, labels = [calm] * 10 + [loud] * 10, ["reliable"] * 10 + ["fake"] * 10
    >>> model = StyleLGBMClassifier(min_child_samples=2, cv=2, random_state=0).fit(texts, labels)
    >>> model.predict(["This is INSANE!!! Share before they delete it!"]).tolist()
    ['fake']
    """

    def __init__(
        self,
        *,
        n_estimators: int = 300,
        learning_rate: float = 0.05,
        num_leaves: int = 15,
        min_child_samples: int = 20,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        reg_lambda: float = 1.0,
        form_features: bool = True,
        cv: int = 5,
        n_jobs: int = 1,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.form_features = form_features
        self.cv = cv
        self.n_jobs = n_jobs
        self.random_state = random_state

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags

    # -- fitting -------------------------------------------------------------

    def _check_params(self) -> None:
        for name, low in (
            ("n_estimators", 1),
            ("num_leaves", 2),
            ("min_child_samples", 1),
            ("cv", 2),
            ("n_jobs", 1),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
                raise InputError(f"{name} must be an int >= {low}, got {value!r}")
        for name in ("learning_rate", "subsample", "colsample_bytree"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, Real) or not 0 < float(value) <= 1:
                raise InputError(f"{name} must be a number in (0, 1], got {value!r}")
        lam = self.reg_lambda
        if isinstance(lam, bool) or not isinstance(lam, Real) or float(lam) < 0:
            raise InputError(f"reg_lambda must be a number >= 0, got {lam!r}")

    def _lgbm(self, seed: int) -> Any:
        require("style", "StyleLGBMClassifier")
        from lightgbm import LGBMClassifier

        return LGBMClassifier(
            n_estimators=int(self.n_estimators),
            learning_rate=float(self.learning_rate),
            num_leaves=int(self.num_leaves),
            min_child_samples=int(self.min_child_samples),
            subsample=float(self.subsample),
            subsample_freq=1,
            colsample_bytree=float(self.colsample_bytree),
            reg_lambda=float(self.reg_lambda),
            n_jobs=int(self.n_jobs),
            random_state=seed,
            deterministic=True,
            force_row_wise=True,
            verbose=-1,
        )

    def _fit_booster(
        self,
        F: NDArray[np.float64],
        y: NDArray[Any],
        weights: NDArray[np.float64] | None,
        seed: int,
    ) -> tuple[Any, LogisticRegression]:
        """One booster on all rows, and a Platt calibrator on its out-of-fold raw scores."""
        folds = StratifiedKFold(n_splits=int(self.cv), shuffle=True, random_state=seed)
        n_classes = len(np.unique(y))
        oof = np.zeros((len(y), 1 if n_classes == 2 else n_classes), dtype=np.float64)
        for train, test in folds.split(F, y):
            fold = self._lgbm(seed).fit(
                F[train], y[train], sample_weight=None if weights is None else weights[train]
            )
            oof[test] = np.asarray(fold.predict(F[test], raw_score=True)).reshape(len(test), -1)
        calibrator = LogisticRegression(C=1.0, max_iter=1000).fit(oof, y, sample_weight=weights)
        final = self._lgbm(seed).fit(F, y, sample_weight=weights)
        return final.booster_, calibrator

    def fit(
        self, X: Sequence[str], y: Any, sample_weight: Any | None = None
    ) -> StyleLGBMClassifier:
        """Compute the style features, fit the boosted models and calibrate them.

        Parameters
        ----------
        X : sequence of str
            Training texts (raw or normalized).
        y : array-like of shape (n_texts,)
            Their labels (any hashable, e.g. ``"fake"`` / ``"reliable"``).
        sample_weight : array-like of shape (n_texts,), optional
            Per-text weights for the boosters and the calibrators.

        Returns
        -------
        StyleLGBMClassifier
            ``self``, fitted.
        """
        texts = check_texts(X)
        features = StyleFeatures(form_features=bool(self.form_features)).fit(texts)
        raw = np.array([not is_normalized(t) for t in texts], dtype=bool)
        return self._fit_matrix(
            features.transform(texts), raw, y, sample_weight, features, len(FORM_FREE_FEATURES)
        )

    def _fit_matrix(
        self,
        F: NDArray[np.float64],
        raw: NDArray[np.bool_],
        y: Any,
        sample_weight: Any | None,
        features: StyleFeatures | None,
        n_form_free: int,
    ) -> StyleLGBMClassifier:
        """Fit on a feature matrix whose first ``n_form_free`` columns are form-free."""
        self._check_params()
        y = column_or_1d(y, warn=True)
        if len(y) != len(F):
            raise InputError(f"X has {len(F)} texts but y has {len(y)} labels")
        check_classification_targets(y)
        weights = None
        if sample_weight is not None:
            weights = np.asarray(sample_weight, dtype=np.float64)
            if weights.shape != (len(F),):
                raise InputError(f"sample_weight must have shape ({len(F)},), got {weights.shape}")
        labels, counts = np.unique(y, return_counts=True)
        names = labels.tolist()
        if len(labels) < 2:
            raise InputError(
                f"y has only one class ({names[0]!r}); training needs texts of at least two"
            )
        if counts.min() < self.cv:
            rare = names[int(np.argmin(counts))]
            raise InputError(
                f"calibration uses cv={self.cv} folds, so every class needs at least "
                f"{self.cv} texts; class {rare!r} has {counts.min()}. Add texts or lower cv."
            )
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        columns = {_FORM_FREE: list(range(n_form_free))}
        boosters, calibrators = {}, {}
        boosters[_FORM_FREE], calibrators[_FORM_FREE] = self._fit_booster(
            F[:, :n_form_free], y, weights, seed
        )
        # The full model learns only from raw texts, so "no punctuation" is never a signal.
        raw_labels, raw_counts = np.unique(y[raw], return_counts=True)
        if (
            self.form_features
            and F.shape[1] > n_form_free
            and len(raw_labels) == len(labels)
            and raw_counts.min() >= self.cv
        ):
            columns[_FULL] = list(range(F.shape[1]))
            boosters[_FULL], calibrators[_FULL] = self._fit_booster(
                F[raw], y[raw], None if weights is None else weights[raw], seed
            )
        self.features_ = features
        self.boosters_ = boosters
        self.calibrators_ = calibrators
        self.columns_ = columns
        self.classes_ = labels
        return self

    # -- prediction ----------------------------------------------------------

    def _style_matrix(self, X: Sequence[str]) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
        """The feature matrix of ``X`` and which texts were raw (not seed form)."""
        check_is_fitted(self)
        texts = check_texts(X)
        raw = np.array([not is_normalized(t) for t in texts], dtype=bool)
        features: StyleFeatures | None = self.features_
        if features is None:
            raise InputError("this model was fitted on a feature matrix, not on texts")
        return features.transform(texts), raw

    def _route(self, raw: NDArray[np.bool_]) -> NDArray[np.object_]:
        """Which booster answers for each row."""
        use_full = raw & (_FULL in self.boosters_)
        return np.where(use_full, _FULL, _FORM_FREE).astype(object)

    def _raw_scores(self, name: str, F: NDArray[np.float64]) -> NDArray[np.float64]:
        scores = self.boosters_[name].predict(F[:, self.columns_[name]], raw_score=True)
        return np.asarray(scores, dtype=np.float64).reshape(len(F), -1)

    def _proba_matrix(self, F: NDArray[np.float64], raw: NDArray[np.bool_]) -> NDArray[np.float64]:
        check_is_fitted(self)
        proba = np.zeros((len(F), len(self.classes_)), dtype=np.float64)
        route = self._route(raw)
        for name in (_FORM_FREE, _FULL):
            rows = route == name
            if rows.any():
                proba[rows] = self.calibrators_[name].predict_proba(self._raw_scores(name, F[rows]))
        return proba

    def predict_proba(self, X: Sequence[str]) -> NDArray[np.float64]:
        """Calibrated class probabilities, columns in the order of ``classes_``."""
        return self._proba_matrix(*self._style_matrix(X))

    def predict(self, X: Sequence[str]) -> NDArray[Any]:
        """The most probable class of each text."""
        proba = self.predict_proba(X)
        result: NDArray[Any] = self.classes_[np.argmax(proba, axis=1)]
        return result

    def decision_function(self, X: Sequence[str]) -> NDArray[np.float64]:
        """Calibrated log-odds of ``classes_[1]`` (two classes), else log-probabilities."""
        proba = np.clip(self.predict_proba(X), 1e-12, 1.0 - 1e-12)
        if len(self.classes_) == 2:
            log_odds: NDArray[np.float64] = np.log(proba[:, 1]) - np.log(proba[:, 0])
            return log_odds
        log_proba: NDArray[np.float64] = np.log(proba)
        return log_proba

    def raw_score(self, X: Sequence[str]) -> NDArray[np.float64]:
        """Uncalibrated booster scores (what SHAP contributions add up to).

        Shape ``(n_texts,)`` for two classes (log-odds of ``classes_[1]``), else
        ``(n_texts, n_classes)``. Each text is scored by the booster that answers for
        it (form-free for seed-form text).
        """
        F, raw = self._style_matrix(X)
        route = self._route(raw)
        width = 1 if len(self.classes_) == 2 else len(self.classes_)
        out = np.zeros((len(F), width), dtype=np.float64)
        for name in (_FORM_FREE, _FULL):
            rows = route == name
            if rows.any():
                out[rows] = self._raw_scores(name, F[rows])
        return out[:, 0] if width == 1 else out

    # -- evidence ------------------------------------------------------------

    def contributions(self, text: str, target: Any | None = None) -> Contributions:
        """Exact SHAP contribution of every feature to the raw score of ``target``.

        ``terms`` maps ``"feature name: value"`` to its contribution (LightGBM's
        ``pred_contrib``) and ``intercept`` is the booster's expected value, so
        ``total`` equals :meth:`raw_score` of the text (negated when ``target`` is
        ``classes_[0]`` of a two-class model). ``target`` defaults to ``"fake"`` when
        the model has it, else ``classes_[1]`` (two classes) or the predicted class.
        """
        F, raw = self._style_matrix([text])
        name = str(self._route(raw)[0])
        columns = self.columns_[name]
        contrib = np.asarray(
            self.boosters_[name].predict(F[:, columns], pred_contrib=True), dtype=np.float64
        )[0]
        classes: list[Any] = np.asarray(self.classes_).tolist()
        width = len(columns) + 1
        if len(classes) == 2:
            if target is None:
                target = FAKE if FAKE in classes else classes[1]
            if target not in classes:
                raise ValueError(f"target {target!r} is not one of the model's classes {classes}")
            sign = 1.0 if target == classes[1] else -1.0
            values = sign * contrib
            other: Any | None = classes[0] if target == classes[1] else classes[1]
        else:
            if target is None:
                target = classes[int(np.argmax(self._proba_matrix(F, raw)[0]))]
            if target not in classes:
                raise ValueError(f"target {target!r} is not one of the model's classes {classes}")
            k = classes.index(target)
            values = contrib[k * width : (k + 1) * width]
            other = None
        feature_names = self.feature_names
        terms = {
            f"{feature_names[j]}: {format_feature_value(float(F[0, j]))}": float(values[i])
            for i, j in enumerate(columns)
        }
        return Contributions(target=target, other=other, terms=terms, intercept=float(values[-1]))

    @property
    def feature_names(self) -> list[str]:
        """Names of the feature columns (those of :class:`StyleFeatures`, or generic)."""
        features: StyleFeatures | None = getattr(self, "features_", None)
        if features is not None:
            return list(features.feature_names_)
        return [f"feature {j}" for j in range(max(len(c) for c in self.columns_.values()))]

    def attribution(self, text: str) -> Attribution:
        """The calibrated log-odds of ``"fake"`` for ``text``, taken apart by style feature.

        Every part is a signal (``"exclamation marks per sentence: 0.8"``): the exact
        SHAP contributions of :meth:`contributions` times the Platt calibrator's slope,
        so ``base + sum(signals) == logit(P(fake))``. For more than two classes: raw
        booster units of the predicted class.
        """
        check_is_fitted(self)
        check_texts([text])
        found = self.contributions(text)
        raw = found.attribution(text)
        if found.other is None:
            return raw
        _, is_raw = self._style_matrix([text])
        calibrator = self.calibrators_[str(self._route(is_raw)[0])]
        a, b = float(calibrator.coef_[0][0]), float(calibrator.intercept_[0])
        sign = 1.0 if found.target == self.classes_[1] else -1.0
        return calibrate(raw, lambda t: a * t + sign * b)

    def explain(self, text: str, top_k: int = 5) -> list[Evidence]:
        """The ``top_k`` style signals that pushed ``text`` toward each label.

        Terms read ``"exclamation marks per sentence: 0.8"``; weights are parts of the
        calibrated log-odds of ``"fake"`` (:meth:`attribution`), largest first.
        """
        return rank_evidence(self.attribution(text), top_k)

    # -- persistence ---------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        """State with each LightGBM booster as its text model string.

        skops (and pickle) then see only strings, numbers and scikit-learn objects;
        :meth:`__setstate__` rebuilds the boosters with ``lightgbm.Booster(model_str=…)``,
        which predicts exactly what the original did.
        """
        state = dict(super().__getstate__())
        boosters = state.pop("boosters_", None)
        if boosters is not None:
            state["_booster_models"] = {
                name: booster.model_to_string() for name, booster in boosters.items()
            }
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        models: dict[str, str] | None = state.pop("_booster_models", None)
        super().__setstate__(state)
        if models is not None:
            require("style", "a style-lgbm model")
            from lightgbm import Booster

            self.boosters_ = {name: Booster(model_str=text) for name, text in models.items()}
