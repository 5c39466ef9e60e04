"""`veracity serve` passes its options and the settings to the server."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ports import free_port
from veracity.cli import app
from veracity.settings import Settings


def test_serve_runs_uvicorn_with_host_and_port(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []

    def fake_run(settings: Settings, host: str, port: int, workers: int) -> None:
        calls.append({"settings": settings, "host": host, "port": port, "workers": workers})

    monkeypatch.setattr("veracity.serve.server.run", fake_run)
    monkeypatch.setenv("VERACITY_DATABASE_URL", "sqlite:///somewhere.db")
    result = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0", "--port", "9001"])
    assert result.exit_code == 0, result.output
    assert calls[0]["host"] == "0.0.0.0" and calls[0]["port"] == 9001
    assert calls[0]["workers"] == 1
    result = CliRunner().invoke(app, ["serve", "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert calls[1]["workers"] == 2
    assert calls[0]["settings"].database_url == "sqlite:///somewhere.db"


def test_serve_rejects_a_bad_port() -> None:
    assert CliRunner().invoke(app, ["serve", "--port", "70000"]).exit_code == 2


def test_serve_rejects_zero_workers() -> None:
    assert CliRunner().invoke(app, ["serve", "--workers", "0"]).exit_code == 2


# -- startup problems are one line with their own exit code (#13) ----------------------


def _one_error_line(result: Any) -> str:
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return str(lines[0])


def test_serve_on_a_busy_port_says_so_in_one_line_and_exits_4(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before, uvicorn logged the bind error and exited 3, the code of a bad model."""
    monkeypatch.setenv("VERACITY_DATABASE_URL", f"sqlite:///{tmp_path / 'serve.db'}")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(app, ["serve", "--host", "127.0.0.1", "--port", str(port)])
    assert result.exit_code == 4, result.output
    line = _one_error_line(result)
    assert f"port {port} is in use" in line and "--port" in line
    assert not (tmp_path / "serve.db").exists(), "the port is checked before anything else"


def test_serve_on_an_address_of_another_machine_exits_4(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: pytest.fail("uvicorn started"))
    result = CliRunner().invoke(app, ["serve", "--host", "192.0.2.1", "--port", "8765"])
    assert result.exit_code == 4, result.output
    assert "cannot listen on 192.0.2.1:8765" in _one_error_line(result)


def test_a_port_taken_after_the_check_is_still_exit_4(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """uvicorn's own startup failure (sys.exit(3)) becomes ServeError, not exit 3."""

    def uvicorn_fails(*args: Any, **kwargs: Any) -> None:
        raise SystemExit(3)

    monkeypatch.setattr("veracity.serve.startup.preflight", lambda *a: None)
    monkeypatch.setattr("uvicorn.run", uvicorn_fails)
    result = CliRunner().invoke(app, ["serve", "--port", str(free_port())])
    assert result.exit_code == 4, result.output
    assert "could not start" in _one_error_line(result)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param("foo://bar", "unsupported URL", id="unknown-dialect"),
        pytest.param("sqlite:///{tmp}/missing/x.db", "does not exist", id="missing-directory"),
        pytest.param("sqlite:///{tmp}/notes.db", "not a SQLite database", id="not-a-database"),
    ],
)
def test_serve_on_a_bad_database_is_one_line_and_exit_2(
    url: str, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before, the database was opened inside uvicorn's startup: a traceback, exit 3."""
    (tmp_path / "notes.db").write_bytes(b"not a database\n" * 100)
    monkeypatch.setenv("VERACITY_DATABASE_URL", url.replace("{tmp}", str(tmp_path)))
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: pytest.fail("uvicorn started"))
    result = CliRunner().invoke(app, ["serve", "--port", str(free_port())])
    assert result.exit_code == 2, result.output
    assert expected in _one_error_line(result)


def test_the_app_does_not_start_on_a_bad_database(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from veracity.errors import StoreError
    from veracity.serve.app import create_app

    with pytest.raises(StoreError, match="unsupported URL"):
        with TestClient(create_app(Settings(database_url="foo://bar"))):
            pass


@pytest.mark.parametrize(("given", "expected"), [(0, None), (3, 3)])
def test_workers_share_the_cpus_among_their_check_slots(
    monkeypatch: pytest.MonkeyPatch, given: int, expected: int | None
) -> None:
    """0 (one per CPU) means the CPUs shared among the workers; a number is kept."""
    import json

    from veracity.serve import server

    started: list[dict[str, Any]] = []
    monkeypatch.setattr(server, "_preflight_elsewhere", lambda *a: None)
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: started.append(k))
    monkeypatch.delenv(server._WORKER_SETTINGS, raising=False)
    monkeypatch.setattr(server, "usable_cpus", lambda: 8)
    server.run(Settings(max_concurrent_checks=given), workers=4)
    handed = json.loads(server.os.environ.pop(server._WORKER_SETTINGS))
    assert handed["max_concurrent_checks"] == (expected or 2)
    assert started[0]["workers"] == 4 and started[0]["factory"] is True


def test_a_startup_check_that_dies_is_one_line_and_exit_4(monkeypatch: pytest.MonkeyPatch) -> None:
    """The child that checks address, database and model is killed: no traceback."""
    from concurrent.futures.process import BrokenProcessPool

    class DyingPool:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            pass

        def __enter__(self) -> DyingPool:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

        def submit(self, *args: Any) -> Any:
            raise BrokenProcessPool("A process in the process pool was terminated abruptly")

    monkeypatch.setattr("concurrent.futures.ProcessPoolExecutor", DyingPool)
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: pytest.fail("uvicorn started"))
    result = CliRunner().invoke(app, ["serve", "--workers", "2", "--port", str(free_port())])
    assert result.exit_code == 4, result.output
    assert "stopped before it finished" in _one_error_line(result)
