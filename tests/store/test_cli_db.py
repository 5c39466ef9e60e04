"""`veracity db upgrade` and `veracity feedback export` on a temporary SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect
from typer.testing import CliRunner

from veracity.cli import app
from veracity.store.migrate import HEAD, make_engine
from veracity.store.repository import add_check, add_feedback, sessions
from veracity.types import Verdict

runner = CliRunner()


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("VERACITY_DATABASE_URL", db)
    return db


def test_db_upgrade_creates_the_schema_and_is_repeatable(url: str) -> None:
    for _ in range(2):
        result = runner.invoke(app, ["db", "upgrade"])
        assert result.exit_code == 0, result.output
        assert f"schema revision {HEAD}" in result.output
    engine = make_engine(url)
    assert {"checks", "feedback"} <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_feedback_export(url: str, tmp_path: Path) -> None:
    out = tmp_path / "feedback.csv"
    result = runner.invoke(app, ["feedback", "export", str(out)])
    assert result.exit_code == 2 and "veracity db upgrade" in result.output
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    engine = make_engine(url)
    with sessions(engine)() as session:
        check = add_check(session, "an article", Verdict("fake", 0.9, False, model_id="m"))
        add_feedback(session, check.id, agree=False)
    engine.dispose()
    result = runner.invoke(app, ["feedback", "export", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").splitlines() == [
        "id,title,text,label",
        f"check-{check.id},,an article,reliable",
    ]


def test_bad_database_url_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERACITY_DATABASE_URL", "not a url")
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 2 and "not a database URL" in result.output


def test_db_export_feedback_is_gone(tmp_path: Path) -> None:
    """One command writes the feedback CSV: `veracity feedback export` (no `db` alias)."""
    result = runner.invoke(app, ["db", "export-feedback", str(tmp_path / "f.csv")])
    assert result.exit_code == 2
    assert "No such command" in result.output
    assert not (tmp_path / "f.csv").exists()
