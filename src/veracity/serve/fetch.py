"""Fetch an article from a URL, refusing anything that is not on the public internet (SSRF).

Only ``http`` and ``https`` URLs with a well-formed host are fetched: a host with a
percent sign, an empty or over-long label, or a character other than letters, digits,
``-`` and ``_`` is refused (an IPv6 literal must be a plain address, without a zone).
Before every request, the first and each redirect (at most :data:`MAX_REDIRECTS`), the
host is resolved once and refused when any of its addresses is loopback, private,
link-local, multicast, reserved, unspecified or otherwise not globally routable. IPv4
addresses embedded in IPv6 ones (IPv4-mapped, 6to4, Teredo, NAT64) are unwrapped first
and checked too. A numeric host in any form the C library accepts (``2130706433``,
``0x7f000001``, ``0177.0.0.1``, ``127.1``) or an IPv6 literal is decoded by veracity
itself and checked as the address it is; names are resolved in the ASCII (IDNA) form.

The connection then goes to a checked address itself: it is pinned in the HTTP
transport (:mod:`veracity.serve.pinning`), which never resolves the name again, so a DNS
server that answers differently the second time (DNS rebinding) cannot move it. The
request keeps the host name: in the ``Host`` header and, for https, in TLS SNI and the
certificate check.

The whole fetch — DNS, connect, TLS, headers and body, over every redirect — has one
deadline (``timeout``, :data:`TIMEOUT_SECONDS` by default): every socket wait is cut to
what is left of it, so a server trickling its headers a byte at a time is cut off at
the deadline, and a ``cancel`` event set by the caller stops the fetch within a quarter
of a second. A system DNS lookup still running at the deadline is abandoned to its
thread, which ends when the C resolver gives up. The body is capped at
:data:`MAX_BYTES`; proxies from the environment are not used. The article text is
extracted with trafilatura (plain-text responses are used as they are).
"""

from __future__ import annotations

import ipaddress
import re
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from veracity import __version__
from veracity.errors import InputError, InputTooLargeError
from veracity.serve.pinning import Deadline, PinnedBackend, PinnedTransport

__all__ = [
    "MAX_BYTES",
    "MAX_REDIRECTS",
    "TIMEOUT_SECONDS",
    "FetchedPage",
    "Resolver",
    "check_public_url",
    "fetch_text",
]

TIMEOUT_SECONDS = 10.0
MAX_BYTES = 5_000_000
MAX_REDIRECTS = 5
_TEXT_TYPES = ("text/html", "application/xhtml+xml", "text/plain")
# one DNS label: letters, digits, '-' and '_' (some real host names have one), 1 to 63 of them
_LABEL = re.compile(r"[a-z0-9_-]{1,63}", re.I)

#: ``resolver(host, port)`` returns the IP addresses ``host`` resolves to.
Resolver = Callable[[str, int], list[str]]


@dataclass(frozen=True)
class FetchedPage:
    """The article text found at ``url`` (after redirects, at ``final_url``)."""

    url: str
    final_url: str
    text: str


def _valid_host(host: str) -> bool:
    """True for a plain IPv6 address, or 1 to 253 characters of dot-separated labels."""
    if "%" in host:  # percent-encoding or an IPv6 zone: never a host we connect to
        return False
    if ":" in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return False
        return True
    name = host.removesuffix(".")
    return 0 < len(name) <= 253 and all(_LABEL.fullmatch(label) for label in name.split("."))


def _system_resolver(host: str, port: int) -> list[str]:
    """The addresses of ``host``: a numeric host is decoded here, names go to getaddrinfo."""
    literal = _literal_address(host)
    if literal is not None:
        return [literal]
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
# Numeric IPv4 hosts in the forms inet_aton accepts: 1 to 4 parts, decimal, octal or hex.
_NUMERIC_HOST = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}\.?", re.I)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address carries: mapped, 6to4, Teredo or NAT64."""
    found = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    if any(ip in net for net in _NAT64):
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def _refused(address: str) -> bool:
    """True when ``address`` (or an IPv4 address inside it) is not on the public internet."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return True  # not an address at all: nothing to connect to safely
    candidates: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        candidates = [*_embedded_ipv4(ip)] or candidates
    return any(
        c.is_loopback
        or c.is_private
        or c.is_link_local
        or c.is_multicast
        or c.is_reserved
        or c.is_unspecified
        or not c.is_global
        for c in candidates
    )


def _literal_address(host: str) -> str | None:
    """The address a numeric host stands for (IPv6 literal or any IPv4 form), else None.

    Raises
    ------
    veracity.errors.InputError
        The host looks numeric but is not a valid address (``256.1.1.1``, ``0x``).
    """
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if _NUMERIC_HOST.fullmatch(host) is None:
        return None
    try:
        return socket.inet_ntoa(socket.inet_aton(host.rstrip(".")))
    except OSError:
        raise InputError(f"the host {host!r} is not a valid IP address") from None


def _resolve(
    resolver: Resolver | None, host: str, port: int, deadline: Deadline | None
) -> list[str]:
    """The addresses of ``host``; looked up in a thread of its own, abandoned at the deadline."""
    if resolver is None:
        literal = _literal_address(host)
        if literal is not None:
            return [literal]  # nothing to wait for
        resolver = _system_resolver
    if deadline is None:
        return resolver(host, port)
    found: list[str] = []
    failed: list[BaseException] = []
    done = threading.Event()

    def lookup() -> None:
        try:
            found.extend(resolver(host, port))
        except BaseException as exc:
            failed.append(exc)
        finally:
            done.set()

    threading.Thread(target=lookup, name="veracity-dns", daemon=True).start()
    while not done.wait(deadline.step(httpx.ConnectTimeout)):
        pass
    if failed:
        raise failed[0]
    return found


def _checked(
    url: str, resolver: Resolver | None, deadline: Deadline | None
) -> tuple[httpx.URL, str, int, list[str]]:
    """``url`` parsed, its ASCII host, port and public addresses; InputError when refused."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise InputError(f"not a valid URL: {url!r} ({exc})") from None
    if parsed.scheme not in ("http", "https"):
        raise InputError(f"only http and https URLs can be checked, not {parsed.scheme or url!r}")
    if not parsed.host:
        raise InputError(f"the URL {url!r} has no host")
    if parsed.userinfo:
        raise InputError("URLs with a user name or password are not fetched")
    # the ASCII (IDNA) host is what the request names: check that one, and only that one
    host = parsed.raw_host.decode("ascii", errors="replace")
    if not _valid_host(host):
        raise InputError(f"not a valid URL: {url!r} (the host {host!r} is not a valid host name)")
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise InputError(f"not a valid URL: {url!r} (the port {parsed.port} is out of range)")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        addresses = _resolve(resolver, host, port, deadline)
    except (OSError, UnicodeError):
        raise InputError(f"the host {parsed.host!r} could not be resolved") from None
    if not addresses:
        raise InputError(f"the host {parsed.host!r} could not be resolved")
    for address in addresses:
        if _refused(address):
            raise InputError(
                f"refusing to fetch {url}: {parsed.host} resolves to {address}, which is not a "
                "public internet address (loopback, private, link-local, multicast or reserved)"
            )
    return parsed, host, port, addresses


def check_public_url(url: str, resolver: Resolver | None = None) -> httpx.URL:
    """``url`` parsed, or InputError when it is not http(s) on a public address.

    Parameters
    ----------
    url : str
        The URL to check.
    resolver : Resolver, optional
        Host to addresses; :func:`socket.getaddrinfo` when omitted.
    """
    return _checked(url, resolver, None)[0]


def _extract(body: bytes, content_type: str, encoding: str, url: str) -> str:
    if content_type == "text/plain":
        return body.decode(encoding, errors="replace")
    import trafilatura

    text = trafilatura.extract(
        body.decode(encoding, errors="replace"),
        url=url,
        include_comments=False,
        include_tables=False,
    )
    if not text or not text.strip():
        raise InputError(f"no article text was found at {url}; paste the text instead")
    return text


def fetch_text(
    url: str,
    *,
    resolver: Resolver | None = None,
    transport: httpx.BaseTransport | None = None,
    timeout: float = TIMEOUT_SECONDS,
    max_bytes: int = MAX_BYTES,
    max_redirects: int = MAX_REDIRECTS,
    cancel: threading.Event | None = None,
) -> FetchedPage:
    """Fetch ``url`` under the SSRF guard and return its article text.

    Parameters
    ----------
    url : str
        An ``http`` or ``https`` URL on the public internet.
    resolver : Resolver, optional
        Host to addresses, for the guard; the system resolver when omitted. The
        connection goes to the addresses it returns, checked.
    transport : httpx.BaseTransport, optional
        The HTTP transport (tests pass :class:`httpx.MockTransport`); by default one that
        connects only to the checked addresses, within the deadline.
    timeout, max_bytes, max_redirects
        Deadline for the whole fetch (seconds), body cap, most redirects followed.
    cancel : threading.Event, optional
        Set from another thread to stop the fetch (it then fails as timed out).

    Raises
    ------
    veracity.errors.InputError
        Refused URL or redirect, too many redirects, timeout, HTTP error, not text.
    veracity.errors.InputTooLargeError
        The body is over ``max_bytes``.
    """
    deadline = Deadline(timeout, cancel)
    backend = PinnedBackend(deadline)
    current = url
    headers = {"User-Agent": f"veracity/{__version__} (+fake-news check)"}
    with httpx.Client(
        transport=transport if transport is not None else PinnedTransport(backend),
        follow_redirects=False,
        timeout=httpx.Timeout(timeout),
        trust_env=False,
        headers=headers,
    ) as client:
        for _ in range(max_redirects + 1):
            try:
                target, host, port, addresses = _checked(current, resolver, deadline)
                backend.pin(host, port, addresses)
                with client.stream("GET", target) as response:
                    if response.is_redirect:
                        location = response.headers.get("location")
                        if not location:
                            raise InputError(f"{current} redirected without a Location")
                        current = str(response.url.join(location))
                        continue
                    if response.status_code >= 400:
                        raise InputError(f"{current} answered HTTP {response.status_code}")
                    content_type = (
                        response.headers.get("content-type", "").split(";")[0].strip().lower()
                    )
                    if content_type not in _TEXT_TYPES:
                        raise InputError(
                            f"{current} is {content_type or 'of unknown type'}, not a web page"
                        )
                    declared = response.headers.get("content-length", "")
                    if declared.isdigit() and int(declared) > max_bytes:
                        raise InputTooLargeError(
                            f"{current} is {int(declared):,} bytes; the limit is {max_bytes:,}"
                        )
                    chunks: list[bytes] = []
                    size = 0
                    for chunk in response.iter_bytes():
                        size += len(chunk)
                        if size > max_bytes:
                            raise InputTooLargeError(
                                f"{current} is over the limit of {max_bytes:,} bytes"
                            )
                        deadline.left(httpx.ReadTimeout)
                        chunks.append(chunk)
                    encoding = response.charset_encoding or "utf-8"
                deadline.left(httpx.ReadTimeout)  # cancelled meanwhile: skip the extraction
            except httpx.TimeoutException:
                raise InputError(f"{url} did not answer within {timeout:g} s") from None
            except httpx.HTTPError as exc:
                raise InputError(f"could not fetch {current}: {exc}") from None
            try:
                "".encode(encoding)
            except LookupError:
                encoding = "utf-8"
            return FetchedPage(
                url, current, _extract(b"".join(chunks), content_type, encoding, current)
            )
    raise InputError(f"{url} redirected more than {max_redirects} times")
