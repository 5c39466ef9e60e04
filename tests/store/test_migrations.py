"""The Alembic migrations on SQLite and PostgreSQL: every step up and down, data kept."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy import inspect, text

from veracity.errors import StoreError
from veracity.store.migrate import HEAD, current_revision, downgrade, make_engine, upgrade
from veracity.store.repository import add_check, get_check, sessions, take_token
from veracity.types import Verdict

#: What each revision adds, in order.
TABLES = {
    "0001": {"checks", "feedback"},
    "0002": {"api_keys"},
    "0003": {"rate_limits", "secrets"},
    "0004": set(),  # a column: checks.band_halfwidth
}


def _tables(url: str) -> tuple[set[str], str | None]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}, current_revision(
            engine
        )
    finally:
        engine.dispose()


def test_head_is_the_last_revision() -> None:
    assert list(TABLES)[-1] == HEAD


def test_every_revision_upgrades_and_downgrades(database_url: str) -> None:
    expected: set[str] = set()
    for revision, added in TABLES.items():
        upgrade(database_url, revision)
        expected |= added
        assert _tables(database_url) == (expected, revision)
    revisions = list(TABLES)
    for i in reversed(range(len(revisions))):
        previous = revisions[i - 1] if i > 0 else None
        downgrade(database_url, previous or "base")
        expected -= TABLES[revisions[i]]
        assert _tables(database_url) == (expected, previous)
    assert _tables(database_url) == (set(), None)
    upgrade(database_url)  # and all the way up again
    assert _tables(database_url) == (set().union(*TABLES.values()), HEAD)


def test_upgrading_keeps_the_checks(database_url: str) -> None:
    upgrade(database_url, "0002")
    engine = make_engine(database_url)
    with engine.begin() as connection:  # a check as version 0002 stored it
        connection.execute(
            text(
                "INSERT INTO checks (id, created_at, text, text_sha256, label, probability, "
                "abstained, model_id, evidence) VALUES (7, CURRENT_TIMESTAMP, "
                "'kept across the upgrade', :sha, 'fake', 0.8, :no, 'm', '[]')"
            ),
            {"sha": "0" * 64, "no": False},
        )
    upgrade(database_url)
    with sessions(engine)() as session:
        got = get_check(session, 7)
        assert got is not None and got.text == "kept across the upgrade"
        assert got.band_halfwidth is None  # 0004's column, empty for older checks
        assert take_token(session, "key:1", 2, 0.0) == 0.0  # the new table works
        assert session.execute(text("SELECT count(*) FROM rate_limits")).scalar() == 1
        new = add_check(session, "after", Verdict("fake", 0.8, False, band_halfwidth=0.2))
    with sessions(engine)() as session:
        assert get_check(session, new.id).band_halfwidth == 0.2
    engine.dispose()


def test_downgrading_0004_keeps_the_checks(database_url: str) -> None:
    upgrade(database_url)
    engine = make_engine(database_url)
    with sessions(engine)() as session:
        add_check(session, "kept across the downgrade", Verdict("fake", 0.8, False))
    downgrade(database_url, "0003")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT text FROM checks")).scalars().all() == [
            "kept across the downgrade"
        ]
        columns = {c["name"] for c in inspect(connection).get_columns("checks")}
        assert "band_halfwidth" not in columns
    engine.dispose()


def test_an_unknown_revision_is_a_store_error(database_url: str) -> None:
    with pytest.raises(StoreError, match="cannot migrate database"):
        upgrade(database_url, "9999")
    with pytest.raises(StoreError, match="cannot migrate database"):
        downgrade(database_url, "9999")


def test_workers_starting_together_migrate_once(database_url: str) -> None:
    """Each server process migrates at startup; on PostgreSQL an advisory lock makes the
    others wait for the first (on SQLite, run `veracity db upgrade` before the workers)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("concurrent startup migrations are serialised on PostgreSQL only")
    code = "import sys; from veracity.store.migrate import upgrade; upgrade(sys.argv[1])"
    runs = [
        subprocess.Popen([sys.executable, "-c", code, database_url], stderr=subprocess.PIPE)
        for _ in range(4)
    ]
    for run in runs:  # processes: Alembic's context is global, not for threads
        _, err = run.communicate(timeout=120)
        assert run.returncode == 0, err.decode(errors="replace")[-1500:]
    assert _tables(database_url) == (set().union(*TABLES.values()), HEAD)
