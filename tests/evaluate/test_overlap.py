"""`veracity evaluate` warns when the test rows are (or may be) the model's training data."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from veracity.cli import app
from veracity.data import Dataset, SourceFile
from veracity.evaluate.run import training_overlap
from veracity.models.artifact import TrainingData

SHARED = Path(__file__).resolve().parents[3] / "shared" / "datasets"


def _dataset(name: str, sha: str) -> Dataset:
    frame = pd.DataFrame({"id": ["1"], "title": [""], "text": ["t"], "label": ["fake"]})
    return Dataset(name, frame, [SourceFile(f"/x/{name}", sha, 1)])


@pytest.mark.parametrize(
    ("trained", "tested", "expected"),
    [
        ("liar", "liar:test", "overlaps"),  # all splits trained, one tested
        ("liar:train", "liar:test", None),  # different splits: a real test
        ("liar:test", "liar:test", "overlaps"),
        ("fakenewsamt", "celebrity", None),
        ("fakenewsamt", "fakenewsamt", "overlaps"),
    ],
)
def test_overlap_by_name(trained: str, tested: str, expected: str | None) -> None:
    ds = _dataset(tested, "b" * 64)
    # trained-on hash differs from the tested one: only the name can tell
    message = training_overlap([TrainingData(trained, "a" * 64, 10)], ds)
    if expected is None:
        assert message is None
    else:
        assert message is not None and expected in message and "in-sample" in message


def test_same_content_under_another_name_is_the_training_data() -> None:
    ds = _dataset("my_copy", "c" * 64)
    trained = [TrainingData("fakenewsamt", ds.sha256, 480)]
    message = training_overlap(trained, ds)
    assert message is not None and "is the model's training data" in message


@pytest.mark.slow
def test_cli_warns_in_table_and_json_for_the_bundled_model() -> None:
    if not (SHARED / "fakenewsamt").exists():
        pytest.skip(f"shared datasets not found at {SHARED}")
    runner = CliRunner()
    as_json = runner.invoke(app, ["evaluate", "--data", "fakenewsamt", "--json"])
    assert as_json.exit_code == 0, as_json.stderr
    payload = json.loads(as_json.stdout)
    warning = payload["results"]["fakenewsamt"]["extra"]["training_overlap"]
    assert "in-sample" in warning
    assert payload["warnings"] == [warning]
    curve = payload["results"]["fakenewsamt"]["extra"]["risk_coverage"]
    assert [c for c, _ in curve] == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    assert curve[-1][1] == pytest.approx(payload["results"]["fakenewsamt"]["accuracy"]["value"])
    table = runner.invoke(app, ["evaluate", "--data", "fakenewsamt"])
    assert "warning:" in table.stdout and "in-sample" in " ".join(table.stdout.split())
    assert "risk-coverage" in table.stdout
