"""Connections for the URL fetch: only to checked addresses, all under one deadline.

:class:`PinnedTransport` is an :class:`httpx.HTTPTransport` whose connections are made
by :class:`PinnedBackend`: ``connect_tcp`` never resolves the host name it is given, it
connects to the addresses the SSRF guard checked for that host and port (and refuses a
host nobody checked). The URL is unchanged, so the ``Host`` header, TLS SNI and the
certificate check all use the host name.

Every socket wait — connect, TLS handshake, each read and write — is cut to what is
left of one :class:`Deadline` and made in slices of at most :data:`POLL_SECONDS`, so a
server that trickles its headers a byte at a time cannot outlive the deadline, and a
cancel event set from another thread stops the fetch within a slice.
"""

from __future__ import annotations

import errno
import functools
import ipaddress
import math
import os
import selectors
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import httpcore
import httpx

__all__ = ["POLL_SECONDS", "Deadline", "PinnedBackend", "PinnedTransport"]

#: Longest single socket wait: how soon a cancelled fetch notices.
POLL_SECONDS = 0.25

_T = TypeVar("_T")
_IN_PROGRESS = {errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EAGAIN}


class Deadline:
    """``seconds`` from now, or earlier when ``cancel`` is set.

    Parameters
    ----------
    seconds : float
        The time the whole fetch may take.
    cancel : threading.Event, optional
        Set by another thread to stop the fetch now.
    """

    def __init__(self, seconds: float, cancel: threading.Event | None = None) -> None:
        self.seconds = seconds
        self.cancel = cancel
        self._at = time.monotonic() + seconds

    def left(self, expired: Callable[[str], Exception]) -> float:
        """Seconds left; raises ``expired(message)`` when none are, or the fetch was cancelled."""
        remaining = self._at - time.monotonic()
        if self.cancel is not None and self.cancel.is_set():
            raise expired("the fetch was cancelled")
        if remaining <= 0:
            raise expired(f"the deadline of {self.seconds:g} s passed")
        return remaining

    def step(self, expired: Callable[[str], Exception], timeout_at: float = math.inf) -> float:
        """The next wait: at most :data:`POLL_SECONDS`, the deadline and ``timeout_at``."""
        left = min(self.left(expired), timeout_at - time.monotonic())
        if left <= 0:
            raise expired("timed out")
        return min(left, POLL_SECONDS)


def _io(
    sock: socket.socket,
    deadline: Deadline,
    operation: Callable[[], _T],
    timeout: float | None,
    expired: type[httpcore.TimeoutException],
    failed: type[httpcore.NetworkError],
) -> _T:
    """Run a blocking socket ``operation`` in slices until it completes or time is up."""
    timeout_at = math.inf if timeout is None else time.monotonic() + timeout
    while True:
        sock.settimeout(deadline.step(expired, timeout_at))
        try:
            return operation()
        except TimeoutError:  # this slice passed with nothing to do: check the time, wait again
            continue
        except OSError as exc:
            raise failed(str(exc)) from exc


def _readable(sock: socket.socket) -> bool:
    with selectors.DefaultSelector() as selector:
        selector.register(sock, selectors.EVENT_READ)
        return bool(selector.select(0))


class _Stream(httpcore.NetworkStream):
    """A socket whose every wait stays within the deadline."""

    def __init__(self, sock: socket.socket, deadline: Deadline) -> None:
        self._sock = sock
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return _io(
            self._sock,
            self._deadline,
            functools.partial(self._sock.recv, max_bytes),
            timeout,
            httpcore.ReadTimeout,
            httpcore.ReadError,
        )

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        view = memoryview(buffer)
        while view:
            sent = _io(
                self._sock,
                self._deadline,
                functools.partial(self._sock.send, view),
                timeout,
                httpcore.WriteTimeout,
                httpcore.WriteError,
            )
            view = view[sent:]

    def close(self) -> None:
        self._sock.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        try:
            sock = ssl_context.wrap_socket(
                self._sock, server_hostname=server_hostname, do_handshake_on_connect=False
            )
            _io(
                sock,
                self._deadline,
                sock.do_handshake,
                timeout,
                httpcore.ConnectTimeout,
                httpcore.ConnectError,
            )
        except BaseException:
            self._sock.close()
            raise
        return _Stream(sock, self._deadline)

    def get_extra_info(self, info: str) -> Any:
        if info == "ssl_object":
            return self._sock if isinstance(self._sock, ssl.SSLSocket) else None
        if info == "client_addr":
            return self._sock.getsockname()
        if info == "server_addr":
            return self._sock.getpeername()
        if info == "socket":
            return self._sock
        if info == "is_readable":
            return _readable(self._sock)
        return None


def _connect(address: str, port: int, timeout: float | None, deadline: Deadline) -> socket.socket:
    """A TCP connection to the IP ``address`` (never a name), made within the deadline."""
    family = socket.AF_INET6 if ipaddress.ip_address(address).version == 6 else socket.AF_INET
    timeout_at = math.inf if timeout is None else time.monotonic() + timeout
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        error = sock.connect_ex((address, port))
        with selectors.DefaultSelector() as selector:
            selector.register(sock, selectors.EVENT_WRITE)
            while error in _IN_PROGRESS:
                if selector.select(deadline.step(httpcore.ConnectTimeout, timeout_at)):
                    error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if error:
            raise httpcore.ConnectError(
                f"could not connect to {address} port {port}: {os.strerror(error)}"
            )
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except BaseException:
        sock.close()
        raise
    return sock


class PinnedBackend(httpcore.NetworkBackend):
    """Connects each (host, port) to the addresses pinned for it, within ``deadline``.

    Parameters
    ----------
    deadline : Deadline
        The fetch's deadline; every socket wait stays within it.
    """

    def __init__(self, deadline: Deadline) -> None:
        self.deadline = deadline
        self._pins: dict[tuple[str, int], list[str]] = {}

    def pin(self, host: str, port: int, addresses: list[str]) -> None:
        """Connections to ``host:port`` go to ``addresses`` (checked IPs), tried in order."""
        self._pins[(host, port)] = list(addresses)

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = self._pins.get((host, port))
        if not addresses:
            raise httpcore.ConnectError(f"{host} port {port} was not checked by the SSRF guard")
        error: httpcore.ConnectError | None = None
        for address in addresses:
            try:
                sock = _connect(address, port, timeout, self.deadline)
            except httpcore.ConnectError as exc:
                error = exc
                continue
            for option in socket_options or ():
                sock.setsockopt(*option)
            return _Stream(sock, self.deadline)
        assert error is not None
        raise error

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("the URL fetch does not connect to Unix sockets")


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """The TLS settings of every fetch: httpx's defaults (certifi roots, hostname checked)."""
    return httpx.create_ssl_context(trust_env=False)


class PinnedTransport(httpx.HTTPTransport):
    """An HTTP/1.1 transport whose connections :class:`PinnedBackend` makes.

    Parameters
    ----------
    backend : PinnedBackend
        Where each host connects, and the deadline.
    """

    def __init__(self, backend: PinnedBackend) -> None:
        context = _ssl_context()
        super().__init__(verify=context, trust_env=False)
        # httpx 0.28 takes no network backend: give its pool (all handle_request uses) ours.
        # tests/serve/test_ssrf.py fails if connections stop going through the backend.
        self._pool = httpcore.ConnectionPool(ssl_context=context, network_backend=backend)
