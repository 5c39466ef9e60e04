"""Reliability curves, ECE/Brier, and temperature scaling (calibrator and model option)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import skops.io
from scipy.special import expit
from sklearn.base import clone

from veracity.errors import InputError
from veracity.evaluate.calibration import (
    as_binary,
    brier_score,
    calibration_summary,
    reliability_curve,
    temperature_scale,
)
from veracity.evaluate.metrics import expected_calibration_error
from veracity.models import make_model
from veracity.models.artifact import ALLOWED_TYPES, ModelCard, load_model, save_model
from veracity.models.linear import TemperatureScaling, TfidfLogisticClassifier, fit_temperature

WORDS = {
    "reliable": "senate committee budget official minister agency report percent economy".split(),
    "fake": "shocking secret truth exposed hoax elite outrage insane bombshell rigged".split(),
    "other": "weather sports music travel garden recipe museum river mountain".split(),
}
COMMON = "the of and to in that is for on with as was by at it from this have are".split()


def _articles(
    n_per_class: int,
    seed: int,
    labels: tuple[str, ...] = ("reliable", "fake"),
    flip: float = 0.0,
) -> tuple[list[str], list[str]]:
    """Short generated texts: common words, 6 words of their class, 2 of another (overlap).

    A share ``flip`` of the labels is replaced by another label (label noise), so that
    out-of-fold scores are not perfectly separable.
    """
    rng = np.random.default_rng(seed)
    texts, y = [], []
    for label in labels:
        others = [w for k, v in WORDS.items() if k != label for w in v]
        for _ in range(n_per_class):
            words = [*rng.choice(COMMON, 20), *rng.choice(WORDS[label], 6), *rng.choice(others, 2)]
            rng.shuffle(words)
            texts.append(" ".join(words))
            wrong = [v for v in labels if v != label]
            y.append(str(rng.choice(wrong)) if rng.random() < flip else label)
    return texts, y


def _overconfident(n: int, seed: int, scale: float = 4.0) -> tuple[np.ndarray, np.ndarray]:
    """Labels drawn from sigmoid(z), and scores ``scale * z`` that overstate them."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0.0, 1.5, n)
    y = (rng.random(n) < expit(z)).astype(np.int64)
    return scale * z, y


# -- reliability curve, ECE, Brier -----------------------------------------------------


def test_reliability_curve_bins_like_ece() -> None:
    rng = np.random.default_rng(0)
    p = rng.random(2000)
    y = (rng.random(2000) < p**2).astype(int)
    curve = reliability_curve(y, p, n_bins=10)
    assert curve.n_bins == 10
    assert curve.counts.sum() == 2000
    np.testing.assert_allclose(curve.edges, np.linspace(0, 1, 11))
    np.testing.assert_allclose(curve.centers, np.arange(0.05, 1.0, 0.1))
    filled = curve.counts > 0
    assert (
        (curve.mean_predicted[filled] >= curve.edges[:-1][filled])
        & (curve.mean_predicted[filled] <= curve.edges[1:][filled])
    ).all()
    # ECE is the count-weighted gap of the same bins
    gaps = np.abs(curve.observed[filled] - curve.mean_predicted[filled])
    ece = float((gaps * curve.counts[filled]).sum() / curve.counts.sum())
    assert ece == pytest.approx(expected_calibration_error(y, p, 10))
    # under-confident at the top, since P(y=1) = p^2 < p
    assert curve.observed[-1] < curve.mean_predicted[-1]


def test_reliability_curve_marks_empty_bins_and_takes_labels() -> None:
    curve = reliability_curve(["fake", "reliable", "fake"], [0.95, 0.05, 1.0], n_bins=4)
    assert curve.counts.tolist() == [1, 0, 0, 2]
    assert np.isnan(curve.observed[1]) and np.isnan(curve.mean_predicted[2])
    assert curve.observed[3] == 1.0 and curve.observed[0] == 0.0
    as_json = curve.to_dict()
    assert as_json["observed"][1] is None and as_json["counts"] == [1, 0, 0, 2]


def test_summary_brier_and_binary_labels() -> None:
    assert brier_score([1, 0], [0.8, 0.4]) == pytest.approx((0.04 + 0.16) / 2)
    summary = calibration_summary(["fake", "reliable"], [0.8, 0.4], n_bins=5)
    assert summary.n == 2 and summary.brier == pytest.approx(0.1)
    assert summary.ece == pytest.approx(expected_calibration_error([1, 0], [0.8, 0.4], 5))
    assert summary.to_dict()["curve"]["counts"] == [0, 0, 1, 0, 1]
    assert as_binary(["real", "fake"]).tolist() == [0, 1]
    assert as_binary(np.array([True, False])).tolist() == [1, 0]
    assert as_binary(["yes", "no"], positive="yes").tolist() == [1, 0]


@pytest.mark.parametrize(
    ("y", "p", "match"),
    [
        ([1, 0], [0.5], "one probability per label"),
        ([], [], "at least one"),
        ([1, 0], [0.5, 1.5], r"in \[0, 1\]"),
        ([1, 0], [0.5, float("nan")], "finite"),
        ([2, 0], [0.5, 0.5], "0 or 1"),
    ],
)
def test_bad_inputs_say_what_is_wrong(y: list[int], p: list[float], match: str) -> None:
    with pytest.raises(InputError, match=match):
        reliability_curve(y, p)


def test_zero_bins_is_refused() -> None:
    with pytest.raises(InputError, match="n_bins"):
        reliability_curve([1], [0.5], n_bins=0)


# -- temperature scaling on scores -------------------------------------------------------


def test_temperature_recovers_the_overconfidence_and_lowers_ece() -> None:
    fit_scores, fit_y = _overconfident(4000, seed=1)
    test_scores, test_y = _overconfident(4000, seed=2)
    scaler = TemperatureScaling().fit(fit_scores, fit_y)
    assert scaler.temperature_ == pytest.approx(4.0, rel=0.15)
    before = expected_calibration_error(test_y, expit(test_scores))
    after = expected_calibration_error(test_y, scaler.predict(test_scores))
    assert before > 0.08
    assert after < before / 3
    assert after < 0.03
    # one temperature keeps the ranking and the 0.5 threshold
    np.testing.assert_array_equal(np.argsort(scaler.predict(test_scores)), np.argsort(test_scores))
    assert scaler.predict([0.0]).tolist() == [0.5]


def test_underconfident_scores_get_a_temperature_below_one() -> None:
    scores, y = _overconfident(3000, seed=3, scale=0.25)
    assert fit_temperature(scores, y) == pytest.approx(0.25, rel=0.2)


def test_temperature_scale_returns_t_and_probabilities() -> None:
    scores, y = _overconfident(500, seed=4)
    labels = np.where(y == 1, "fake", "reliable")
    t, p = temperature_scale(scores, labels)
    assert t > 1.5 and p.shape == (500,)
    assert ((p > 0) & (p < 1)).all()


def test_sample_weight_counts_like_repeated_rows() -> None:
    scores = np.array([-3.0, -1.0, 1.0, 2.0, 3.0, -2.0])
    y = np.array([0, 1, 1, 0, 1, 0])
    weights = np.array([1, 2, 1, 3, 1, 2])
    repeated = fit_temperature(np.repeat(scores, weights), np.repeat(y, weights))
    assert fit_temperature(scores, y, weights) == pytest.approx(repeated, rel=1e-4)


@pytest.mark.parametrize(
    ("scores", "y", "match"),
    [([1.0, 2.0], [1], "as many scores"), ([1.0], [2], "0/1"), ([np.inf], [1], "finite")],
)
def test_fit_temperature_refuses_bad_input(scores: list[float], y: list[int], match: str) -> None:
    with pytest.raises(InputError, match=match):
        fit_temperature(scores, y)


def test_temperature_scaling_is_an_sklearn_style_estimator() -> None:
    scaler = TemperatureScaling()
    assert clone(scaler).get_params() == {}
    with pytest.raises(Exception, match="not fitted"):
        scaler.predict([0.0])


# -- calibration="temperature" in the model ----------------------------------------------


@pytest.fixture(scope="module")
def corpus() -> tuple[list[str], list[str]]:
    return _articles(60, seed=0, flip=0.15)


@pytest.fixture(scope="module")
def held_out() -> tuple[list[str], list[str]]:
    return _articles(30, seed=1)


@pytest.fixture(scope="module")
def temperature_model(corpus: tuple[list[str], list[str]]) -> TfidfLogisticClassifier:
    return TfidfLogisticClassifier(calibration="temperature", cv=3, random_state=0).fit(*corpus)


@pytest.mark.parametrize("calibration", ["sigmoid", "isotonic", "temperature"])
def test_every_calibration_gives_valid_probabilities(
    calibration: str, corpus: tuple[list[str], list[str]], held_out: tuple[list[str], list[str]]
) -> None:
    model = make_model("tfidf-lr.v1", calibration=calibration, cv=3, random_state=0)
    model.fit(*corpus)
    proba = model.predict_proba(held_out[0])
    assert proba.shape == (len(held_out[0]), 2)
    assert model.classes_.tolist() == ["fake", "reliable"]
    assert np.isfinite(proba).all() and (proba >= 0).all() and (proba <= 1).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert (model.predict(held_out[0]) == np.asarray(held_out[1])).mean() > 0.8
    assert np.isfinite(model.decision_function(held_out[0])).all()


def test_temperature_model_keeps_one_linear_model_and_its_evidence(
    temperature_model: TfidfLogisticClassifier, held_out: tuple[list[str], list[str]]
) -> None:
    model = temperature_model
    assert model.calibrated_ is None and model.temperature_ is not None
    assert model.temperature_ > 0
    raw = model.linear_score(held_out[0])
    proba = model.predict_proba(held_out[0])
    np.testing.assert_allclose(proba[:, 1], expit(raw / model.temperature_), rtol=1e-6)
    coef, _ = model.linear_weights()
    assert coef.shape[0] == 1
    assert model.explain(held_out[0][0], top_k=3)


def test_temperature_is_fitted_on_out_of_fold_scores(
    corpus: tuple[list[str], list[str]],
) -> None:
    # In-sample scores of a C=10 regression separate the training texts almost perfectly,
    # which would drive T toward its lower bound; out-of-fold scores do not.
    model = TfidfLogisticClassifier(calibration="temperature", cv=3, random_state=0)
    model.fit(*corpus)
    in_sample = fit_temperature(
        model.linear_score(corpus[0]), np.asarray(corpus[1]) == model.classes_[1]
    )
    assert model.temperature_ is not None and model.temperature_ > in_sample


def test_temperature_needs_two_classes() -> None:
    texts, y = _articles(10, seed=2, labels=("reliable", "fake", "other"))
    with pytest.raises(InputError, match="Only binary classification is supported"):
        TfidfLogisticClassifier(calibration="temperature", cv=3).fit(texts, y)
    # the other calibrations still handle three classes
    sigmoid = TfidfLogisticClassifier(calibration="sigmoid", cv=3, random_state=0).fit(texts, y)
    assert sigmoid.predict_proba(texts[:2]).shape == (2, 3)


def test_refitting_with_another_calibration_leaves_no_temperature(
    corpus: tuple[list[str], list[str]],
) -> None:
    model = TfidfLogisticClassifier(calibration="temperature", cv=3, random_state=0).fit(*corpus)
    model.set_params(calibration="sigmoid").fit(*corpus)
    assert model.temperature_ is None and model.calibrated_ is not None
    reference = TfidfLogisticClassifier(calibration="sigmoid", cv=3, random_state=0).fit(*corpus)
    np.testing.assert_allclose(
        model.predict_proba(corpus[0][:5]), reference.predict_proba(corpus[0][:5])
    )


def test_temperature_model_round_trips_through_skops(
    tmp_path: Path,
    temperature_model: TfidfLogisticClassifier,
    held_out: tuple[list[str], list[str]],
) -> None:
    untrusted = set(skops.io.get_untrusted_types(data=skops.io.dumps(temperature_model)))
    assert untrusted <= ALLOWED_TYPES
    card = ModelCard.create(
        preset="tfidf-lr.v1",
        params={"calibration": "temperature", "cv": 3, "random_state": 0},
        labels=temperature_model.classes_,
    )
    loaded = load_model(save_model(temperature_model, tmp_path / "model", card))
    assert loaded.estimator.temperature_ == temperature_model.temperature_
    np.testing.assert_array_equal(
        loaded.estimator.predict_proba(held_out[0]), temperature_model.predict_proba(held_out[0])
    )
