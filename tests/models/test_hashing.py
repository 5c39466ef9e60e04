"""HashingSGDClassifier: the scikit-learn contract, out-of-core training, evidence, artifacts."""

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
from veracity.models import PRESETS, make_model
from veracity.models.artifact import ModelCard, load_model, save_model
from veracity.models.hashing import HashingSGDClassifier, fit_platt
from veracity.text import normalize

Corpus = tuple[list[str], list[str]]

# --- scikit-learn's common checks ------------------------------------------------
#
# As in test_linear.py: the estimator takes a 1-D sequence of str, for which
# scikit-learn generates no common checks, so they run on a test-only subclass that
# writes each numeric row as words and hands them to the real fit / partial_fit /
# predict_proba.


class NumbersAsText(HashingSGDClassifier):
    """HashingSGDClassifier seen through numeric 2-D input (for the checks only)."""

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True
        tags.input_tags.string = False
        return tags

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> NumbersAsText:
        X = validate_data(self, X, reset=True)
        super().fit(rows_as_text(X), y, sample_weight)
        return self

    def partial_fit(
        self, X: Any, y: Any, classes: Any = None, sample_weight: Any = None
    ) -> NumbersAsText:
        X = validate_data(self, X, reset=not hasattr(self, "sgd_"))
        super().partial_fit(rows_as_text(X), y, classes, sample_weight)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        X = validate_data(self, X, reset=False)
        return super().predict_proba(rows_as_text(X))


def _expected_failed_checks(estimator: Any) -> dict[str, str]:
    return {
        "check_sample_weight_equivalence_on_dense_data": (
            "by design, weights are not repeated rows: SGD visits a repeated row twice per "
            "epoch in a shuffled order, and calibration folds come from the int `cv` (the "
            "check passes explicit splits, which we refuse)"
        ),
    }


#: Few hash buckets and no text preparation: fast fits on generated or numeric text.
_SMALL = {"n_word_features": 2**12, "n_char_features": 2**12, "preprocess": False}


@parametrize_with_checks(
    [
        NumbersAsText(cv=2, random_state=0, **_SMALL),
        NumbersAsText(cv=3, calibration="temperature", random_state=0, **_SMALL),
    ],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_contract(estimator: Any, check: Callable[[Any], None]) -> None:
    check(estimator)


def test_tags_say_text_in() -> None:
    tags = HashingSGDClassifier().__sklearn_tags__()
    assert tags.input_tags.string and not tags.input_tags.two_d_array
    assert tags.estimator_type == "classifier"


# --- behaviour on text ------------------------------------------------------------


@pytest.fixture(scope="module")
def hashed(articles: Corpus) -> HashingSGDClassifier:
    """``hashing-sgd.v1`` fitted on the shared generated articles (treat as read-only)."""
    model = make_model("hashing-sgd.v1", random_state=0)
    assert isinstance(model, HashingSGDClassifier)
    return model.fit(*articles)


def test_preset_is_registered_and_pinned() -> None:
    # hashing-sgd.v1 as published. Never edit this: a behaviour change makes a .v2.
    assert PRESETS["hashing-sgd.v1"]().get_params() == {
        "word_ngram_range": (1, 2),
        "char_ngram_range": (3, 5),
        "n_word_features": 2**20,
        "n_char_features": 2**20,
        "alpha": 1e-5,
        "n_epochs": 5,
        "calibration": "sigmoid",
        "cv": 5,
        "calibration_rows": 2000,
        "calibration_fraction": 0.1,
        "preprocess": True,
        "random_state": None,
    }


def test_learns_and_generalizes(hashed: HashingSGDClassifier, held_out: Corpus) -> None:
    texts, labels = held_out
    assert hashed.classes_.tolist() == ["fake", "reliable"]
    proba = hashed.predict_proba(texts)
    assert proba.shape == (len(texts), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert np.mean(hashed.predict(texts) == np.array(labels)) > 0.9
    decision = hashed.decision_function(texts)
    np.testing.assert_array_equal(
        hashed.classes_[(decision > 0).astype(int)], hashed.predict(texts)
    )


def test_raw_and_normalized_text_look_the_same(hashed: HashingSGDClassifier) -> None:
    raw = "WASHINGTON (Reuters) - The Senate committee voted on the budget, officials said."
    np.testing.assert_allclose(
        hashed.predict_proba([raw]), hashed.predict_proba([normalize(raw)]), atol=1e-9
    )


def test_evidence_adds_up_to_the_calibrated_log_odds(
    hashed: HashingSGDClassifier, held_out: Corpus
) -> None:
    for text in held_out[0][:5] + held_out[0][-5:]:
        parts = hashed.attribution(text)
        assert (parts.target, parts.other) == ("fake", "reliable")
        assert parts.rest == pytest.approx(0.0, abs=1e-9)  # short texts: every word attributed
        p_fake = hashed.predict_proba([text])[0, 0]
        assert parts.total == pytest.approx(np.log(p_fake / (1 - p_fake)), abs=1e-6)
        # the weights sit on words of the text, at their offsets
        assert all(text[s:e].strip() == text[s:e] and text[s:e] for s, e in parts.spans)
    evidence = hashed.explain(held_out[0][0], top_k=3)
    phrases = [e for e in evidence if e.kind == "phrase"]
    assert 1 <= len(phrases) <= 6
    assert all((e.weight > 0) == (e.toward == "fake") for e in evidence)
    weights = [abs(e.weight) for e in phrases]
    assert weights == sorted(weights, reverse=True)
    fake = hashed.explain("A shocking secret hoax exposed by the rigged elite.", top_k=2)
    shown = " ".join(e.term for e in fake if e.toward == "fake" and e.kind == "phrase")
    assert {"shocking", "secret", "hoax", "rigged"} & set(shown.split())


def test_more_than_two_labels(article_maker: Callable[[int, int], Corpus]) -> None:
    texts, labels = article_maker(40, 3)
    labels = [f"{label}-{i % 3}" if label == "fake" else label for i, label in enumerate(labels)]
    model = HashingSGDClassifier(cv=3, random_state=0).fit(texts, labels)
    proba = model.predict_proba(texts[:10])
    assert proba.shape == (10, 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    parts = model.attribution(texts[-1])
    assert parts.other is None and parts.target in model.classes_ and parts.weights.any()
    assert all(e.toward == parts.target for e in model.explain(texts[-1]))


def test_same_random_state_same_model(articles: Corpus, held_out: Corpus) -> None:
    one = HashingSGDClassifier(random_state=3).fit(*articles).predict_proba(held_out[0])
    two = HashingSGDClassifier(random_state=3).fit(*articles).predict_proba(held_out[0])
    np.testing.assert_array_equal(one, two)


def test_artifact_round_trip(
    hashed: HashingSGDClassifier, held_out: Corpus, tmp_path: Path
) -> None:
    card = ModelCard.create(preset="hashing-sgd.v1", params={}, labels=hashed.classes_)
    save_model(hashed, tmp_path, card)
    loaded = load_model(tmp_path).estimator
    assert isinstance(loaded, HashingSGDClassifier)
    np.testing.assert_array_equal(
        loaded.predict_proba(held_out[0]), hashed.predict_proba(held_out[0])
    )
    # no vocabulary, no reservoir and no averaging buffers: one float64 weight vector at
    # most (set by the 2**21 buckets, not the corpus), far less once compressed
    assert (tmp_path / "model.skops").stat().st_size < 8 * 2**21
    assert not hasattr(loaded, "_holdout_X")


def test_training_goes_on_after_loading(
    hashed: HashingSGDClassifier, articles: Corpus, held_out: Corpus, tmp_path: Path
) -> None:
    card = ModelCard.create(preset="hashing-sgd.v1", params={}, labels=hashed.classes_)
    loaded = load_model(save_model(hashed, tmp_path, card)).estimator
    before = loaded.sgd_.coef_.copy()
    loaded.partial_fit(*articles)  # the averaging buffers restart from the saved weights
    assert not np.array_equal(loaded.sgd_.coef_, before)
    texts, labels = held_out
    assert (loaded.predict(texts) == np.array(labels)).mean() > 0.9


def test_cached_char_ngrams_equal_the_hasher(held_out: Corpus) -> None:
    from sklearn.feature_extraction.text import HashingVectorizer

    from veracity.models.hashing import char_wb_counts

    hasher = HashingVectorizer(analyzer="char_wb", ngram_range=(2, 4), alternate_sign=False)
    texts = [*held_out[0], "", "Ünïcode  words\tand\nbreaks", "the the the"]
    for _ in range(2):  # cold cache, then warm
        assert (char_wb_counts(hasher, texts) != hasher.transform(texts)).nnz == 0


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"alpha": 0}, "alpha must be a positive number"),
        ({"calibration": "isotonic"}, "calibration must be one of sigmoid, temperature"),
        ({"n_epochs": 0}, "n_epochs must be an int >= 1"),
        ({"calibration_fraction": 1.0}, r"calibration_fraction must be in \[0, 1\)"),
        ({"word_ngram_range": (2, 1)}, "word_ngram_range must be a pair"),
    ],
)
def test_bad_params_are_refused_in_fit(
    articles: Corpus, params: dict[str, Any], message: str
) -> None:
    model = HashingSGDClassifier(**params)  # __init__ only stores them
    with pytest.raises(InputError, match=message):
        model.fit(*articles)
    assert not hasattr(model, "classes_")


def test_fit_platt_recovers_a_known_calibration() -> None:
    rng = np.random.default_rng(0)
    scores = rng.normal(0.0, 3.0, 20_000)
    y = rng.random(20_000) < 1.0 / (1.0 + np.exp(-(0.5 * scores - 1.0)))
    a, b = fit_platt(scores, y)
    assert a == pytest.approx(0.5, abs=0.05) and b == pytest.approx(-1.0, abs=0.1)
    a, b = fit_platt(scores, y, intercept=False)
    assert b == 0.0 and 0 < a < 0.5


# --- partial_fit: out-of-core training ------------------------------------------------


def _epochs(model: HashingSGDClassifier, corpus: Corpus, epochs: int, chunks: int) -> None:
    texts, labels = corpus
    rng = np.random.default_rng(0)
    for _ in range(epochs):
        for part in np.array_split(rng.permutation(len(texts)), chunks):
            model.partial_fit(
                [texts[i] for i in part], [labels[i] for i in part], classes=["fake", "reliable"]
            )


def test_partial_fit_needs_classes_first_and_refuses_new_labels(articles: Corpus) -> None:
    texts, labels = articles
    model = HashingSGDClassifier(random_state=0)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        model.partial_fit(texts, labels)
    model.partial_fit(texts, labels, classes=["fake", "reliable"])
    with pytest.raises(ValueError, match=r"labels \['satire'\] that are not in classes_"):
        model.partial_fit(texts[:2], ["fake", "satire"])


def _row_key(X: Any, i: int) -> bytes:
    row = X[i].tocsr()
    row.sort_indices()
    return bytes(row.indices.tobytes() + row.data.tobytes())


def test_partial_fit_never_trains_on_its_calibration_reservoir(
    articles: Corpus, held_out: Corpus, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sklearn.linear_model import SGDClassifier

    trained: list[bytes] = []
    original = SGDClassifier.partial_fit

    def spy(self: Any, X: Any, *args: Any, **kwargs: Any) -> Any:
        trained.extend(_row_key(X, i) for i in range(X.shape[0]))
        return original(self, X, *args, **kwargs)

    monkeypatch.setattr(SGDClassifier, "partial_fit", spy)
    model = HashingSGDClassifier(
        calibration_rows=15, calibration_fraction=0.2, random_state=0, **_SMALL
    )
    _epochs(model, articles, epochs=3, chunks=5)
    texts = model.prepare_texts(articles[0])
    hashes = np.unique(model._hashes(texts))
    # the reservoir is the bottom-k of the distinct hashes under the fraction ...
    expected = np.sort(hashes[hashes < 0.2])[:15]
    np.testing.assert_array_equal(np.sort(model._holdout_h), expected)
    # ... and none of its rows was ever given to SGD, in any epoch
    held = {_row_key(model._holdout_X, i) for i in range(15)}
    assert len(held) == 15 and not held & set(trained)
    # every other row is trained on in every epoch, except rows evicted from the
    # reservoir in epoch 1 (held out until then, so skipped in that epoch only)
    most = 3 * len(texts) - 3 * 15
    assert most - int(np.sum(hashes < 0.2)) <= len(trained) <= most
    assert model.n_texts_seen_ == 3 * len(texts)
    assert np.mean(model.predict(held_out[0]) == np.array(held_out[1])) > 0.9
