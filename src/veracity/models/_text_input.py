"""What the text models share: checking ``X`` and their parameters, compact vocabularies.

Every estimator takes ``X`` as a 1-D sequence of str (like ``TfidfVectorizer``);
:func:`check_texts` turns anything else into an :class:`~veracity.errors.InputError`
that says what is wrong. :func:`compact_vocabularies` and :func:`pop_vocabularies`
with :func:`set_vocabularies` are the two halves of the ``__getstate__`` /
``__setstate__`` of the TF-IDF models, which store each fitted vocabulary as one
newline-joined string so that skops files stay small and load fast.
"""

from __future__ import annotations

from collections.abc import Iterable
from numbers import Integral
from typing import Any

from veracity.errors import InputError

__all__ = [
    "check_ngram_range",
    "check_texts",
    "compact_vocabularies",
    "pop_vocabularies",
    "set_vocabularies",
]


def check_texts(X: Any) -> list[str]:
    """X as a list of str, or an InputError saying what is wrong with it."""
    if isinstance(X, str | bytes):
        raise InputError(
            "X must be a sequence of texts, not a single string; wrap it in a list: [text]"
        )
    ndim = getattr(X, "ndim", 1)
    if ndim != 1:
        raise InputError(
            f"X must be a 1-D sequence of texts, got an array of shape {getattr(X, 'shape', '?')}"
        )
    try:
        texts = list(X)
    except TypeError as exc:
        raise InputError(f"X must be a sequence of texts, got {type(X).__name__}") from exc
    if not texts:
        raise InputError("X is empty: give at least one text")
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise InputError(f"X[{i}] is a {type(text).__name__}, expected str (every text)")
    return texts


def check_ngram_range(name: str, value: Any) -> None:
    """Raise an InputError unless ``value`` is a pair ``(low, high)`` of ints, 1 <= low <= high."""
    ok = (
        isinstance(value, tuple | list)
        and len(value) == 2
        and all(isinstance(v, Integral) and not isinstance(v, bool) for v in value)
        and 1 <= value[0] <= value[1]
    )
    if not ok:
        raise InputError(f"{name} must be a pair (low, high) with 1 <= low <= high, got {value!r}")


def compact_vocabularies(state: dict[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """``state`` with the vocabulary of each named vectorizer as one newline-joined string.

    A vocabulary dict of 10^5 terms costs skops one JSON node per entry
    (~100 MB of schema, seconds to load); one string per vocabulary is
    ~1 MB and loads in milliseconds. Terms never contain a newline: word
    n-grams are ``\\w\\w+`` tokens joined by spaces, ``char_wb`` n-grams lie
    inside one whitespace-free word. A vocabulary that cannot be joined
    (a term with a newline, indices not ``0..n-1``) is kept as it is.

    Parameters
    ----------
    state : dict
        An estimator's state (``__getstate__``); it is copied, not modified.
    names : iterable of str
        The attributes holding fitted vectorizers (``vocabulary_`` dicts).

    Returns
    -------
    dict
        The new state: compacted vectorizers without ``vocabulary_``, and the joined
        vocabularies under ``"_vocabularies"`` (absent when nothing was compacted).
    """
    state = dict(state)
    vocabularies: dict[str, str] = {}
    for name in names:
        vectorizer = state.get(name)
        vocabulary = getattr(vectorizer, "vocabulary_", None)
        if vocabulary is None:
            continue
        terms = sorted(vocabulary, key=vocabulary.__getitem__)
        if any("\n" in term for term in terms) or [vocabulary[t] for t in terms] != list(
            range(len(terms))
        ):
            continue  # keep the dict as it is
        cls: Any = type(vectorizer)
        compact = cls.__new__(cls)
        compact.__dict__.update({k: v for k, v in vars(vectorizer).items() if k != "vocabulary_"})
        state[name] = compact
        vocabularies[name] = "\n".join(terms)
    if vocabularies:
        state["_vocabularies"] = vocabularies
    return state


def pop_vocabularies(state: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Split a :func:`compact_vocabularies` state into the plain state and the vocabularies.

    Returns
    -------
    tuple of (dict, dict)
        The state without ``"_vocabularies"`` (pass it to ``super().__setstate__``),
        and the joined vocabulary of each vectorizer attribute, for
        :func:`set_vocabularies` once the state is set.
    """
    state = dict(state)
    vocabularies: dict[str, str] = state.pop("_vocabularies", {})
    return state, vocabularies


def set_vocabularies(estimator: Any, vocabularies: dict[str, str]) -> None:
    """Give each named vectorizer of ``estimator`` back its ``vocabulary_`` dict."""
    for name, joined in vocabularies.items():
        vectorizer = getattr(estimator, name)
        vectorizer.vocabulary_ = {term: j for j, term in enumerate(joined.split("\n"))}


def fit_word_char_tfidf(
    texts: list[str],
    *,
    word_ngram_range: Any,
    char_ngram_range: Any,
    max_word_features: int | None,
    max_char_features: int | None,
    min_df: int | float,
) -> tuple[Any, Any, list[Any]]:
    """Fit word and ``char_wb`` TF-IDF vectorizers (sublinear tf, float32) on ``texts``.

    Returns ``(word_vectorizer, char_vectorizer, [word_matrix, char_matrix])``; an
    empty vocabulary (or ``min_df`` above the number of texts) is an InputError.
    """
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    word = TfidfVectorizer(
        ngram_range=tuple(word_ngram_range),
        max_features=max_word_features,
        min_df=min_df,
        sublinear_tf=True,
        dtype=np.float32,
    )
    char = TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=tuple(char_ngram_range),
        max_features=max_char_features,
        min_df=min_df,
        sublinear_tf=True,
        dtype=np.float32,
    )
    blocks = []
    for kind, vectorizer in (("word", word), ("character", char)):
        try:
            blocks.append(vectorizer.fit_transform(texts))
        except ValueError as exc:  # empty vocabulary, min_df above the number of texts
            raise InputError(
                f"cannot build {kind} features from these texts ({exc}); "
                "give more or longer texts, or lower min_df"
            ) from exc
    return word, char, blocks
