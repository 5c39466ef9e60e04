"""What every request shares: settings, the database and the (lazily loaded) detector."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

from fastapi import Request
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from veracity.settings import Settings
from veracity.store.migrate import make_engine, upgrade
from veracity.store.repository import sessions

if TYPE_CHECKING:
    from veracity.detector import Detector
    from veracity.serve.fetch import FetchedPage

__all__ = ["Service", "get_service", "get_session"]


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

    def fetch(self, url: str) -> FetchedPage:
        """The article text at ``url``, fetched under the SSRF guard (tests replace this)."""
        from veracity.serve.fetch import fetch_text

        return fetch_text(url)

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
    def detector_loaded(self) -> bool:
        """True once the detector is in memory."""
        return self._detector is not None

    @property
    def detector(self) -> Detector:
        """The detector, loaded (once, thread-safely) on first use."""
        if self._detector is None:
            with self._lock:
                if self._detector is None:
                    from veracity.detector import Detector

                    self._detector = Detector.from_path(None, settings=self.settings)
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


def get_service(request: Request) -> Service:
    """FastAPI dependency: the app's :class:`Service`."""
    service: Service = request.app.state.service
    return service


def get_session(request: Request) -> Iterator[Session]:
    """FastAPI dependency: a database session closed after the request."""
    with get_service(request).session() as session:
        yield session
