"""Running the service: one process, or several worker processes on one socket.

Kept light on purpose. With ``workers`` above 1 the process that calls :func:`run`
only supervises: it imports neither the web app nor the model, and checks them
(:func:`veracity.serve.startup.preflight`) in a short-lived child process, so its own
memory stays at that of the command line (about 40 MB instead of 140 MB).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from veracity.errors import ServeError
from veracity.settings import Settings, usable_cpus

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["run", "worker_app"]

#: How :func:`run` hands its settings to the workers: uvicorn starts each from an import
#: string (:func:`worker_app`) in a new interpreter that inherits the environment.
_WORKER_SETTINGS = "VERACITY_SERVE_WORKER_SETTINGS"


def worker_app() -> FastAPI:
    """The app of one worker process of ``veracity serve --workers N``.

    The settings are those :func:`run` was given (as JSON in the environment it passes
    on), else ``Settings()``. Each worker loads its own copy of the model.
    """
    from veracity.serve.app import create_app

    given = os.environ.get(_WORKER_SETTINGS)
    return create_app(Settings.model_validate_json(given) if given else Settings())


def _preflight_only(settings: Settings, host: str, port: int) -> None:
    """:func:`~veracity.serve.startup.preflight` without keeping the model (in a child)."""
    from veracity.serve.startup import preflight

    preflight(settings, host, port)


def _preflight_elsewhere(settings: Settings, host: str, port: int) -> None:
    """Preflight in a fresh interpreter; its error (ServeError, StoreError, ModelError)
    is raised here as it was there."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    try:
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            pool.submit(_preflight_only, settings, host, port).result()
    except BrokenProcessPool:  # the child died (killed, out of memory) before it answered
        raise ServeError(
            "the startup check (address, database, model) stopped before it finished; "
            "run `veracity serve` without --workers to see why"
        ) from None


def run(
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    *,
    log_level: str = "info",
    access_log: bool = True,
) -> None:
    """Serve the app with uvicorn until interrupted.

    The address, the database and the model are checked first
    (:func:`veracity.serve.startup.preflight`), so a busy port is a ServeError, a bad
    database a StoreError and a bad model a ModelError, never uvicorn's exit code 3.

    With ``workers`` above 1, uvicorn runs that many processes on one socket. The
    interpreter runs one thread at a time, so one process uses about one core; the
    workers share the database, where checks, rate limits and the forms' key live, and
    each holds its own model (about 150 MB resident). ``log_level`` and ``access_log``
    are uvicorn's.
    """
    import uvicorn

    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ServeError(f"workers must be a whole number of at least 1, got {workers!r}")
    try:
        if workers == 1:
            from veracity.serve.app import create_app
            from veracity.serve.startup import preflight

            detector = preflight(settings, host, port)
            app = create_app(settings, detector)
            uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=access_log)
        else:
            _preflight_elsewhere(settings, host, port)
            if settings.max_concurrent_checks == 0:
                # one check thread per core in all: a second thread in a process only
                # waits for the interpreter lock (at 50 req/s on 2 cores, two workers with
                # two threads each had a p99 of 116 ms; with one each, 20 ms)
                share = max(1, usable_cpus() // workers)
                settings = settings.model_copy(update={"max_concurrent_checks": share})
            os.environ[_WORKER_SETTINGS] = settings.model_dump_json()
            uvicorn.run(
                f"{__name__}:worker_app",
                factory=True,
                workers=workers,
                host=host,
                port=port,
                log_level=log_level,
                access_log=access_log,
            )
    except SystemExit as exc:  # uvicorn's "startup failed" (e.g. the port was taken since)
        if exc.code in (0, None):
            raise
        raise ServeError(
            f"the service could not start on {host}:{port}; the reason is in the log above"
        ) from None
