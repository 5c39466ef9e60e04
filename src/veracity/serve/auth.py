"""API keys, per-key rate limits for the ``/v1`` JSON API, per-address limits for the page.

With ``VERACITY_REQUIRE_API_KEY=true`` every ``/v1`` route needs a key made with
``veracity keys create NAME``, sent as ``Authorization: Bearer KEY`` or
``X-API-Key: KEY``; a missing, unknown or revoked key gets 401. Each key may then make
``VERACITY_RATE_LIMIT_PER_MINUTE`` requests a minute (a token bucket that refills
continuously; bursts up to the full minute's allowance); over that gets 429 with
``Retry-After``. ``/healthz``, ``/readyz``, the HTML pages and ``/docs`` stay open: put the
pages behind a proxy if they must be private.

The page's check form does the same work as ``POST /v1/check`` (URL fetches included)
without a key, so each client address may send it ``VERACITY_RATE_LIMIT_PER_ADDRESS_PER_MINUTE``
times a minute (the same token bucket; an IPv6 address counts as its /64 network, which
one client usually holds whole). The address is the TCP peer's: behind a reverse proxy
every client shares the proxy's, unless uvicorn is told to trust its ``X-Forwarded-For``.

Limits are kept in the database (table ``rate_limits``), so every worker process and
every server on one database shares them: with ``uvicorn --workers 4`` or several
``veracity serve`` on one PostgreSQL, a key still gets its allowance once, not once per
worker. Each request updates its bucket with one atomic statement
(:func:`veracity.store.repository.take_token`); buckets idle for a minute are full again,
so each process deletes them once a minute. The time is the workers' clock
(``time.time``): servers sharing a database should keep their clocks in sync (NTP).

>>> from veracity.serve.auth import RateLimiter
>>> limiter = RateLimiter(per_minute=2, sessions=make_session, clock=lambda: 0.0)  # doctest: +SKIP
>>> limiter.acquire("k"), limiter.acquire("k"), limiter.acquire("k")  # doctest: +SKIP
(0.0, 0.0, 30.0)
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from veracity.serve.problems import ProblemException
from veracity.serve.state import Service, get_service
from veracity.store.repository import (
    REFILL_SECONDS,
    find_api_key,
    prune_rate_limits,
    take_token,
)

__all__ = ["RateLimiter", "address_retry_after", "client_address", "require_api_key"]

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer KEY`.")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key.")
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="veracity"'}


class RateLimiter:
    """A token bucket per key, kept in the database: ``per_minute`` requests a minute.

    Parameters
    ----------
    per_minute : int
        Requests allowed per key per minute, and the largest burst; 0 means unlimited
        (the database is then never touched).
    sessions : callable
        Makes a new database session (the app passes ``Service.session``).
    clock : callable, optional
        Seconds since the epoch, the same in every process (tests pass a fake clock);
        ``time.time`` by default.
    """

    def __init__(
        self,
        per_minute: int,
        sessions: Callable[[], Session],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.per_minute = per_minute
        self.sessions = sessions
        self.clock = clock
        self._pruned: float | None = None
        self._lock = threading.Lock()

    def acquire(self, key: str) -> float:
        """Take one request from ``key``'s allowance (blocking: it writes the database).

        Returns
        -------
        float
            0.0 when the request may go ahead, otherwise the seconds until it could.
        """
        if self.per_minute <= 0:
            return 0.0
        now = self.clock()
        with self.sessions() as session:
            wait = take_token(session, key, self.per_minute, now)
            if self._due(now):
                prune_rate_limits(session, now)
        return wait

    def _due(self, now: float) -> bool:
        """True once a minute per process (and at first use): time to prune."""
        with self._lock:
            if self._pruned is not None and abs(now - self._pruned) < REFILL_SECONDS:
                return False
            self._pruned = now
            return True


def client_address(request: Request) -> str:
    """The client's rate-limit key: its IP address, or its /64 network for IPv6.

    >>> from types import SimpleNamespace as NS
    >>> client_address(NS(client=NS(host="2001:db8::1")))
    'address:2001:db8::/64'
    >>> client_address(NS(client=NS(host="::ffff:192.0.2.7")))
    'address:192.0.2.7'
    """
    host = request.client.host if request.client is not None else ""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return f"address:{host}"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return f"address:{ip.ipv4_mapped}"
        return f"address:{ipaddress.IPv6Network((ip, 64), strict=False)}"
    return f"address:{ip}"


async def address_retry_after(request: Request) -> int:
    """Take one check from the client address's allowance: 0, or the seconds to wait.

    The allowance is ``VERACITY_RATE_LIMIT_PER_ADDRESS_PER_MINUTE`` (the app's
    ``address_limiter``); the page's check form awaits this before any work. The
    database write runs in a worker thread, never on the event loop.
    """
    limiter: RateLimiter = request.app.state.address_limiter
    if limiter.per_minute <= 0:
        return 0
    wait = await run_in_threadpool(limiter.acquire, client_address(request))
    return max(1, math.ceil(wait)) if wait > 0 else 0


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
