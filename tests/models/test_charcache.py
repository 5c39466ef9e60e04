"""The per-word char n-gram cache gives exactly what TfidfVectorizer.transform gives."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import TfidfVectorizer

from veracity.models._charcache import cache_for, char_wb_transform

CORPUS = [
    "the senate passed the budget bill on tuesday",
    "shocking secret cure they do not want you to know",
    "Über café naïve façade — unicode words too",
    "a an I x   spaced    out\ttabs\nand lines",
    "repeated repeated repeated words words",
]


@pytest.mark.parametrize(
    "params",
    [
        {"ngram_range": (2, 5), "sublinear_tf": True, "dtype": np.float32},
        {"ngram_range": (1, 3), "min_df": 2},
        {"ngram_range": (3, 4), "lowercase": False, "use_idf": False},
        {"ngram_range": (2, 2), "norm": "l1", "max_features": 20},
        {"ngram_range": (2, 5), "norm": None, "smooth_idf": False},
    ],
)
def test_equals_transform(params: dict[str, Any]) -> None:
    vectorizer = TfidfVectorizer(analyzer="char_wb", **params).fit(CORPUS)
    texts = [*CORPUS, "", "   ", "words never seen zzzz qqqq", "the the the"]
    expected = vectorizer.transform(texts)
    for _ in range(2):  # cold, then from the cache
        got = char_wb_transform(vectorizer, texts)
        assert got.dtype == expected.dtype and got.shape == expected.shape
        np.testing.assert_allclose(got.toarray(), expected.toarray(), rtol=1e-5, atol=1e-7)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=60), min_size=1, max_size=5))
def test_equals_transform_on_any_text(texts: list[str]) -> None:
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)
    vectorizer.fit([*CORPUS, *texts])
    np.testing.assert_allclose(
        char_wb_transform(vectorizer, texts).toarray(),
        vectorizer.transform(texts).toarray(),
        rtol=1e-5,
        atol=1e-7,
    )


def test_other_analyzers_fall_back_to_transform() -> None:
    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(2, 3)).fit(CORPUS)
    np.testing.assert_allclose(
        char_wb_transform(vectorizer, CORPUS).toarray(), vectorizer.transform(CORPUS).toarray()
    )


def test_cache_is_per_vectorizer_and_outside_it() -> None:
    a = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 3)).fit(CORPUS)
    b = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 3)).fit(CORPUS[:2])
    before = dict(vars(a))
    char_wb_transform(a, ["the senate"])
    assert vars(a).keys() == before.keys()  # nothing stored on the vectorizer
    assert "senate" in cache_for(a).words and "senate" not in cache_for(b).words


def test_cache_is_bounded_in_bytes_not_words() -> None:
    from veracity.models._charcache import CharNgramCache, WordRows

    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4)).fit(CORPUS)
    cache = CharNgramCache(vectorizer)
    cache.words = WordRows(200_000)
    words = [f"senate{i}x" * 3 for i in range(3_000)]  # unique long words
    for word in words:
        cache.row(word)
        assert cache.words.nbytes <= 200_000
    assert words[-1] in cache.words and words[0] not in cache.words
