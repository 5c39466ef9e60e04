"""What load_model checks before it trusts bytes: the card's schema (#13).

``card.json`` is not covered by the sha256 of ``model.skops``, so anyone who can write
the model directory can edit it: every field's type is checked on load (metrics are
numbers or null, or intervals and sections of them; nesting is bounded), and a card
that fails is a ModelIntegrityError (exit 3 from the CLI, one line, no traceback).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from veracity.cli import app
from veracity.detector import default_model_path
from veracity.errors import ModelIntegrityError
from veracity.models.artifact import (
    CARD_FILE,
    ModelCard,
    load_card,
    load_model,
    save_model,
)
from veracity.models.linear import TfidfLogisticClassifier
from veracity.models.verify import MAX_CARD_BYTES, MAX_CARD_DEPTH

ARTICLE = "The Senate committee said on Friday that the budget grew two percent. " * 3
METRICS = {  # what training writes: MetricReport.to_dict() per held-out set
    "held-out": {
        "n": 60,
        "positive": "fake",
        "labels": ["reliable", "fake"],
        "accuracy": {"value": 0.9, "low": 0.85, "high": 0.95},
        "macro_f1": {"value": 0.9, "low": 0.85, "high": 0.95},
        "roc_auc": None,
        "ece": float("nan"),
        "brier": 0.08,
        "confusion": [[27, 3], [3, 27]],
        "abstained": 0,
        "accuracy_answered": None,
        "extra": {"dataset": "held-out", "model_id": "x"},
    }
}


@pytest.fixture
def saved(tmp_path: Path, fitted: TfidfLogisticClassifier) -> Path:
    card = ModelCard.create(
        preset="tfidf-lr.v1", params={}, labels=fitted.classes_, metrics=METRICS, ece=0.03
    )
    return save_model(fitted, tmp_path / "model", card)


def _edit_card(directory: Path, edit: Callable[[dict[str, Any]], object]) -> None:
    path = directory / CARD_FILE
    card = json.loads(path.read_text(encoding="utf-8"))
    edit(card)
    path.write_text(json.dumps(card), encoding="utf-8")


def _nested(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


BAD_CARDS: dict[str, tuple[Callable[[dict[str, Any]], object], str]] = {
    "metric-as-text": (
        lambda c: c.update(metrics={"accuracy": "high"}),
        "metrics.accuracy must be a number, null",
    ),
    "nested-metric-as-text": (
        lambda c: c["metrics"]["held-out"].update(accuracy="high"),
        "metrics.held-out.accuracy must be a number, null",
    ),
    "interval-bound-as-text": (
        lambda c: c["metrics"]["held-out"]["accuracy"].update(low="high"),
        "metrics.held-out.accuracy.low must be a number or null, not text",
    ),
    "interval-value-as-text": (
        lambda c: c["metrics"]["held-out"]["accuracy"].update(value="high"),
        "metrics.held-out.accuracy.value must be a number or null",
    ),
    "interval-with-unknown-key": (
        lambda c: c["metrics"]["held-out"]["accuracy"].update(note=1),
        "unknown keys ['note']",
    ),
    "metric-as-a-list": (
        lambda c: c["metrics"]["held-out"].update(brier=[0.1]),
        "metrics.held-out.brier must be",
    ),
    "metrics-nested-too-deep": (
        lambda c: c.update(metrics={"a": {"b": {"c": {"d": 0.5}}}}),
        "metrics.a.b.c must be",
    ),
    "ece-as-bool": (lambda c: c.update(ece=True), "ece must be a number or null"),
    "rows-as-text": (lambda c: c.update(rows={"train": "many"}), "rows must be"),
    "versions-as-numbers": (lambda c: c.update(versions={"sklearn": 1.5}), "versions must be"),
    "seed-as-text": (lambda c: c.update(seed="42"), "seed must be a whole number or null"),
    "labels-as-numbers": (lambda c: c.update(labels=[0, 1]), "labels must be a list of text"),
    "training-rows-as-text": (
        lambda c: c.update(training_data=[{"name": "a", "sha256": "b", "rows": "12"}]),
        "training_data[0] must be",
    ),
    "nested-too-deep": (
        lambda c: c.update(extra={"a": _nested(MAX_CARD_DEPTH + 5)}),
        f"nested deeper than {MAX_CARD_DEPTH} levels",
    ),
    "over-the-size-limit": (
        lambda c: c.update(extra={"padding": "x" * MAX_CARD_BYTES}),
        f"over the limit of {MAX_CARD_BYTES:,} bytes",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CARDS))
def test_a_card_with_a_mistyped_field_is_refused(saved: Path, case: str) -> None:
    edit, message = BAD_CARDS[case]
    _edit_card(saved, edit)
    with pytest.raises(ModelIntegrityError, match="is not a valid model card") as info:
        load_model(saved)
    assert message in str(info.value)
    with pytest.raises(ModelIntegrityError, match="is not a valid model card"):
        load_card(saved)
    result = CliRunner().invoke(app, ["check", "--model", str(saved), ARTICLE])
    assert result.exit_code == 3, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]


@pytest.mark.parametrize(
    "metrics",
    [
        pytest.param({"accuracy": 0.97}, id="flat"),
        pytest.param({"accuracy": {"value": 0.97, "ci_low": 0.9, "ci_high": 0.99}}, id="ci"),
        pytest.param({"liar": {"accuracy": 0.6}, "isot": {"roc_auc": None}}, id="per-dataset"),
        pytest.param({"cross": {"liar": {"accuracy": {"value": 0.6}}}}, id="two-sections"),
        pytest.param({}, id="none"),
    ],
)
def test_cards_veracity_writes_still_load(saved: Path, metrics: dict[str, Any]) -> None:
    _edit_card(saved, lambda c: c.update(metrics=metrics))
    assert load_model(saved).card.metrics == metrics


def test_the_training_metrics_and_the_bundled_card_pass(saved: Path) -> None:
    assert load_card(saved).metrics["held-out"]["confusion"] == [[27, 3], [3, 27]]
    bundled = load_card(default_model_path())
    assert bundled.metrics and bundled.model_sha256
