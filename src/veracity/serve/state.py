"""What every request shares: settings, the database, the (lazily loaded) detector, fetches."""

from __future__ import annotations

import asyncio
import contextvars
import gc
import threading
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, TypeVar, TypeVarTuple, cast

import anyio
from fastapi import Request
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from veracity.settings import Settings, usable_cpus
from veracity.store.migrate import make_engine, upgrade
from veracity.store.repository import sessions

if TYPE_CHECKING:
    from veracity.detector import Detector
    from veracity.serve.fetch import FetchedPage

__all__ = ["Service", "freeze_heap", "get_service", "get_session"]

_T = TypeVar("_T")
_Args = TypeVarTuple("_Args")

#: In a thread started by :func:`_in_slot`: set when the request that started it is gone.
_request_gone: contextvars.ContextVar[threading.Event | None] = contextvars.ContextVar(
    "veracity_request_gone", default=None
)


async def _in_slot(
    slots: anyio.CapacityLimiter, name: str, work: Callable[[*_Args], _T], *args: *_Args
) -> _T:
    """``work(*args)`` in a new thread once one of ``slots`` is free.

    Waiting for a slot holds no thread and ends with the request. The slot is held
    until the thread ends, even when the request (the awaiting task) is cancelled
    first, so never more threads run than there are slots. On a cancel the caller
    stops waiting at once and the thread finds :data:`_request_gone` set.
    """
    loop = asyncio.get_running_loop()
    holder = object()
    await slots.acquire_on_behalf_of(holder)
    future: asyncio.Future[_T] = loop.create_future()
    gone = threading.Event()
    context = contextvars.copy_context()
    context.run(_request_gone.set, gone)

    def settle(result: _T | None, error: Exception | None) -> None:
        slots.release_on_behalf_of(holder)
        if future.done():  # cancelled: nobody waits for it
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(cast(_T, result))

    def run() -> None:
        result, error = None, None
        try:
            result = context.run(work, *args)
        except Exception as exc:
            error = exc
        except BaseException as exc:  # reported, not re-raised: it would stop the event loop
            error = RuntimeError(f"the {name} thread stopped: {exc!r}")
        try:
            loop.call_soon_threadsafe(settle, result, error)
        except RuntimeError:  # the event loop is closed: the app has stopped
            pass

    try:
        threading.Thread(target=run, name=name, daemon=True).start()
    except BaseException:
        slots.release_on_behalf_of(holder)
        raise
    try:
        return await future
    finally:
        gone.set()


def freeze_heap() -> None:
    """Leave what exists now (modules, the model) out of the garbage collector's passes.

    A full collection walked the ~90,000 objects of the imports and the model each
    time: 30-50 ms in the middle of a check, the slowest requests under load. Frozen,
    they are never walked again (they live as long as the process anyway).
    """
    gc.collect()
    gc.freeze()


class Service:
    """Settings, database and detector of one running app.

    Parameters
    ----------
    settings : Settings
        Database URL, limits and model location.
    detector : Detector, optional
        The detector to use; loaded from ``settings`` on first use when omitted.
    """

    def __init__(self, settings: Settings, detector: Detector | None = None) -> None:
        self.settings = settings
        self._detector = detector
        self._lock = threading.Lock()
        self._engine: Engine | None = None
        self._sessions: sessionmaker[Session] | None = None
        self._fetch_slots = anyio.CapacityLimiter(settings.max_concurrent_fetches)
        self._check_slots = anyio.CapacityLimiter(settings.max_concurrent_checks or usable_cpus())

    def fetch(self, url: str) -> FetchedPage:
        """The article text at ``url``, fetched under the SSRF guard (tests replace this).

        Blocking, within ``fetch_timeout_seconds``; routes call :meth:`fetch_page`, and
        the fetch stops when their request is gone.
        """
        from veracity.serve.fetch import fetch_text

        return fetch_text(
            url, timeout=self.settings.fetch_timeout_seconds, cancel=_request_gone.get()
        )

    async def fetch_page(self, url: str) -> FetchedPage:
        """:meth:`fetch` in a thread of its own, at most ``max_concurrent_fetches`` at once.

        The route awaits it without holding a thread of the pool that serves the other
        requests, so slow sites cannot starve them. When the request is cancelled (at
        ``request_timeout_seconds``) the fetch is told to stop, and does within a
        quarter of a second.
        """
        return await _in_slot(self._fetch_slots, "veracity-fetch", self.fetch, url)

    async def run_check(self, work: Callable[[*_Args], _T], *args: *_Args) -> _T:
        """``work(*args)`` (model work) in a thread, at most ``max_concurrent_checks`` at once.

        More busy threads than CPUs only take the interpreter lock from each other and
        from the event loop, which then answers late, 503s included. A check still
        waiting for a slot at the time limit never runs; one already running finishes
        in its thread, keeping its slot until then.
        """
        return await _in_slot(self._check_slots, "veracity-check", work, *args)

    def start(self) -> None:
        """Migrate the database to the newest schema and open the engine."""
        upgrade(self.settings.database_url)
        self._engine = make_engine(self.settings.database_url)
        self._sessions = sessions(self._engine)

    def stop(self) -> None:
        """Close the database connections."""
        if self._engine is not None:
            self._engine.dispose()
        self._engine = None
        self._sessions = None

    @property
    def detector(self) -> Detector:
        """The detector, loaded (once, thread-safely) on first use."""
        if self._detector is None:
            with self._lock:
                if self._detector is None:
                    from veracity.detector import Detector

                    self._detector = Detector.from_path(None, settings=self.settings, fast=True)
                    freeze_heap()
        return self._detector

    def session(self) -> Session:
        """A new database session (the app must have started)."""
        if self._sessions is None:
            raise RuntimeError("the service has not started: use it inside the app's lifespan")
        return self._sessions()

    def database_ok(self) -> bool:
        """True when the database answers a trivial query."""
        try:
            with self.session() as session:
                session.execute(text("SELECT 1"))
        except Exception:
            return False
        return True


# Both dependencies are async although they do no I/O: FastAPI runs a plain ``def``
# dependency in its thread pool, a thread hop (two for a generator) on every request.


async def get_service(request: Request) -> Service:
    """FastAPI dependency: the app's :class:`Service`."""
    service: Service = request.app.state.service
    return service


async def get_session(request: Request) -> AsyncIterator[Session]:
    """FastAPI dependency: a database session closed after the request.

    Opening a session connects to nothing (the first query does, in the endpoint's
    thread); closing one returns its connection to the pool (a rollback at most), which
    is quicker than the thread hop a plain ``def`` dependency costs.
    """
    service: Service = request.app.state.service
    with service.session() as session:
        yield session
