"""Hashed n-grams + SGD whose probabilities are calibrated on sources it never saw.

:class:`OffDomainHashingClassifier` (preset ``hashing-sgd.v2``) has the features and
the linear model of ``hashing-sgd.v1`` but is fitted with the dataset (or source) of
each training text, ``domains``, and uses them three ways:

* **Weights** (``domain_weighting``): ``"balanced"`` gives every dataset the same total
  weight, split equally between its labels, so neither the biggest set nor a set's
  label ratio (16 real : 1 fake in CoAID) decides; ``"worst"`` then up-weights the
  datasets the model fits worst (one round of group-robust reweighting:
  ``exp(eta * (loss_d / mean loss - 1))``); ``"none"`` keeps ``sample_weight``.
* **Calibration on unseen sources.** Every training text is scored twice by models
  that never saw it: once out-of-fold (``cv`` stratified folds: *in-domain*) and once
  leaving its whole dataset out (*off-domain*). Each score ``s`` comes with the text's
  *novelty* ``u``: the share of its distinct words that the scoring model's training
  texts hold fewer than ``min_seen`` times. A logistic calibrator on ``(s, s*u, u)``,
  fitted on both halves with equal weight, learns how much to trust a score given how
  unfamiliar the text is: sharp where the text is like the training data, flatter
  where it is not ("0.9" should mean right nine times in ten on a new source too).
* **Abstention.** On the off-domain scores it chooses the "not sure" band
  ``|p - 0.5| < base + slope * u`` (:func:`choose_band`): the most coverage whose
  mean accuracy when answering over the held-out datasets reaches
  ``target_accuracy``, never answering less than ``min_coverage`` on average. Far
  from the training data the band widens.

Evidence (:meth:`OffDomainHashingClassifier.explain`) is the word contributions of
``hashing-sgd.v1`` scaled by the calibrator's slope at the text's novelty ``u``
(``a + c*u``), with base ``b + d*u + (a + c*u) * intercept``: the weights are parts of
the calibrated log-odds, and they add up to it exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.utils import check_random_state
from sklearn.utils.metaestimators import available_if

from veracity.errors import InputError
from veracity.models.hashing import HashingSGDClassifier
from veracity.models.hashing_core import OffDomainInference

__all__ = ["DOMAIN_WEIGHTINGS", "OffDomainHashingClassifier", "choose_band", "domain_weights"]

#: Values of ``domain_weighting``.
DOMAIN_WEIGHTINGS = ("none", "balanced", "worst")
_BASES = np.round(np.arange(0.0, 0.476, 0.025), 3)
_SLOPES = np.array([0.0, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0])


def domain_weights(
    domains: NDArray[Any], y: NDArray[Any], weighting: str, base: NDArray[np.float64] | None
) -> NDArray[np.float64]:
    """Row weights averaging 1: as given (``"none"``), or equal per dataset and label.

    With ``"balanced"`` (and ``"worst"``, before its reweighting) each dataset gets the
    same total weight, split equally between the labels it has.
    """
    w = np.ones(len(y)) if base is None else np.asarray(base, dtype=np.float64).copy()
    if base is not None and not w.sum() > 0:
        raise InputError("sample_weight: the weights are all zero (or negative); nothing to learn")
    if weighting != "none":
        names = np.unique(domains)
        for d in names:
            in_d = domains == d
            labels = np.unique(y[in_d])
            for c in labels:
                rows = in_d & (y == c)
                w[rows] /= w[rows].sum() * len(names) * len(labels)
    total = w.sum()
    return w * (len(w) / total) if total > 0 else np.ones(len(y))


def _band_mask(p: NDArray[np.float64], u: NDArray[np.float64], base: float, slope: float) -> Any:
    """True where a text is answered: outside the band ``|p - 0.5| < base + slope * u``."""
    return np.abs(p - 0.5) >= base + slope * u


def choose_band(
    p: NDArray[np.float64],
    u: NDArray[np.float64],
    correct: NDArray[np.bool_],
    groups: NDArray[Any],
    target_accuracy: float,
    min_coverage: float = 0.5,
) -> tuple[float, float, dict[str, float]]:
    """The "not sure" band ``(base, slope)`` chosen on held-out groups (datasets).

    Among the bands that answer at least ``min_coverage`` of each group's texts on
    average, the one with the most mean coverage whose mean accuracy when answering
    reaches ``target_accuracy``; when none does, the one with the highest mean
    accuracy when answering. Means are over ``groups``, each group counting once.

    Returns
    -------
    tuple
        ``(base, slope, {"accuracy": …, "coverage": …})`` of the chosen band.
    """
    names = np.unique(groups)
    masks = [groups == g for g in names]
    met: tuple[float, float, float, float] | None = None  # (coverage, acc, base, slope)
    best_acc: tuple[float, float, float, float] | None = None  # (acc, coverage, base, slope)
    for slope in _SLOPES:
        for base in _BASES:
            answered = _band_mask(p, u, float(base), float(slope))
            covs = [float(answered[m].mean()) for m in masks]
            cov = float(np.mean(covs))
            if cov < min_coverage:
                continue
            accs = [float(correct[m & answered].mean()) for m in masks if (m & answered).any()]
            acc = float(np.mean(accs))
            if acc >= target_accuracy and (met is None or (cov, acc) > (met[0], met[1])):
                met = (cov, acc, float(base), float(slope))
            if best_acc is None or (acc, cov) > (best_acc[0], best_acc[1]):
                best_acc = (acc, cov, float(base), float(slope))
    if met is not None:
        return met[2], met[3], {"accuracy": met[1], "coverage": met[0]}
    if best_acc is None:  # min_coverage above what any band reaches: answer everything
        return 0.0, 0.0, {"accuracy": float(correct.mean()), "coverage": 1.0}
    return best_acc[2], best_acc[3], {"accuracy": best_acc[0], "coverage": best_acc[1]}


class OffDomainHashingClassifier(OffDomainInference, HashingSGDClassifier):
    """``hashing-sgd.v1`` calibrated on unseen datasets, with novelty and a learned band.

    Binary only. See the module docstring for what ``domains`` change; without
    ``domains`` (or with one), calibration uses the in-domain scores alone and the
    band is chosen on them.

    Parameters
    ----------
    domain_weighting : {"none", "balanced", "worst"}, default="balanced"
        How rows are weighted across datasets (see :func:`domain_weights`).
    worst_eta : float, default=1.0
        Strength of the ``"worst"`` reweighting.
    novelty_buckets : int, default=2**22
        Hash buckets of the set of training words (a bit each in the saved model).
    min_seen : int, default=2
        A word counts as known when at least this many training texts hold it.
    target_accuracy : float, default=0.85
        Accuracy when answering that the abstention band aims for off-domain.
    min_coverage : float, default=0.5
        Share of off-domain texts the band answers at least, on average over datasets.
    **kwargs
        Every parameter of :class:`~veracity.models.hashing.HashingSGDClassifier`.

    Attributes
    ----------
    calibrator_ : ndarray of shape (4,)
        ``(intercept, a, c, d)``: ``p = sigmoid(intercept + a*s + c*s*u + d*u)``.
    seen_words_ : ndarray of uint8
        The bits of the word buckets known from training (``numpy.packbits``).
    abstain_base_, abstain_slope_ : float
        The "not sure" band ``|p - 0.5| < base + slope * novelty``.
    offdomain_ : dict
        Numbers measured while fitting, per held-out dataset: ROC-AUC, ECE, accuracy
        when answering and coverage of the off-domain scores (JSON-ready).

    Examples
    --------
    >>> from veracity.models.offdomain import OffDomainHashingClassifier
    >>> texts = ["The Senate passed the budget bill on Tuesday."] * 6 + [
    ...     "SHOCKING: what they are hiding from you!"] * 6
    >>> labels = ["reliable"] * 6 + ["fake"] * 6
    >>> model = OffDomainHashingClassifier(cv=3, random_state=0).fit(texts, labels)
    >>> model.predict(["They are hiding a shocking secret"]).tolist()
    ['fake']
    """

    def __init__(
        self,
        *,
        word_ngram_range: tuple[int, int] = (1, 2),
        char_ngram_range: tuple[int, int] = (3, 5),
        n_word_features: int = 2**20,
        n_char_features: int = 2**20,
        alpha: float = 1e-5,
        n_epochs: int = 5,
        calibration: str = "sigmoid",
        cv: int = 5,
        calibration_rows: int = 2000,
        calibration_fraction: float = 0.1,
        preprocess: bool = True,
        random_state: int | np.random.RandomState | None = None,
        domain_weighting: str = "balanced",
        worst_eta: float = 1.0,
        novelty_buckets: int = 2**22,
        min_seen: int = 2,
        target_accuracy: float = 0.85,
        min_coverage: float = 0.5,
    ) -> None:
        super().__init__(
            word_ngram_range=word_ngram_range,
            char_ngram_range=char_ngram_range,
            n_word_features=n_word_features,
            n_char_features=n_char_features,
            alpha=alpha,
            n_epochs=n_epochs,
            calibration=calibration,
            cv=cv,
            calibration_rows=calibration_rows,
            calibration_fraction=calibration_fraction,
            preprocess=preprocess,
            random_state=random_state,
        )
        self.domain_weighting = domain_weighting
        self.worst_eta = worst_eta
        self.novelty_buckets = novelty_buckets
        self.min_seen = min_seen
        self.target_accuracy = target_accuracy
        self.min_coverage = min_coverage

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags

    def _check_offdomain_params(self) -> None:
        if self.domain_weighting not in DOMAIN_WEIGHTINGS:
            raise InputError(
                f"domain_weighting must be one of {', '.join(DOMAIN_WEIGHTINGS)}, "
                f"got {self.domain_weighting!r}"
            )
        for name, low in (("novelty_buckets", 8), ("min_seen", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
                raise InputError(f"{name} must be an int >= {low}, got {value!r}")
        eta = self.worst_eta
        if isinstance(eta, bool) or not isinstance(eta, Real) or not eta >= 0:
            raise InputError(f"worst_eta must be a number >= 0, got {eta!r}")
        target = self.target_accuracy
        if isinstance(target, bool) or not isinstance(target, Real) or not 0.5 <= target < 1:
            raise InputError(f"target_accuracy must be in [0.5, 1), got {target!r}")
        cov = self.min_coverage
        if isinstance(cov, bool) or not isinstance(cov, Real) or not 0 <= cov <= 1:
            raise InputError(f"min_coverage must be in [0, 1], got {cov!r}")

    # -- novelty -----------------------------------------------------------------------

    @staticmethod
    def _unseen_share(words: sp.csr_matrix, unknown: NDArray[np.float32]) -> NDArray[np.float64]:
        """Per row: the share of its word buckets in ``unknown`` (1.0 for a text with none)."""
        n_words = np.diff(words.indptr).astype(np.float64)
        n_unknown = np.asarray(words @ unknown, dtype=np.float64).ravel()
        share: NDArray[np.float64] = np.divide(
            n_unknown, n_words, out=np.ones_like(n_words), where=n_words > 0
        )
        return share

    # -- fitting -------------------------------------------------------------------------

    def fit(
        self,
        X: Sequence[str],
        y: Any,
        sample_weight: Any | None = None,
        domains: Sequence[str] | None = None,
    ) -> OffDomainHashingClassifier:
        """Weight, score every text in- and off-domain, calibrate, choose the band, train.

        Parameters
        ----------
        X : sequence of str
            Training texts (raw or normalized).
        y : array-like of shape (n_texts,)
            Two distinct labels.
        sample_weight : array-like of shape (n_texts,), optional
            Per-text weights, multiplied into the domain weights.
        domains : sequence of str, optional
            The dataset of each text; two or more enable off-domain calibration.

        Returns
        -------
        OffDomainHashingClassifier
            ``self``, fitted.
        """
        self._check_params()
        self._check_offdomain_params()
        texts = self.prepare_texts(X)
        y, given = self._check_y(y, len(texts), sample_weight)
        labels, counts = np.unique(y, return_counts=True)
        if len(labels) != 2:
            raise InputError(
                "Only binary classification is supported by hashing-sgd.v2: "
                f"y has {len(labels)} classes"
            )
        if counts.min() < self.cv:
            rare = labels[int(np.argmin(counts))]
            raise InputError(
                f"calibration uses cv={self.cv} folds, so every class needs at least "
                f"{self.cv} texts; class {rare!r} has {counts.min()}. Add texts or lower cv."
            )
        dom = np.asarray(
            ["all"] * len(texts) if domains is None else [str(d) for d in domains], dtype=object
        )
        if dom.shape != (len(texts),):
            raise InputError(f"domains must have one value per text ({len(texts)})")
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        self._start(labels, seed)
        features = self._vectorize(texts)
        words = self._word_sets(texts)
        df_all = np.asarray(words.sum(axis=0), dtype=np.float64).ravel()
        target = (y == labels[1]).astype(np.float64)
        weights = domain_weights(dom, y, str(self.domain_weighting), given)

        def unknown_without(rows: NDArray[np.bool_]) -> NDArray[np.float32]:
            df_rest = df_all - np.asarray(words[rows].sum(axis=0), dtype=np.float64).ravel()
            return (df_rest < int(self.min_seen)).astype(np.float32)

        def scores(train: NDArray[np.bool_], test: NDArray[np.bool_]) -> NDArray[np.float64]:
            model = self._new_sgd(seed).fit(features[train], y[train], sample_weight=weights[train])
            out: NDArray[np.float64] = model.decision_function(features[test])
            return out

        def in_domain() -> tuple[NDArray[np.float64], NDArray[np.float64]]:
            s, u = np.zeros(len(y)), np.zeros(len(y))
            folds = StratifiedKFold(n_splits=int(self.cv), shuffle=True, random_state=seed)
            strata = np.char.add(dom.astype(str), np.asarray(y, dtype=str))
            _, strata_counts = np.unique(strata, return_counts=True)
            by = strata if strata_counts.min() >= int(self.cv) else y
            for _, test_idx in folds.split(np.zeros(len(y)), by):
                test = np.zeros(len(y), dtype=bool)
                test[test_idx] = True
                s[test] = scores(~test, test)
                u[test] = self._unseen_share(words[test], unknown_without(test))
            return s, u

        s_in, u_in = in_domain()
        if self.domain_weighting == "worst" and len(np.unique(dom)) > 1:
            loss = self._domain_losses(s_in, target, dom)
            mean = float(np.mean(list(loss.values())))
            scale = {
                d: float(np.exp(float(self.worst_eta) * (v / mean - 1.0))) for d, v in loss.items()
            }
            weights = weights * np.array([scale[d] for d in dom])
            weights *= len(weights) / weights.sum()
            s_in, u_in = in_domain()

        names = np.unique(dom)
        off = len(names) >= 2
        s_out, u_out = np.zeros(len(y)), np.zeros(len(y))
        if off:
            for d in names:
                test = dom == d
                if len(np.unique(y[~test])) < 2:
                    off = False  # a dataset whose removal leaves one label: no off-domain fit
                    break
                s_out[test] = scores(~test, test)
                u_out[test] = self._unseen_share(words[test], unknown_without(test))

        # The calibrator: in-domain and off-domain halves weigh the same in total.
        w_in = weights / weights.sum()
        if off:
            w_out = weights / weights.sum()
            s_cal, u_cal = np.concatenate([s_in, s_out]), np.concatenate([u_in, u_out])
            t_cal, w_cal = np.concatenate([target, target]), np.concatenate([w_in, w_out])
        else:
            s_cal, u_cal, t_cal, w_cal = s_in, u_in, target, w_in
        calibrator = LogisticRegression(C=100.0, max_iter=2000)
        calibrator.fit(
            self._calibration_features(s_cal, u_cal), t_cal, sample_weight=w_cal * len(w_cal)
        )
        self.calibrator_ = np.concatenate([calibrator.intercept_, calibrator.coef_[0]]).astype(
            np.float64
        )

        # The band, chosen on the off-domain scores (in-domain ones without domains).
        s_band, u_band, groups = (s_out, u_out, dom) if off else (s_in, u_in, dom)
        p_band = self._calibrated(s_band, u_band)
        correct = (p_band >= 0.5) == (target == 1)
        base, slope, achieved = choose_band(
            p_band, u_band, correct, groups, float(self.target_accuracy), float(self.min_coverage)
        )
        self.abstain_base_, self.abstain_slope_ = base, slope
        self.offdomain_ = self._report(s_in, u_in, s_out if off else None, u_out, target, dom)
        self.offdomain_["band"] = {"base": base, "slope": slope, **achieved}

        self.sgd_ = self._new_sgd(seed).fit(features, y, sample_weight=weights)
        self.calibration_ = np.array([[1.0, 0.0]])  # unused: predict_proba uses calibrator_
        self.seen_words_ = np.packbits(df_all >= int(self.min_seen))
        self.n_texts_seen_ = len(texts)
        return self

    @staticmethod
    def _domain_losses(
        s: NDArray[np.float64], target: NDArray[np.float64], dom: NDArray[Any]
    ) -> dict[str, float]:
        """Mean log loss of the raw scores (as log-odds) in each dataset."""
        loss = np.logaddexp(0.0, s) - target * s
        return {str(d): float(loss[dom == d].mean()) for d in np.unique(dom)}

    @staticmethod
    def _calibration_features(s: NDArray[np.float64], u: NDArray[np.float64]) -> Any:
        return np.column_stack([s, s * u, u])

    def _report(
        self,
        s_in: NDArray[np.float64],
        u_in: NDArray[np.float64],
        s_out: NDArray[np.float64] | None,
        u_out: NDArray[np.float64],
        target: NDArray[np.float64],
        dom: NDArray[Any],
    ) -> dict[str, Any]:
        """AUC / ECE / mean novelty per dataset, in- and off-domain (JSON-ready)."""
        from sklearn.metrics import roc_auc_score

        def ece(p: NDArray[np.float64], t: NDArray[np.float64]) -> float:
            bins = np.minimum((p * 15).astype(int), 14)
            total = 0.0
            for k in range(15):
                rows = bins == k
                if rows.any():
                    total += rows.sum() * abs(float(p[rows].mean()) - float(t[rows].mean()))
            return total / len(p)

        out: dict[str, Any] = {}
        for name, s, u in (("in_domain", s_in, u_in), ("off_domain", s_out, u_out)):
            if s is None:
                continue
            p = self._calibrated(s, u)
            per: dict[str, Any] = {}
            for d in np.unique(dom):
                rows = dom == d
                t = target[rows]
                auc = float(roc_auc_score(t, s[rows])) if 0 < t.sum() < len(t) else None
                per[str(d)] = {
                    "n": int(rows.sum()),
                    "roc_auc": auc,
                    "ece": ece(p[rows], t),
                    "novelty": float(u[rows].mean()),
                }
            out[name] = per
        return out

    @available_if(lambda self: False)  # type: ignore[untyped-decorator]
    def partial_fit(self, *args: Any, **kwargs: Any) -> OffDomainHashingClassifier:
        """Not available: off-domain calibration needs every dataset in memory at once.

        ``hasattr(model, "partial_fit")`` is False, so ``veracity train --engine dask``
        says to use ``hashing-sgd.v1``.
        """
        raise InputError("hashing-sgd.v2 trains in memory only")  # pragma: no cover
