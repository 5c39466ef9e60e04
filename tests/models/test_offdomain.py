"""hashing-sgd.v2: off-domain calibration, novelty, the learned "not sure" band, weights."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks
from sklearn.utils.validation import validate_data

from synthetic import FAKE_WORDS, RELIABLE_WORDS, rows_as_text, synthetic_frame
from veracity.detector import Detector
from veracity.errors import InputError
from veracity.models import fit_model, make_model
from veracity.models.artifact import ModelCard, load_model, save_model
from veracity.models.offdomain import OffDomainHashingClassifier, choose_band, domain_weights
from veracity.settings import Settings

_SMALL = {
    "n_word_features": 2**12,
    "n_char_features": 2**12,
    "novelty_buckets": 2**14,
    "preprocess": False,
}


class NumbersAsText(OffDomainHashingClassifier):
    """The v2 classifier seen through numeric 2-D input (for sklearn's checks only)."""

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True
        tags.input_tags.string = False
        return tags

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> NumbersAsText:  # type: ignore[override]
        X = validate_data(self, X, reset=True)
        super().fit(rows_as_text(X), y, sample_weight)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        X = validate_data(self, X, reset=False)
        return super().predict_proba(rows_as_text(X))


def _expected_failed_checks(estimator: Any) -> dict[str, str]:
    return {
        "check_sample_weight_equivalence_on_dense_data": (
            "weights are not repeated rows: SGD visits a repeated row twice per epoch, and "
            "the calibration folds come from the int `cv`"
        ),
    }


@parametrize_with_checks(
    [NumbersAsText(cv=2, random_state=0, **_SMALL)],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_contract(estimator: Any, check: Callable[[Any], None]) -> None:
    check(estimator)


# -- on generated corpora with sources ---------------------------------------------------


@pytest.fixture(scope="module")
def three_sources() -> pd.DataFrame:
    frames = [
        synthetic_frame(name, topic, n_per_class=60, seed=i).assign(domain=name)
        for i, (name, topic) in enumerate(
            [("a", ["alpha", "beta"]), ("b", ["gamma", "delta"]), ("c", ["eps", "zeta"])]
        )
    ]
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def fitted(three_sources: pd.DataFrame) -> OffDomainHashingClassifier:
    model = make_model("hashing-sgd.v2", random_state=0, cv=3, **_SMALL)
    fit_model(
        model,
        three_sources.text.tolist(),
        three_sources.label.tolist(),
        domains=three_sources.domain.tolist(),
    )
    assert isinstance(model, OffDomainHashingClassifier)
    return model


def test_learns_and_reports_every_source_in_and_off_domain(
    fitted: OffDomainHashingClassifier,
) -> None:
    report = fitted.offdomain_
    assert set(report["in_domain"]) == set(report["off_domain"]) == {"a", "b", "c"}
    for part in ("in_domain", "off_domain"):
        for numbers in report[part].values():
            assert numbers["roc_auc"] > 0.8 and 0 <= numbers["ece"] <= 1
    # a source's own words are new to a model that never saw it
    off = np.mean([v["novelty"] for v in report["off_domain"].values()])
    within = np.mean([v["novelty"] for v in report["in_domain"].values()])
    assert off > within
    assert fitted.predict(["shocking secret hoax exposed " * 5]).tolist() == ["fake"]


def test_novelty_is_the_share_of_unknown_words(fitted: OffDomainHashingClassifier) -> None:
    known = " ".join(FAKE_WORDS + RELIABLE_WORDS)
    unknown = "qwxz vbnm plokij uhygtf rdeswa zxcvbn"
    novelty = fitted.novelty([known, unknown, f"{known} {unknown}", ""])
    assert novelty[0] == pytest.approx(0.0)
    assert novelty[1] == pytest.approx(1.0)
    assert novelty[2] == pytest.approx(6 / (6 + len(set(FAKE_WORDS + RELIABLE_WORDS))))
    assert novelty[3] == 1.0  # no words: nothing known


def test_unfamiliar_text_gets_a_flatter_probability_and_a_wider_band(
    fitted: OffDomainHashingClassifier,
) -> None:
    """The calibrator trusts a score less when the text's words are new to the model."""
    b, a, c, d = fitted.calibrator_
    assert a > 0
    s, u = np.array([2.0, 2.0]), np.array([0.0, 0.8])
    expected = 1 / (1 + np.exp(-(b + a * s + c * s * u + d * u)))
    np.testing.assert_allclose(fitted._calibrated(s, u), expected)
    half = fitted.abstain_halfwidth(np.array([0.0, 0.5, 1.0]))
    assert half[0] <= half[1] <= half[2]
    assert fitted.abstain_base_ == half[0]


def test_probabilities_and_evidence_agree_in_calibrated_units(
    fitted: OffDomainHashingClassifier,
) -> None:
    text = "shocking secret exposed hoax elite " * 4 + "senate committee budget"
    p = float(fitted.predict_proba([text])[0, list(fitted.classes_).index("fake")])
    parts = fitted.attribution(text)
    assert parts.target == "fake"
    assert parts.total == pytest.approx(np.log(p / (1 - p)), abs=1e-6)
    shown = [e for e in fitted.explain(text) if e.kind == "phrase"]
    assert shown and all(text[e.start : e.end] == e.term for e in shown)  # type: ignore[misc]


def test_domain_weights_balance_sources_and_labels() -> None:
    dom = np.array(["big"] * 90 + ["small"] * 10, dtype=object)
    y = np.array(["fake"] * 80 + ["reliable"] * 10 + ["fake"] * 5 + ["reliable"] * 5)
    w = domain_weights(dom, y, "balanced", None)
    assert w.mean() == pytest.approx(1.0)
    for d in ("big", "small"):
        for c in ("fake", "reliable"):
            assert w[(dom == d) & (y == c)].sum() == pytest.approx(25.0)
    assert np.all(domain_weights(dom, y, "none", None) == 1.0)


def test_worst_weighting_up_weights_the_hardest_source(three_sources: pd.DataFrame) -> None:
    noisy = three_sources.copy()
    rows = noisy.index[noisy.domain == "c"]
    rng = np.random.default_rng(0)
    flip = rng.choice(rows, size=len(rows) // 3, replace=False)
    noisy.loc[flip, "label"] = noisy.loc[flip, "label"].map(
        {"fake": "reliable", "reliable": "fake"}
    )
    losses = OffDomainHashingClassifier._domain_losses(
        np.zeros(len(noisy)), (noisy.label == "fake").to_numpy(float), noisy.domain.to_numpy()
    )
    assert set(losses) == {"a", "b", "c"}
    model = make_model("hashing-sgd.v2", random_state=0, cv=3, domain_weighting="worst", **_SMALL)
    fit_model(model, noisy.text.tolist(), noisy.label.tolist(), domains=noisy.domain.tolist())
    assert (
        model.offdomain_["in_domain"]["c"]["roc_auc"]
        < model.offdomain_["in_domain"]["a"]["roc_auc"]
    )


def test_choose_band_meets_the_target_with_most_coverage() -> None:
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 1, 2000)
    # right far from 0.5, a coin flip near it
    correct = np.where(np.abs(p - 0.5) > 0.2, True, rng.uniform(size=2000) < 0.5)
    u = np.zeros(2000)
    groups = np.array(["g1", "g2"] * 1000)
    base, slope, got = choose_band(p, u, correct, groups, target_accuracy=0.85, min_coverage=0.3)
    assert got["accuracy"] >= 0.85 and got["coverage"] >= 0.3
    answered = np.abs(p - 0.5) >= base + slope * u
    assert correct[answered].mean() == pytest.approx(got["accuracy"], abs=0.02)
    # unreachable: the most accurate band that still answers the floor
    _, _, got = choose_band(p, u, correct, groups, target_accuracy=0.999, min_coverage=0.9)
    assert got["coverage"] >= 0.9 and got["accuracy"] < 0.999


def test_bad_params_and_partial_fit_are_refused() -> None:
    with pytest.raises(InputError, match="domain_weighting"):
        make_model("hashing-sgd.v2", domain_weighting="max").fit(
            ["a b"] * 10, ["fake"] * 5 + ["reliable"] * 5
        )
    assert not hasattr(make_model("hashing-sgd.v2"), "partial_fit")  # Dask training says so


def test_round_trip_and_detector_abstains_on_unfamiliar_text(
    fitted: OffDomainHashingClassifier, three_sources: pd.DataFrame, tmp_path: Path
) -> None:
    card = ModelCard.create(preset="hashing-sgd.v2", params={}, labels=["fake", "reliable"])
    save_model(fitted, tmp_path / "m", card)
    loaded = load_model(tmp_path / "m")
    texts = three_sources.text.tolist()[:20]
    np.testing.assert_allclose(loaded.estimator.predict_proba(texts), fitted.predict_proba(texts))
    detector = Detector(loaded, Settings(abstain_low=0.5, abstain_high=0.5, min_words=1))
    p, novelty, half = detector.scores(["qwxz vbnm plokij uhygtf rdeswa zxcvbn " * 4])
    assert novelty is not None and half is not None and novelty[0] == 1.0
    verdict = detector.check("qwxz vbnm plokij uhygtf rdeswa zxcvbn " * 4)
    if abs(p[0] - 0.5) < half[0]:
        assert verdict.abstained
        assert verdict.reason is not None and (
            "unlike the texts veracity was trained on" in verdict.reason
            or "the model is not sure" in verdict.reason
        )
    familiar = detector.check("shocking secret hoax exposed elite outrage " * 5)
    assert familiar.label == "fake"


def test_novelty_reads_the_packed_bit_set_like_unpacking_it(
    fitted: OffDomainHashingClassifier, three_sources: pd.DataFrame
) -> None:
    """The per-bucket lookup gives what unpacking all the bits and counting gave."""
    texts = [*three_sources["text"].tolist()[:50], "", "zzqx wwqy brandnewword", "the the"]
    prepared = fitted.prepare_texts(texts)
    seen = np.unpackbits(fitted.seen_words_, count=int(fitted.novelty_buckets))
    words = fitted._word_sets(prepared)
    unknown = (seen == 0).astype(np.float64)
    n_words = np.diff(words.indptr)
    expected = np.where(n_words > 0, (words @ unknown) / np.maximum(n_words, 1), 1.0)
    got = fitted.novelty(texts)
    assert np.array_equal(got, expected)
    assert got[50] == 1.0 and 0 < got[51] <= 1.0 and got[:50].mean() < 0.5
