"""The store on SQLite and PostgreSQL: migrations, pragmas, round trips, paging, export.

Every test taking ``database_url`` (or ``url``, ``engine``, ``session``) runs on a new
SQLite file and on a new PostgreSQL database (see ``database_url`` in conftest.py).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, inspect, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backends import with_options
from veracity.errors import InputError
from veracity.store.migrate import HEAD, current_revision, make_engine, upgrade
from veracity.store.models import Check, Feedback
from veracity.store.repository import (
    add_check,
    add_checks,
    add_feedback,
    check_to_dict,
    export_feedback,
    get_check,
    list_checks,
    sessions,
)
from veracity.types import Evidence, Verdict


@pytest.fixture
def url(database_url: str) -> str:
    upgrade(database_url)
    return database_url


@pytest.fixture
def engine(url: str) -> Iterator[Engine]:
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with sessions(engine)() as s:
        yield s


def verdict(label: str = "reliable", p: float = 0.1, abstained: bool = False) -> Verdict:
    return Verdict(
        label=label,  # type: ignore[arg-type]
        probability=p,
        abstained=abstained,
        evidence=[Evidence("said", -0.7, "reliable"), Evidence("hoax", 0.4, "fake")],
        reason="the model is not sure" if abstained else None,
        model_id="test-model",
    )


def test_migrations_create_the_tables(engine: Engine, url: str) -> None:
    inspector = inspect(engine)
    assert {"checks", "feedback", "alembic_version"} <= set(inspector.get_table_names())
    columns = {c["name"] for c in inspector.get_columns("checks")}
    assert columns == {
        "id", "created_at", "text", "text_sha256", "url", "label", "probability",
        "abstained", "reason", "model_id", "evidence", "band_halfwidth",
    }  # fmt: skip
    fks = inspector.get_foreign_keys("feedback")
    assert fks[0]["referred_table"] == "checks"
    assert fks[0]["options"].get("ondelete") == "CASCADE"
    assert current_revision(engine) == HEAD
    upgrade(url)  # idempotent
    assert current_revision(engine) == HEAD


def test_fresh_database_has_no_tables_until_upgrade(database_url: str) -> None:
    engine = make_engine(database_url)
    assert inspect(engine).get_table_names() == []
    assert current_revision(engine) is None
    engine.dispose()


def test_wal_and_foreign_keys_are_on(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'wal.db'}"
    upgrade(db)
    engine = make_engine(db)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


def test_foreign_key_is_enforced(session: Session) -> None:
    session.add(Feedback(check_id=999, agree=True, comment=""))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()


def test_deleting_a_check_cascades_to_feedback(session: Session, engine: Engine) -> None:
    check = add_check(session, "some text", verdict())
    add_feedback(session, check.id, agree=True)
    with engine.begin() as conn:  # plain SQL: the database, not the ORM, cascades
        conn.execute(text("DELETE FROM checks WHERE id = :id"), {"id": check.id})
        assert conn.execute(text("SELECT count(*) FROM feedback")).scalar() == 0


def test_a_batch_is_stored_in_one_commit(session: Session, engine: Engine) -> None:
    commits: list[int] = []
    event.listen(session, "after_commit", lambda _: commits.append(1))
    checks = add_checks(session, [(f"text {i}", verdict()) for i in range(5)])
    assert len(commits) == 1
    assert [c.id for c in checks] == sorted(c.id for c in checks)
    with sessions(engine)() as other:
        assert [get_check(other, c.id).text for c in checks] == [f"text {i}" for i in range(5)]


def test_a_batch_with_one_bad_text_stores_none(session: Session, engine: Engine) -> None:
    with pytest.raises(InputError, match="document #2"):
        add_checks(session, [("fine", verdict()), ("also fine", verdict()), ("n\x00l", verdict())])
    with sessions(engine)() as other:
        assert list_checks(other).total == 0


def test_check_round_trip(session: Session, engine: Engine) -> None:
    check = add_check(session, "Héllo wörld", verdict("fake", 0.9), url="https://example.org/a")
    with sessions(engine)() as other:
        got = get_check(other, check.id)
        assert got is not None
        assert got.text == "Héllo wörld"
        assert len(got.text_sha256) == 64
        assert got.url == "https://example.org/a"
        assert (got.label, got.probability, got.abstained) == ("fake", 0.9, False)
        assert got.model_id == "test-model"
        assert got.evidence[0] == {
            "term": "said",
            "weight": -0.7,
            "toward": "reliable",
            "kind": "phrase",
            "start": None,
            "end": None,
            "count": 1,
        }
        assert got.created_at.tzinfo is not None
        assert got.created_at.utcoffset() == UTC.utcoffset(None)
        data = check_to_dict(got)
        assert data["verdict"] == "fake" and data["feedback"] == []
    assert get_check(session, 12345) is None


def test_feedback_round_trip(session: Session) -> None:
    check = add_check(session, "text", verdict())
    fb = add_feedback(session, check.id, agree=False, correct_label="fake", comment="satire")
    assert fb is not None and fb.id
    got = get_check(session, check.id)
    assert got is not None
    assert [(f.agree, f.correct_label, f.comment) for f in got.feedback] == [
        (False, "fake", "satire")
    ]
    assert add_feedback(session, 999, agree=True) is None
    with pytest.raises(InputError, match="correct_label"):
        add_feedback(session, check.id, agree=False, correct_label="satire")


def test_paging_and_filters(session: Session) -> None:
    for i in range(25):
        label = "fake" if i % 2 else "reliable"
        add_check(session, f"document number {i} about Budget", verdict(label, 0.5, i % 5 == 0))
    page1 = list_checks(session, page=1, per_page=10)
    assert page1.total == 25 and page1.pages == 3 and len(page1.items) == 10
    assert page1.items[0].text == "document number 24 about Budget"  # newest first
    page3 = list_checks(session, page=3, per_page=10)
    assert len(page3.items) == 5
    assert {c.id for c in page1.items}.isdisjoint(c.id for c in page3.items)
    fake = list_checks(session, label="fake", per_page=100)
    assert fake.total == 12 and all(c.label == "fake" for c in fake.items)
    unsure = list_checks(session, abstained=True, per_page=100)
    assert unsure.total == 5 and all(c.abstained for c in unsure.items)
    sure_fake = list_checks(session, label="fake", abstained=False, per_page=100)
    assert sure_fake.total == 10
    assert list_checks(session, q="number 7 ABOUT").total == 1
    assert list_checks(session, q="100%").total == 0  # % is literal, not a wildcard
    assert list_checks(session, page=9).items == []


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"page": 0}, "page"), ({"per_page": 101}, "per_page"), ({"label": "x"}, "label")],
)
def test_list_checks_rejects_bad_arguments(
    session: Session, kwargs: dict[str, object], match: str
) -> None:
    with pytest.raises(InputError, match=match):
        list_checks(session, **kwargs)  # type: ignore[arg-type]


def test_export_feedback_writes_a_training_csv(session: Session, tmp_path: Path) -> None:
    a = add_check(session, "agreed reliable", verdict("reliable"))
    b = add_check(session, "disagreed fake", verdict("fake", 0.9))
    c = add_check(session, "corrected", verdict("fake", 0.9))
    d = add_check(session, "unsure, agreed", verdict("reliable", 0.5, abstained=True))
    add_check(session, "no feedback", verdict())
    add_feedback(session, a.id, agree=True)
    add_feedback(session, b.id, agree=False)
    add_feedback(session, c.id, agree=False, correct_label="reliable")
    add_feedback(session, d.id, agree=True)
    out = tmp_path / "feedback.csv"
    assert export_feedback(session, out) == 3
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["id", "title", "text", "label"]
    assert [(r["text"], r["label"]) for r in rows] == [
        ("agreed reliable", "reliable"),
        ("disagreed fake", "reliable"),
        ("corrected", "reliable"),
    ]


def test_search_treats_q_literally(session: Session) -> None:
    """#13: SQLite's LIKE pattern ends at a NUL, so q="\x00" matched every check."""
    texts = ["it is 100% sure", "a snake_case name", "back\\slash", "abc \x01 def"]
    ids = {t: add_check(session, t, verdict()).id for t in texts}

    def found(q: str) -> list[int]:
        return [c.id for c in list_checks(session, q=q).items]

    assert found("%") == [ids["it is 100% sure"]]
    assert found("_") == [ids["a snake_case name"]]
    assert found("\\") == [ids["back\\slash"]]
    assert found("SNAKE_") == [ids["a snake_case name"]]  # case-insensitive, on both
    assert found("100%_") == []
    for q in ("\x00", "abc \x00", "\x1b"):
        with pytest.raises(InputError, match="control character"):
            list_checks(session, q=q)


#: Texts a spreadsheet would run as formulas (OWASP CSV injection), and their neighbours.
FORMULAS = [
    '=HYPERLINK("http://x","click")',
    "+1+1",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
    "'=quoted already",
    "'",
    "''",
    "plain = text",
]


def test_export_escapes_formulas_and_replaces_control_characters(
    session: Session, tmp_path: Path
) -> None:
    """#13: the export wrote a stored NUL (the training then refused the file) and
    wrote formulas as they were (they run when the CSV is opened in a spreadsheet)."""
    for stored in FORMULAS:
        add_feedback(session, add_check(session, stored, verdict()).id, agree=True)
    legacy = add_check(session, "abc \x01 def\x1b!", verdict())
    add_feedback(session, legacy.id, agree=True)
    if session.get_bind().dialect.name == "sqlite":  # PostgreSQL cannot hold a NUL at all
        session.execute(
            text("UPDATE checks SET text = :t WHERE id = :id"),
            {"t": "abc \x00 def\x1b!", "id": legacy.id},
        )
        session.commit()
    out = tmp_path / "feedback.csv"
    assert export_feedback(session, out) == len(FORMULAS) + 1
    raw = out.read_bytes()
    assert b"\x00" not in raw and b"\x1b" not in raw
    with out.open(newline="", encoding="utf-8") as handle:
        cells = [row["text"] for row in csv.DictReader(handle)]
    assert cells == [
        "'" + '=HYPERLINK("http://x","click")',
        "'+1+1",
        "'-2+3",
        "'@SUM(A1:A2)",
        "'\t=1+1",
        "'\r=1+1",
        "''=quoted already",
        "''",
        "'''",
        "plain = text",
        "abc   def !",
    ]
    assert not any(c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells)


def test_a_nul_is_refused_before_the_database_sees_it(session: Session) -> None:
    """PostgreSQL cannot store U+0000 in text: a clear InputError, on every backend."""
    with pytest.raises(
        InputError, match=r"the text holds a NUL character \(U\+0000\) at character 4"
    ):
        add_check(session, "abc \x00 def", verdict())
    with pytest.raises(InputError, match="the URL holds a NUL"):
        add_check(session, "abc", verdict(), url="https://example.org/\x00")
    check = add_check(session, "abc", verdict())
    with pytest.raises(InputError, match="the comment holds a NUL"):
        add_feedback(session, check.id, agree=True, comment="a\x00b")
    session.rollback()
    assert list_checks(session).total == 1


def test_timestamps_come_back_in_utc_whatever_the_sessions_zone(database_url: str) -> None:
    """PostgreSQL answers a timestamptz in the session's TimeZone; the store gives UTC."""
    upgrade(database_url)
    engine = make_engine(database_url)
    if engine.dialect.name == "postgresql":
        engine.dispose()
        engine = make_engine(with_options(database_url, "-c timezone=Asia/Kolkata"))
        with engine.connect() as conn:
            assert conn.execute(text("SHOW timezone")).scalar() == "Asia/Kolkata"
    before = datetime.now(UTC)
    with sessions(engine)() as session:
        check_id = add_check(session, "when?", verdict()).id
    with sessions(engine)() as session:
        got = get_check(session, check_id)
        assert got is not None
        assert got.created_at.utcoffset() == timedelta(0)
        assert abs(got.created_at - before) < timedelta(minutes=1)
        assert check_to_dict(got)["created_at"].endswith("+00:00")
    engine.dispose()


def test_models_are_importable_without_side_effects() -> None:
    assert Check.__tablename__ == "checks"


def test_ids_outside_the_integer_range_are_simply_absent(url: str) -> None:
    """Found by schemathesis: a 2**63 id must be 'no such check', not an OverflowError.

    PostgreSQL's ids are 32-bit: a larger id is compared, not refused, there too.
    """
    from veracity.store import repository

    engine = make_engine(url)
    with Session(engine) as session:
        for check_id in (0, -1, 2**31, 2**40, 2**63 - 1, 2**63, 10**30):
            assert repository.get_check(session, check_id) is None
            assert repository.add_feedback(session, check_id, agree=True) is None
