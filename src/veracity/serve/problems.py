"""RFC 9457 problem details for every error, the request body size limit and the time limit."""

from __future__ import annotations

import asyncio
import re
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from veracity.errors import InputError, InputTooLargeError, ModelError, VeracityError

__all__ = [
    "MAX_REPORTED_ERRORS",
    "UNEXPECTED",
    "BodyLimitMiddleware",
    "ProblemException",
    "TimeoutMiddleware",
    "install_handlers",
    "problem",
    "status_for",
]

PROBLEM_JSON = "application/problem+json"
#: The detail of a 500: nothing about the failure itself reaches the client.
UNEXPECTED = "an unexpected error happened on the server; it has been logged"


def problem(status: int, detail: str, type_: str = "about:blank", **extra: Any) -> JSONResponse:
    """A problem+json response with ``type``, ``title``, ``status`` and ``detail``."""
    body: dict[str, Any] = {
        "type": type_,
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


class ProblemException(StarletteHTTPException):
    """An HTTP error with its own problem ``type`` URI (and optional response headers).

    Parameters
    ----------
    status_code : int
        The HTTP status.
    detail : str
        What went wrong and what to do, for a person.
    type_ : str
        The problem type URI, e.g. ``urn:veracity:problem:unauthorized``.
    headers : dict, optional
        Extra response headers (``WWW-Authenticate``, ``Retry-After``).
    """

    def __init__(
        self,
        status_code: int,
        detail: str,
        type_: str = "about:blank",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status_code, detail, headers)
        self.type_ = type_


def status_for(exc: VeracityError) -> int:
    """The HTTP status of a veracity error: 413, 422, 503 or 500."""
    if isinstance(exc, InputTooLargeError):
        return 413
    if isinstance(exc, InputError):
        return 422
    if isinstance(exc, ModelError):
        return 503
    return 500


def _type_of(exc: VeracityError) -> str:
    name = re.sub(r"(?<!^)(?=[A-Z])", "-", type(exc).__name__).lower().removesuffix("-error")
    return f"urn:veracity:problem:{name}"


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    response = problem(exc.status_code, detail, getattr(exc, "type_", "about:blank"))
    for key, value in (exc.headers or {}).items():
        response.headers[key] = value
    return response


#: A 422 lists at most this many validation errors (``error_count`` says how many there were).
MAX_REPORTED_ERRORS = 20
#: Longest location part or message shown in a 422 (a location may be a client's JSON key).
_MAX_ERROR_TEXT = 120


def _short(value: object) -> str:
    text = str(value)
    return text if len(text) <= _MAX_ERROR_TEXT else text[: _MAX_ERROR_TEXT - 1] + "…"


async def _validation_error(request: Request, exc: Exception) -> Response:
    """422 problem with the first :data:`MAX_REPORTED_ERRORS` errors, each kept short, so
    a body with many bad items cannot make an answer larger than the request."""
    assert isinstance(exc, RequestValidationError)
    found = exc.errors()
    errors = [
        {
            "loc": [_short(p) for p in e.get("loc", ())],
            "msg": _short(e.get("msg")),
            "type": _short(e["type"]),
        }
        for e in found[:MAX_REPORTED_ERRORS]
    ]
    where = "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors[:5])
    more = f" (and {len(found) - 5:,} more; {len(found):,} errors)" if len(found) > 5 else ""
    return problem(
        422,
        f"the request is not valid: {where}{more}",
        "urn:veracity:problem:validation",
        errors=errors,
        error_count=len(found),
    )


async def _veracity_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, VeracityError)
    return problem(status_for(exc), str(exc), _type_of(exc))


async def _unexpected(request: Request, exc: Exception) -> Response:
    return problem(500, UNEXPECTED)


def install_handlers(app: FastAPI) -> None:
    """Make every HTTP, validation, veracity and unexpected error a problem+json response."""
    app.add_exception_handler(Exception, _unexpected)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(VeracityError, _veracity_error)


class BodyLimitMiddleware:
    """Refuse request bodies over ``limit`` bytes with 413 before any route reads them.

    A declared ``Content-Length`` over the limit is refused at once; a body sent
    without one is buffered up to the limit and refused as soon as it goes over.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    def _too_large(self) -> JSONResponse:
        return problem(
            413,
            f"the request body is over the limit of {self.limit:,} bytes "
            "(VERACITY_MAX_REQUEST_BYTES); send fewer or shorter documents",
            "urn:veracity:problem:request-too-large",
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass small requests through; answer 413 to large ones."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._too_large()(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await self._too_large()(scope, receive, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class TimeoutMiddleware:
    """Answer 503 problem JSON when a request takes longer than ``seconds``.

    The request runs as its own task; at the deadline the client gets the 503 (unless
    the response had already started, in which case the connection is cut) and the
    task is cancelled. A URL fetch is told to stop and ends within a quarter of a
    second; a check still waiting for a model slot never runs. Work already running
    in a worker thread (the model, the database) cannot be interrupted: the thread
    finishes in the background and its response is dropped, so a check that times out
    may still be stored. The 503 is on time only while the event loop gets the CPU:
    ``Service.run_check`` keeps model threads to one per CPU for that.
    """

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds
        self._background: set[asyncio.Task[None]] = set()

    def _timed_out(self) -> JSONResponse:
        return problem(
            503,
            f"the request timed out after {self.seconds:g} s (VERACITY_REQUEST_TIMEOUT_SECONDS); "
            "retry later or send a shorter document",
            "urn:veracity:problem:timeout",
        )

    def _forget(self, task: asyncio.Task[None]) -> None:
        self._background.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved, so asyncio does not log it as never retrieved

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request under the deadline."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False
        expired = False

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if expired:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        async def handle() -> None:
            await self.app(scope, receive, guarded_send)

        task = asyncio.create_task(handle())
        try:
            done, _ = await asyncio.wait({task}, timeout=self.seconds)
        except asyncio.CancelledError:
            task.cancel()
            raise
        if done:
            task.result()  # re-raise what the app raised
            return
        expired = True
        task.cancel()
        self._background.add(task)
        task.add_done_callback(self._forget)
        if started:
            raise RuntimeError(f"response cut off: the request took over {self.seconds:g} s")
        await self._timed_out()(scope, receive, send)
