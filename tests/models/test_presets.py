"""Versioned presets: names are stable, values are pinned, unknown names are explained."""

from __future__ import annotations

import subprocess
import sys

import pytest

from veracity.errors import InputError
from veracity.models import PRESETS, make_model
from veracity.models.linear import TfidfLogisticClassifier

#: tfidf-lr.v1 as published. Never edit a value: a behaviour change makes a .v2. A
#: parameter added later joins with the value that reproduces the published behaviour.
TFIDF_LR_V1 = {
    "word_ngram_range": (1, 2),
    "char_ngram_range": (2, 5),
    "max_word_features": 100_000,
    "max_char_features": 100_000,
    "min_df": 2,
    "C": 10.0,
    "calibration": "sigmoid",
    "cv": 5,
    "preprocess": True,
    "domain_drop": 0.0,  # added later; 0.0 drops nothing, as v1 always did
    "random_state": None,
}


def test_v1_is_registered_and_pinned() -> None:
    assert "tfidf-lr.v1" in PRESETS
    model = make_model("tfidf-lr.v1")
    assert isinstance(model, TfidfLogisticClassifier)
    assert model.get_params() == TFIDF_LR_V1


def test_params_override_the_preset() -> None:
    model = make_model("tfidf-lr.v1", C=3.0, random_state=5)
    assert (model.C, model.random_state, model.cv) == (3.0, 5, 5)


def test_unknown_preset_lists_the_known_ones() -> None:
    with pytest.raises(InputError, match=r"unknown model preset 'tfidf-lr'.*tfidf-lr\.v1"):
        make_model("tfidf-lr")


def test_unknown_parameter_is_named() -> None:
    with pytest.raises(InputError, match=r"no parameter 'alpha'.*min_df"):
        make_model("tfidf-lr.v1", alpha=1.0)


def test_importing_models_artifact_and_detector_does_not_load_sklearn() -> None:
    code = (
        "import sys, veracity.models, veracity.models.artifact, veracity.detector, "
        "veracity.explain, veracity.models.fast, veracity.models.hashing_core; "
        "print(sorted(m for m in ('sklearn', 'skops') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_v2_is_v1_with_domain_robust_training() -> None:
    model = make_model("tfidf-lr.v2")
    assert isinstance(model, TfidfLogisticClassifier)
    assert model.get_params() == {**TFIDF_LR_V1, "domain_drop": 0.02}


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_every_preset_answers_model_input(preset: str) -> None:
    """The model protocol: each estimator says what X its fit/predict_proba take."""
    import pandas as pd

    from veracity.data import Dataset
    from veracity.models.protocol import VeracityModel

    model = make_model(preset)
    assert isinstance(model, VeracityModel)
    frame = pd.DataFrame(
        {"id": ["1", "2"], "title": ["T", ""], "text": ["one", "two"], "label": ["fake"] * 2}
    )
    frame["speaker"] = ["ann", "bob"]
    dataset = Dataset("d", frame, [], "article")
    got = model.model_input(dataset)
    if preset == "claims-meta.v1":
        assert got["text"].tolist() == ["T\n\none", "two"]
        assert got["speaker"].tolist() == ["ann", "bob"]
        assert model.model_input(frame.assign(doc=dataset.texts())).equals(got)
    else:
        assert got == ["T\n\none", "two"] == dataset.texts()
        assert model.model_input(frame.assign(doc=dataset.texts())) == got
    assert model.model_input(["a text"]) == ["a text"]
    with pytest.raises(InputError, match="'doc' column"):
        model.model_input(frame)
