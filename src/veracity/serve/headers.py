"""Security headers on every response: a strict Content Security Policy and friends.

Every response (pages, JSON, static files, errors) gets:

- ``Content-Security-Policy``: :data:`CSP`. The pages load their script and stylesheet
  from ``/static`` and have no inline script, style or event handler; keep it so (a
  template that needs inline code must use a per-response nonce, not ``'unsafe-inline'``).
- ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer`` and
  ``X-Frame-Options: DENY``.

There are no exceptions: the API reference at ``/docs`` is the app's own page (no CDN,
no script), so it runs under the same policy.

>>> "frame-ancestors 'none'" in CSP and "'unsafe-inline'" not in CSP
True
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from veracity.serve.problems import UNEXPECTED, problem

__all__ = ["CSP", "SECURITY_HEADERS", "SecurityHeadersMiddleware"]

_LOCKED = "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

#: The policy of every response: only this origin's own files.
CSP = f"default-src 'self'; {_LOCKED}"

#: The other headers, the same on every response.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


class SecurityHeadersMiddleware:
    """Add :data:`CSP` and :data:`SECURITY_HEADERS` to every response.

    A header the route already set is kept. Added outermost but one of the app's
    middleware; an unexpected exception (which Starlette answers outside every
    middleware) is answered here instead, with the headers, and raised on for logging.

    Parameters
    ----------
    app : ASGI app
        The app to wrap.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; add the headers to its response."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", CSP)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            if not started:
                await problem(500, UNEXPECTED)(scope, receive, send_with_headers)
            raise
