"""SSRF: every spelling of an internal address is refused, before any request is sent.

Numeric hosts (decimal, octal, hex, short forms), IPv6 literals (loopback, IPv4-mapped,
6to4, NAT64), names that resolve to loopback or to the cloud metadata address, and
redirects to any of them. The real default resolver is used for numeric hosts (they are
decoded by veracity, never sent to DNS); names are resolved by a patched
``socket.getaddrinfo``, so no test touches the network.
"""

from __future__ import annotations

import contextlib
import errno
import http.server
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from veracity.errors import InputError
from veracity.serve.fetch import FetchedPage, check_public_url, fetch_text

PUBLIC = "93.184.216.34"
#: What the patched getaddrinfo answers for names (IP literals never reach it).
NAMES = {
    "news.example": PUBLIC,
    "localhost": "127.0.0.1",
    "internal.example": "127.0.0.1",
    "metadata.google.internal": "169.254.169.254",
    "rebind.example": "10.0.0.5",
    "v6.example": "::1",
}

LOOPBACK_SPELLINGS = [
    "http://127.0.0.1/",
    "http://2130706433/",  # decimal
    "http://0x7f000001/",  # hex, one part
    "http://0x7f.0x0.0x0.0x1/",  # hex, four parts
    "http://0x7f.1/",  # hex, short form
    "http://0177.1/",  # octal, short form
    "http://017700000001/",  # octal, one part
    "http://127.1/",  # short form
    "http://127.0.1/",  # three parts
    "http://127.0.0.1./",  # trailing dot
    "http://0/",  # 0.0.0.0
    "http://[::1]/",  # IPv6 loopback
    "http://[0:0:0:0:0:0:0:1]/",
    "http://[::ffff:127.0.0.1]/",  # IPv4-mapped
    "http://[::ffff:7f00:1]/",  # IPv4-mapped, hex
    "http://[::127.0.0.1]/",  # IPv4-compatible (deprecated)
    "http://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
    "http://[64:ff9b::7f00:1]/",  # NAT64 of 127.0.0.1
    "http://localhost/",
    "http://LOCALHOST:8000/admin",
    "http://internal.example/",
    "http://v6.example/",
]

METADATA_SPELLINGS = [
    "http://169.254.169.254/latest/meta-data/",
    "http://2852039166/latest/meta-data/",  # decimal
    "http://0xa9fea9fe/",  # hex
    "http://0251.0376.43518/",  # octal, short form
    "http://169.254.43518/",  # short form
    "http://[::ffff:169.254.169.254]/",
    "http://[::ffff:a9fe:a9fe]/",
    "http://[64:ff9b::a9fe:a9fe]/",  # NAT64
    "http://[2002:a9fe:a9fe::]/",  # 6to4
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://[fd00:ec2::254]/",  # AWS IMDS over IPv6 (unique local)
]


@pytest.fixture(autouse=True)
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names resolve through :data:`NAMES`; unknown names fail. Records what was asked."""
    asked: list[str] = []

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        asked.append(str(host))
        if host not in NAMES:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        address = NAMES[host]
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


def recording_transport() -> tuple[httpx.MockTransport, list[str]]:
    """A transport that answers every request with an article, recording the URLs."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, text="secret " * 50, headers={"content-type": "text/plain"})

    return httpx.MockTransport(handler), seen


@pytest.mark.parametrize("url", LOOPBACK_SPELLINGS + METADATA_SPELLINGS)
def test_internal_spellings_are_refused_without_a_request(url: str) -> None:
    mock, seen = recording_transport()
    with pytest.raises(InputError, match="refusing to fetch"):
        fetch_text(url, transport=mock)
    assert seen == []


@pytest.mark.parametrize(
    "url",
    [
        "http://2130706433/",
        "http://0x7f000001/",
        "http://0177.1/",
        "http://127.1/",
        "http://[::ffff:127.0.0.1]/",
    ],
)
def test_numeric_hosts_are_decoded_not_sent_to_dns(url: str, fake_dns: list[str]) -> None:
    with pytest.raises(InputError, match=r"resolves to (127\.0\.0\.1|::ffff:7f00:1)"):
        check_public_url(url)
    assert fake_dns == []  # a DNS server could not have answered with a public address


@pytest.mark.parametrize(
    "url",
    [
        "http://0177.0.0.1/",  # httpx refuses leading-zero dotted quads outright
        "http://0251.0376.0251.0376/",
        "http://4294967296/",  # past 255.255.255.255
        "http://256.1.1.1/",
    ],
)
def test_malformed_numeric_hosts_are_refused(url: str) -> None:
    mock, seen = recording_transport()
    with pytest.raises(InputError, match=r"not a valid|could not be resolved"):
        fetch_text(url, transport=mock)
    assert seen == []


def test_a_public_name_and_a_public_numeric_host_pass() -> None:
    assert check_public_url("http://news.example/a").host == "news.example"
    assert check_public_url("http://1572395042/").host == "1572395042"  # 93.184.216.34


def test_a_name_with_any_internal_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Round-robin DNS: one public and one private address is still refused."""
    with pytest.raises(InputError, match=r"10\.0\.0\.5"):
        check_public_url("http://mixed.example/", lambda host, port: [PUBLIC, "10.0.0.5"])


def redirect_handler(target: str) -> tuple[httpx.MockTransport, list[str]]:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if request.url.host == "news.example":
            return httpx.Response(302, headers={"location": target})
        return httpx.Response(200, text="secret " * 50, headers={"content-type": "text/plain"})

    return httpx.MockTransport(handler), seen


@pytest.mark.parametrize("target", [*METADATA_SPELLINGS, "http://localhost:8000/"])
def test_redirects_to_internal_addresses_are_refused(target: str) -> None:
    mock, seen = redirect_handler(target)
    with pytest.raises(InputError, match="refusing to fetch"):
        fetch_text("http://news.example/story", transport=mock)
    assert seen == ["http://news.example/story"]


def test_a_chain_of_public_redirects_ending_internal_is_refused() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        hops = {
            "/1": "http://news.example/2",
            "/2": "http://news.example/3",
            "/3": "http://[::ffff:169.254.169.254]/latest/meta-data/",
        }
        return httpx.Response(302, headers={"location": hops[request.url.path]})

    with pytest.raises(InputError, match=r"169\.254\.169\.254"):
        fetch_text("http://news.example/1", transport=httpx.MockTransport(handler))
    assert len(seen) == 3 and all("news.example" in url for url in seen)


@pytest.mark.parametrize(
    "url",
    [
        "http://2130706433/",
        "http://127.1/",
        "http://[::ffff:127.0.0.1]/",
        "http://localhost/",
        "http://0xa9fea9fe/latest/meta-data/",
    ],
)
def test_the_api_answers_422_problem_json(client: TestClient, url: str) -> None:
    r = client.post("/v1/check", json={"url": url})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "not a public internet address" in r.json()["detail"]
    assert client.get("/v1/checks").json()["total"] == 0  # nothing was stored


def test_the_api_fetch_is_the_guarded_one(client: TestClient) -> None:
    """The service's default fetch goes through the guard (not a stand-in)."""
    service = client.app.state.service  # type: ignore[attr-defined]
    fetch: Callable[[str], FetchedPage] = service.fetch
    with pytest.raises(InputError, match="refusing"):
        fetch("http://0x7f.1/")


# --- the host checked is the host connected to (#13) ------------------------------------


def test_a_percent_host_is_not_checked_as_its_numeric_prefix(fake_dns: list[str]) -> None:
    """``8.8.8.8%2e.attacker.example`` is a name, not 8.8.8.8: refused, never resolved."""
    mock, seen = recording_transport()
    with pytest.raises(InputError, match="not a valid"):
        fetch_text("http://8.8.8.8%2e.attacker.example/", transport=mock)
    assert seen == [] and fake_dns == []


@pytest.mark.parametrize(
    "url",
    [
        "http://93.184.216.34%2f.attacker.example/",
        "http://news%2eexample/",
        "http://a%20b.example/",
        "http://news..example/",
        "http://.news.example/",
        "http://news.example../",
        "http://exa$mple.com/",
        "http://exa!mple.com/",
        f"http://{'a' * 64}.example/",  # a label is at most 63 characters
        f"http://{'a.' * 127}example/",  # a name is at most 253
        "http://[fe80::1%25eth0]/",  # an IPv6 zone
        "http://news.example:99999/",
    ],
)
def test_malformed_hosts_are_refused_before_any_lookup(url: str, fake_dns: list[str]) -> None:
    mock, seen = recording_transport()
    with pytest.raises(InputError, match="not a valid URL"):
        fetch_text(url, transport=mock)
    assert seen == [] and fake_dns == []


@pytest.mark.parametrize(
    "url",
    [
        "http://news.example./",
        "http://xn--bcher-kva.example/",
        "http://bücher.example/",
        "http://a_b-c.example/",
        f"http://{'a' * 63}.example/",
        "http://[2606:4700::1111]/",
    ],
)
def test_well_formed_hosts_pass(url: str) -> None:
    assert check_public_url(url, lambda host, port: [PUBLIC])


class Recorder(http.server.BaseHTTPRequestHandler):
    """Records (path, Host header) per server; ``/`` redirects to ``server.redirect``."""

    def do_GET(self) -> None:
        self.server.hits.append((self.path, self.headers["Host"]))  # type: ignore[attr-defined]
        redirect = getattr(self.server, "redirect", None)
        if self.path == "/" and redirect:
            self.send_response(302)
            self.send_header("Location", redirect)
            self.end_headers()
            return
        body = self.server.body  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@contextlib.contextmanager
def serving(
    address: str, port: int = 0, body: bytes = b"article", tls: ssl.SSLContext | None = None
) -> Iterator[http.server.ThreadingHTTPServer]:
    server = http.server.ThreadingHTTPServer((address, port), Recorder)
    server.hits = []  # type: ignore[attr-defined]
    server.body = body  # type: ignore[attr-defined]
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def rebinding_dns(monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, list[str]], list[str]]:
    """Each name answers its first address once, then its second one (a rebinding DNS)."""
    answers: dict[str, list[str]] = {}
    asked: list[str] = []

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        asked.append(str(host))
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        first, *later = answers[host]
        address = first if asked.count(str(host)) == 1 else later[0]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers, asked


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every TCP connect the process makes; one to :data:`PUBLIC` is refused (no network)."""
    made: list[tuple[str, int]] = []
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def connect(sock: socket.socket, address: Any) -> None:
        made.append(tuple(address[:2]))  # type: ignore[arg-type]
        if address[0] == PUBLIC:
            raise ConnectionRefusedError(errno.ECONNREFUSED, "refused by the test")
        real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> int:
        made.append(tuple(address[:2]))  # type: ignore[arg-type]
        if address[0] == PUBLIC:
            return errno.ECONNREFUSED
        return real_connect_ex(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    return made


@pytest.mark.usefixtures("allow_loopback")
def test_dns_rebinding_cannot_move_the_connection(
    rebinding_dns: tuple[dict[str, list[str]], list[str]],
    connects: list[tuple[str, int]],
) -> None:
    """Each host is resolved once; the connection goes to that checked address.

    The guard passes 127.0.0.1 only (the stand-in for a public address): names answer
    127.0.0.1 when checked and 127.0.0.2 (not allowed, another server) if asked again,
    on the first hop and on a redirect. The Host header keeps the name.
    """
    answers, asked = rebinding_dns
    with serving("127.0.0.1", body=b"the checked site") as checked:
        port = checked.server_address[1]
        with serving("127.0.0.2", port, body=b"internal secret") as internal:
            checked.redirect = f"http://second.example:{port}/article"  # type: ignore[attr-defined]
            answers["first.example"] = ["127.0.0.1", "127.0.0.2"]
            answers["second.example"] = ["127.0.0.1", "127.0.0.2"]
            page = fetch_text(f"http://first.example:{port}/")
    assert page.text == "the checked site"
    assert page.final_url == f"http://second.example:{port}/article"
    assert checked.hits == [  # type: ignore[attr-defined]
        ("/", f"first.example:{port}"),
        ("/article", f"second.example:{port}"),
    ]
    assert internal.hits == []  # type: ignore[attr-defined]
    assert asked == ["first.example", "second.example"]  # one lookup per host
    assert connects == [("127.0.0.1", port)] * 2


def test_a_name_checked_public_never_connects_to_loopback(
    rebinding_dns: tuple[dict[str, list[str]], list[str]],
    connects: list[tuple[str, int]],
) -> None:
    """Public when checked, 127.0.0.1 when asked again: the connect goes to the public one."""
    answers, _ = rebinding_dns
    with serving("127.0.0.1", body=b"internal secret") as internal:
        port = internal.server_address[1]
        answers["rebind.example"] = [PUBLIC, "127.0.0.1"]
        with pytest.raises(InputError, match="could not fetch"):
            fetch_text(f"http://rebind.example:{port}/")
    assert connects == [(PUBLIC, port)]
    assert internal.hits == []  # type: ignore[attr-defined]


def _certificate(tmp_path: Path, name: str) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a test certificate")
    cert, key = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", f"/CN={name}",
         "-addext", f"subjectAltName=DNS:{name}"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.mark.usefixtures("allow_loopback")
@pytest.mark.parametrize("served_name", ["pinned.example", "other.example"])
def test_https_to_a_pinned_address_keeps_the_name_for_sni_and_certificate(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    rebinding_dns: tuple[dict[str, list[str]], list[str]],
    served_name: str,
) -> None:
    """The connection goes to the checked IP; TLS still names and verifies the host."""
    from veracity.serve import pinning

    cert, key = _certificate(tmp_path, served_name)
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    sni: list[str | None] = []
    server_tls.sni_callback = lambda sock, name, context: sni.append(name)  # type: ignore[assignment,misc,return-value]
    monkeypatch.setattr(pinning, "_ssl_context", lambda: ssl.create_default_context(cafile=cert))
    answers, _ = rebinding_dns
    answers["pinned.example"] = ["127.0.0.1", "127.0.0.2"]
    with serving("127.0.0.1", body=b"over tls", tls=server_tls) as server:
        port = server.server_address[1]
        url = f"https://pinned.example:{port}/"
        if served_name == "pinned.example":
            assert fetch_text(url).text == "over tls"
            assert server.hits == [("/", f"pinned.example:{port}")]  # type: ignore[attr-defined]
        else:  # a certificate for another name is refused, though the address is right
            with pytest.raises(InputError, match="certificate verify failed"):
                fetch_text(url)
            assert server.hits == []  # type: ignore[attr-defined]
    assert sni == ["pinned.example"]
