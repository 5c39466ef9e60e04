"""Per-prediction evidence: which words pushed a verdict toward ``fake`` or ``reliable``.

For a linear model on TF-IDF features the (uncalibrated) score is exactly
``intercept + sum(tfidf_value * coefficient)`` over the features present in the
text, so every feature's contribution is real, not an approximation. This module
turns those per-feature contributions into readable terms:

* **word n-gram features** are reported as the n-gram itself (``"white house"``);
* **character n-gram features** (``char_wb``: n-grams inside one padded word) are
  given back to the words they occur in. A char n-gram's contribution is split
  among the words of the text in proportion to how often each word produced it,
  so the split loses nothing: the per-word shares of one char n-gram add up to
  its contribution. A word's char share is then added to the contribution of
  the word's own unigram feature (if any), giving one number per word.

Hence ``intercept + sum(all term contributions)`` equals the linear model's
score of the text (``TfidfLogisticClassifier.linear_score``, up to float
rounding): :func:`term_contributions` returns them all, :func:`linear_evidence`
the strongest few per label. Weights are in units of that uncalibrated score.

This module knows nothing of how a model is trained; it needs only the small
:class:`LinearTextModel` surface (``veracity.models.linear.TfidfLogisticClassifier``
provides it).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

import numpy as np
from numpy.typing import NDArray

from veracity.types import FAKE, Evidence, Label

__all__ = ["Contributions", "LinearTextModel", "linear_evidence", "term_contributions"]


class LinearTextModel(Protocol):
    """What :func:`term_contributions` needs from a fitted linear text model.

    ``word_vectorizer_`` and ``char_vectorizer_`` are fitted scikit-learn
    ``TfidfVectorizer`` objects (word n-grams and ``char_wb`` n-grams) whose
    outputs are stacked in that order to form the model's feature matrix.
    """

    classes_: Any
    word_vectorizer_: Any
    char_vectorizer_: Any

    def prepare_texts(self, X: Sequence[str]) -> list[str]:
        """The texts exactly as the vectorizers receive them."""
        ...

    def linear_weights(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """``(coef, intercept)`` of the final linear model, shapes ``(k, n_features)``, ``(k,)``."""
        ...


@dataclass(frozen=True)
class Contributions:
    """Every term's contribution to the score of ``target`` for one text.

    ``terms`` maps a word or word n-gram to its contribution to the (uncalibrated)
    log-odds of ``target``: positive pushes toward ``target``, negative toward
    ``other``. For a two-class model, ``intercept + sum(terms.values())`` is the
    linear model's uncalibrated log-odds of ``target``. For more than two classes
    the score is the target's logit minus the mean logit of all classes, and
    ``other`` is None.
    """

    target: Any
    other: Any | None
    terms: dict[str, float]
    intercept: float

    @property
    def total(self) -> float:
        """The score the contributions add up to (intercept included)."""
        return self.intercept + float(sum(self.terms.values()))


def _row_values(row: Any) -> dict[int, float]:
    """{column: value} of the non-zero entries of a 1-row sparse matrix."""
    csr = row.tocsr()
    return {int(j): float(v) for j, v in zip(csr.indices, csr.data, strict=True) if v != 0.0}


def _word_terms(vectorizer: Any, text: str, weights: NDArray[np.float64]) -> dict[str, float]:
    values = _row_values(vectorizer.transform([text]))
    if not values:
        return {}
    vocabulary: dict[str, int] = vectorizer.vocabulary_
    terms: dict[str, float] = {}
    for gram in set(vectorizer.build_analyzer()(text)):
        j = vocabulary.get(gram)
        if j is not None and j in values:
            terms[gram] = values[j] * float(weights[j])
    return terms


def _char_terms(vectorizer: Any, text: str, weights: NDArray[np.float64]) -> dict[str, float]:
    """Char n-gram contributions given back to the words that produced them."""
    from veracity.models._charcache import cache_for, char_wb_transform

    values = _row_values(char_wb_transform(vectorizer, [text]))
    if not values:
        return {}
    # char_wb pads each whitespace-separated word and takes n-grams inside it,
    # so analyzing one word at a time yields exactly that word's share of grams
    # (cached per word: the same rows that build the features).
    cache = cache_for(vectorizer)
    word_counts = Counter(vectorizer.build_preprocessor()(text).split())
    per_word: dict[str, dict[int, float]] = {}
    doc_counts: Counter[int] = Counter()
    for word, tf in word_counts.items():
        idx, cnt = cache.row(word)
        grams = dict(zip(idx.tolist(), cnt.tolist(), strict=True))
        per_word[word] = grams
        for j, n in grams.items():
            doc_counts[j] += tf * n
    terms: dict[str, float] = {}
    for word, grams in per_word.items():
        tf = word_counts[word]
        share = 0.0
        for j, n in grams.items():
            if j in values:
                share += values[j] * float(weights[j]) * tf * n / doc_counts[j]
        if share != 0.0:
            terms[word] = share
    return terms


def term_contributions(
    model: LinearTextModel, text: str, target: Any | None = None
) -> Contributions:
    """All term contributions to the score of ``target`` for one ``text``.

    Parameters
    ----------
    model : LinearTextModel
        A fitted linear text model, e.g. ``TfidfLogisticClassifier``.
    text : str
        The text to explain (raw or normalized; the model prepares it).
    target : label, optional
        The class to explain (one of ``model.classes_``). Default: ``"fake"`` when
        the model has that class, else the second class of a two-class model, else
        the predicted class.

    Returns
    -------
    Contributions
    """
    classes: list[Any] = np.asarray(model.classes_).tolist()
    coef, intercept = model.linear_weights()
    prepared = model.prepare_texts([text])[0]
    n_word = len(model.word_vectorizer_.vocabulary_)
    if coef.shape[0] == 1:  # two classes: coef is the log-odds of classes[1]
        if target is None:
            target = FAKE if FAKE in classes else classes[1]
        if target not in classes:
            raise ValueError(f"target {target!r} is not one of the model's classes {classes}")
        sign = 1.0 if target == classes[1] else -1.0
        weights = sign * coef[0]
        bias = sign * float(intercept[0])
        other: Any | None = classes[0] if target == classes[1] else classes[1]
    else:  # k classes: logit of target minus the mean logit (a linear score too)
        centred = coef - coef.mean(axis=0)
        centred_bias = intercept - intercept.mean()
        if target is None:
            word = model.word_vectorizer_.transform([prepared])
            char = model.char_vectorizer_.transform([prepared])
            scores = word @ centred[:, :n_word].T + char @ centred[:, n_word:].T + centred_bias
            target = classes[int(np.argmax(np.asarray(scores).ravel()))]
        if target not in classes:
            raise ValueError(f"target {target!r} is not one of the model's classes {classes}")
        k = classes.index(target)
        weights = centred[k]
        bias = float(centred_bias[k])
        other = None
    terms = _word_terms(model.word_vectorizer_, prepared, weights[:n_word])
    for word, share in _char_terms(model.char_vectorizer_, prepared, weights[n_word:]).items():
        terms[word] = terms.get(word, 0.0) + share
    return Contributions(target=target, other=other, terms=terms, intercept=bias)


def linear_evidence(model: LinearTextModel, text: str, top_k: int = 10) -> list[Evidence]:
    """The ``top_k`` strongest terms toward each label, strongest first.

    For a two-class model the weights are contributions to the log-odds of
    ``"fake"`` (or of the second class when there is no ``"fake"``): a positive
    weight pushes toward that class, a negative weight toward the other one, and
    up to ``top_k`` terms are returned for each side. For more than two classes
    only the ``top_k`` terms that support the predicted class are returned.
    The list is ordered by ``abs(weight)``, largest first; ties by term.

    Examples
    --------
    >>> from veracity.models.linear import TfidfLogisticClassifier
    >>> texts = ["the senate passed the bill today"] * 6 + ["shocking secret they hide"] * 6
    >>> labels = ["reliable"] * 6 + ["fake"] * 6
    >>> model = TfidfLogisticClassifier(min_df=1, cv=3, random_state=0).fit(texts, labels)
    >>> sorted(e.toward for e in linear_evidence(model, "a shocking bill", top_k=1))
    ['fake', 'reliable']
    """
    if top_k < 0:
        raise ValueError(f"top_k must be >= 0, got {top_k}")
    contributions = term_contributions(model, text)
    ranked = sorted(contributions.terms.items(), key=lambda item: (-abs(item[1]), item[0]))
    toward_target = [(t, w) for t, w in ranked if w > 0][:top_k]
    toward_other = [(t, w) for t, w in ranked if w < 0][:top_k]
    if contributions.other is None:
        toward_other = []
    chosen = sorted(toward_target + toward_other, key=lambda item: (-abs(item[1]), item[0]))
    # ``toward`` holds the model's class label; for veracity's models that is a Label.
    return [
        Evidence(
            term=term,
            weight=weight,
            toward=cast(Label, contributions.target if weight > 0 else contributions.other),
        )
        for term, weight in chosen
    ]
