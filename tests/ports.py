"""A free TCP port on 127.0.0.1, and waiting for a server, for tests that start real servers."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    """A port that nothing listens on now (the OS picks it; free until someone binds it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_until_answers(
    url: str, process: subprocess.Popen[bytes], log: Path, *, timeout: float = 60
) -> None:
    """Until ``GET url`` answers 200; the test fails (with the log's end) if the server
    exits first or does not answer within 180 s."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(url, timeout=timeout).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"the server did not answer: {log.read_text(errors='replace')[-2000:]}")
