"""Engines (SQLite and PostgreSQL) never make a thread wait for a pooled connection.

With a bounded pool, the HTTP service deadlocked under load: every worker thread
waited for a connection while the sessions holding them needed a worker thread to
close. Found by bench/api.py at 100 requests/s.
"""

from __future__ import annotations

from contextlib import ExitStack

from sqlalchemy import text

from veracity.store.migrate import make_engine
from veracity.store.repository import sessions


def test_many_sessions_can_hold_connections_at_once(database_url: str) -> None:
    engine = make_engine(database_url)
    make = sessions(engine)
    with ExitStack() as stack:
        held = [stack.enter_context(make()) for _ in range(64)]
        for session in held:
            assert session.execute(text("SELECT 1")).scalar() == 1
    engine.dispose()
