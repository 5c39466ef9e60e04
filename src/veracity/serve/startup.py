"""What ``veracity serve`` checks before it listens, so that each problem is one line.

Uvicorn reports a busy port, or an app whose startup fails, with a log record (or a
traceback) and exit code 3, which the CLI reserves for a bad model. :func:`preflight`
checks, cheapest first and before uvicorn starts:

* the host and port can be listened on — else :class:`~veracity.errors.ServeError` (exit 4);
* the database opens and migrates — else :class:`~veracity.errors.StoreError` (exit 2);
* the model loads and passes verification — else :class:`~veracity.errors.ModelError` (exit 3).
"""

from __future__ import annotations

import errno
import socket
from typing import TYPE_CHECKING

from veracity.errors import ServeError
from veracity.settings import Settings
from veracity.store.migrate import upgrade

if TYPE_CHECKING:
    from veracity.detector import Detector

__all__ = ["check_address", "preflight"]


def check_address(host: str, port: int) -> None:
    """Bind (and release) ``host:port`` the way asyncio's server will; ServeError if it can't.

    Every address ``host`` resolves to is tried with ``SO_REUSEADDR``, as uvicorn's
    server does, so a port held by a listening program is refused and one left in
    TIME_WAIT is not.
    """
    where = f"{host}:{port}"
    try:
        infos = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except (socket.gaierror, UnicodeError) as exc:
        raise ServeError(
            f"cannot listen on {where}: the host is not known ({exc}); give --host an "
            "address of this machine, e.g. 127.0.0.1 or 0.0.0.0"
        ) from None
    for family, kind, proto, _, address in infos:
        try:
            sock = socket.socket(family, kind, proto)
        except OSError:  # an address family this machine lacks (asyncio skips it too)
            continue
        with sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                sock.bind(address)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    raise ServeError(
                        f"cannot listen on {where}: port {port} is in use by another "
                        "program; stop it or choose another --port"
                    ) from None
                raise ServeError(
                    f"cannot listen on {where}: {exc.strerror or exc}; check --host and --port"
                ) from None


def preflight(settings: Settings, host: str, port: int) -> Detector:
    """Check the address, migrate the database and load the model; return the detector.

    Raises
    ------
    veracity.errors.ServeError
        ``host:port`` cannot be listened on (in use, not an address of this machine).
    veracity.errors.StoreError
        The database cannot be opened or migrated.
    veracity.errors.ModelError
        The model is missing or fails verification (hash, types, card, zip limits).
    """
    from veracity.detector import Detector

    check_address(host, port)
    upgrade(settings.database_url)
    return Detector.from_path(None, settings=settings, fast=True)
