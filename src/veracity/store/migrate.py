"""Engines and schema migrations: the Alembic migrations are the only way tables are made.

>>> from veracity.store.migrate import upgrade
>>> upgrade("sqlite:///veracity.db")  # doctest: +SKIP

A database that cannot be opened or migrated (an unsupported or malformed URL, a
missing directory, a file that is not a SQLite database, a read-only file) is a
:class:`~veracity.errors.StoreError` whose one-line message says which and what to do;
the URL is shown with any password hidden.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from sqlalchemy import URL, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from veracity.errors import StoreError

__all__ = ["HEAD", "current_revision", "display_url", "downgrade", "make_engine", "upgrade"]

#: The newest schema revision shipped with this version of veracity.
HEAD = "0004"
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


_USE_SQLITE = "use sqlite:///path/to/veracity.db (VERACITY_DATABASE_URL)"


def _parse(database_url: str) -> URL:
    try:
        return make_url(database_url)
    except ArgumentError:
        shown = database_url if len(database_url) <= 60 else database_url[:60] + "…"
        raise StoreError(
            f"cannot open database {shown!r}: not a database URL; {_USE_SQLITE}"
        ) from None


def display_url(database_url: str) -> str:
    """``database_url`` with any password hidden; StoreError when it is not a URL at all."""
    return _parse(database_url).render_as_string(hide_password=True)


def _sqlite_file(url: URL) -> Path | None:
    """The file of a SQLite URL, or None (in-memory, or a ``file:`` URI left to SQLite)."""
    if url.get_backend_name() != "sqlite" or url.query.get("uri"):
        return None
    database = url.database or ""
    return None if database in ("", ":memory:") else Path(database)


def _check_sqlite_path(url: URL) -> None:
    """Refuse a SQLite file in a directory that does not exist, or a directory itself."""
    path = _sqlite_file(url)
    if path is None:
        return
    shown = url.render_as_string(hide_password=True)
    if path.is_dir():
        raise StoreError(
            f"cannot open database {shown}: {path} is a directory; name a file in it "
            "(e.g. sqlite:///path/to/veracity.db)"
        )
    parent = path.absolute().parent
    if not parent.is_dir():
        raise StoreError(
            f"cannot open database {shown}: directory {parent} does not exist; create it "
            "or point VERACITY_DATABASE_URL at a file in an existing directory"
        )


def _reason(exc: BaseException) -> str:
    """What a database error means, in a few words and with what to do."""
    raw = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    known = {
        "file is not a database": "not a SQLite database; point VERACITY_DATABASE_URL at "
        "another file (veracity creates a new one) or restore this one",
        "unable to open database file": "the file cannot be opened; check it exists as a "
        "file you may read and write",
        "readonly database": "the database is read-only; check the permissions of the file "
        "and its directory",
        "database is locked": "the database is locked by another program; try again",
        "disk is full": "the disk is full; free some space",
    }
    for needle, meaning in known.items():
        if needle in raw.lower():
            return meaning
    return raw[:300]


def _store_error(url: URL | str, exc: BaseException, doing: str = "open") -> StoreError:
    shown = url.render_as_string(hide_password=True) if isinstance(url, URL) else url
    return StoreError(f"cannot {doing} database {shown}: {_reason(exc)}")


def make_engine(database_url: str) -> Engine:
    """An engine on ``database_url``; SQLite gets WAL, foreign keys and thread-safe use.

    No thread ever waits for a pooled connection (a new one is opened instead), so a
    PostgreSQL server needs ``max_connections`` above the busiest moment's sessions.

    Parameters
    ----------
    database_url : str
        Any SQLAlchemy URL: ``sqlite:///veracity.db``, or PostgreSQL as
        ``postgresql+psycopg://user:password@host:5432/veracity`` (tested; the
        ``postgres`` extra installs the driver).

    Raises
    ------
    veracity.errors.StoreError
        The URL is malformed or names a database SQLAlchemy cannot use (unknown
        dialect, driver not installed), or a SQLite file whose directory is missing.
    """
    url = _parse(database_url)
    _check_sqlite_path(url)
    # Never make a thread wait for a pooled connection: with the HTTP service's worker
    # threads all waiting for one, the sessions holding the connections cannot be
    # closed (closing needs a worker thread) until the pool times out. Connections past
    # the pool's 5 are closed when returned.
    kwargs: dict[str, Any] = {"max_overflow": -1}
    if url.get_backend_name() == "sqlite":
        # wait up to 30 s (not 5) for another writer: under load a writer that holds
        # the lock may wait for the GIL before it can commit
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30.0}
    elif url.get_backend_name() == "postgresql":
        # a pooled connection may have been closed by a server restart or a proxy
        kwargs["pool_pre_ping"] = True
    shown = url.render_as_string(hide_password=True)
    try:
        engine = create_engine(url, **kwargs)
    except NoSuchModuleError:
        raise StoreError(
            f"cannot open database {shown}: unsupported URL (no database kind "
            f"{url.drivername!r}); {_USE_SQLITE}"
        ) from None
    except ImportError as exc:  # the dialect is known but its driver is not installed
        if url.get_backend_name() == "postgresql":
            raise StoreError(
                f"cannot open database {shown}: its driver is not installed ({exc}); use a "
                'postgresql+psycopg://… URL and pip install "veracity[postgres]"'
            ) from None
        raise StoreError(
            f"cannot open database {shown}: its driver is not installed ({exc}); install "
            f"it or {_USE_SQLITE}"
        ) from None
    except (ArgumentError, TypeError, ValueError) as exc:  # e.g. a bad port or option
        raise StoreError(f"cannot open database {shown}: {exc}; {_USE_SQLITE}") from None
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


def _migrate(database_url: str, direction: Literal["upgrade", "downgrade"], revision: str) -> None:
    """Run alembic's upgrade or downgrade to ``revision``; every failure is a StoreError."""
    from alembic import command
    from alembic.util import CommandError

    url = _parse(database_url)
    _check_sqlite_path(url)
    try:
        getattr(command, direction)(_config(database_url), revision)
    except SQLAlchemyError as exc:
        raise _store_error(url, exc, "open" if direction == "upgrade" else "migrate") from exc
    except CommandError as exc:  # e.g. a revision this veracity does not know
        hint = "; was it made by a newer veracity?" if direction == "upgrade" else ""
        raise StoreError(
            f"cannot migrate database {url.render_as_string(hide_password=True)}: {exc}{hint}"
        ) from exc


def upgrade(database_url: str, revision: str = "head") -> None:
    """Create or update the schema at ``database_url`` to ``revision`` (default: newest).

    Safe to run repeatedly: it does nothing when the schema is already current.

    Raises
    ------
    veracity.errors.StoreError
        The database cannot be opened or migrated; the message says why.
    """
    _migrate(database_url, "upgrade", revision)


def downgrade(database_url: str, revision: str) -> None:
    """Take the schema at ``database_url`` back to ``revision`` (``base``: no tables).

    Drops what the later revisions made, data included: for going back to an older
    veracity after a backup, and for testing the migrations.

    Raises
    ------
    veracity.errors.StoreError
        The database cannot be opened or migrated; the message says why.
    """
    _migrate(database_url, "downgrade", revision)


def current_revision(engine: Engine) -> str | None:
    """The schema revision recorded in the database, or None if never migrated.

    Raises
    ------
    veracity.errors.StoreError
        The database cannot be opened or read (e.g. the file is not a SQLite database).
    """
    from alembic.runtime.migration import MigrationContext

    try:
        with engine.connect() as conn:
            rev: str | None = MigrationContext.configure(conn).get_current_revision()
            return rev
    except SQLAlchemyError as exc:
        raise _store_error(engine.url, exc) from exc
