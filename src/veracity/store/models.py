"""The tables: ``checks`` (one verdict each), ``feedback`` (a person's answer to one),
``api_keys`` (hashes of the keys that may call the HTTP API), and what every worker
process on one database shares: ``rate_limits`` (each key's and client address's
request allowance) and ``secrets`` (e.g. the key that signs the forms' CSRF tokens)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

__all__ = [
    "ApiKey",
    "Base",
    "Check",
    "Feedback",
    "RateLimit",
    "Secret",
    "UTCDateTime",
    "utcnow",
]


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware in UTC.

    SQLite drops the zone; PostgreSQL gives it back in the session's ``TimeZone``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert aware datetimes to UTC; refuse naive ones (their zone is unknown)."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Attach UTC to timestamps that come back naive; convert aware ones to UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of the veracity tables."""


class Check(Base):
    """One checked document and the verdict veracity gave it."""

    __tablename__ = "checks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    text: Mapped[str] = mapped_column(Text)
    text_sha256: Mapped[str] = mapped_column(String(64), index=True)
    url: Mapped[str | None] = mapped_column(Text, nullable=True)
    label: Mapped[str] = mapped_column(String(16), index=True)
    probability: Mapped[float] = mapped_column(Float)
    abstained: Mapped[bool] = mapped_column(Boolean, index=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    model_id: Mapped[str] = mapped_column(String(200))
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    #: The model's own "not sure" half-width for this text (None: no such band, or
    #: stored before migration 0004).
    band_halfwidth: Mapped[float | None] = mapped_column(Float, nullable=True)

    feedback: Mapped[list[Feedback]] = relationship(
        back_populates="check",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Feedback.id",
    )

    @property
    def verdict(self) -> str:
        """``reliable``, ``fake`` or ``not sure``, as a person reads it."""
        return "not sure" if self.abstained else self.label


class Feedback(Base):
    """A person's answer to a check: agree or not, and optionally the correct label."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    check_id: Mapped[int] = mapped_column(ForeignKey("checks.id", ondelete="CASCADE"), index=True)
    agree: Mapped[bool] = mapped_column(Boolean)
    correct_label: Mapped[str | None] = mapped_column(String(16), nullable=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    check: Mapped[Check] = relationship(back_populates="feedback")


class ApiKey(Base):
    """A key that may call the HTTP API; only its SHA-256 is stored, never the key.

    ``prefix`` is the key's first characters: not secret, enough to tell keys apart
    in ``veracity keys list`` and to revoke one.
    """

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    key_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    @property
    def active(self) -> bool:
        """True until the key is revoked."""
        return self.revoked_at is None


class RateLimit(Base):
    """A token bucket: how many requests a key or client address may still make now.

    ``tokens`` (up to the per-minute allowance) refill continuously from ``updated``
    (seconds since the epoch, as the serving process's clock read it); ``granted`` says
    whether the last request took one. A row idle for a minute is full again, so it
    is deleted (:func:`veracity.store.repository.take_token`).
    """

    __tablename__ = "rate_limits"

    bucket: Mapped[str] = mapped_column(String(100), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    updated: Mapped[float] = mapped_column(Float, index=True)
    granted: Mapped[bool] = mapped_column(Boolean)


class Secret(Base):
    """A random secret made once and shared by every process on the database.

    ``value`` is hex; :func:`veracity.store.repository.shared_secret` makes and reads it.
    Whoever can read the database can read it, as they can every check.
    """

    __tablename__ = "secrets"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))
