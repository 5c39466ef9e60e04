"""`veracity serve` passes its options and the settings to the server."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from veracity.cli import app
from veracity.settings import Settings


def test_serve_runs_uvicorn_with_host_and_port(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []

    def fake_run(settings: Settings, host: str, port: int) -> None:
        calls.append({"settings": settings, "host": host, "port": port})

    monkeypatch.setattr("veracity.serve.app.run", fake_run)
    monkeypatch.setenv("VERACITY_DATABASE_URL", "sqlite:///somewhere.db")
    result = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0", "--port", "9001"])
    assert result.exit_code == 0, result.output
    assert calls[0]["host"] == "0.0.0.0" and calls[0]["port"] == 9001
    assert calls[0]["settings"].database_url == "sqlite:///somewhere.db"


def test_serve_rejects_a_bad_port() -> None:
    assert CliRunner().invoke(app, ["serve", "--port", "70000"]).exit_code == 2
