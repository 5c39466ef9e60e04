"""The compiled n-gram hasher (veracity.text._ngrams) gives exactly scikit-learn's counts.

Every hashed feature of hashing-sgd.v1/v2 (word and char_wb n-grams, the novelty word
set, the evidence's n-gram buckets) goes through it when it is built, so it must match
``HashingVectorizer.transform`` / ``FeatureHasher`` array for array: same indices, same
counts, same dtype, on real rows and on any text.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction import FeatureHasher
from sklearn.feature_extraction.text import HashingVectorizer

from veracity.models import hashing_features
from veracity.models.hashing_features import compiled_counts, hashed_buckets, hashed_counts

SHARED = Path(__file__).resolve().parents[2].parent / "shared"

needs_compiled = pytest.mark.skipif(
    not hashing_features.COMPILED, reason="veracity.text._ngrams was not built (no C compiler)"
)

#: The hashers the models use: word 1-2 grams, char_wb 3-5 grams, the novelty word set.
CONFIGS: list[dict[str, Any]] = [
    {"ngram_range": (1, 2), "n_features": 2**20},
    {"analyzer": "char_wb", "ngram_range": (3, 5), "n_features": 2**20},
    {
        "ngram_range": (1, 1),
        "n_features": 2**22,
        "lowercase": False,
        "binary": True,
        "dtype": np.float32,
    },
]


def _hasher(**params: Any) -> HashingVectorizer:
    return HashingVectorizer(alternate_sign=False, norm=None, **params)


def _reference(vectorizer: HashingVectorizer, texts: list[str]) -> sp.csr_matrix:
    expected: sp.csr_matrix = vectorizer.transform(texts).tocsr()
    expected.sort_indices()
    return expected


def _assert_same(got: sp.csr_matrix | None, expected: sp.csr_matrix) -> None:
    assert got is not None
    assert got.shape == expected.shape and got.dtype == expected.dtype
    np.testing.assert_array_equal(got.indptr, expected.indptr)
    np.testing.assert_array_equal(got.indices, expected.indices)
    np.testing.assert_array_equal(got.data, expected.data)


def test_the_compiled_hasher_is_built_where_ci_requires_it() -> None:
    """CI sets VERACITY_REQUIRE_COMPILED=1: there, a missing extension is a failure."""
    if os.environ.get("VERACITY_REQUIRE_COMPILED") != "1" and not hashing_features.COMPILED:
        pytest.skip("veracity.text._ngrams was not built and this run does not require it")
    assert hashing_features.COMPILED


@needs_compiled
@pytest.mark.parametrize("params", CONFIGS, ids=["word", "char_wb", "novelty"])
def test_equals_scikit_learn_on_real_rows(params: dict[str, Any]) -> None:
    if not (SHARED / "datasets").is_dir():
        pytest.skip(f"real datasets not found at {SHARED}")
    from veracity.data import load_dataset
    from veracity.settings import Settings
    from veracity.text import prepare

    settings = Settings(datasets_dir=str(SHARED / "datasets"))
    texts: list[str] = []
    for name in ("isot_sample", "liar", "covid_constraint", "fakespeak_eng", "coaid_news"):
        raw = load_dataset(name, settings=settings).texts()[:40]
        texts += raw + [prepare(t) for t in raw]
    vectorizer = _hasher(**params)
    _assert_same(compiled_counts(vectorizer, texts), _reference(vectorizer, texts))


_ANY_CHAR = st.characters(blacklist_categories=("Cs",))  # UTF-8 cannot encode a lone surrogate
_TRICKY = st.sampled_from(
    ["İ", "ß", "ǅ", "ﬁ", "Σ", "_", "٣", "²", "½", "\u00a0", "\u2028", "\x1c", "\t", "😀", "\u0301"]
)
_TEXTS = st.lists(st.text(st.one_of(_ANY_CHAR, _TRICKY), max_size=80), min_size=1, max_size=6)


@needs_compiled
@settings(max_examples=150, deadline=None)
@given(
    _TEXTS,
    st.sampled_from(["word", "char_wb"]),
    st.integers(1, 4),
    st.integers(0, 2),
    st.sampled_from([1, 7, 1000, 2**20]),
    st.booleans(),
    st.booleans(),
)
def test_equals_scikit_learn_on_any_text(
    texts: list[str],
    analyzer: str,
    low: int,
    extra: int,
    n_features: int,
    lowercase: bool,
    binary: bool,
) -> None:
    vectorizer = _hasher(
        analyzer=analyzer,
        ngram_range=(low, low + extra),
        n_features=n_features,
        lowercase=lowercase,
        binary=binary,
    )
    _assert_same(compiled_counts(vectorizer, texts), _reference(vectorizer, texts))


@needs_compiled
@pytest.mark.parametrize("n_features", [2**20, 1000])  # a power of two is masked, not divided
def test_ascii_texts_equal_scikit_learn_with_every_kind_of_ascii_space(n_features: int) -> None:
    # ASCII texts take their own path (bytes hashed in place); str.split, which
    # scikit-learn's char_wb uses, also splits at \x0b, \x0c and \x1c-\x1f
    texts = [
        "a bc def ghij klmno pqrstu",
        "x\x0by\x0cz\x1cab\x1dcd\x1eef\x1fgh\r\nij\tkl  mn",
        " lead trail ",
        "",
        "   ",
        "a",
        "the senate voted the senate voted",
    ]
    for params in CONFIGS[:2]:
        vectorizer = _hasher(**{**params, "n_features": n_features})
        _assert_same(compiled_counts(vectorizer, texts), _reference(vectorizer, texts))


@needs_compiled
@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.text(_ANY_CHAR, max_size=30), min_size=1, max_size=20),  # [] breaks FeatureHasher
    st.sampled_from([1, 5, 2**20]),
)
def test_buckets_equal_feature_hashers(strings: list[str], n_features: int) -> None:
    hasher = FeatureHasher(n_features=n_features, input_type="string", alternate_sign=False)
    expected = hasher.transform([[s] for s in strings]).tocsr().indices
    np.testing.assert_array_equal(hashed_buckets(strings, n_features), expected)


def test_a_lone_surrogate_gets_scikit_learns_own_error() -> None:
    # word tokens never hold one (it is not a word character), char_wb n-grams do
    words = _hasher(ngram_range=(1, 2))
    _assert_same(compiled_counts(words, ["bad \ud800 text"]), _reference(words, ["bad text"]))
    chars = _hasher(analyzer="char_wb", ngram_range=(3, 5))
    assert compiled_counts(chars, ["fine text", "bad \ud800 text"]) is None
    with pytest.raises(UnicodeEncodeError):
        hashed_counts(chars, ["bad \ud800 text"])
    with pytest.raises(UnicodeEncodeError):
        hashed_buckets(["bad \ud800"], 10)


@pytest.mark.parametrize(
    "params",
    [
        {"strip_accents": "unicode"},
        {"token_pattern": r"\b\w+\b"},
        {"stop_words": "english"},
        {"analyzer": "char", "ngram_range": (2, 3)},
        {"norm": "l2"},
        {"alternate_sign": True},
    ],
)
def test_hashers_it_does_not_mirror_use_scikit_learn(params: dict[str, Any]) -> None:
    vectorizer = HashingVectorizer(**{"alternate_sign": False, "norm": None, **params})
    texts = ["Über café naïve — the senate voted", "a an I x   spaced out"]
    assert compiled_counts(vectorizer, texts) is None
    _assert_same(hashed_counts(vectorizer, texts), _reference(vectorizer, texts))


def test_without_the_extension_the_counts_are_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = ["The Senate passed the budget bill on Tuesday.", "SHOCKING: they hide it!!", ""]
    for params in CONFIGS:
        vectorizer = _hasher(**params)
        with_c = hashed_counts(vectorizer, texts)
        monkeypatch.setattr(hashing_features, "COMPILED", False)
        _assert_same(hashed_counts(vectorizer, texts), with_c)
        _assert_same(with_c, _reference(vectorizer, texts))
        monkeypatch.undo()


def test_a_hasher_spec_counts_as_its_scikit_learn_hasher(monkeypatch: pytest.MonkeyPatch) -> None:
    """HasherSpec (what the arrays-only model holds) stands in for a HashingVectorizer,
    with the extension and without it."""
    from veracity.models.hashing_features import TOKEN_PATTERN, HasherSpec

    texts = ["The Senate passed the budget bill on Tuesday.", "SHOCKING: they hide it!!", ""]
    specs = [
        HasherSpec("word", (1, 2), 2**18),
        HasherSpec("char_wb", (3, 5), 2**18),
        HasherSpec("word", (1, 1), 2**16, lowercase=False, binary=True, dtype=np.float32),
    ]
    assert TOKEN_PATTERN == HashingVectorizer().token_pattern
    for spec in specs:
        reference = _reference(spec.to_sklearn(), texts)
        _assert_same(hashed_counts(spec, texts), reference)
        monkeypatch.setattr(hashing_features, "COMPILED", False)
        _assert_same(hashed_counts(spec, texts), reference)
        monkeypatch.undo()


def _real_rows() -> list[str]:
    if not (SHARED / "datasets").is_dir():
        pytest.skip(f"real datasets not found at {SHARED}")
    from veracity.data import load_dataset
    from veracity.settings import Settings
    from veracity.text import prepare

    settings = Settings(datasets_dir=str(SHARED / "datasets"))
    texts: list[str] = []
    for name in ("isot_sample", "liar", "covid_constraint", "fakespeak_eng", "coaid_news"):
        raw = load_dataset(name, settings=settings).texts()[:40]
        texts += raw + [prepare(t) for t in raw]
    return texts


def _product(vectorizer: HashingVectorizer, texts: list[str], coef: np.ndarray) -> np.ndarray:
    from veracity.models.hashing_features import sublinear_l2_of

    return np.asarray(sublinear_l2_of(_reference(vectorizer, texts)) @ coef).ravel()


@needs_compiled
@pytest.mark.parametrize("params", CONFIGS[:2], ids=["word", "char_wb"])
def test_sublinear_scores_equal_the_sparse_product_on_real_rows(params: dict[str, Any]) -> None:
    from veracity.models.hashing_features import sublinear_scores

    texts = [*_real_rows(), "", "   ", "a"]  # rows without n-grams score 0
    vectorizer = _hasher(**params)
    coef = np.random.default_rng(0).normal(size=vectorizer.n_features)
    got = sublinear_scores(vectorizer, texts, coef)
    assert got is not None
    np.testing.assert_allclose(got, _product(vectorizer, texts, coef), rtol=1e-12, atol=1e-13)
    assert got[-3] == 0.0 and got[-2] == 0.0


@needs_compiled
@settings(max_examples=100, deadline=None)
@given(_TEXTS, st.sampled_from(["word", "char_wb"]), st.sampled_from([7, 1000, 2**20]))
def test_sublinear_scores_equal_the_sparse_product_on_any_text(
    texts: list[str], analyzer: str, n_features: int
) -> None:
    from veracity.models.hashing_features import sublinear_scores

    vectorizer = _hasher(analyzer=analyzer, ngram_range=(1, 3), n_features=n_features)
    coef = np.random.default_rng(1).normal(size=n_features)
    got = sublinear_scores(vectorizer, texts, coef)
    assert got is not None
    np.testing.assert_allclose(got, _product(vectorizer, texts, coef), rtol=1e-12, atol=1e-13)


def test_sublinear_scores_leave_what_they_cannot_mirror_to_the_counts() -> None:
    from veracity.models.hashing_features import sublinear_scores

    chars = _hasher(analyzer="char_wb", ngram_range=(3, 5), n_features=2**10)
    coef = np.ones(2**10)
    assert sublinear_scores(chars, ["bad \ud800 text"], coef) is None  # a lone surrogate
    assert sublinear_scores(_hasher(binary=True, n_features=2**10), ["a b"], coef) is None
    assert sublinear_scores(_hasher(stop_words="english", n_features=2**10), ["x"], coef) is None


@needs_compiled
def test_unknown_shares_equal_the_bit_lookups_on_real_rows() -> None:
    from veracity.models.hashing_features import unknown_shares

    texts = [*_real_rows(), "", "a"]  # no word of two letters: share 1.0
    n_features = 2**16
    seen = np.packbits(np.random.default_rng(2).random(n_features) < 0.5)
    words = hashed_counts(_hasher(**{**CONFIGS[2], "n_features": n_features}), texts)
    idx = words.indices.astype(np.int64)
    known = np.unpackbits(seen)[idx]
    rows = np.repeat(np.arange(len(texts)), np.diff(words.indptr))
    n_words = np.diff(words.indptr)
    unknown = np.bincount(rows, weights=known == 0, minlength=len(texts))
    expected = np.where(n_words > 0, unknown / np.maximum(n_words, 1), 1.0)
    got = unknown_shares(texts, n_features, seen)
    assert got is not None
    np.testing.assert_array_equal(got, expected)
    assert 0.2 < got[:-2].mean() < 0.8  # half the buckets are seen: the lookups matter
    assert got[-2] == got[-1] == 1.0


@needs_compiled
def test_probability_only_scoring_builds_no_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bundled model's probabilities without evidence come from the direct sums,
    equal (to 1e-12) to those of the counts it builds for evidence."""
    from veracity.detector import Detector

    model = Detector.from_path(None).model.estimator
    texts = _real_rows()[:60]
    with_counts, novelty_with_counts, _ = model.check_parts(texts)

    def no_counts(_texts: list[str]) -> None:
        raise AssertionError("counts built for probability only")

    monkeypatch.setattr(model, "_counts", no_counts)
    proba, novelty = model.proba_and_novelty(texts)
    np.testing.assert_allclose(proba, with_counts, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(novelty, novelty_with_counts)
