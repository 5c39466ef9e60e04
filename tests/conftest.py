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
    # skops decides its default trust once, when first imported: import it the way
    # veracity does (trusting no scikit-learn estimator by default) before any test
    # module's own `import skops.io`, so the artifact tests see what users get.
    from veracity.models.artifact import _import_skops_io

    _import_skops_io()


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


#: Test modules that are slow as a whole: real datasets, subprocesses, servers, browsers,
#: fuzzing (file paths relative to tests/).
SLOW_MODULES = frozenset(
    {
        "batch/test_output_folder.py",
        "batch/test_scoring.py",
        "data/test_dedup.py",
        "data/test_splits.py",
        "evaluate/test_audit.py",
        "evaluate/test_crossdata.py",
        "evaluate/test_plots.py",
        "evaluate/test_report.py",
        "models/test_ensemble.py",
        "serve/test_auth.py",
        "serve/test_fetch_deadline.py",
        "serve/test_postgres.py",
        "serve/test_schemathesis.py",
        "serve/test_timeouts.py",
        "test_cli.py",
        "test_extras.py",
        "text/test_scrub.py",
    }
)
SLOW_FOLDERS = ("e2e", "fuzz")
# The tests that take half a minute or more (pytest --durations on 2 cores): they are
# collected first, so that with `pytest -n 2` each worker starts one and the run does not
# end with one worker busy on a long test while the other is idle.
LONG_FIRST = (
    "models/test_claims.py::test_liar_six_way_metadata_beats_text_only",
    "evaluate/test_audit.py::test_isot_sample_shortcuts",
    "models/test_embed.py::test_trained_on_isot_beats_chance_elsewhere",
    "models/test_linear.py::test_isot_sample_held_out_accuracy_and_clean_evidence",
    "models/test_style.py::test_trained_on_isot_beats_chance_elsewhere",
    "e2e/test_crash_safety.py::test_acknowledged_writes_survive_kill_9",
    "serve/test_schemathesis.py::test_no_server_errors",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark what the fast lane (``pytest -m "not slow"``) leaves out.

    Besides the tests marked ``slow`` by hand (they train on real data): whole slow
    modules and folders, browser tests, scikit-learn's estimator checks
    (``test_sklearn_contract``) and the PostgreSQL variants of the database tests.
    The tests of :data:`LONG_FIRST` are moved to the front, in that order.
    """
    root = Path(__file__).parent
    rank = {name: i for i, name in enumerate(LONG_FIRST)}

    def first(item: pytest.Item) -> int:
        return rank.get(item.nodeid.split("tests/", 1)[-1], len(rank))

    items.sort(key=first)
    for item in items:
        where = item.path.relative_to(root).as_posix()
        if (
            where in SLOW_MODULES
            or where.split("/", 1)[0] in SLOW_FOLDERS
            or item.get_closest_marker("browser") is not None
            or getattr(item, "originalname", "") == "test_sklearn_contract"
            or "[postgresql" in item.name
        ):
            item.add_marker(pytest.mark.slow)
