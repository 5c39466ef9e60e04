"""Fixtures shared by every test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _clear_veracity_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run each test without VERACITY_* variables from the developer's shell."""
    for name in list(os.environ):
        if name.startswith("VERACITY_"):
            monkeypatch.delenv(name)


#: Set by ``. .ci/start-postgres``: a PostgreSQL role that may create databases.
POSTGRES_URL_VARIABLE = "VERACITY_TEST_POSTGRES_URL"
#: Set to 1 (CI does) to make the PostgreSQL tests fail, not skip, without a server.
REQUIRE_POSTGRES_VARIABLE = "VERACITY_TEST_REQUIRE_POSTGRES"


_test_environment: dict[str, str] = {}


def pytest_configure(config: pytest.Config) -> None:
    """Keep the test-only variables before ``_clear_veracity_env`` hides them from tests."""
    for name in (POSTGRES_URL_VARIABLE, REQUIRE_POSTGRES_VARIABLE):
        _test_environment[name] = os.environ.get(name, "")


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    """The test PostgreSQL's URL; skips (or fails, when required) without one."""
    url = _test_environment.get(POSTGRES_URL_VARIABLE, "")
    required = _test_environment.get(REQUIRE_POSTGRES_VARIABLE, "") not in ("", "0")
    if not url:
        reason = (
            f"{POSTGRES_URL_VARIABLE} is not set: run `. .ci/start-postgres` (Debian's "
            "postgresql package) to test on PostgreSQL too"
        )
        if required:
            pytest.fail(f"{REQUIRE_POSTGRES_VARIABLE}=1 but {reason}")
        pytest.skip(reason)
    try:
        import psycopg  # noqa: F401
    except ImportError:
        reason = 'psycopg is not installed: pip install "veracity[postgres]"'
        if required:
            pytest.fail(reason)
        pytest.skip(reason)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each kind: a SQLite file, or a new PostgreSQL schema.

    Each PostgreSQL test gets a schema of its own (``search_path`` in the URL), dropped
    afterwards, so tests never see each other's tables or rows.
    """
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    from backends import fresh_postgres_schema

    with fresh_postgres_schema(request.getfixturevalue("postgres_admin_url")) as url:
        yield url
