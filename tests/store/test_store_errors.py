"""A database that cannot be opened is one line and exit 2, never a SQLAlchemy traceback (#13)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from veracity.cli import app
from veracity.errors import StoreError
from veracity.store.migrate import HEAD, current_revision, make_engine, upgrade

runner = CliRunner()
NOT_A_DATABASE = b"id,title,text\n1,hello,this is a CSV file, not a database\n" * 50

#: name → (VERACITY_DATABASE_URL with {tmp} for the test's folder, what the line says)
BAD_DATABASES = {
    "unknown-dialect": ("foo://bar", "cannot open database foo://bar: unsupported URL"),
    "not-a-url": ("not a url", "not a database URL"),
    "missing-directory": (
        "sqlite:///{tmp}/missing/veracity.db",
        "directory {tmp}/missing does not exist",
    ),
    "a-directory": ("sqlite:///{tmp}", "{tmp} is a directory"),
    "not-a-database": ("sqlite:///{tmp}/notes.db", "not a SQLite database"),
}
COMMANDS = {
    "keys list": ["keys", "list"],
    "keys create": ["keys", "create", "ci"],
    "keys revoke": ["keys", "revoke", "ci"],
    "db upgrade": ["db", "upgrade"],
    "feedback export": ["feedback", "export", "{tmp}/feedback.csv"],
}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "notes.db").write_bytes(NOT_A_DATABASE)
    return tmp_path


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("bad", sorted(BAD_DATABASES))
def test_a_database_that_cannot_be_opened_is_one_line_and_exit_2(
    command: str, bad: str, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(folder)
    url, expected = (s.replace("{tmp}", str(folder)) for s in BAD_DATABASES[bad])
    monkeypatch.setenv("VERACITY_DATABASE_URL", url)
    args = [arg.replace("{tmp}", str(folder)) for arg in COMMANDS[command]]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: cannot open database ") and expected in lines[0]
    assert (folder / "notes.db").read_bytes() == NOT_A_DATABASE
    assert not (folder / "feedback.csv").exists()


@pytest.mark.parametrize("bad", sorted(BAD_DATABASES))
def test_the_library_raises_store_error(bad: str, folder: Path) -> None:
    url, expected = (s.replace("{tmp}", str(folder)) for s in BAD_DATABASES[bad])
    with pytest.raises(StoreError, match="cannot open database") as info:
        upgrade(url)
    assert expected in str(info.value) and info.value.exit_code == 2
    try:
        engine = make_engine(url)
    except StoreError as exc:
        assert expected in str(exc)
    else:  # a file that is not a database is found out on the first connection
        with pytest.raises(StoreError, match=expected):
            current_revision(engine)
        engine.dispose()


def test_a_password_in_the_url_is_never_shown() -> None:
    with pytest.raises(StoreError) as info:
        make_engine("foo://user:hunter2@db.example/checks")
    assert "hunter2" not in str(info.value) and "foo://user:***@db.example" in str(info.value)


def test_a_good_database_still_opens(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'good.db'}"
    upgrade(url)
    engine = make_engine(url)
    assert current_revision(engine) == HEAD
    engine.dispose()


def test_an_unreachable_postgresql_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("psycopg", reason='the PostgreSQL driver: pip install "veracity[postgres]"')
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql+psycopg://veracity:hunter2@127.0.0.1:{port}/veracity"
    monkeypatch.setenv("VERACITY_DATABASE_URL", url)
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output
    assert lines[0].startswith("error: cannot open database postgresql+psycopg://veracity:***@")
    assert "Connection refused" in lines[0] and "hunter2" not in result.output
