"""Several workers on one database share the per-key and per-address rate limits.

And the key that signs the forms' CSRF tokens: a form from one worker posts to another.

Two real servers (uvicorn processes serving ``veracity.serve.app:create_app``, as
``uvicorn --factory … --workers N`` runs them) on two ports use one database (a new
PostgreSQL schema, or one SQLite file). With an allowance of 3 a minute, 3 requests split across
both succeed and the next one gets 429 from either server: the count lives in the
database, not in each process (in memory, each would have allowed 3).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx
import pytest

from ports import free_port, wait_until_answers
from veracity.store.migrate import make_engine, upgrade
from veracity.store.repository import create_api_key, sessions

#: Each allowance, a minute: one token refills every 20 s, longer than the test's requests.
PER_MINUTE = 3


@dataclass
class Worker:
    """One uvicorn subprocess serving the app."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def wait_until_up(self) -> None:
        wait_until_answers(f"{self.url}/healthz", self.process, self.log, timeout=10)


def _start(database_url: str, log: Path) -> Worker:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VERACITY_")}
    env |= {
        "VERACITY_DATABASE_URL": database_url,
        "VERACITY_REQUIRE_API_KEY": "true",
        "VERACITY_RATE_LIMIT_PER_MINUTE": str(PER_MINUTE),
        "VERACITY_RATE_LIMIT_PER_ADDRESS_PER_MINUTE": str(PER_MINUTE),
    }
    port = free_port()
    handle: IO[bytes] = log.open("ab")
    command = [sys.executable, "-m", "uvicorn", "--factory", "veracity.serve.app:create_app"]
    process = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port), "--no-access-log"],
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    handle.close()
    return Worker(process, f"http://127.0.0.1:{port}", log)


@pytest.fixture
def workers(database_url: str, tmp_path: Path) -> Iterator[tuple[Worker, Worker]]:
    """Two servers on ``database_url`` (migrated first, as `veracity db upgrade` does)."""
    upgrade(database_url)
    started = [_start(database_url, tmp_path / f"worker-{i}.log") for i in (1, 2)]
    try:
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(Worker.wait_until_up, started))
        yield started[0], started[1]
    finally:
        for worker in started:
            if worker.process.poll() is None:
                worker.process.terminate()
        for worker in started:
            try:
                worker.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait(timeout=30)


def _new_key(database_url: str) -> str:
    engine = make_engine(database_url)
    with sessions(engine)() as session:
        _, key = create_api_key(session, "shared")
    engine.dispose()
    return key


def _form(client: httpx.Client) -> dict[str, str]:
    """The page's form, empty, with its CSRF field as this server made it."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text)
    assert found
    return {"csrf_token": found.group(1), "text": ""}


def test_the_limits_hold_across_two_worker_processes(
    workers: tuple[Worker, Worker], database_url: str
) -> None:
    a, b = workers
    key = _new_key(database_url)
    headers = {"X-API-Key": key}
    with (
        httpx.Client(base_url=a.url, timeout=30, headers=headers) as on_a,
        httpx.Client(base_url=b.url, timeout=30, headers=headers) as on_b,
    ):
        # the key: 3 a minute, split 2 + 1 across the workers; the 4th is 429 on either
        started = time.monotonic()
        for client in (on_a, on_b, on_a):
            assert client.get("/v1/checks").status_code == 200
        for client in (on_b, on_a):
            over = client.get("/v1/checks")
            assert over.status_code == 429, over.text
            assert over.json()["type"] == "urn:veracity:problem:rate-limited"
            assert 1 <= int(over.headers["retry-after"]) <= 20
        assert time.monotonic() - started < 18, "too slow to tell: a token refilled meanwhile"

        # the page's form, per client address (both see 127.0.0.1): the same. The form
        # comes from A; B takes its CSRF token too (the signing key is in the database)
        form = _form(on_a)
        on_b.cookies.update(on_a.cookies)
        started = time.monotonic()
        for client in (on_b, on_a, on_b):
            assert client.post("/check", data=form).status_code == 422  # counted
        for client in (on_a, on_b):
            over = client.post("/check", data=form)
            assert over.status_code == 429, over.text[:300]
            assert "at most 3 a minute" in over.text
        assert time.monotonic() - started < 18, "too slow to tell: a token refilled meanwhile"
