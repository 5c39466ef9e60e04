"""Engines and schema migrations: the Alembic migrations are the only way tables are made.

>>> from veracity.store.migrate import upgrade
>>> upgrade("sqlite:///veracity.db")  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

__all__ = ["HEAD", "current_revision", "make_engine", "upgrade"]

#: The newest schema revision shipped with this version of veracity.
HEAD = "0002"
_MIGRATIONS = Path(__file__).with_name("migrations")


def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """WAL, synchronous=FULL and enforced foreign keys on every new SQLite connection.

    FULL (not the build's default, which may be NORMAL) syncs the WAL at every commit,
    so an acknowledged check or feedback survives a crash of the process or the machine.
    """
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def make_engine(database_url: str) -> Engine:
    """An engine on ``database_url``; SQLite gets WAL, foreign keys and thread-safe use.

    Parameters
    ----------
    database_url : str
        Any SQLAlchemy URL, e.g. ``sqlite:///veracity.db`` or ``postgresql://…``.
    """
    url = make_url(database_url)
    kwargs: dict[str, Any] = {}
    if url.get_backend_name() == "sqlite":
        # wait up to 30 s (not 5) for another writer: under load a writer that holds
        # the lock may wait for the GIL before it can commit
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30.0}
        # Never make a thread wait for a pooled connection: with the HTTP service's
        # worker threads all waiting for one, the sessions holding the connections
        # cannot be closed (closing needs a worker thread) until the pool times out.
        kwargs["max_overflow"] = -1
    engine = create_engine(url, **kwargs)
    if url.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _config(database_url: str) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    # configparser interpolation: a literal % in a password must be doubled
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Create or update the schema at ``database_url`` to ``revision`` (default: newest).

    Safe to run repeatedly: it does nothing when the schema is already current.
    """
    from alembic import command

    command.upgrade(_config(database_url), revision)


def current_revision(engine: Engine) -> str | None:
    """The schema revision recorded in the database, or None if never migrated."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        rev: str | None = MigrationContext.configure(conn).get_current_revision()
        return rev
