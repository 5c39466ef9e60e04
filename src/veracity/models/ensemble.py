"""A calibrated stacked ensemble of veracity's presets.

Each member is a preset (``"tfidf-lr.v1"``, ``"style-lgbm.v1"``, …) trained on the
same texts. Stacking learns how much to trust each one without ever scoring a text
with a member that saw it: for every fold of a stratified K-fold split the members
are trained on the other folds and score the held-out fold, giving out-of-fold
probabilities for every training text. A logistic regression (the *combiner*) is
fitted on those probabilities' log-odds, and the members are then refitted on all
texts. Because the combiner is fitted on out-of-fold scores, it is itself a
calibrator (Platt scaling of a weighted sum of the members' log-odds), so the
ensemble's probabilities are calibrated without another layer.

Evidence (:meth:`StackedEnsemble.explain`) is each member's own evidence, scaled by
the combiner's weight for that member: the ensemble's log-odds are an affine
function of the members' calibrated log-odds, so a term that moves member *m*'s
log-odds by *w* moves the ensemble's by ``coef[m] * w`` (exact for the members
whose calibrator is linear in their score, approximate otherwise).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.utils import check_random_state, column_or_1d
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from veracity.errors import InputError
from veracity.explain import Attribution, rank_evidence
from veracity.models import PRESETS, fit_model, make_model, require_preset
from veracity.models._text_input import check_texts
from veracity.models.protocol import TextInput
from veracity.types import FAKE, Evidence

__all__ = ["StackedEnsemble"]

_CLIP = 1e-6  # probabilities are clipped to [_CLIP, 1 - _CLIP] before taking log-odds


def _member_spec(member: Any) -> tuple[str, dict[str, Any]]:
    """``"preset"`` or ``("preset", {params})`` → (preset, params)."""
    if isinstance(member, str):
        return member, {}
    if (
        isinstance(member, tuple | list)
        and len(member) == 2
        and isinstance(member[0], str)
        and isinstance(member[1], Mapping)
    ):
        return member[0], dict(member[1])
    raise InputError(
        f"each ensemble member must be a preset name or (preset, {{params}}), got {member!r}"
    )


def _logit(p: NDArray[np.float64]) -> NDArray[np.float64]:
    q = np.clip(p, _CLIP, 1.0 - _CLIP)
    out: NDArray[np.float64] = np.log(q) - np.log1p(-q)
    return out


class StackedEnsemble(TextInput, ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Stack presets: out-of-fold member log-odds into a logistic-regression combiner.

    Binary only (fake / reliable or any two labels).

    Parameters
    ----------
    members : sequence of str or (str, dict), default ("tfidf-lr.v1",)
        The member presets, each optionally with parameter overrides; at least one.
        The same member may appear twice with different parameters.
    cv : int, default 4
        Folds of the stratified split that gives the out-of-fold member scores.
    C : float, default 1.0
        Inverse L2 strength of the combiner.
    random_state : int, RandomState or None, default None
        Seeds the folds and every member (each member gets a distinct derived seed).

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        The two labels, sorted.
    members_ : list of estimators
        The members refitted on all training texts, in the order of ``members``.
    combiner_ : LogisticRegression
        Fitted on the members' out-of-fold log-odds of ``classes_[1]``.
    oof_scores_ : ndarray of shape (n_texts, n_members)
        Those out-of-fold log-odds (kept for inspection and reports).

    Examples
    --------
    >>> texts = [f"senate vote budget {i}" for i in range(12)] + [
    ...     f"shocking secret cure {i}" for i in range(12)]
    >>> labels = ["reliable"] * 12 + ["fake"] * 12
    >>> model = StackedEnsemble(
    ...     members=[("tfidf-lr.v1", {"min_df": 1, "cv": 2})], cv=2, random_state=0
    ... ).fit(texts, labels)
    >>> model.predict(["a shocking secret cure"])[0]
    'fake'
    """

    def __init__(
        self,
        members: Sequence[Any] = ("tfidf-lr.v1",),
        cv: int = 4,
        C: float = 1.0,
        random_state: Any = None,
    ) -> None:
        self.members = members
        self.cv = cv
        self.C = C
        self.random_state = random_state

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.classifier_tags.multi_class = False  # one combiner over log-odds of one class
        return tags

    def _check_params(self) -> list[tuple[str, dict[str, Any]]]:
        if isinstance(self.members, str) or not len(self.members):
            raise InputError("members must be a non-empty sequence of presets")
        specs = [_member_spec(m) for m in self.members]
        for preset, _ in specs:
            if preset not in PRESETS:
                raise InputError(
                    f"unknown member preset {preset!r}; known presets: {', '.join(sorted(PRESETS))}"
                )
            require_preset(preset)  # before any member is fitted
        if not isinstance(self.cv, Integral) or isinstance(self.cv, bool) or self.cv < 2:
            raise InputError(f"cv must be an int >= 2, got {self.cv!r}")
        if not isinstance(self.C, Real) or isinstance(self.C, bool) or not self.C > 0:
            raise InputError(f"C must be a positive number, got {self.C!r}")
        return specs

    def _make(self, spec: tuple[str, dict[str, Any]], seed: int) -> Any:
        preset, params = spec
        return make_model(preset, **{"random_state": seed, **params})

    def fit(
        self,
        X: Sequence[str],
        y: Any,
        sample_weight: Any | None = None,
        domains: Sequence[str] | None = None,
    ) -> StackedEnsemble:
        """Fit the members out-of-fold, the combiner on their scores, then the members on all.

        Parameters
        ----------
        X : sequence of str
            Training texts.
        y : array-like of shape (n_texts,)
            Two distinct labels.
        sample_weight : array-like of shape (n_texts,), optional
            Passed to every member's ``fit`` and to the combiner.
        domains : sequence of str, optional
            The dataset or source of each text, passed to the members that use it
            (see :func:`veracity.models.fit_model`).

        Returns
        -------
        StackedEnsemble
            ``self``, fitted.
        """
        specs = self._check_params()
        texts = check_texts(X)
        y = column_or_1d(y, warn=True)
        if len(y) != len(texts):
            raise InputError(f"X has {len(texts)} texts but y has {len(y)} labels")
        check_classification_targets(y)
        labels, counts = np.unique(y, return_counts=True)
        if len(labels) != 2:
            raise InputError(
                "Only binary classification is supported by StackedEnsemble: "
                f"y has {len(labels)} classes "
                f"({', '.join(map(repr, labels.tolist()))})"
            )
        if counts.min() < self.cv:
            raise InputError(
                f"stacking uses cv={self.cv} folds, so every class needs at least {self.cv} "
                f"texts; class {labels[int(np.argmin(counts))]!r} has {counts.min()}"
            )
        weights = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        if weights is not None and weights.shape != (len(texts),):
            raise InputError(f"sample_weight must have shape ({len(texts)},), got {weights.shape}")
        rng = check_random_state(self.random_state)
        seeds = [int(s) for s in rng.randint(np.iinfo(np.int32).max, size=len(specs) + 1)]
        folds = StratifiedKFold(n_splits=int(self.cv), shuffle=True, random_state=seeds[-1])
        positive = labels[1]
        text_arr = np.asarray(texts, dtype=object)

        dom = None if domains is None else np.asarray(list(domains), dtype=object)
        if dom is not None and dom.shape != (len(texts),):
            raise InputError(f"domains must have one value per text ({len(texts)})")

        def fit(spec: tuple[str, dict[str, Any]], seed: int, rows: Any) -> Any:
            return fit_model(
                self._make(spec, seed),
                text_arr[rows].tolist(),
                y[rows],
                sample_weight=None if weights is None else weights[rows],
                domains=None if dom is None else dom[rows].tolist(),
            )

        oof = np.zeros((len(texts), len(specs)))
        for train_idx, test_idx in folds.split(text_arr, y):
            for j, spec in enumerate(specs):
                member = fit(spec, seeds[j], train_idx)
                col = list(member.classes_).index(positive)
                oof[test_idx, j] = _logit(member.predict_proba(text_arr[test_idx].tolist())[:, col])
        combiner = LogisticRegression(C=float(self.C), solver="lbfgs", max_iter=1000)
        combiner.fit(oof, y, sample_weight=weights)
        # The final members are fitted exactly as the out-of-fold ones were (same
        # weights, same domains), so the combiner's weights apply to what is shipped.
        everything = np.arange(len(texts))
        members = [fit(spec, seeds[j], everything) for j, spec in enumerate(specs)]

        self.members_ = members
        self.combiner_ = combiner
        self.oof_scores_ = oof
        self.classes_ = combiner.classes_
        return self

    def member_scores(self, X: Sequence[str]) -> NDArray[np.float64]:
        """Each member's log-odds of ``classes_[1]`` for each text, shape (n_texts, n_members)."""
        check_is_fitted(self)
        texts = check_texts(X)
        positive = self.classes_[1]
        cols = []
        for member in self.members_:
            col = list(member.classes_).index(positive)
            cols.append(_logit(member.predict_proba(texts)[:, col]))
        return np.column_stack(cols)

    def predict_proba(self, X: Sequence[str]) -> NDArray[np.float64]:
        """Calibrated class probabilities, columns in the order of ``classes_``."""
        scores = self.member_scores(X)  # checks that the model is fitted
        proba: NDArray[np.float64] = self.combiner_.predict_proba(scores)
        return proba

    def predict(self, X: Sequence[str]) -> NDArray[Any]:
        """The most probable class of each text."""
        proba = self.predict_proba(X)
        result: NDArray[Any] = self.classes_[np.argmax(proba, axis=1)]
        return result

    def attribution(self, text: str) -> Attribution:
        """The calibrated log-odds of ``"fake"`` for ``text``, taken apart by word.

        The combiner's log-odds is ``b + sum_m coef[m] * logit_m``, so each member's
        attribution (in its own calibrated log-odds) times ``coef[m]`` is exact; the
        parts of members without one (and any clipping of member probabilities) are
        ``rest``. Words named by several members are summed.
        """
        check_is_fitted(self)
        texts = check_texts([text])
        classes: list[Any] = self.classes_.tolist()
        positive = classes[1]
        target = FAKE if FAKE in classes else positive
        other = classes[0] if target == positive else positive
        sign = 1.0 if target == positive else -1.0
        scores = self.member_scores(texts)[0]
        coef = self.combiner_.coef_[0]
        base = sign * float(self.combiner_.intercept_[0])
        rest = 0.0
        spans: list[NDArray[np.int64]] = []
        weights: list[NDArray[np.float64]] = []
        signals: dict[str, float] = {}
        for member, w, s in zip(self.members_, coef, scores, strict=True):
            share = sign * float(w) * float(s)  # this member's part of the log-odds
            attribute = getattr(member, "attribution", None)
            if attribute is None:
                rest += share
                continue
            part: Attribution = attribute(text)
            f = sign * float(w) * (1.0 if part.target == positive else -1.0)
            base += f * part.base
            rest += f * part.rest + (share - f * part.total)
            spans.append(part.spans)
            weights.append(f * part.weights)
            for name, v in part.signals.items():
                signals[name] = signals.get(name, 0.0) + f * v
        unique: NDArray[np.int64] = np.zeros((0, 2), dtype=np.int64)
        summed: NDArray[np.float64] = np.zeros(0)
        if spans:
            unique, inverse = np.unique(np.concatenate(spans), axis=0, return_inverse=True)
            summed = np.bincount(
                inverse.ravel(), weights=np.concatenate(weights), minlength=len(unique)
            ).astype(np.float64)
        return Attribution(text, target, other, unique, summed, base, rest, signals)

    def explain(self, text: str, top_k: int = 5) -> list[Evidence]:
        """Up to ``top_k`` phrases (and signals) per direction, and the telling sentences.

        See :meth:`attribution` and :func:`veracity.explain.rank_evidence`.
        """
        return rank_evidence(self.attribution(text), top_k)
