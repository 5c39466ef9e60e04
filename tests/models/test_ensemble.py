"""The stacked ensemble: sklearn contract, out-of-fold stacking, calibration, evidence."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks
from sklearn.utils.validation import validate_data

from synthetic import rows_as_text
from veracity.errors import InputError
from veracity.models import make_model
from veracity.models.artifact import ModelCard, load_model, save_model
from veracity.models.ensemble import StackedEnsemble

Corpus = tuple[list[str], list[str]]
FAST = {"min_df": 1, "cv": 2, "char_ngram_range": (3, 4)}
# Two members that see different things: words only, and characters only.
WORDS = ("tfidf-lr.v1", {**FAST, "max_char_features": 1, "char_ngram_range": (5, 5)})
CHARS = ("tfidf-lr.v1", {**FAST, "max_word_features": 1})


class NumbersAsText(StackedEnsemble):
    """StackedEnsemble seen through numeric 2-D input (for sklearn's checks only)."""

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True
        tags.input_tags.string = False
        return tags

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> NumbersAsText:
        X = validate_data(self, X, reset=True)
        super().fit(rows_as_text(X), y, sample_weight)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        X = validate_data(self, X, reset=False)
        return super().predict_proba(rows_as_text(X))


def _expected_failed_checks(estimator: Any) -> dict[str, str]:
    return {
        "check_fit2d_1feature": (
            "its 10 rows leave a class with one text inside a stacking fold, which the "
            "member's own calibration folds refuse (with an InputError that says so)"
        ),
        "check_sample_weight_equivalence_on_dense_data": (
            "weights are not repeated rows: the members' TF-IDF document frequencies "
            "count repeated texts and the stacking folds are drawn from the rows"
        ),
    }


@parametrize_with_checks(
    [NumbersAsText(members=[("tfidf-lr.v1", {**FAST, "preprocess": False})], cv=2, random_state=0)],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_contract(estimator: Any, check: Callable[[Any], None]) -> None:
    check(estimator)


@pytest.fixture(scope="module")
def stacked(articles: Corpus) -> StackedEnsemble:
    texts, labels = articles
    return StackedEnsemble(members=[WORDS, CHARS], cv=3, random_state=0).fit(texts, labels)


def test_learns_and_is_better_than_chance(stacked: StackedEnsemble, held_out: Corpus) -> None:
    texts, labels = held_out
    assert (stacked.predict(texts) == np.array(labels)).mean() > 0.9
    proba = stacked.predict_proba(texts)
    assert proba.shape == (len(texts), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert list(stacked.classes_) == ["fake", "reliable"]


def test_combiner_is_fitted_on_out_of_fold_scores(
    stacked: StackedEnsemble, articles: Corpus
) -> None:
    texts, _ = articles
    in_sample = stacked.member_scores(texts)
    # Members refitted on all texts are more confident on their own training texts
    # than the out-of-fold members were: that is the leak stacking avoids.
    assert np.abs(in_sample).mean() > np.abs(stacked.oof_scores_).mean()
    assert stacked.oof_scores_.shape == (len(texts), 2)
    assert np.all(stacked.combiner_.coef_ != 0)


def test_same_seed_same_model_and_round_trip(
    stacked: StackedEnsemble, articles: Corpus, held_out: Corpus, tmp_path: Path
) -> None:
    texts, labels = articles
    again = StackedEnsemble(members=[WORDS, CHARS], cv=3, random_state=0).fit(texts, labels)
    np.testing.assert_allclose(again.predict_proba(held_out[0]), stacked.predict_proba(held_out[0]))
    card = ModelCard.create(preset="stack-test", params={}, labels=stacked.classes_)
    loaded = load_model(save_model(stacked, tmp_path / "m", card))
    np.testing.assert_array_equal(
        loaded.estimator.predict_proba(held_out[0]), stacked.predict_proba(held_out[0])
    )


def test_evidence_is_member_evidence_scaled_by_combiner_weight(
    stacked: StackedEnsemble, held_out: Corpus
) -> None:
    text = held_out[0][-1]  # a fake article
    assert stacked.predict([text])[0] == "fake"
    parts = stacked.attribution(text)
    p_fake = float(stacked.predict_proba([text])[0, list(stacked.classes_).index("fake")])
    assert parts.total == pytest.approx(np.log(p_fake / (1 - p_fake)), abs=1e-6)
    # each word's weight is the sum over members of coef * the member's weight for it
    expected: dict[tuple[int, int], float] = {}
    for member, coef in zip(stacked.members_, stacked.combiner_.coef_[0], strict=True):
        own = member.attribution(text)
        for (start, end), w in zip(own.spans.tolist(), own.weights, strict=True):
            expected[(start, end)] = expected.get((start, end), 0.0) + float(coef) * w
    got = dict(zip(map(tuple, parts.spans.tolist()), parts.weights.tolist(), strict=True))
    assert got == pytest.approx(expected)
    evidence = stacked.explain(text, top_k=5)
    assert any(e.toward == "fake" and e.weight > 0 for e in evidence)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"members": []}, "non-empty"),
        ({"members": ["no-such.v1"]}, "unknown member preset"),
        ({"members": [("tfidf-lr.v1", "C=3")]}, "preset name or"),
        ({"cv": 1}, "cv must be"),
        ({"C": 0}, "C must be"),
    ],
)
def test_bad_params_are_refused(articles: Corpus, params: dict[str, Any], message: str) -> None:
    texts, labels = articles
    with pytest.raises(InputError, match=message):
        StackedEnsemble(**params).fit(texts, labels)


def test_binary_only(articles: Corpus) -> None:
    texts, labels = articles
    three = [*labels[:-10], *["satire"] * 10]
    with pytest.raises(InputError, match="binary"):
        StackedEnsemble(members=[WORDS], cv=2).fit(texts, three)


def test_presets_build_ensembles() -> None:
    from veracity.models import PRESETS

    stacks = [name for name in PRESETS if name.startswith("stack")]
    assert stacks, "no stacked-ensemble preset is registered"
    for name in stacks:
        model = make_model(name)
        assert isinstance(model, StackedEnsemble)
        assert all(m if isinstance(m, str) else m[0] in PRESETS for m in model.members)
