"""A hand-edited card.json never makes the service answer 500 (#13).

The card is not covered by the model's sha256. A metric given as text (``"accuracy":
"high"``, or an interval bound ``"low": "high"``) used to load and then break the
``/model`` page with a 500. Now the card is checked on load: ``veracity serve``
refuses to start (exit 3), and an app that loads the model lazily answers problem JSON.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from ports import free_port
from veracity.cli import app
from veracity.detector import default_model_path
from veracity.models.artifact import CARD_FILE
from veracity.serve.app import create_app
from veracity.settings import Settings

EDITS: dict[str, Callable[[dict[str, Any]], object]] = {
    "metric-as-text": lambda c: c.update(metrics={"accuracy": "high"}),
    "interval-bound-as-text": lambda c: c["metrics"]["held-out"]["accuracy"].update(low="high"),
}


@pytest.fixture(params=sorted(EDITS))
def edited(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """A copy of the bundled model whose card.json was edited by hand."""
    directory = tmp_path / "model"
    shutil.copytree(default_model_path(), directory)
    card = json.loads((directory / CARD_FILE).read_text(encoding="utf-8"))
    EDITS[request.param](card)
    (directory / CARD_FILE).write_text(json.dumps(card), encoding="utf-8")
    return directory


def test_the_model_routes_answer_problem_json_not_500(edited: Path, tmp_path: Path) -> None:
    settings = Settings(model_dir=edited, database_url=f"sqlite:///{tmp_path / 'serve.db'}")
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        for path in ("/v1/model", "/model", "/readyz"):
            response = client.get(path)
            assert response.status_code == 503, (path, response.text[:300])
            assert response.headers["content-type"].startswith("application/problem+json")
            assert "is not a valid model card" in response.json()["detail"]


def test_serve_refuses_to_start_with_exit_3(
    edited: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VERACITY_MODEL_DIR", str(edited))
    monkeypatch.setenv("VERACITY_DATABASE_URL", f"sqlite:///{tmp_path / 'serve.db'}")
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: pytest.fail("uvicorn started"))
    result = CliRunner().invoke(app, ["serve", "--port", str(free_port())])
    assert result.exit_code == 3, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "is not a valid model card" in lines[0]
