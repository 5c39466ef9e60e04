"""What worker processes share in the database (rate-limit buckets, secrets), on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from veracity.errors import InputError
from veracity.store.migrate import make_engine, upgrade
from veracity.store.models import RateLimit
from veracity.store.repository import prune_rate_limits, sessions, shared_secret, take_token


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    upgrade(database_url)
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with sessions(engine)() as s:
        yield s


def test_a_bucket_refills_evenly_up_to_the_minutes_allowance(session: Session) -> None:
    assert [take_token(session, "k", 3, 100.0) for _ in range(4)] == [0.0, 0.0, 0.0, 20.0]
    assert take_token(session, "k", 3, 110.0) == pytest.approx(10.0)  # half a token back
    assert take_token(session, "k", 3, 120.0) == 0.0
    assert take_token(session, "other", 3, 120.0) == 0.0  # buckets are separate
    # an hour idle gives the minute's allowance, no more
    assert sum(take_token(session, "k", 3, 3720.0) == 0.0 for _ in range(10)) == 3


def test_a_clock_behind_the_stored_time_refills_nothing(session: Session) -> None:
    """Workers' clocks differ a little: an earlier time must not give tokens back."""
    assert take_token(session, "k", 1, 1000.0) == 0.0
    assert take_token(session, "k", 1, 990.0) == pytest.approx(60.0)
    row = session.scalars(select(RateLimit)).one()
    assert (row.updated, row.granted) == (1000.0, False)
    assert take_token(session, "k", 1, 1060.0) == 0.0


def test_concurrent_takers_never_get_more_than_the_allowance(engine: Engine) -> None:
    """Many connections at once (as several workers' are): exactly 40 of 120 go ahead."""
    make = sessions(engine)

    def attempts(_: int) -> int:
        with make() as session:
            return sum(take_token(session, "key:1", 40, 5000.0) == 0.0 for _ in range(20))

    with ThreadPoolExecutor(6) as pool:
        assert sum(pool.map(attempts, range(6))) == 40


def test_long_bucket_names_are_stored_hashed(session: Session) -> None:
    name = "address:" + "x" * 500
    assert take_token(session, name, 1, 0.0) == 0.0
    assert take_token(session, name, 1, 0.0) > 0  # the same bucket
    assert take_token(session, name + "y", 1, 0.0) == 0.0  # not a prefix's
    buckets = session.scalars(select(RateLimit.bucket)).all()
    assert all(b.startswith("sha256:") and len(b) == 71 for b in buckets)


def test_prune_drops_only_full_buckets(session: Session) -> None:
    take_token(session, "old", 5, 0.0)
    take_token(session, "recent", 5, 30.0)
    assert prune_rate_limits(session, 75.0) == 1
    assert session.scalars(select(RateLimit.bucket)).all() == ["recent"]


def test_an_allowance_below_one_is_refused(session: Session) -> None:
    with pytest.raises(InputError, match="per_minute"):
        take_token(session, "k", 0, 0.0)


def test_a_shared_secret_is_made_once_and_read_by_everyone(engine: Engine) -> None:
    """The forms' CSRF key: every worker (each its own session) gets the same bytes."""
    make = sessions(engine)
    with ThreadPoolExecutor(4) as pool:
        got = set(pool.map(lambda _: _secret(make, "csrf"), range(8)))
    assert len(got) == 1 and len(got.pop()) == 32
    assert _secret(make, "other") != _secret(make, "csrf")


def _secret(make: sessionmaker[Session], name: str) -> bytes:
    with make() as session:
        return shared_secret(session, name)
