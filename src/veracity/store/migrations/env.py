"""Alembic environment: runs online against the connection or URL given by the caller."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, text

from veracity.store.migrate import make_engine
from veracity.store.models import Base

config = context.config
target_metadata = Base.metadata


#: The PostgreSQL advisory lock that lets one process migrate at a time (any 64-bit key).
MIGRATION_LOCK = 0x7665726163697479  # "veracity"


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Workers starting together all migrate: the first takes the lock and
            # migrates in one transaction, the others wait, then find nothing to do.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate with the connection in ``config.attributes`` or a new engine on the URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("veracity migrations run online only: use `veracity db upgrade`")
run_migrations_online()
