"""Scoring and evidence of the hashed-n-gram presets, without scikit-learn.

What a fitted ``hashing-sgd.v1`` / ``hashing-sgd.v2`` model does at check time is
plain arithmetic on a few arrays: hash the prepared text's word and ``char_wb``
n-grams (:mod:`veracity.text._ngrams`), ``1 + log tf`` and an L2 norm per block, a dot
product with the weights, a calibrator, and for ``v2`` the share of words never seen
in training. That arithmetic lives here, in two mixins that name the attributes they
read, so the scikit-learn estimators (:mod:`veracity.models.hashing`,
:mod:`veracity.models.offdomain`) and the plain-array reader of a saved model
(:mod:`veracity.models.fast`, which loads the bundled model without importing
scikit-learn or skops) run the same code and give the same numbers.

* :class:`HashedLinearInference`: features, Platt calibration line and word evidence.
* :class:`OffDomainInference`: novelty, the off-domain calibrator, abstention band.

This module imports neither scikit-learn nor skops (``tests/test_layers.py`` checks).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.special import expit

from veracity.explain import (
    Attribution,
    align,
    calibrate,
    ngram_owners,
    prepare_with_spans,
    rank_evidence,
    word_attribution,
)
from veracity.models._text_input import check_texts
from veracity.models.hashing_features import (
    HasherSpec,
    char_wb_rows,
    hashed_buckets,
    hashed_counts,
    sublinear_l2_of,
    sublinear_scores,
    unknown_shares,
)
from veracity.text import prepare
from veracity.types import FAKE, Evidence

__all__ = ["HashedLinearInference", "OffDomainInference", "TextParts", "features_of"]


@dataclass(frozen=True)
class TextParts:
    """What scoring computed for one text, so that its evidence need not compute it again.

    ``prepared`` is the text as the model reads it, ``word_counts`` and ``char_counts``
    its hashed n-gram counts (one CSR row each, indices sorted), ``novelty`` (v2 only)
    how unlike the training texts it is (None for a model that does not measure it).
    """

    prepared: str
    word_counts: sp.csr_matrix
    char_counts: sp.csr_matrix
    novelty: float | None = None
    #: Where each word of ``prepared`` is in the text (``explain.prepare_with_spans``),
    #: or None: the alignment then finds them itself.
    spans: list[tuple[int, int]] | None = None


def features_of(words: sp.csr_matrix, chars: sp.csr_matrix) -> sp.csr_matrix:
    """Word and char counts as the model's features: each block ``1 + log tf``, L2-normed."""
    return sp.hstack([sublinear_l2_of(words), sublinear_l2_of(chars)], format="csr")


def _row_features(
    words: sp.csr_matrix, chars: sp.csr_matrix, n_word: int
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """One text's :func:`features_of` row as ``(data, indices)``: each block through
    ``sublinear_l2_of``, joined without scipy's ``hstack`` (which cost more for one row
    than the arithmetic)."""
    word_block, char_block = sublinear_l2_of(words), sublinear_l2_of(chars)
    indices = np.concatenate([words.indices.astype(np.int64), chars.indices + np.int64(n_word)])
    return np.concatenate([word_block.data, char_block.data]), indices


class HashedLinearInference:
    """Check-time code of a linear model on hashed word + ``char_wb`` n-grams.

    Reads ``word_vectorizer_`` and ``char_vectorizer_`` (``HashingVectorizer`` s or
    :class:`~veracity.models.hashing_features.HasherSpec` s), ``word_ngram_range``,
    ``n_word_features``, ``preprocess``, ``classes_`` and ``calibration_`` (Platt
    ``(a, b)`` rows), and the weights from :meth:`_linear`.
    """

    word_vectorizer_: Any
    char_vectorizer_: Any
    word_ngram_range: tuple[int, int]
    n_word_features: int
    preprocess: bool
    classes_: NDArray[Any]
    calibration_: NDArray[np.float64]

    def _require_fitted(self) -> None:
        """Raise when the model is not fitted (the estimators use scikit-learn's check)."""

    def _linear(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """``(coef, intercept)``: shapes ``(n_scores, n_features)`` and ``(n_scores,)``."""
        raise NotImplementedError

    def prepare_texts(self, X: Sequence[str]) -> list[str]:
        """The texts as the vectorizers see them (after ``prepare`` if ``preprocess``)."""
        texts = check_texts(X)
        return [prepare(t) for t in texts] if self.preprocess else texts

    @staticmethod
    def _features_of(words: sp.csr_matrix, chars: sp.csr_matrix) -> sp.csr_matrix:
        """The features from word and char counts (see :func:`features_of`)."""
        return features_of(words, chars)

    def _counts(self, texts: list[str]) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """The hashed word and char n-gram counts of prepared ``texts``."""
        return (
            hashed_counts(self.word_vectorizer_, texts),
            hashed_counts(self.char_vectorizer_, texts),
        )

    def _scores(self, features: sp.csr_matrix) -> NDArray[np.float64]:
        """The linear score of each row (``decision_function`` of the linear model)."""
        coef, intercept = self._linear()
        scores = np.asarray(features @ coef.T, dtype=np.float64) + intercept
        return scores.ravel() if scores.shape[1] == 1 else scores

    def _direct_scores(self, texts: list[str]) -> NDArray[np.float64] | None:
        """The linear score of each prepared text straight from the compiled hasher (no
        counts, features or sparse product), equal to ``_scores`` to relative 1e-15; None
        where that cannot be done (more than one score column, a hasher it does not mirror).
        """
        coef, intercept = self._linear()
        n_word = int(self.n_word_features)
        if coef.ndim != 2 or coef.shape[0] != 1 or n_word != int(self.word_vectorizer_.n_features):
            return None
        words = sublinear_scores(self.word_vectorizer_, texts, coef[0, :n_word])
        chars = None if words is None else sublinear_scores(
            self.char_vectorizer_, texts, coef[0, n_word:]
        )  # fmt: skip
        if words is None or chars is None:
            return None
        return words + chars + float(intercept[0])

    def _log_odds_line(self, prepared: str, novelty: float | None = None) -> tuple[float, float]:
        """``(slope, offset)``: calibrated log-odds of ``classes_[1]`` = offset + slope * score."""
        a, b = (float(v) for v in self.calibration_[0])
        return a, b

    def attribution(self, text: str, *, parts: TextParts | None = None) -> Attribution:
        """The calibrated log-odds of ``"fake"`` for ``text``, taken apart by original word.

        The linear score is ``intercept + sum_j x_j * w_j`` over hashed buckets ``j``. A
        word bucket's contribution is shared equally by the n-gram occurrences hashed to
        it, and an occurrence's share equally by the n words of the n-gram; a character
        bucket's contribution is shared by the words whose n-grams fell in it, by count.
        The per-word shares are summed onto the original words (:func:`veracity.explain.align`)
        and multiplied by the calibrator's slope, so
        ``base + sum(weights) + rest == logit(P(fake))`` (``rest``: words past
        :data:`veracity.explain.MAX_ATTRIBUTED_CHARS`). For more than two classes the
        weights are raw SGD units of the predicted class's centred logit.

        ``parts`` is what scoring computed for ``text`` already (``hashing-sgd.v2``'s
        ``check_parts``): its prepared form, counts and novelty are not computed again.
        """
        self._require_fitted()
        check_texts([text])
        classes: list[Any] = self.classes_.tolist()
        coef, intercept = self._linear()
        alignment = align(
            text,
            bool(self.preprocess),
            prepared=None if parts is None else parts.prepared,
            spans=None if parts is None else parts.spans,
        )
        prepared = alignment.prepared
        # the counts once: the features and the shares below
        word_vec, char_vec = self.word_vectorizer_, self.char_vectorizer_
        if parts is None:
            words, chars = self._counts([prepared])
            parts = TextParts(prepared, words, chars)
        counts, char_counts = parts.word_counts, parts.char_counts
        n_word = int(self.n_word_features)
        data, indices = _row_features(counts, char_counts, n_word)
        other: Any | None
        if coef.shape[0] == 1:
            target = FAKE if FAKE in classes else classes[1]
            sign = 1.0 if target == classes[1] else -1.0
            # only the text's buckets' weights (negating all 2M of them cost 2 ms a text)
            weights, bias = sign * coef[0, indices], sign * float(intercept[0])
            other = classes[0] if target == classes[1] else classes[1]
        else:
            features = self._features_of(counts, char_counts)
            centred, centred_bias = coef - coef.mean(axis=0), intercept - intercept.mean()
            k = int(np.argmax(np.asarray(features @ centred.T).ravel() + centred_bias))
            weights, bias = centred[k][indices], float(centred_bias[k])
            target, other = classes[k], None
        contrib = data * weights
        score = bias + float(contrib.sum())
        # A bucket's contribution per count, looked up by sorted bucket (no dense arrays
        # of n_features): the features' row holds the word buckets, then the char ones,
        # in the order of the counts' indices.
        n_words_nz = len(counts.indices)
        word_unit = contrib[:n_words_nz] / counts.data
        char_unit = contrib[n_words_nz:] / char_counts.data
        # word n-grams: each occurrence's share of its bucket, split among its words; one
        # weighted bincount in the grams' order: the same sums, term for term, as a loop
        grams, sizes, owners = ngram_owners(
            alignment,
            word_vec,
            (int(self.word_ngram_range[0]), int(self.word_ngram_range[1])),
        )
        share_of = np.zeros(0)
        if grams:
            buckets = hashed_buckets(grams, n_word)
            share_of = word_unit[np.searchsorted(counts.indices, buckets)] / sizes
        word_weights = np.bincount(
            owners, weights=np.repeat(share_of, sizes), minlength=len(alignment.words)
        ).astype(np.float64)
        # char n-grams: each bucket shared by the words whose n-grams fell in it, by count
        n = alignment.attributed
        if n:
            # all distinct words' n-grams in one array: one lookup, one weighted bincount
            slot = {w: i for i, w in enumerate(dict.fromkeys(alignment.words[:n]))}
            rows = char_wb_rows(char_vec, list(slot))
            idx = np.concatenate([r[0] for r in rows])
            cnt = np.concatenate([r[1] for r in rows])
            owner = np.repeat(np.arange(len(rows)), [len(r[0]) for r in rows])
            unit = char_unit[np.searchsorted(char_counts.indices, idx)]
            share = np.bincount(owner, weights=cnt * unit, minlength=len(rows))
            word_weights[:n] += share[[slot[w] for w in alignment.words[:n]]]
        raw = word_attribution(
            alignment, word_weights, target=target, other=other, score=score, base=bias
        )
        if other is None:
            return raw
        slope, offset = self._log_odds_line(prepared, parts.novelty)
        return calibrate(raw, lambda t: slope * t + sign * offset)

    def explain(
        self, text: str, top_k: int = 5, *, parts: TextParts | None = None
    ) -> list[Evidence]:
        """Up to ``top_k`` phrases per direction, and the sentences that moved ``text`` most.

        See :func:`veracity.explain.rank_evidence`; weights are parts of the calibrated
        log-odds of ``"fake"`` (:meth:`attribution`, which takes ``parts`` from scoring).
        """
        return rank_evidence(self.attribution(text, parts=parts), top_k)


class OffDomainInference(HashedLinearInference):
    """Check-time code of ``hashing-sgd.v2``: novelty, off-domain calibrator, band.

    Reads, besides what :class:`HashedLinearInference` reads, ``novelty_buckets``,
    ``seen_words_`` (packed bits), ``calibrator_`` ``(b, a, c, d)`` and the band
    ``abstain_base_`` / ``abstain_slope_``.
    """

    novelty_buckets: int
    seen_words_: NDArray[np.uint8]
    calibrator_: NDArray[np.float64]
    abstain_base_: float
    abstain_slope_: float

    def _word_sets(self, prepared: list[str]) -> sp.csr_matrix:
        """One row per text: a 1 in the bucket of each distinct word."""
        hasher = HasherSpec(
            "word", (1, 1), int(self.novelty_buckets), lowercase=False, binary=True,
            dtype=np.float32,
        )  # fmt: skip
        return hashed_counts(hasher, prepared)

    def _novelty_of_prepared(self, prepared: list[str]) -> NDArray[np.float64]:
        direct = unknown_shares(prepared, int(self.novelty_buckets), self.seen_words_)
        if direct is not None:
            return direct
        # Look up only the texts' own buckets in the packed bit set (numpy.packbits is
        # big-endian within a byte); unpacking all 2**22 bits cost more than the check.
        words = self._word_sets(prepared)
        idx = words.indices.astype(np.int64)
        known = (self.seen_words_[idx >> 3] >> (7 - (idx & 7))) & 1
        n_words = np.diff(words.indptr).astype(np.float64)
        rows = np.repeat(np.arange(len(prepared)), np.diff(words.indptr))
        n_unknown = np.bincount(rows, weights=(known == 0), minlength=len(prepared))
        share: NDArray[np.float64] = np.divide(
            n_unknown, n_words, out=np.ones_like(n_words), where=n_words > 0
        )
        return share

    def novelty(self, X: Sequence[str]) -> NDArray[np.float64]:
        """How unlike the training texts each text is: the share of its words not known.

        0 means every distinct word was seen in at least ``min_seen`` training texts;
        1 means none was (or the text has no words).
        """
        self._require_fitted()
        return self._novelty_of_prepared(self.prepare_texts(X))

    def _calibrated(self, s: NDArray[np.float64], u: NDArray[np.float64]) -> NDArray[np.float64]:
        b, a, c, d = (float(v) for v in self.calibrator_)
        p: NDArray[np.float64] = expit(b + a * s + c * s * u + d * u)
        return p

    def check_parts(
        self, X: Sequence[str]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], list[TextParts]]:
        """``(predict_proba(X), novelty(X), parts)``: each text prepared and counted once.

        Each text's :class:`TextParts` (prepared form, counts, novelty) can go on to
        :meth:`explain`, which then computes none of them again.
        """
        return self._scored(X, with_parts=True)

    def _scored(
        self, X: Sequence[str], *, with_parts: bool
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], list[TextParts]]:
        self._require_fitted()
        spans: list[list[tuple[int, int]] | None]
        if with_parts and self.preprocess:  # the evidence's word offsets found in passing
            found = [prepare_with_spans(t) for t in check_texts(X)]
            prepared, spans = [f[0] for f in found], [f[1] for f in found]
        else:
            prepared = self.prepare_texts(X)
            spans = [None] * len(prepared)
        direct = None if with_parts else self._direct_scores(prepared)
        if direct is None:
            words, chars = self._counts(prepared)
            s = self._scores(self._features_of(words, chars))
        else:
            s = direct
        u = self._novelty_of_prepared(prepared)
        p = self._calibrated(s.ravel(), u)
        if not with_parts:
            parts = []
        elif len(prepared) == 1:  # the counts are its rows (slicing a row costs a copy)
            parts = [TextParts(prepared[0], words, chars, float(u[0]), spans[0])]
        else:
            parts = [
                TextParts(t, words[i], chars[i], float(u[i]), spans[i])
                for i, t in enumerate(prepared)
            ]
        return np.column_stack([1.0 - p, p]), u, parts

    def proba_and_novelty(
        self, X: Sequence[str]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """``(predict_proba(X), novelty(X))`` with each text prepared once."""
        proba, novelty, _ = self._scored(X, with_parts=False)
        return proba, novelty

    def predict_proba(self, X: Sequence[str]) -> NDArray[np.float64]:
        """Calibrated class probabilities, columns in the order of ``classes_``."""
        return self.proba_and_novelty(X)[0]

    def abstain_halfwidth(self, novelty: Any) -> NDArray[np.float64]:
        """Half-width of the "not sure" band around 0.5 for texts of this novelty."""
        self._require_fitted()
        u = np.asarray(novelty, dtype=np.float64)
        out: NDArray[np.float64] = self.abstain_base_ + self.abstain_slope_ * u
        return out

    def _log_odds_line(self, prepared: str, novelty: float | None = None) -> tuple[float, float]:
        """``(a + c*u, b + d*u)``: the calibrator is linear in the score at novelty ``u``."""
        u = float(self._novelty_of_prepared([prepared])[0]) if novelty is None else novelty
        b, a, c, d = (float(v) for v in self.calibrator_)
        return a + c * u, b + d * u
