"""API keys and per-key rate limits for the ``/v1`` JSON API (off unless configured).

With ``VERACITY_REQUIRE_API_KEY=true`` every ``/v1`` route needs a key made with
``veracity keys create NAME``, sent as ``Authorization: Bearer KEY`` or
``X-API-Key: KEY``; a missing, unknown or revoked key gets 401. Each key may then make
``VERACITY_RATE_LIMIT_PER_MINUTE`` requests a minute (a token bucket that refills
continuously; bursts up to the full minute's allowance); over that gets 429 with
``Retry-After``. ``/healthz``, ``/readyz``, the HTML pages and ``/docs`` stay open: put the
pages behind a proxy if they must be private. The limit is per key and kept in the
memory of one process: with several worker processes each enforces it on its own.

>>> from veracity.serve.auth import RateLimiter
>>> limiter = RateLimiter(per_minute=2, clock=lambda: 0.0)
>>> limiter.acquire("k"), limiter.acquire("k"), limiter.acquire("k")
(0.0, 0.0, 30.0)
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from veracity.serve.problems import ProblemException
from veracity.serve.state import Service, get_service
from veracity.store.repository import find_api_key

__all__ = ["RateLimiter", "require_api_key"]

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer KEY`.")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key.")
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="veracity"'}


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """A thread-safe token bucket per key: ``per_minute`` requests a minute, refilled evenly.

    Parameters
    ----------
    per_minute : int
        Requests allowed per key per minute, and the largest burst; 0 means unlimited.
    clock : callable, optional
        Monotonic seconds (tests pass a fake clock); ``time.monotonic`` by default.
    """

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def acquire(self, key: str) -> float:
        """Take one request from ``key``'s allowance.

        Returns
        -------
        float
            0.0 when the request may go ahead, otherwise the seconds until it could.
        """
        if self.per_minute <= 0:
            return 0.0
        rate = self.per_minute / 60.0
        now = self.clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(float(self.per_minute), now)
            elapsed = max(0.0, now - bucket.updated)
            bucket.tokens = min(float(self.per_minute), bucket.tokens + elapsed * rate)
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / rate


def _unauthorized(detail: str) -> ProblemException:
    return ProblemException(401, detail, "urn:veracity:problem:unauthorized", headers=_CHALLENGE)


def require_api_key(
    request: Request,
    service: Annotated[Service, Depends(get_service)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    header_key: Annotated[str | None, Security(_header)],
) -> str:
    """FastAPI dependency: the name of the caller's valid API key, rate limited.

    Raises
    ------
    ProblemException
        401 (with ``WWW-Authenticate``) for a missing, unknown or revoked key; 429
        (with ``Retry-After``) when the key is over its per-minute allowance.
    """
    key = bearer.credentials if bearer is not None else header_key
    if not key:
        raise _unauthorized(
            "this API needs a key: send `Authorization: Bearer KEY` or `X-API-Key: KEY` "
            "(keys are made with `veracity keys create NAME`)"
        )
    with service.session() as session:
        row = find_api_key(session, key)
        name = row.name if row is not None else None
        key_id = row.id if row is not None else None
    if name is None:
        raise _unauthorized("the API key is not valid: it is unknown or has been revoked")
    limiter: RateLimiter = request.app.state.rate_limiter
    wait = limiter.acquire(f"key:{key_id}")
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        raise ProblemException(
            429,
            f"key {name!r} is over its limit of {service.settings.rate_limit_per_minute} "
            f"requests a minute (VERACITY_RATE_LIMIT_PER_MINUTE); retry in {seconds} s",
            "urn:veracity:problem:rate-limited",
            headers={"Retry-After": str(seconds)},
        )
    request.state.api_key_name = name
    return name
