"""TfidfLogisticClassifier: the scikit-learn contract, text handling, and real data."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import train_test_split
from sklearn.utils.estimator_checks import parametrize_with_checks
from sklearn.utils.validation import validate_data

from synthetic import rows_as_text
from veracity.errors import InputError
from veracity.models.linear import TfidfLogisticClassifier
from veracity.text import normalize

Corpus = tuple[list[str], list[str]]

# --- scikit-learn's common checks ------------------------------------------------
#
# Our estimator takes a 1-D sequence of str, so its tags say string=True and
# two_d_array=False. scikit-learn 1.9 then generates *no* common checks at all
# (``_yield_all_checks`` returns early for ``two_d_array=False``), which would
# leave the contract untested. So the checks run on a test-only subclass that
# writes each numeric row as words ("fbvpc" = feature 1 in bin +2) and hands
# them to the real fit/predict_proba: cloning, params, fitted-state, classes,
# sample weights, idempotence, invariances and error handling are all ours.


class NumbersAsText(TfidfLogisticClassifier):
    """TfidfLogisticClassifier seen through numeric 2-D input (for the checks only)."""

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
        "check_sample_weight_equivalence_on_dense_data": (
            "by design, weights are not repeated rows: TF-IDF document frequencies count "
            "repeated texts, and calibration folds come from the int `cv` (the check "
            "passes explicit splits, which we refuse)"
        ),
    }


@parametrize_with_checks(
    [
        NumbersAsText(min_df=1, cv=2, random_state=0),
        NumbersAsText(min_df=1, cv=3, calibration="isotonic", preprocess=False, random_state=0),
        # temperature sets multi_class=False: the checks then verify multi-class is refused
        NumbersAsText(min_df=1, cv=3, calibration="temperature", preprocess=False, random_state=0),
    ],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_contract(estimator: Any, check: Callable[[Any], None]) -> None:
    check(estimator)


def test_tags_say_text_in() -> None:
    tags = TfidfLogisticClassifier().__sklearn_tags__()
    assert tags.input_tags.string and not tags.input_tags.two_d_array
    assert tags.estimator_type == "classifier"


# --- behaviour on text ------------------------------------------------------------


def test_learns_and_generalizes(fitted: TfidfLogisticClassifier, held_out: Corpus) -> None:
    texts, labels = held_out
    assert fitted.classes_.tolist() == ["fake", "reliable"]
    proba = fitted.predict_proba(texts)
    assert proba.shape == (len(texts), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    accuracy = np.mean(fitted.predict(texts) == np.array(labels))
    assert accuracy > 0.9


def test_proba_columns_follow_classes(fitted: TfidfLogisticClassifier) -> None:
    fake = "Shocking secret hoax exposed by the elite globalist traitor, a rigged bombshell."
    proba = fitted.predict_proba([fake])[0]
    assert fitted.classes_[np.argmax(proba)] == "fake"
    assert proba[fitted.classes_.tolist().index("fake")] > 0.8


def test_decision_function_agrees_with_predict(
    fitted: TfidfLogisticClassifier, held_out: Corpus
) -> None:
    texts = held_out[0]
    decision = fitted.decision_function(texts)
    assert decision.shape == (len(texts),)
    np.testing.assert_array_equal(
        fitted.classes_[(decision > 0).astype(int)], fitted.predict(texts)
    )
    # the raw linear score ranks texts the same way as the sigmoid-calibrated one
    linear = fitted.linear_score(texts)
    assert (
        np.corrcoef(np.argsort(np.argsort(linear)), np.argsort(np.argsort(decision)))[0, 1] > 0.99
    )


def test_raw_and_normalized_text_look_the_same(fitted: TfidfLogisticClassifier) -> None:
    raw = "WASHINGTON (Reuters) - The Senate committee voted on the budget, officials said."
    np.testing.assert_allclose(
        fitted.predict_proba([raw]), fitted.predict_proba([normalize(raw)]), atol=1e-9
    )


def test_scrubbed_artefacts_never_become_features(fitted: TfidfLogisticClassifier) -> None:
    words = fitted.word_vectorizer_.vocabulary_
    assert not any("reuters" in term or "getty" in term or "featured" in term for term in words)


def test_without_preprocess_the_artefacts_are_features(articles: Corpus) -> None:
    model = TfidfLogisticClassifier(preprocess=False, random_state=0).fit(*articles)
    assert "reuters" in model.word_vectorizer_.vocabulary_


def test_any_two_labels_work(article_maker: Callable[[int, int], Corpus]) -> None:
    texts, labels = article_maker(30, 3)
    y = [1 if label == "fake" else 0 for label in labels]
    model = TfidfLogisticClassifier(random_state=0).fit(texts, y)
    assert model.classes_.tolist() == [0, 1]
    assert np.mean(model.predict(texts) == np.array(y)) > 0.9
    assert {e.toward for e in model.explain(texts[0], top_k=3)} <= {0, 1}


def test_more_than_two_labels(article_maker: Callable[[int, int], Corpus]) -> None:
    texts, labels = article_maker(30, 4)
    neutral = [
        f"The of and to in that is for on with weather garden recipe {i}." for i in range(30)
    ]
    model = TfidfLogisticClassifier(min_df=1, cv=3, random_state=0).fit(
        texts + neutral, labels + ["other"] * 30
    )
    assert model.classes_.tolist() == ["fake", "other", "reliable"]
    proba = model.predict_proba(neutral[:2] + texts[:1])
    assert proba.shape == (3, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert model.decision_function(texts[:4]).shape == (4, 3)
    evidence = model.explain("a garden recipe for the weather", top_k=3)
    assert evidence and all(e.toward == "other" and e.weight > 0 for e in evidence)


def test_same_random_state_same_model(articles: Corpus, held_out: Corpus) -> None:
    a = TfidfLogisticClassifier(random_state=7).fit(*articles)
    b = clone(a).fit(*articles)
    np.testing.assert_array_equal(a.predict_proba(held_out[0]), b.predict_proba(held_out[0]))


def test_sample_weight_is_used(articles: Corpus, held_out: Corpus) -> None:
    texts, labels = articles
    weights = np.where(np.array(labels) == "fake", 5.0, 1.0)
    plain = TfidfLogisticClassifier(random_state=0).fit(texts, labels)
    weighted = TfidfLogisticClassifier(random_state=0).fit(texts, labels, sample_weight=weights)
    fake = plain.classes_.tolist().index("fake")
    p_plain = plain.predict_proba(held_out[0])[:, fake]
    p_weighted = weighted.predict_proba(held_out[0])[:, fake]
    assert not np.allclose(p_plain, p_weighted)
    with pytest.raises(InputError, match="sample_weight"):
        TfidfLogisticClassifier().fit(texts, labels, sample_weight=[1.0, 2.0])


def test_state_is_compact_and_round_trips(
    fitted: TfidfLogisticClassifier, held_out: Corpus
) -> None:
    state = fitted.__getstate__()
    assert set(state["_vocabularies"]) == {"word_vectorizer_", "char_vectorizer_"}
    assert not hasattr(state["word_vectorizer_"], "vocabulary_")
    assert hasattr(fitted.word_vectorizer_, "vocabulary_")  # the live model is untouched
    twin = copy.deepcopy(fitted)
    assert twin.word_vectorizer_.vocabulary_ == fitted.word_vectorizer_.vocabulary_
    np.testing.assert_array_equal(
        twin.predict_proba(held_out[0]), fitted.predict_proba(held_out[0])
    )


@pytest.mark.parametrize(
    ("X", "message"),
    [
        ("one text", "not a single string"),
        (["fine", 3], r"X\[1\] is a int"),
        (np.array([["a", "b"], ["c", "d"]]), "1-D"),
        ([], "empty"),
    ],
)
def test_bad_texts_are_refused(fitted: TfidfLogisticClassifier, X: Any, message: str) -> None:
    with pytest.raises(InputError, match=message):
        fitted.predict_proba(X)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"calibration": "platt"}, "calibration must be one of"),
        ({"cv": 1}, "cv must be an int >= 2"),
        ({"C": 0}, "C must be a positive number"),
        ({"word_ngram_range": (2, 1)}, "word_ngram_range"),
        ({"max_char_features": 0}, "max_char_features"),
        ({"min_df": 1.5}, "min_df"),
    ],
)
def test_bad_params_are_refused_in_fit(
    articles: Corpus, params: dict[str, Any], message: str
) -> None:
    model = TfidfLogisticClassifier(**params)  # __init__ only stores
    with pytest.raises(InputError, match=message):
        model.fit(*articles)


def test_too_few_texts_per_class_for_the_folds(articles: Corpus) -> None:
    texts, labels = articles
    with pytest.raises(InputError, match="class 'fake' has 3"):
        TfidfLogisticClassifier(cv=5).fit(texts[:100] + texts[-3:], labels[:100] + labels[-3:])
    with pytest.raises(InputError, match="only one class"):
        TfidfLogisticClassifier().fit(texts[:50], labels[:50])


def test_a_failed_fit_leaves_no_fitted_state(articles: Corpus) -> None:
    model = TfidfLogisticClassifier(min_df=10_000)
    with pytest.raises(InputError, match="lower min_df"):
        model.fit(*articles)
    with pytest.raises(NotFittedError):
        model.predict(["text"])


def test_unfitted_model_says_so() -> None:
    model = TfidfLogisticClassifier()
    for method in (model.predict, model.predict_proba, model.decision_function):
        with pytest.raises(NotFittedError):
            method(["text"])
    with pytest.raises(NotFittedError):
        model.explain("text")


# --- real data ---------------------------------------------------------------------


@pytest.mark.slow
def test_isot_sample_held_out_accuracy_and_clean_evidence(isot_sample_csv: Path) -> None:
    frame = pd.read_csv(isot_sample_csv, keep_default_na=False)
    frame = frame[frame["text"].str.strip() != ""]
    frame = frame.groupby("label").sample(900, random_state=0)  # 1,800 of 6,096 rows
    texts = frame["text"].tolist()
    labels = frame["label"].map({"real": "reliable", "fake": "fake"}).tolist()
    train_x, test_x, train_y, test_y = train_test_split(
        texts, labels, test_size=0.25, random_state=0, stratify=labels
    )
    # no time limit here: speed is measured in bench/, not in unit tests
    model = TfidfLogisticClassifier(random_state=0).fit(train_x, train_y)
    accuracy = np.mean(model.predict(test_x) == np.array(test_y))
    assert accuracy > 0.85, accuracy

    with_artefacts = [t for t in test_x if "(Reuters)" in t or "Featured image via" in t]
    assert len(with_artefacts) > 50
    terms = [e.term for text in with_artefacts[:80] for e in model.explain(text, top_k=10)]
    assert terms
    for term in terms:
        assert "reuters" not in term
        assert "featured image" not in term and "image via" not in term
