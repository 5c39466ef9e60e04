"""Domain-robust training: features that tell the source rather than the label are dropped."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from synthetic import FAKE_WORDS, RELIABLE_WORDS, synthetic_frame
from veracity.errors import InputError
from veracity.models import fit_model, make_model

TOPIC_A = ["alpha", "beta", "gamma"]
TOPIC_B = ["delta", "epsilon", "zeta"]
FAST = {"min_df": 1, "cv": 3, "random_state": 0}


@pytest.fixture(scope="module")
def two_sources() -> pd.DataFrame:
    a = synthetic_frame("a", TOPIC_A, n_per_class=80, seed=0).assign(domain="a")
    b = synthetic_frame("b", TOPIC_B, n_per_class=80, seed=1).assign(domain="b")
    return pd.concat([a, b], ignore_index=True)


def test_source_topic_words_go_first_and_label_words_stay(two_sources: pd.DataFrame) -> None:
    model = make_model("tfidf-lr.v1", domain_drop=0.02, **FAST)
    fit_model(
        model, two_sources.text.tolist(), two_sources.label.tolist(), domains=two_sources.domain
    )
    assert model.n_domain_dropped_ > 0
    words = [f for f in model.domain_dropped_ if not f.startswith("char:")]
    assert set(words[:6]) == set(TOPIC_A + TOPIC_B)
    assert not set(model.domain_dropped_) & set(FAKE_WORDS + RELIABLE_WORDS)
    # the dropped words carry no weight; the label words still decide
    vocab = model.word_vectorizer_.vocabulary_
    coef = model._linear().coef_[0]
    assert all(abs(coef[vocab[w]]) < 1e-6 for w in TOPIC_A + TOPIC_B)
    texts = ["shocking secret hoax exposed alpha", "senate committee budget report delta"]
    assert model.predict(texts).tolist() == ["fake", "reliable"]


@pytest.mark.parametrize("domains", [None, "one"])
def test_nothing_dropped_without_two_domains(two_sources: pd.DataFrame, domains: Any) -> None:
    model = make_model("tfidf-lr.v1", domain_drop=0.05, **FAST)
    given = None if domains is None else ["one"] * len(two_sources)
    fit_model(model, two_sources.text.tolist(), two_sources.label.tolist(), domains=given)
    assert model.n_domain_dropped_ == 0


def test_default_drops_nothing_and_matches_the_model_without_domains(
    two_sources: pd.DataFrame,
) -> None:
    x, y = two_sources.text.tolist(), two_sources.label.tolist()
    with_domains = fit_model(make_model("tfidf-lr.v1", **FAST), x, y, domains=two_sources.domain)
    without = make_model("tfidf-lr.v1", **FAST).fit(x, y)
    np.testing.assert_allclose(with_domains.predict_proba(x), without.predict_proba(x))


def test_fit_model_passes_domains_only_to_estimators_that_take_them() -> None:
    seen: dict[str, Any] = {}

    class NoDomains:
        def fit(self, X: Any, y: Any, sample_weight: Any = None) -> NoDomains:
            seen.update(X=X, sample_weight=sample_weight)
            return self

    fit_model(NoDomains(), ["a"], ["fake"], sample_weight=[2.0], domains=["d"])
    assert seen == {"X": ["a"], "sample_weight": [2.0]}


@pytest.mark.parametrize("value", [-0.1, 1.0, True, "0.1"])
def test_bad_share_is_refused(two_sources: pd.DataFrame, value: Any) -> None:
    with pytest.raises(InputError, match="domain_drop"):
        make_model("tfidf-lr.v1", domain_drop=value, **FAST).fit(
            two_sources.text.tolist(), two_sources.label.tolist()
        )


def test_domains_of_the_wrong_length_are_refused(two_sources: pd.DataFrame) -> None:
    with pytest.raises(InputError, match="one value per text"):
        make_model("tfidf-lr.v1", domain_drop=0.05, **FAST).fit(
            two_sources.text.tolist(), two_sources.label.tolist(), domains=["a", "b"]
        )


def test_stacked_members_are_refitted_with_the_domains_the_combiner_saw(
    two_sources: pd.DataFrame,
) -> None:
    """The shipped members must be trained like the out-of-fold ones: with ``domains``."""
    from veracity.models.ensemble import StackedEnsemble

    x, y = two_sources.text.tolist(), two_sources.label.tolist()
    member = ("tfidf-lr.v1", {"domain_drop": 0.05, "min_df": 1, "cv": 3})
    stacked = StackedEnsemble(members=[member], cv=2, random_state=0)
    fit_model(stacked, x, y, domains=two_sources.domain)
    shipped = stacked.members_[0]
    assert shipped.n_domain_dropped_ > 0, "the final member was fitted without domains"
    # the same member, fitted by hand on all rows with the same seed and domains
    seed = shipped.random_state
    by_hand = fit_model(
        make_model("tfidf-lr.v1", **{**member[1], "random_state": seed}),
        x,
        y,
        domains=two_sources.domain,
    )
    assert shipped.domain_dropped_ == by_hand.domain_dropped_
    np.testing.assert_allclose(shipped.predict_proba(x), by_hand.predict_proba(x), atol=1e-12)
