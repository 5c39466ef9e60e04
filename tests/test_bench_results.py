"""The committed benchmark result is what bench/accuracy.py wrote under the committed rule.

The choice of the bundled model is re-derived from the result's rows, and so is every
nested (per held-out dataset) choice: editing a number by hand, or changing the rule
after the run, makes these fail.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
RESULT = ROOT / "bench" / "results" / "accuracy.json"
RULE = ROOT / "bench" / "selection_rule.json"
CARD = ROOT / "src" / "veracity" / "resources" / "default_model" / "card.json"


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.fixture(scope="module")
def bench(monkeypatch_module: pytest.MonkeyPatch) -> ModuleType:
    # as `python bench/accuracy.py` runs it: its folder first on sys.path (bench/_provenance)
    monkeypatch_module.syspath_prepend(str(ROOT / "bench"))
    spec = importlib.util.spec_from_file_location("bench_accuracy", ROOT / "bench" / "accuracy.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def result() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(RESULT.read_text(encoding="utf-8"))
    return data


def test_it_ran_under_the_committed_rule_at_a_clean_commit(result: dict[str, Any]) -> None:
    assert result["rule"] == json.loads(RULE.read_text(encoding="utf-8"))
    assert result["rule_sha256"] == hashlib.sha256(RULE.read_bytes()).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{40}", result["commit"])
    assert result["dirty"] is False
    assert result["max_rows"] is None  # the full datasets, not a quick look
    assert len(result["rule"]["datasets"]) >= 8


def test_every_candidate_has_every_fold(result: dict[str, Any]) -> None:
    names = result["rule"]["datasets"]
    expected = {c["name"] for c in result["rule"]["candidates"]} | {"reference"}
    assert {r["name"] for r in result["results"]} == expected
    for row in result["results"]:
        assert set(row["folds"]) == set(names)
        aucs = [row["folds"][n]["roc_auc"] for n in names]
        assert row["mean_auc"] == pytest.approx(sum(aucs) / len(aucs), abs=1e-4)
        assert row["min_auc"] == pytest.approx(min(aucs), abs=1e-4)
        assert row["auc_difference"]["low"] <= row["auc_difference"]["high"]


def test_the_choice_is_re_derived_from_the_rows(bench: ModuleType, result: dict[str, Any]) -> None:
    names, tie = result["rule"]["datasets"], result["rule"]["tie"]
    chosen = bench.choose(result["results"], names, tie)
    assert result["selection"]["name"] == chosen
    row = next(r for r in result["results"] if r["name"] == chosen)
    assert result["selection"]["preset"] == row["preset"]
    assert result["selection"]["params"] == row["params"]


def test_nested_choices_never_look_at_their_own_fold(
    bench: ModuleType, result: dict[str, Any]
) -> None:
    names, tie = result["rule"]["datasets"], result["rule"]["tie"]
    by_name = {r["name"]: r for r in result["results"]}
    for k, reported in result["nested"]["folds"].items():
        chosen = bench.choose(result["results"], [n for n in names if n != k], tie)
        assert reported["chosen"] == chosen
        assert reported["roc_auc"] == by_name[chosen]["folds"][k]["roc_auc"]
        assert reported["coverage"] == by_name[chosen]["folds"][k]["coverage"]


def test_the_bundled_model_is_the_chosen_candidate(result: dict[str, Any]) -> None:
    card = json.loads(CARD.read_text(encoding="utf-8"))
    selection = card["extra"]["selection"]
    assert card["preset"] == result["selection"]["preset"]
    assert selection["preset"] == result["selection"]["preset"]
    for key, value in result["selection"]["params"].items():
        assert card["params"][key] == value
    trained = {d["name"] for d in card["training_data"]}
    train_on = result["selection"]["train_on"]
    assert trained == set(result["rule"]["datasets"] if train_on == "all" else train_on)
