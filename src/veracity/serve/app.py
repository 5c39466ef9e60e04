"""The FastAPI application: JSON API under ``/v1``, the web page, health checks.

>>> from veracity.serve.app import create_app
>>> from veracity.settings import Settings
>>> app = create_app(Settings(database_url="sqlite:///checks.db"))  # doctest: +SKIP

The database is migrated to the newest schema when the app starts; the model loads
on first use (or is the ``detector`` given). Errors are RFC 9457 problem JSON; every
response carries security headers (:mod:`veracity.serve.headers`). The API reference at
``/docs`` is rendered by the app itself (:mod:`veracity.serve.apidocs`), so it works
offline under the same strict policy as every other page. With
``require_api_key`` the ``/v1`` routes need an API key (see :mod:`veracity.serve.auth`);
every request is answered within ``request_timeout_seconds``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from veracity import __version__
from veracity.serve import api, pages
from veracity.serve.auth import RateLimiter, require_api_key
from veracity.serve.csrf import new_secret
from veracity.serve.headers import SecurityHeadersMiddleware
from veracity.serve.malloc import cap_malloc_arenas
from veracity.serve.problems import BodyLimitMiddleware, TimeoutMiddleware, install_handlers
from veracity.serve.state import Service, freeze_heap
from veracity.settings import Settings
from veracity.store.repository import shared_secret

if TYPE_CHECKING:
    from veracity.detector import Detector

__all__ = ["create_app"]


def create_app(settings: Settings | None = None, detector: Detector | None = None) -> FastAPI:
    """Build the veracity web service.

    Parameters
    ----------
    settings : Settings, optional
        Database URL, size and time limits, API keys and model location;
        ``Settings()`` when omitted.
    detector : Detector, optional
        The detector to check with; loaded from ``settings`` on first use when omitted.

    Returns
    -------
    FastAPI
        An ASGI app; run it with uvicorn (``veracity serve``) or test it with
        ``fastapi.testclient.TestClient`` used as a context manager (which runs the
        startup that migrates the database).
    """
    settings = settings if settings is not None else Settings()
    service = Service(settings, detector)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        cap_malloc_arenas()  # before the check threads allocate
        service.start()
        with service.session() as session:  # the same in every worker on the database
            app.state.csrf_secret = shared_secret(session, "csrf")
        freeze_heap()  # the imports (and a model given) out of the collector's way
        try:
            yield
        finally:
            service.stop()

    app = FastAPI(
        title="veracity",
        version=__version__,
        description="Tell reliable news from fake news: calibrated verdicts with evidence.",
        lifespan=lifespan,
        # FastAPI's Swagger UI and ReDoc pages load from a CDN: blank offline, and they
        # need script from another site. /docs is the app's own page (pages.api_docs).
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    app.state.service = service
    app.state.rate_limiter = RateLimiter(settings.rate_limit_per_minute, service.session)
    app.state.address_limiter = RateLimiter(
        settings.rate_limit_per_address_per_minute, service.session
    )
    app.state.csrf_secret = new_secret()
    install_handlers(app)
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_request_bytes)
    # added last, so outermost: the deadline covers reading the body too
    app.add_middleware(TimeoutMiddleware, seconds=settings.request_timeout_seconds)
    # outside the deadline too, so a 503 or 413 answer gets the headers as well
    app.add_middleware(SecurityHeadersMiddleware)
    guard = [Depends(require_api_key)] if settings.require_api_key else []
    app.include_router(api.router, dependencies=guard)
    app.include_router(api.system_router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=pages.STATIC), name="static")
    return app
