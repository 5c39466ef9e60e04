"""Security headers on every response: a strict Content Security Policy and friends.

Every response (pages, JSON, static files, errors) gets:

- ``Content-Security-Policy``: :data:`CSP`. The pages load their script and stylesheet
  from ``/static`` and have no inline script, style or event handler; keep it so (a
  template that needs inline code must use a per-response nonce, not ``'unsafe-inline'``).
- ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer`` and
  ``X-Frame-Options: DENY``.

The interactive API docs (``/docs``, ``/redoc`` and Swagger's OAuth redirect) are FastAPI's
stock pages: they load Swagger UI / ReDoc from a CDN and start it with an inline script,
so they get :data:`DOCS_CSP`, which allows exactly that and keeps the other directives.

>>> "frame-ancestors 'none'" in CSP and "'unsafe-inline'" not in CSP
True
"""

from __future__ import annotations

from collections.abc import Collection

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from veracity.serve.problems import UNEXPECTED, problem

__all__ = ["CSP", "DOCS_CSP", "SECURITY_HEADERS", "SecurityHeadersMiddleware"]

_LOCKED = "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

#: The policy of every response but the API docs: only this origin's own files.
CSP = f"default-src 'self'; {_LOCKED}"

_CDN = "https://cdn.jsdelivr.net"
#: The API docs' policy: FastAPI's Swagger UI / ReDoc pages from the CDN, inline start-up.
DOCS_CSP = (
    f"default-src 'self'; script-src 'self' 'unsafe-inline' {_CDN}; "
    f"style-src 'self' 'unsafe-inline' {_CDN} https://fonts.googleapis.com; "
    "font-src 'self' https://fonts.gstatic.com; img-src 'self' data: https:; "
    f"worker-src 'self' blob:; {_LOCKED}"
)

#: The other headers, the same on every response.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


class SecurityHeadersMiddleware:
    """Add :data:`CSP` (or :data:`DOCS_CSP`) and :data:`SECURITY_HEADERS` to every response.

    A header the route already set is kept. Added outermost but one of the app's
    middleware; an unexpected exception (which Starlette answers outside every
    middleware) is answered here instead, with the headers, and raised on for logging.

    Parameters
    ----------
    app : ASGI app
        The app to wrap.
    docs_paths : collection of str
        Paths served :data:`DOCS_CSP` (the app's ``docs_url``, ``redoc_url``, …).
    """

    def __init__(self, app: ASGIApp, docs_paths: Collection[str] = ()) -> None:
        self.app = app
        self.docs_paths = frozenset(docs_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; add the headers to its response."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = DOCS_CSP if scope["path"] in self.docs_paths else CSP
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", policy)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            if not started:
                await problem(500, UNEXPECTED)(scope, receive, send_with_headers)
            raise
