"""`veracity serve --workers N`: N processes on one socket, the settings it was given, and
startup problems still one line with their own exit code."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from ports import free_port, wait_until_answers
from real_texts import real_texts

#: ``run()`` with settings that are not in the environment: the workers must get them.
_RUN = """
import sys
from veracity.serve.server import run
from veracity.settings import Settings
run(Settings(database_url=sys.argv[1], serve_max_document_bytes=3000), port=int(sys.argv[2]),
    workers=2)
"""
_CLI = "import sys; from veracity.cli import main; sys.argv[0] = 'veracity'; main()"


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("VERACITY_")}


def _children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(p) for p in text.split()]


def _worker_pids(pid: int) -> set[int]:
    """The children of ``pid`` that uvicorn started as workers (spawned interpreters)."""
    found = set()
    for child in _children(pid):
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in cmdline:
            found.add(child)
    return found


def test_two_workers_serve_one_socket_with_the_settings_run_was_given(tmp_path: Path) -> None:
    articles = [t[:2500] for t in real_texts("isot_sample", 6)]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    database = f"sqlite:///{tmp_path / 'checks.db'}"
    log = tmp_path / "serve.log"
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [sys.executable, "-c", _RUN, database, str(port)],
            env=_env(),
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_answers(f"{url}/readyz", process, log)
        workers = _worker_pids(process.pid)
        assert len(workers) == 2, log.read_text(errors="replace")
        with httpx.Client(base_url=url, timeout=60) as client:
            ids = []
            for article in articles:
                response = client.post("/v1/check", json={"text": article})
                assert response.status_code == 200, response.text
                ids.append(response.json()["id"])
            # every worker stores in the one database: ids are unique and all readable
            assert len(set(ids)) == 6
            assert client.get("/v1/checks", params={"per_page": 10}).json()["total"] == 6
            # serve_max_document_bytes=3000 came from run()'s settings, not the environment
            too_big = client.post("/v1/check", json={"text": "word " * 1000})
            assert too_big.status_code == 413, too_big.text
            assert "3,000 bytes" in too_big.json()["detail"]
        # the supervisor itself holds no model: it stays small
        status = Path(f"/proc/{process.pid}/status").read_text()
        rss_mb = int(status.split("VmRSS:")[1].split()[0]) / 1024
        assert rss_mb < 100, f"the supervising process holds {rss_mb:.0f} MB"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.mark.parametrize(
    ("env", "code", "words"),
    [
        ({"VERACITY_MODEL_DIR": "/nonexistent/model"}, 3, "/nonexistent/model"),
        ({"VERACITY_DATABASE_URL": "sqlite:////nonexistent/dir/x.db"}, 2, "database"),
    ],
)
def test_a_bad_model_or_database_with_workers_is_one_line_and_its_exit_code(
    tmp_path: Path, env: dict[str, str], code: int, words: str
) -> None:
    """The check runs in a child process; its error comes back as the same error."""
    base = _env() | {"VERACITY_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    done = subprocess.run(
        [sys.executable, "-c", _CLI, "serve", "--workers", "2", "--port", str(free_port())],
        env=base | env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0], done.stderr
