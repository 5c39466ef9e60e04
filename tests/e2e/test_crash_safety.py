"""Crash safety: `kill -9` the real server mid-write; every acknowledged write survives.

The real ``veracity serve`` runs in a subprocess on a free port with a temporary SQLite
database. A client sends 1,000 writes (checks of a short text, and feedback on checks
already acknowledged) from 8 threads. After 400 acknowledgements the server is killed
with SIGKILL while other writes are in flight; it is restarted on the same database and
the rest of the writes are sent; then it is killed again. Every write that got a 2xx
answer must be in the database with what was sent, and ``PRAGMA integrity_check`` must
say ``ok``.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx
import pytest

from ports import free_port, wait_until_answers

WRITES = 1000
FIRST_RUN = 500  # writes sent to the first server
KILL_AFTER = 400  # acknowledgements before the first kill -9
THREADS = 8
TEXT = "The senate committee said on Friday that the budget grew two percent. Write {i}."


@dataclass
class Server:
    """One ``veracity serve`` subprocess."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def kill9(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        assert self.process.returncode == -signal.SIGKILL


def _start(database: Path, log: Path) -> Server:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VERACITY_")}
    env["VERACITY_DATABASE_URL"] = f"sqlite:///{database}"
    env["VERACITY_EVIDENCE_TERMS"] = "0"  # fast checks: no per-word evidence
    port = free_port()
    handle: IO[bytes] = log.open("ab")
    command = [sys.executable, "-c", "from veracity.cli import main; main()", "serve"]
    process = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    handle.close()
    server = Server(process, f"http://127.0.0.1:{port}", log)
    try:  # readyz loads the model, so the first check is fast
        wait_until_answers(f"{server.url}/readyz", process, log)
    except BaseException:
        process.kill()
        raise
    return server


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    """Every server started by the test; any still running is killed at the end."""
    started: list[Server] = []
    yield started
    for server in started:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait(timeout=30)


@dataclass
class Ledger:
    """What the server acknowledged (2xx), and what failed."""

    checks: dict[int, str] = field(default_factory=dict)  # check id → text sent
    feedback: dict[int, tuple[int, bool]] = field(default_factory=dict)  # id → (check, agree)
    failed: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def acknowledged(self) -> int:
        with self.lock:
            return len(self.checks) + len(self.feedback)


def _write(client: httpx.Client, i: int, ledger: Ledger) -> None:
    with ledger.lock:
        targets = sorted(ledger.checks)
    try:
        if i % 3 == 2 and targets:
            check_id, agree = targets[i % len(targets)], i % 2 == 0
            r = client.post(f"/v1/checks/{check_id}/feedback", json={"agree": agree})
            if r.status_code == 201:
                with ledger.lock:
                    ledger.feedback[r.json()["id"]] = (check_id, agree)
                return
        else:
            text = TEXT.format(i=i)
            r = client.post("/v1/check", json={"text": text})
            if r.status_code == 200:
                with ledger.lock:
                    ledger.checks[r.json()["id"]] = text
                return
        raise AssertionError(f"write {i}: unexpected answer {r.status_code} {r.text[:200]}")
    except httpx.HTTPError:  # the server is gone: this write was not acknowledged
        with ledger.lock:
            ledger.failed += 1


def _send(server: Server, writes: range, ledger: Ledger, kill_after: int | None = None) -> None:
    killed = threading.Event()

    def one(i: int) -> None:
        _write(client, i, ledger)
        if kill_after is not None and ledger.acknowledged() >= kill_after:
            with ledger.lock:
                if not killed.is_set():
                    killed.set()
                    server.kill9()

    limits = httpx.Limits(max_connections=THREADS)
    with (
        httpx.Client(base_url=server.url, timeout=30, limits=limits) as client,
        ThreadPoolExecutor(THREADS) as pool,
    ):
        list(pool.map(one, writes))
    if kill_after is not None:
        assert killed.is_set(), "the server was never killed"


def test_acknowledged_writes_survive_kill_9(tmp_path: Path, servers: list[Server]) -> None:
    database, log = tmp_path / "crash.db", tmp_path / "server.log"
    ledger = Ledger()

    servers.append(_start(database, log))
    _send(servers[-1], range(FIRST_RUN), ledger, kill_after=KILL_AFTER)
    first_run_acks = ledger.acknowledged()
    assert first_run_acks >= KILL_AFTER
    assert ledger.failed > 0, "no write was in flight when the server was killed"

    servers.append(_start(database, log))  # restart on the same database (WAL recovery)
    after_restart = httpx.get(f"{servers[-1].url}/v1/checks", params={"per_page": 1}).json()
    assert after_restart["total"] >= len(ledger.checks)
    _send(servers[-1], range(FIRST_RUN, WRITES), ledger)
    servers[-1].kill9()  # and crash again, right after the last acknowledgement

    assert ledger.acknowledged() + ledger.failed == WRITES
    assert len(ledger.checks) > 300 and len(ledger.feedback) > 150
    with sqlite3.connect(database) as db:  # opening it recovers the WAL
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        stored = dict(db.execute("SELECT id, text FROM checks").fetchall())
        feedback = {
            row[0]: (row[1], bool(row[2]))
            for row in db.execute("SELECT id, check_id, agree FROM feedback")
        }
    missing = {i: t for i, t in ledger.checks.items() if stored.get(i) != t}
    assert not missing, f"{len(missing)} acknowledged checks lost or changed"
    lost = {i: f for i, f in ledger.feedback.items() if feedback.get(i) != f}
    assert not lost, f"{len(lost)} acknowledged feedback rows lost or changed"
    # at most the writes in flight at a kill may be stored without an acknowledgement
    assert len(stored) - len(ledger.checks) <= 2 * THREADS
    print(
        f"{WRITES} writes: {len(ledger.checks)} checks and {len(ledger.feedback)} feedback "
        f"acknowledged ({first_run_acks} before the first kill -9), {ledger.failed} refused "
        f"while the server was down; all acknowledged present, integrity_check ok"
    )
