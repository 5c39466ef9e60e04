"""Metrics agree with hand computations and sklearn; CIs bracket the estimate."""

from __future__ import annotations

import numpy as np
import pytest

from veracity.evaluate import evaluate_binary, expected_calibration_error


def test_ece_hand_computed() -> None:
    # bin of p=0.25 (2 rows, 1 positive): |0.5-0.25| ; bin of p=0.95 (2 rows, 2 positive): 0.05
    ece = expected_calibration_error([0, 1, 1, 1], [0.25, 0.25, 0.95, 0.95], n_bins=15)
    assert ece == pytest.approx((2 * 0.25 + 2 * 0.05) / 4)


def test_ece_perfect_and_worst() -> None:
    assert expected_calibration_error([0, 1], [0.0, 1.0]) == 0.0
    assert expected_calibration_error([1, 0], [0.0, 1.0]) == pytest.approx(1.0)


def test_calibrated_forecast_has_small_ece() -> None:
    rng = np.random.default_rng(0)
    p = rng.uniform(size=20000)
    y = (rng.uniform(size=20000) < p).astype(int)
    assert expected_calibration_error(y, p) < 0.02
    assert expected_calibration_error(y, np.clip(p * 0.5, 0, 1)) > 0.2


def test_evaluate_binary_numbers_and_confusion() -> None:
    y = ["fake", "fake", "reliable", "reliable", "fake"]
    p = [0.9, 0.4, 0.2, 0.7, 0.8]
    r = evaluate_binary(y, p, n_boot=200)
    assert r.n == 5
    assert r.accuracy.value == pytest.approx(3 / 5)
    # rows: true reliable, true fake; cols: predicted reliable, predicted fake
    assert r.confusion == [[1, 1], [1, 2]]
    assert r.roc_auc is not None and r.roc_auc.value == pytest.approx(5 / 6)
    assert r.accuracy.low <= r.accuracy.value <= r.accuracy.high
    assert r.brier == pytest.approx(np.mean([0.01, 0.36, 0.04, 0.49, 0.04]))


def test_abstention_accuracy_on_answered_rows() -> None:
    r = evaluate_binary(["fake", "reliable"], [0.9, 0.6], abstained=[False, True], n_boot=10)
    assert r.abstained == 1
    assert r.accuracy_answered == 1.0
    assert r.accuracy.value == 0.5


def test_unknown_labels_rejected() -> None:
    with pytest.raises(ValueError, match="neither"):
        evaluate_binary(["fake", "true"], [0.5, 0.5])


def test_risk_coverage_answers_the_most_confident_first() -> None:
    from veracity.evaluate.metrics import risk_coverage

    correct = [True, True, True, False, True, False, False, True, False, False]
    confidence = [0.5, 0.45, 0.4, 0.35, 0.3, 0.25, 0.2, 0.15, 0.1, 0.05]
    curve = dict(risk_coverage(correct, confidence))
    assert curve[0.1] == 1.0 and curve[0.3] == 1.0
    assert curve[0.5] == pytest.approx(0.8) and curve[1.0] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="same, non-zero"):
        risk_coverage([], [])
