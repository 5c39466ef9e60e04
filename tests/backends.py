"""Test databases of each kind the store supports.

``fresh_postgres_schema(admin_url)`` gives one test a new, empty PostgreSQL schema (its
URL sets ``search_path`` to it, so the tables, the migrations' ``alembic_version`` and
every query land there) and drops it afterwards; the ``database_url`` fixture in
``conftest.py`` uses it. A schema, not a database: ``CREATE DATABASE`` takes a second.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import make_url


def libpq_url(url: str) -> str:
    """A SQLAlchemy ``postgresql+psycopg://`` URL as libpq (psycopg, psql) takes it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def with_options(url: str, *options: str) -> str:
    """``url`` with more server settings (``-c name=value``) in its ``options``."""
    parsed = make_url(url)
    current = parsed.query.get("options", "")
    joined = " ".join([*([current] if isinstance(current, str) and current else []), *options])
    return parsed.update_query_dict({"options": joined}).render_as_string(hide_password=False)


@contextmanager
def fresh_postgres_schema(admin_url: str) -> Iterator[str]:
    """The URL of a new empty schema in the database at ``admin_url``; dropped at exit."""
    import psycopg

    name = f"veracity_test_{secrets.token_hex(6)}"
    with psycopg.connect(libpq_url(admin_url), autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{name}"')
    try:
        yield with_options(admin_url, f"-c search_path={name}")
    finally:
        with psycopg.connect(libpq_url(admin_url), autocommit=True) as admin:
            admin.execute("SET lock_timeout = '20s'")
            admin.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
