"""The features of :class:`~veracity.models.hashing.HashingSGDClassifier`: hashed n-gram counts.

* :func:`hashed_counts`: a ``HashingVectorizer``'s counts, computed by the compiled
  :mod:`veracity.text._ngrams` where the hasher is one it mirrors (word or ``char_wb``
  n-grams, default tokens, no accent stripping or custom steps; identical output,
  tested), and by scikit-learn otherwise or when the extension was not built;
* :func:`char_wb_counts`: a ``char_wb`` ``HashingVectorizer``'s counts built from
  per-word hashed n-grams (:func:`char_wb_rows`), cached per hasher configuration
  (module level, at most :data:`~veracity.models._charcache.MAX_CACHE_BYTES` bytes
  each, thread-safe);
* :func:`sublinear_l2`: one block of features, ``1 + log tf`` then an L2 norm;
* :func:`salted_hashes`: the salted 64-bit hash of each text in ``[0, 1)`` that
  picks the calibration reservoir of ``partial_fit``;
"""

from __future__ import annotations

import hashlib
import sys
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from veracity.models._charcache import MAX_CACHE_BYTES, WordRows
from veracity.text._compiled import ngrams as _ngrams  # None: not built

if TYPE_CHECKING:
    from sklearn.feature_extraction.text import HashingVectorizer

__all__ = [
    "COMPILED",
    "MAX_CACHE_BYTES",
    "TOKEN_PATTERN",
    "HasherSpec",
    "char_wb_counts",
    "char_wb_rows",
    "hashed_buckets",
    "hashed_counts",
    "salted_hashes",
    "sublinear_l2",
    "sublinear_scores",
    "unknown_shares",
]


#: Whether the compiled n-gram hasher (:mod:`veracity.text._ngrams`) is in use.
COMPILED = _ngrams is not None
#: scikit-learn's default token pattern, which the C tokenizer mirrors.
TOKEN_PATTERN = r"(?u)\b\w\w+\b"


@dataclass(frozen=True)
class HasherSpec:
    """A ``HashingVectorizer`` configuration that :mod:`veracity.text._ngrams` computes.

    Word n-grams (scikit-learn's default token pattern) or ``char_wb`` n-grams,
    non-negative counts, no norm, no accent stripping, stop words or custom steps.
    It has the attributes and the two methods (``get_stop_words``,
    ``build_preprocessor``) that this module and the evidence code read from a hasher,
    so it stands in for one without importing scikit-learn; :meth:`to_sklearn` makes
    the real thing (for the pure-Python fallback when the extension was not built).

    Examples
    --------
    >>> HasherSpec("word", (1, 2), 2**20).build_preprocessor()("The Senate")
    'the senate'
    """

    analyzer: str
    ngram_range: tuple[int, int]
    n_features: int
    lowercase: bool = True
    binary: bool = False
    dtype: Any = np.float64

    input = "content"
    token_pattern = TOKEN_PATTERN
    preprocessor = None
    tokenizer = None
    strip_accents = None
    stop_words = None
    alternate_sign = False
    norm = None

    def get_stop_words(self) -> None:
        """No stop words (as the hashers of the presets)."""
        return None

    def build_preprocessor(self) -> Callable[[str], str]:
        """What scikit-learn's preprocessor does with this configuration: lower-case or not."""
        return str.lower if self.lowercase else str

    def to_sklearn(self) -> HashingVectorizer:
        """The ``HashingVectorizer`` this spec describes (imports scikit-learn)."""
        from sklearn.feature_extraction.text import HashingVectorizer

        return HashingVectorizer(
            analyzer=self.analyzer,
            ngram_range=self.ngram_range,
            n_features=self.n_features,
            lowercase=self.lowercase,
            binary=self.binary,
            dtype=self.dtype,
            alternate_sign=False,
            norm=None,
        )


def _is_hasher(vectorizer: Any) -> bool:
    """A :class:`HasherSpec` or a scikit-learn ``HashingVectorizer`` (never importing it)."""
    if isinstance(vectorizer, HasherSpec):
        return True
    text = sys.modules.get("sklearn.feature_extraction.text")
    return text is not None and isinstance(vectorizer, text.HashingVectorizer)


_WORD_CACHES: dict[tuple[Any, ...], WordRows] = {}
_CACHE_LOCK = threading.Lock()


def word_cache(vectorizer: HashingVectorizer | HasherSpec) -> WordRows:
    """The per-word cache of ``vectorizer``'s configuration (shared by equal hashers)."""
    key = (
        int(vectorizer.n_features),
        tuple(vectorizer.ngram_range),
        bool(vectorizer.lowercase),
        vectorizer.strip_accents,
        repr(vectorizer.preprocessor),
        np.dtype(vectorizer.dtype).str,
    )
    with _CACHE_LOCK:
        cache = _WORD_CACHES.get(key)
        if cache is None:
            cache = _WORD_CACHES[key] = WordRows()
        return cache


def _mirrored(vectorizer: HashingVectorizer | HasherSpec) -> bool:
    """Whether :mod:`veracity.text._ngrams` computes exactly what ``vectorizer`` does."""
    v = vectorizer
    return (
        COMPILED
        and _is_hasher(v)
        and v.input == "content"
        and v.analyzer in ("word", "char_wb")
        and (v.analyzer == "char_wb" or v.token_pattern == TOKEN_PATTERN)
        and v.preprocessor is None
        and v.tokenizer is None
        and v.strip_accents is None
        and v.stop_words is None
        and not v.alternate_sign
        and v.norm is None
    )


def compiled_counts(
    vectorizer: HashingVectorizer | HasherSpec, texts: Sequence[str]
) -> sp.csr_matrix | None:
    """``vectorizer.transform(texts)`` by :mod:`veracity.text._ngrams` (indices sorted), or None.

    None where the hasher is not one the extension mirrors, the extension is not built,
    or a text holds a lone surrogate (scikit-learn then raises its own error).
    """
    if not _mirrored(vectorizer):
        return None
    lowered = [t.lower() for t in texts] if vectorizer.lowercase else list(texts)
    low, high = (int(n) for n in vectorizer.ngram_range)
    n_features = int(vectorizer.n_features)
    try:
        indptr, indices, data = _ngrams.counts(
            lowered, vectorizer.analyzer == "char_wb", low, high, n_features, vectorizer.binary
        )
    except ValueError:
        return None
    ptr = np.frombuffer(indptr, dtype=np.int64)
    if ptr[-1] < np.iinfo(np.int32).max:  # the index dtype scikit-learn gives
        ptr = ptr.astype(np.int32)
    return sp.csr_matrix(
        (
            np.frombuffer(data, dtype=np.float64).astype(vectorizer.dtype, copy=False),
            np.frombuffer(indices, dtype=np.int32),
            ptr,
        ),
        shape=(len(lowered), n_features),
    )


def sublinear_scores(
    vectorizer: HashingVectorizer | HasherSpec, texts: Sequence[str], coef: NDArray[np.float64]
) -> NDArray[np.float64] | None:
    """``sublinear_l2(vectorizer, texts) @ coef`` without building the counts, or None.

    The compiled hasher folds each text's n-grams into a table and sums ``coef`` times
    ``1 + log tf`` over its distinct buckets (in first-seen order, so the sums can differ
    from the sparse product in the last bits: relative 1e-15). None where
    :func:`compiled_counts` would be None.
    """
    if not _mirrored(vectorizer) or vectorizer.binary:
        return None
    lowered = [t.lower() for t in texts] if vectorizer.lowercase else list(texts)
    low, high = (int(n) for n in vectorizer.ngram_range)
    weights = np.ascontiguousarray(coef, dtype=np.float64)
    try:
        dots, squares = _ngrams.sublinear_dots(
            lowered, vectorizer.analyzer == "char_wb", low, high, int(vectorizer.n_features),
            weights,
        )  # fmt: skip
    except ValueError:  # a lone surrogate
        return None
    dot, norm = np.frombuffer(dots), np.sqrt(np.frombuffer(squares))
    # a text without n-grams has an empty row, which adds nothing
    return np.divide(dot, norm, out=np.zeros_like(dot), where=norm > 0)


def unknown_shares(
    texts: Sequence[str], n_features: int, seen: NDArray[np.uint8]
) -> NDArray[np.float64] | None:
    """Per text, the share of its distinct words (unigrams, case kept, hashed into
    ``n_features`` buckets) whose bit in ``seen`` (``numpy.packbits``) is 0; 1.0 for a
    text without words. None without the compiled hasher, or for a lone surrogate."""
    if not COMPILED:
        return None
    try:
        shares = _ngrams.unknown_shares(list(texts), int(n_features), seen)
    except ValueError:
        return None
    return np.frombuffer(shares, dtype=np.float64).copy()


def hashed_buckets(strings: Sequence[str], n_features: int) -> NDArray[np.int32]:
    """The bucket ``FeatureHasher(n_features, alternate_sign=False)`` gives each string."""
    if COMPILED:
        try:
            return np.frombuffer(_ngrams.buckets(strings, int(n_features)), dtype=np.int32)
        except ValueError:  # a lone surrogate: scikit-learn raises its own error below
            pass
    from sklearn.feature_extraction import FeatureHasher

    hasher = FeatureHasher(n_features=int(n_features), input_type="string", alternate_sign=False)
    indices: NDArray[np.int32] = hasher.transform([[g] for g in strings]).tocsr().indices
    return indices


def char_wb_rows(
    vectorizer: HashingVectorizer | HasherSpec, words: Sequence[str]
) -> list[tuple[NDArray[Any], NDArray[Any]]]:
    """Each (preprocessed) word's hashed ``char_wb`` n-grams: (bucket indices, counts)."""
    cache = word_cache(vectorizer)
    entries = {w: cache.get(w) for w in words}
    missing = [w for w, e in entries.items() if e is None]
    if missing:
        hashed = compiled_counts(vectorizer, missing)
        if hashed is None:
            from sklearn.feature_extraction import FeatureHasher

            analyzer = _sklearn_hasher(vectorizer).build_analyzer()
            hashed = FeatureHasher(
                n_features=int(vectorizer.n_features),
                input_type="string",
                alternate_sign=False,
                dtype=vectorizer.dtype,
            ).transform(analyzer(w) for w in missing)
        hashed = hashed.tocsr()
        for k, word in enumerate(missing):
            lo, hi = hashed.indptr[k], hashed.indptr[k + 1]
            row = (hashed.indices[lo:hi].copy(), hashed.data[lo:hi].copy())
            entries[word] = row
            cache.put(word, row)
    return [entries[w] for w in words]  # type: ignore[misc]


def _sklearn_hasher(vectorizer: HashingVectorizer | HasherSpec) -> HashingVectorizer:
    """``vectorizer`` as scikit-learn's ``HashingVectorizer`` (a spec made into one)."""
    return vectorizer.to_sklearn() if isinstance(vectorizer, HasherSpec) else vectorizer


def char_wb_counts(vectorizer: HashingVectorizer, texts: Sequence[str]) -> sp.csr_matrix:
    """``vectorizer.transform(texts)`` for a ``char_wb`` hasher, from cached words.

    ``char_wb`` cuts each whitespace-separated word (padded with a space each side)
    into n-grams on its own, so a text's counts are the sum of its words' counts:
    ``W @ C`` (texts x words, words x buckets). A word's hashed n-grams are computed
    once and cached per hasher configuration (module level, bounded in bytes,
    thread-safe), never in the estimator, so
    predictions do not change its state and artifacts stay small. The Python n-gram
    loop is what makes scoring slow; news reuses a few thousand words.

    Examples
    --------
    >>> from sklearn.feature_extraction.text import HashingVectorizer
    >>> hasher = HashingVectorizer(analyzer="char_wb", ngram_range=(3, 4), alternate_sign=False)
    >>> texts = ["the senate voted", "the vote"]
    >>> (char_wb_counts(hasher, texts) != hasher.transform(texts)).nnz
    0
    """
    preprocess = vectorizer.build_preprocessor()
    columns: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    counts: list[int] = []
    for i, text in enumerate(texts):
        for word, n in Counter(preprocess(text).split()).items():
            rows.append(i)
            cols.append(columns.setdefault(word, len(columns)))
            counts.append(n)
    words = list(columns)
    parts = char_wb_rows(vectorizer, words)
    indptr = np.zeros(len(words) + 1, dtype=np.int64)
    np.cumsum([len(p[0]) for p in parts], out=indptr[1:])
    empty_i, empty_d = np.zeros(0, np.int32), np.zeros(0, vectorizer.dtype)
    per_word = sp.csr_matrix(
        (
            np.concatenate([p[1] for p in parts] or [empty_d]),
            np.concatenate([p[0] for p in parts] or [empty_i]),
            indptr,
        ),
        shape=(len(words), int(vectorizer.n_features)),
    )
    doc_words = sp.csr_matrix(
        (np.asarray(counts, dtype=vectorizer.dtype), (rows, cols)),
        shape=(len(texts), len(words)),
    )
    result: sp.csr_matrix = (doc_words @ per_word).tocsr()
    result.sort_indices()
    if vectorizer.binary:
        result.data.fill(1)
    if vectorizer.norm is not None:
        from sklearn.preprocessing import normalize

        result = normalize(result, norm=vectorizer.norm, copy=False)
    return result


def hashed_counts(vectorizer: HashingVectorizer | HasherSpec, texts: list[str]) -> sp.csr_matrix:
    """``vectorizer``'s counts of ``texts`` (CSR, indices sorted in each row)."""
    compiled = compiled_counts(vectorizer, texts)
    if compiled is not None:
        return compiled
    vectorizer = _sklearn_hasher(vectorizer)
    if vectorizer.analyzer == "char_wb":
        return char_wb_counts(vectorizer, texts)
    counts: sp.csr_matrix = vectorizer.transform(texts).tocsr()
    counts.sort_indices()
    return counts


def sublinear_l2_of(counts: sp.csr_matrix, copy: bool = True) -> sp.csr_matrix:
    """Counts as ``1 + log tf``, each row L2-normed (same sparsity; in place if not ``copy``).

    The norms are summed in each row's order, as scikit-learn's ``normalize`` does
    (the same floats), without importing scikit-learn.
    """
    out = counts.astype(np.float64, copy=copy)
    out.data = 1.0 + np.log(out.data)
    rows = np.repeat(np.arange(out.shape[0]), np.diff(out.indptr))
    norms = np.sqrt(np.bincount(rows, weights=out.data * out.data, minlength=out.shape[0]))
    out.data /= norms[rows]  # every entry is >= 1, so a row with entries has a norm > 0
    return out


def sublinear_l2(vectorizer: HashingVectorizer | HasherSpec, texts: list[str]) -> sp.csr_matrix:
    """One block of features: ``vectorizer``'s counts as ``1 + log tf``, each row L2-normed."""
    return sublinear_l2_of(hashed_counts(vectorizer, texts), copy=False)


def salted_hashes(texts: Sequence[str], salt: int) -> NDArray[np.float64]:
    """Salted 64-bit blake2b hash of each text, as a float uniform in [0, 1)."""
    key = int(salt).to_bytes(8, "little", signed=False)
    return np.array(
        [
            int.from_bytes(
                hashlib.blake2b(
                    t.encode("utf-8", "surrogatepass"), digest_size=8, key=key
                ).digest(),
                "little",
            )
            / 2.0**64
            for t in texts
        ],
        dtype=np.float64,
    )
