"""A free TCP port on 127.0.0.1, for tests that start real servers."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A port that nothing listens on now (the OS picks it; free until someone binds it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port
