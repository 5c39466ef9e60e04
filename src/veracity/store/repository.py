"""Repository functions: the only code that reads and writes checks, feedback, API keys
and rate limits.

Every function takes a :class:`sqlalchemy.orm.Session` and commits its own write, so
callers (the HTTP service, the CLI, tests) need no SQL.

>>> from veracity.store.migrate import make_engine, upgrade
>>> from veracity.store.repository import add_check, sessions
>>> upgrade("sqlite:///veracity.db")  # doctest: +SKIP
>>> with sessions(make_engine("sqlite:///veracity.db"))() as session:  # doctest: +SKIP
...     check = add_check(session, text, verdict)
"""

from __future__ import annotations

import csv
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, case, delete, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload, sessionmaker

from veracity.errors import InputError
from veracity.store.models import ApiKey, Check, Feedback, RateLimit, Secret, utcnow
from veracity.text.controls import describe_control, find_control, replace_controls
from veracity.text.formulas import escape_formula
from veracity.types import FAKE, LABELS, RELIABLE, Verdict

__all__ = [
    "KEY_PREFIX",
    "Page",
    "add_check",
    "add_checks",
    "add_feedback",
    "check_to_dict",
    "create_api_key",
    "export_feedback",
    "find_api_key",
    "get_check",
    "hash_api_key",
    "list_api_keys",
    "list_checks",
    "prune_rate_limits",
    "revoke_api_key",
    "sessions",
    "shared_secret",
    "take_token",
]

MAX_PER_PAGE = 100


@dataclass(frozen=True)
class Page:
    """One page of checks, newest first, with the total that matched the filters."""

    items: list[Check]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """How many pages the filtered checks fill (at least 1)."""
        return max(1, -(-self.total // self.per_page))


def sessions(engine: Engine) -> sessionmaker[Session]:
    """A session factory on ``engine`` whose objects stay usable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


def _refuse_nul(what: str, value: str | None) -> None:
    """PostgreSQL cannot store U+0000 in text (and SQLite's ``LIKE`` stops at one)."""
    if value is not None and "\x00" in value:
        at = value.index("\x00")
        raise InputError(f"{what} holds a NUL character (U+0000) at character {at:,}; remove it")


def add_check(session: Session, text: str, verdict: Verdict, url: str | None = None) -> Check:
    """Store ``text`` and its ``verdict`` (and the ``url`` it came from) as a new check.

    Raises
    ------
    InputError
        ``text`` or ``url`` holds a NUL character, which no database stores as text.
    """
    (check,) = add_checks(session, [(text, verdict)], url=url)
    return check


def add_checks(
    session: Session, checked: Sequence[tuple[str, Verdict]], url: str | None = None
) -> list[Check]:
    """Store every ``(text, verdict)`` pair as a new check, in one transaction.

    All are stored or none: every text is validated before anything is written, and
    one commit covers them all (a batch of 100 is one durable write, not 100).

    Raises
    ------
    InputError
        A text or ``url`` holds a NUL character, which no database stores as text;
        the error names the document (``#i``) when there are several.
    """
    _refuse_nul("the URL", url)
    for i, (text, _) in enumerate(checked):
        _refuse_nul("the text" if len(checked) == 1 else f"document #{i}", text)
    checks = [
        Check(
            text=text,
            text_sha256=hashlib.sha256(text.encode("utf-8", errors="surrogatepass")).hexdigest(),
            url=url,
            label=verdict.label,
            probability=float(verdict.probability),
            abstained=bool(verdict.abstained),
            reason=verdict.reason,
            model_id=verdict.model_id,
            evidence=[e.to_dict() for e in verdict.evidence],
            band_halfwidth=verdict.band_halfwidth,
        )
        for text, verdict in checked
    ]
    session.add_all(checks)
    session.commit()
    return checks


#: Ids are 64-bit signed integers in SQLite; larger ones cannot exist.
MAX_ID = 2**63 - 1
#: PostgreSQL's ``integer`` ids are 32-bit: it refuses to compare with a larger number.
MAX_POSTGRES_ID = 2**31 - 1


def _may_exist(session: Session, check_id: int) -> bool:
    """False for an id no row can have (so it is never sent to the database)."""
    top = MAX_POSTGRES_ID if session.get_bind().dialect.name == "postgresql" else MAX_ID
    return 1 <= check_id <= top


def get_check(session: Session, check_id: int) -> Check | None:
    """The check with ``check_id`` and its feedback, or None when there is none."""
    if not _may_exist(session, check_id):
        return None
    stmt = (
        select(Check)
        .where(Check.id == check_id)
        .options(selectinload(Check.feedback))
        .execution_options(populate_existing=True)
    )
    return session.scalars(stmt).first()


def _like_escape(q: str) -> str:
    return q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_checks(
    session: Session,
    page: int = 1,
    per_page: int = 20,
    label: str | None = None,
    abstained: bool | None = None,
    q: str | None = None,
) -> Page:
    """Checks newest first, ``per_page`` (1 to 100) per page, filtered.

    Parameters
    ----------
    session : Session
        An open session.
    page, per_page : int
        1-based page number and page size.
    label : str, optional
        ``reliable`` or ``fake`` (the model's label, abstained or not).
    abstained : bool, optional
        Only checks where veracity was (True) or was not (False) sure.
    q : str, optional
        Only checks whose text contains ``q``, literally (``%`` and ``_`` are not
        wildcards) and case-insensitively.

    Raises
    ------
    InputError
        A bad page, size or label, or ``q`` holding a control character (SQLite's
        ``LIKE`` stops at a NUL, so such a search would match every check).
    """
    if page < 1:
        raise InputError(f"page must be 1 or more, got {page}")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise InputError(f"per_page must be between 1 and {MAX_PER_PAGE}, got {per_page}")
    if label is not None and label not in LABELS:
        raise InputError(f"label must be one of {list(LABELS)}, got {label!r}")
    if q and (at := find_control(q)) >= 0:
        raise InputError(
            f"q holds {describe_control(q, at)}; search for text without control characters"
        )
    conditions: list[Any] = []
    if label is not None:
        conditions.append(Check.label == label)
    if abstained is not None:
        conditions.append(Check.abstained == abstained)
    if q:
        conditions.append(Check.text.ilike(f"%{_like_escape(q)}%", escape="\\"))
    total = session.scalar(select(func.count()).select_from(Check).where(*conditions)) or 0
    offset = (page - 1) * per_page
    if offset >= total:  # past the last page; a huge page must not overflow SQLite's OFFSET
        return Page([], int(total), page, per_page)
    stmt = (
        select(Check)
        .where(*conditions)
        .options(selectinload(Check.feedback))
        .order_by(Check.id.desc())
        .limit(per_page)
        .offset(offset)
    )
    return Page(list(session.scalars(stmt)), int(total), page, per_page)


def add_feedback(
    session: Session,
    check_id: int,
    agree: bool,
    correct_label: str | None = None,
    comment: str = "",
) -> Feedback | None:
    """Record feedback on check ``check_id``; None when that check does not exist.

    ``correct_label`` (``reliable`` or ``fake``) says what the document really is.
    """
    if correct_label is not None and correct_label not in LABELS:
        raise InputError(f"correct_label must be one of {list(LABELS)}, got {correct_label!r}")
    _refuse_nul("the comment", comment)
    if not _may_exist(session, check_id) or session.get(Check, check_id) is None:
        return None
    feedback = Feedback(
        check_id=check_id, agree=agree, correct_label=correct_label, comment=comment
    )
    session.add(feedback)
    session.commit()
    return feedback


def _training_label(check: Check, feedback: Feedback) -> str | None:
    """The label a person's feedback gives the document, if it gives one."""
    if feedback.correct_label is not None:
        return feedback.correct_label
    if check.abstained:
        return None  # "agree" with "not sure" says nothing about the label
    if feedback.agree:
        return check.label
    return FAKE if check.label == RELIABLE else RELIABLE


def export_feedback(session: Session, path: str | Path) -> int:
    """Write checks with feedback as a training CSV (``id,title,text,label``); rows written.

    The newest usable feedback of each check decides its label: an explicit
    ``correct_label``, else the check's label when the person agreed and the other
    label when not. Feedback on "not sure" checks without a correct label is skipped.

    The file is safe to open in a spreadsheet and to train on: a text starting with
    ``=``, ``+``, ``-``, ``@``, tab, carriage return or an apostrophe gets an apostrophe
    in front (:func:`~veracity.text.formulas.escape_formula`), which
    ``veracity train --with-feedback`` removes again; control characters other than
    tab, newline and carriage return (stored before the service refused them) are
    written as spaces, so the file never holds a NUL.
    """
    # EXISTS, not JOIN … DISTINCT: PostgreSQL cannot compare the JSON evidence column
    stmt = select(Check).where(Check.feedback.any()).options(selectinload(Check.feedback))
    rows = 0
    out = Path(path)
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "title", "text", "label"])
        for check in session.scalars(stmt.order_by(Check.id)):
            labels = [_training_label(check, f) for f in check.feedback]
            usable = [x for x in labels if x is not None]
            if usable:
                text = escape_formula(replace_controls(check.text))
                writer.writerow([f"check-{check.id}", "", text, usable[-1]])
                rows += 1
    return rows


def check_to_dict(check: Check, *, feedback: bool = True) -> dict[str, Any]:
    """A JSON-ready dict of a check and its feedback.

    ``feedback=False`` gives an empty list without reading the feedback table: for a
    check stored a moment ago, which cannot have any yet.
    """
    return {
        "id": check.id,
        "created_at": check.created_at.isoformat(),
        "text": check.text,
        "text_sha256": check.text_sha256,
        "url": check.url,
        "label": check.label,
        "verdict": check.verdict,
        "probability": check.probability,
        "abstained": check.abstained,
        "reason": check.reason,
        "model_id": check.model_id,
        "evidence": check.evidence,
        "band_halfwidth": check.band_halfwidth,
        "feedback": [
            {
                "id": f.id,
                "agree": f.agree,
                "correct_label": f.correct_label,
                "comment": f.comment,
                "created_at": f.created_at.isoformat(),
            }
            for f in (check.feedback if feedback else ())
        ],
    }


#: Every API key starts with this, so a leaked key is easy to recognise and search for.
KEY_PREFIX = "vk_"
#: How many leading characters of a key are stored (and shown) to tell keys apart.
SHOWN_PREFIX_LENGTH = 10


def hash_api_key(key: str) -> str:
    """The SHA-256 hex digest under which ``key`` is stored.

    A plain (unsalted, fast) hash is enough: keys are 256 random bits, not passwords,
    so they cannot be guessed from a dictionary.
    """
    return hashlib.sha256(key.encode("utf-8", errors="surrogatepass")).hexdigest()


def create_api_key(session: Session, name: str) -> tuple[ApiKey, str]:
    """Make a new random API key called ``name``; store only its hash and prefix.

    Parameters
    ----------
    session : Session
        An open session.
    name : str
        Who or what the key is for (1 to 100 characters); no other active key may
        have it.

    Returns
    -------
    tuple of (ApiKey, str)
        The stored row and the key itself: show it once, it cannot be recovered.
    """
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise InputError("a key name must be 1 to 100 characters")
    if name.startswith(KEY_PREFIX):
        raise InputError(f"a key name must not start with {KEY_PREFIX!r} (keys do)")
    taken = select(ApiKey).where(ApiKey.name == name, ApiKey.revoked_at.is_(None))
    if session.scalars(taken).first() is not None:
        raise InputError(
            f"there is already an active key called {name!r}; revoke it first or pick another name"
        )
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(name=name, prefix=key[:SHOWN_PREFIX_LENGTH], key_sha256=hash_api_key(key))
    session.add(row)
    session.commit()
    return row, key


def find_api_key(session: Session, key: str) -> ApiKey | None:
    """The active (not revoked) key row whose hash matches ``key``, or None."""
    stmt = select(ApiKey).where(ApiKey.key_sha256 == hash_api_key(key), ApiKey.revoked_at.is_(None))
    return session.scalars(stmt).first()


def list_api_keys(session: Session, include_revoked: bool = True) -> list[ApiKey]:
    """All keys, oldest first (names, prefixes and dates; no secrets are stored)."""
    stmt = select(ApiKey).order_by(ApiKey.id)
    if not include_revoked:
        stmt = stmt.where(ApiKey.revoked_at.is_(None))
    return list(session.scalars(stmt))


def revoke_api_key(session: Session, name_or_prefix: str) -> ApiKey | None:
    """Revoke the active key with this name or prefix; None when no active key matches.

    Raises
    ------
    InputError
        When several active keys match (give a longer prefix or the name).
    """
    needle = name_or_prefix.strip()
    if not needle:
        raise InputError("give the name or the prefix of the key to revoke")
    conditions: list[Any] = [ApiKey.name == needle]
    if needle.startswith(KEY_PREFIX):
        conditions.append(ApiKey.key_sha256 == hash_api_key(needle))
        if len(needle) >= len(KEY_PREFIX) + 4:
            escaped = _like_escape(needle[:SHOWN_PREFIX_LENGTH])
            conditions.append(ApiKey.prefix.like(f"{escaped}%", escape="\\"))
    stmt = select(ApiKey).where(ApiKey.revoked_at.is_(None), or_(*conditions))
    matches = list(session.scalars(stmt))
    if len(matches) > 1:
        shown = ", ".join(f"{m.name} ({m.prefix}…)" for m in matches)
        raise InputError(f"{needle!r} matches several active keys: {shown}; give one's name")
    if not matches:
        return None
    matches[0].revoked_at = utcnow()
    session.commit()
    return matches[0]


#: A bucket name longer than this (an odd client "address") is stored as its hash.
MAX_BUCKET_LENGTH = 100
#: Seconds a bucket needs to refill completely: rows idle this long hold nothing.
REFILL_SECONDS = 60.0


def _bucket_name(bucket: str) -> str:
    if len(bucket) <= MAX_BUCKET_LENGTH:
        return bucket
    return "sha256:" + hashlib.sha256(bucket.encode("utf-8", errors="surrogatepass")).hexdigest()


def _insert(session: Session) -> Any:
    """The dialect's ``insert`` (with ``on_conflict_do_update`` and ``_do_nothing``)."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def take_token(session: Session, bucket: str, per_minute: int, now: float) -> float:
    """Take one request from ``bucket``'s allowance, atomically for every process.

    A token bucket: ``per_minute`` requests a minute, refilled evenly, bursts up to the
    whole minute's allowance. One ``INSERT … ON CONFLICT DO UPDATE … RETURNING``
    (SQLite 3.35+ and PostgreSQL) refills, takes and answers in a single statement,
    so workers sharing the database share the allowance exactly. Commits.

    Parameters
    ----------
    session : Session
        An open session.
    bucket : str
        What is limited, e.g. ``key:7`` or ``address:192.0.2.7``.
    per_minute : int
        The allowance (1 or more).
    now : float
        The time in seconds since the epoch (workers' clocks should agree; a clock
        behind the stored time refills nothing, it never takes tokens back).

    Returns
    -------
    float
        0.0 when the request may go ahead, otherwise the seconds until it could.
    """
    if per_minute < 1:
        raise InputError(f"per_minute must be 1 or more, got {per_minute}")
    table = RateLimit.__table__
    cap = float(per_minute)
    rate = cap / REFILL_SECONDS
    stmt = _insert(session)(table).values(
        bucket=_bucket_name(bucket), tokens=cap - 1.0, updated=now, granted=True
    )
    later = stmt.excluded.updated > table.c.updated
    filled = (
        table.c.tokens + case((later, stmt.excluded.updated - table.c.updated), else_=0.0) * rate
    )
    refill = case((filled > cap, cap), else_=filled)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.bucket],
        set_={
            "tokens": case((refill >= 1.0, refill - 1.0), else_=refill),
            "updated": case((later, stmt.excluded.updated), else_=table.c.updated),
            "granted": refill >= 1.0,
        },
    ).returning(table.c.tokens, table.c.granted)
    tokens, granted = session.execute(stmt).one()
    session.commit()
    if granted:
        return 0.0
    return max(0.0, (1.0 - float(tokens)) / rate)


def prune_rate_limits(session: Session, now: float) -> int:
    """Delete the buckets idle for a minute (full again, so nothing is lost); rows deleted."""
    result = session.execute(delete(RateLimit).where(RateLimit.updated < now - REFILL_SECONDS))
    session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


def shared_secret(session: Session, name: str, nbytes: int = 32) -> bytes:
    """The random secret called ``name``: made by the first process to ask, then shared.

    Every worker process on the database gets the same bytes, and so does the next
    start of the service. Commits.
    """
    table = Secret.__table__
    fresh = secrets.token_hex(nbytes)
    session.execute(
        _insert(session)(table)
        .values(name=name, value=fresh)
        .on_conflict_do_nothing(index_elements=[table.c.name])
    )
    session.commit()
    return bytes.fromhex(session.scalars(select(Secret.value).where(Secret.name == name)).one())
