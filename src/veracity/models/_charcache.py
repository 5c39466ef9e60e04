"""Character n-gram TF-IDF from a per-word cache: the same matrix as ``transform``, faster.

``TfidfVectorizer(analyzer="char_wb")`` cuts every whitespace-separated word
(padded with one space each side) into n-grams independently of its neighbours,
so a document's n-gram counts are the sum of its words' n-gram counts:
``counts = W @ C`` with ``W`` the document x word counts and ``C`` the word x
n-gram counts. Words repeat (a few thousand distinct words cover most of a news
corpus), so ``C``'s rows are computed once per word and cached; the rest is two
sparse products and the vectorizer's own idf and normalisation. The result equals
``vectorizer.transform(texts)`` (tested), at a fraction of the cost: the n-gram
loop in Python is what made scoring slow.

The cache lives beside the fitted vectorizer (a weak reference, so it dies with
the model), never inside it: predictions must not change an estimator's state,
and a cache has no business in a saved artifact.

Every per-word cache (this one, and the hashed one of
:mod:`veracity.models.hashing_features`) is a :class:`WordRows`: bounded in **bytes**
(:data:`MAX_CACHE_BYTES` each, counting the arrays, the word and Python's overhead),
evicting the oldest words first, and never keeping a word whose row alone is over an
eighth of the bound. A stream of documents of unique long words therefore cannot grow
memory past the bound; it only makes the cache useless for them.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = ["MAX_CACHE_BYTES", "CharNgramCache", "WordRows", "cache_for", "char_wb_transform"]

#: Bytes each per-word cache may hold (arrays, words and overhead).
MAX_CACHE_BYTES = 64 * 2**20
#: Python's overhead per cached word (dict slot, tuple, two array headers), in bytes.
_ENTRY_OVERHEAD = 400

Row = tuple[np.ndarray, np.ndarray]


class WordRows:
    """A thread-safe word → (indices, counts) cache bounded in bytes, oldest out first.

    Examples
    --------
    >>> rows = WordRows(max_bytes=2_000)
    >>> rows.put("senate", (np.arange(3), np.ones(3)))
    >>> rows.get("senate")[0].tolist(), rows.nbytes <= 2_000
    ([0, 1, 2], True)
    """

    def __init__(self, max_bytes: int = MAX_CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self.nbytes = 0
        self._rows: dict[str, tuple[Row, int]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, word: object) -> bool:
        return word in self._rows

    @staticmethod
    def size_of(word: str, row: Row) -> int:
        """Bytes one entry costs."""
        return int(row[0].nbytes + row[1].nbytes) + 4 * len(word) + _ENTRY_OVERHEAD

    def get(self, word: str) -> Row | None:
        """The cached row of ``word``, or None."""
        found = self._rows.get(word)
        return None if found is None else found[0]

    def put(self, word: str, row: Row) -> None:
        """Keep ``row`` for ``word``, evicting the oldest words to stay within the bound."""
        size = self.size_of(word, row)
        if size > self.max_bytes // 8:
            return
        with self._lock:
            if word in self._rows:
                return
            while self._rows and self.nbytes + size > self.max_bytes:
                oldest = next(iter(self._rows))
                self.nbytes -= self._rows.pop(oldest)[1]
            self._rows[word] = (row, size)
            self.nbytes += size

    def clear(self) -> None:
        """Forget every word."""
        with self._lock:
            self._rows.clear()
            self.nbytes = 0


class CharNgramCache:
    """Word → (n-gram column indices, counts) for one fitted ``char_wb`` vectorizer."""

    def __init__(self, vectorizer: Any) -> None:
        self.analyzer = vectorizer.build_analyzer()
        self.vocabulary: dict[str, int] = vectorizer.vocabulary_
        self.words = WordRows()

    def row(self, word: str) -> Row:
        """The n-gram columns of ``word`` and how often each occurs in it."""
        found = self.words.get(word)
        if found is not None:
            return found
        vocab = self.vocabulary
        cols = [vocab[g] for g in self.analyzer(word) if g in vocab]
        if cols:
            idx, cnt = np.unique(np.asarray(cols, dtype=np.int64), return_counts=True)
        else:
            idx, cnt = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        entry = (idx, cnt.astype(np.float64))
        self.words.put(word, entry)
        return entry


_CACHES: weakref.WeakKeyDictionary[Any, CharNgramCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def cache_for(vectorizer: Any) -> CharNgramCache:
    """The word cache of a fitted char vectorizer (created on first use)."""
    with _CACHES_LOCK:
        cache = _CACHES.get(vectorizer)
        if cache is None:
            cache = _CACHES[vectorizer] = CharNgramCache(vectorizer)
        return cache


def char_wb_transform(vectorizer: Any, texts: Sequence[str]) -> sp.csr_matrix:
    """``vectorizer.transform(texts)`` for a fitted ``analyzer="char_wb"`` TfidfVectorizer.

    Falls back to ``vectorizer.transform`` for any other kind of vectorizer (custom
    analyzers, preprocessors, accent stripping), where words are not independent.
    """
    if (
        vectorizer.analyzer != "char_wb"
        or vectorizer.preprocessor is not None
        or vectorizer.strip_accents is not None
        or vectorizer.binary
    ):
        return vectorizer.transform(texts)
    cache = cache_for(vectorizer)
    n_features = len(cache.vocabulary)
    # document x distinct-word counts of this batch
    local: dict[str, int] = {}
    indptr = [0]
    indices: list[int] = []
    lower = vectorizer.lowercase
    for text in texts:
        for word in (text.lower() if lower else text).split():
            j = local.get(word)
            if j is None:
                j = local[word] = len(local)
            indices.append(j)
        indptr.append(len(indices))
    data = np.ones(len(indices), dtype=np.float64)
    doc_words = sp.csr_matrix(
        (data, np.asarray(indices, dtype=np.int64), np.asarray(indptr, dtype=np.int64)),
        shape=(len(texts), len(local)),
    )
    doc_words.sum_duplicates()
    rows = [cache.row(word) for word in local]
    w_indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum([len(r[0]) for r in rows], out=w_indptr[1:])
    word_grams = sp.csr_matrix(
        (
            np.concatenate([r[1] for r in rows]) if rows else np.zeros(0),
            np.concatenate([r[0] for r in rows]) if rows else np.zeros(0, dtype=np.int64),
            w_indptr,
        ),
        shape=(len(rows), n_features),
    )
    counts = sp.csr_matrix(doc_words @ word_grams)
    tfidf = vectorizer._tfidf  # the fitted TfidfTransformer: sublinear tf, idf, norm
    if tfidf.sublinear_tf:
        np.log(counts.data, counts.data)
        counts.data += 1.0
    if tfidf.use_idf:
        counts = sp.csr_matrix(counts.multiply(tfidf.idf_[None, :]))
    if tfidf.norm is not None:
        from sklearn.preprocessing import normalize

        counts = normalize(counts, norm=tfidf.norm, copy=False)
    return sp.csr_matrix(counts.astype(vectorizer.dtype))
