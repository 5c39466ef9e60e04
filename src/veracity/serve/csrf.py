"""CSRF tokens for the HTML forms: a SameSite=Strict cookie and an HMAC-bound hidden field.

The first page with a form sets the cookie ``veracity_csrf``: a random nonce, HttpOnly,
``SameSite=Strict`` (``Secure`` over https). Each POST form carries a hidden
``csrf_token``: the HMAC-SHA256 of that nonce and the form's name under a secret made
when the app is created. A POST is accepted only when its field matches its cookie for
that form, so

- a form posted from another site fails: the browser sends no Strict cookie with it;
- a cookie planted by another site (a sibling subdomain, a network attacker on http)
  is useless: a matching field needs the server's secret;
- a token copied from one form does not work on another.

The secret is made once and kept in the database (read when the app starts, see
:func:`veracity.store.repository.shared_secret`), so a form served by one worker
process may be posted to another, and pages opened before a restart still work. The
JSON API needs no token: it reads only JSON bodies, which a cross-site page can send
only after a CORS preflight that the service does not answer.

>>> from types import SimpleNamespace
>>> request = SimpleNamespace(
...     app=SimpleNamespace(state=SimpleNamespace(csrf_secret=b"s" * 32)),
...     cookies={}, state=SimpleNamespace())
>>> token = csrf_token(request, "check")  # a new nonce, to send as the cookie
>>> request.cookies[COOKIE] = request.state.csrf_nonce
>>> csrf_valid(request, "check", token), csrf_valid(request, "feedback", token)
(True, False)
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from fastapi import Request, Response

__all__ = ["COOKIE", "FIELD", "csrf_token", "csrf_valid", "new_secret", "set_csrf_cookie"]

#: The cookie holding the nonce.
COOKIE = "veracity_csrf"
#: The hidden form field holding the token.
FIELD = "csrf_token"
_NONCE = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)


def new_secret() -> bytes:
    """A random HMAC key for one app (replaced by the database's when the app starts)."""
    return secrets.token_bytes(32)


def _cookie_nonce(request: Request) -> str | None:
    value = request.cookies.get(COOKIE, "")
    return value if _NONCE.fullmatch(value) else None


def _sign(request: Request, nonce: str, form: str) -> str:
    secret: bytes = request.app.state.csrf_secret
    return hmac.new(secret, f"{nonce}:{form}".encode(), hashlib.sha256).hexdigest()


def csrf_token(request: Request, form: str) -> str:
    """The token for ``form`` (e.g. ``"check"``) to put in its hidden ``csrf_token`` field.

    Uses the nonce of the request's cookie; without a valid one, makes a new nonce that
    :func:`set_csrf_cookie` then sends.
    """
    nonce: str | None = getattr(request.state, "csrf_nonce", None) or _cookie_nonce(request)
    if nonce is None:
        nonce = secrets.token_urlsafe(32)
    request.state.csrf_nonce = nonce
    return _sign(request, nonce, form)


def csrf_valid(request: Request, form: str, token: str) -> bool:
    """True when ``token`` is the request's cookie's token for ``form``."""
    nonce = _cookie_nonce(request)
    if nonce is None or not token:
        return False
    expected = _sign(request, nonce, form).encode()
    return hmac.compare_digest(expected, token.encode("utf-8", errors="replace"))


def set_csrf_cookie(request: Request, response: Response) -> None:
    """Send the cookie when rendering the response made a new nonce."""
    nonce = getattr(request.state, "csrf_nonce", None)
    if nonce is not None and nonce != _cookie_nonce(request):
        response.set_cookie(
            COOKIE,
            nonce,
            path="/",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
