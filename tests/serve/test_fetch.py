"""URL fetching under the SSRF guard: refused addresses, redirects re-checked, caps. No network."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from veracity.errors import InputError, InputTooLargeError
from veracity.serve.fetch import FetchedPage, check_public_url, fetch_text

PUBLIC = "93.184.216.34"
HOSTS = {"news.example": PUBLIC, "evil.example": "127.0.0.1", "meta.example": "169.254.169.254"}
PARAGRAPH = (
    "The Senate committee said on Friday that the budget report from the agency showed "
    "the economy grew two percent, officials said, adding that the minister would present "
    "the figures to lawmakers next week in the capital. "
)
HTML = (
    "<html><head><title>Budget</title></head><body><nav>Home | World</nav><article>"
    "<h1>Economy grows</h1>" + "".join(f"<p>{PARAGRAPH}</p>" for _ in range(4)) + "</article>"
    "<footer>Copyright</footer></body></html>"
)


def resolver(host: str, port: int) -> list[str]:
    if host.endswith(".invalid"):
        raise socket.gaierror("Name or service not known")
    if host in HOSTS:
        return [HOSTS[host]]
    return [host]  # IP literals resolve to themselves


def transport(handler: Callable[[httpx.Request], httpx.Response]) -> tuple[Any, list[str]]:
    seen: list[str] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return handler(request)

    return httpx.MockTransport(record), seen


def redirect_to(target: str) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "news.example":
            return httpx.Response(302, headers={"location": target})
        return httpx.Response(200, text="secret", headers={"content-type": "text/plain"})

    return handler


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://localhost:8000/admin",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.1.2.3/",
        "http://192.168.0.1/",
        "http://100.64.0.1/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
        "http://240.0.0.1/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[fe80::1]/",
        "http://evil.example/",
    ],
)
def test_non_public_addresses_are_refused(url: str) -> None:
    with pytest.raises(InputError, match="refusing to fetch"):
        check_public_url(url, resolver if "example" in url else None)


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("file:///etc/passwd", "only http and https"),
        ("ftp://news.example/x", "only http and https"),
        ("gopher://news.example/", "only http and https"),
        ("http://user:pw@news.example/", "password"),
        ("http:///nohost", "no host"),
        ("http://no-such-host.invalid/", "could not be resolved"),
    ],
)
def test_bad_urls_are_refused(url: str, match: str) -> None:
    with pytest.raises(InputError, match=match):
        check_public_url(url, resolver)


def test_public_url_passes() -> None:
    assert check_public_url("https://news.example/a?b=1", resolver).host == "news.example"


def test_fetch_extracts_the_article_text() -> None:
    mock, seen = transport(
        lambda r: httpx.Response(200, text=HTML, headers={"content-type": "text/html"})
    )
    page = fetch_text("https://news.example/story", resolver=resolver, transport=mock)
    assert "economy grew two percent" in page.text
    assert "Copyright" not in page.text and "Home | World" not in page.text
    assert page.final_url == "https://news.example/story"
    assert seen == ["https://news.example/story"]


def test_fetch_follows_public_redirects() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/old":
            return httpx.Response(301, headers={"location": "/new"})
        return httpx.Response(200, text=PARAGRAPH, headers={"content-type": "text/plain"})

    mock, seen = transport(handler)
    page = fetch_text("http://news.example/old", resolver=resolver, transport=mock)
    assert page.final_url == "http://news.example/new" and page.text == PARAGRAPH
    assert len(seen) == 2


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:8000/admin",
        "http://169.254.169.254/latest/meta-data/iam",
        "http://evil.example/",
        "http://meta.example/",
        "file:///etc/passwd",
    ],
)
def test_redirects_to_internal_addresses_are_refused(target: str) -> None:
    mock, seen = transport(redirect_to(target))
    with pytest.raises(InputError, match=r"refusing|only http"):
        fetch_text("http://news.example/", resolver=resolver, transport=mock)
    assert seen == ["http://news.example/"]  # the internal address was never requested


def test_too_many_redirects() -> None:
    mock, seen = transport(lambda r: httpx.Response(302, headers={"location": "/again"}))
    with pytest.raises(InputError, match="more than 5"):
        fetch_text("http://news.example/", resolver=resolver, transport=mock)
    assert len(seen) == 6


def test_body_cap_declared_and_streamed() -> None:
    big = "x" * 2000
    mock, _ = transport(
        lambda r: httpx.Response(200, text=big, headers={"content-type": "text/plain"})
    )
    with pytest.raises(InputTooLargeError, match="1,000"):
        fetch_text("http://news.example/", resolver=resolver, transport=mock, max_bytes=1000)

    def streamed(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            content=iter([b"y" * 600, b"y" * 600]),
            headers={"content-type": "text/plain"},
        )

    mock, _ = transport(streamed)
    with pytest.raises(InputTooLargeError):
        fetch_text("http://news.example/", resolver=resolver, transport=mock, max_bytes=1000)


@pytest.mark.parametrize(
    ("response", "match"),
    [
        (httpx.Response(404, text="gone"), "HTTP 404"),
        (
            httpx.Response(200, content=b"\x89PNG", headers={"content-type": "image/png"}),
            "image/png",
        ),
        (
            httpx.Response(
                200, text="<html><body></body></html>", headers={"content-type": "text/html"}
            ),
            "no article text",
        ),
        (httpx.Response(302), "without a Location"),
    ],
)
def test_unusable_responses(response: httpx.Response, match: str) -> None:
    mock, _ = transport(lambda r: response)
    with pytest.raises(InputError, match=match):
        fetch_text("http://news.example/", resolver=resolver, transport=mock)


def test_timeout_is_an_input_error() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    mock, _ = transport(slow)
    with pytest.raises(InputError, match="did not answer within 10 s"):
        fetch_text("http://news.example/", resolver=resolver, transport=mock)


@pytest.fixture
def local_server() -> Iterator[tuple[str, list[str]]]:
    """A real HTTP server on 127.0.0.1 that redirects to the cloud metadata address."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", hits
    finally:
        server.shutdown()
        server.server_close()


def test_a_real_local_server_is_refused_before_any_request(
    local_server: tuple[str, list[str]],
) -> None:
    url, hits = local_server
    with pytest.raises(InputError, match=r"127\.0\.0\.1"):
        fetch_text(url)
    assert hits == []


@pytest.mark.usefixtures("allow_loopback")
def test_a_first_hop_let_through_cannot_redirect_to_the_metadata_address(
    local_server: tuple[str, list[str]],
) -> None:
    url, hits = local_server
    with pytest.raises(InputError, match=r"169\.254\.169\.254"):
        fetch_text(url)
    assert hits == ["/"]


def test_api_checks_a_url(client: TestClient) -> None:
    service = client.app.state.service  # type: ignore[attr-defined]
    service.fetch = lambda url: FetchedPage(url, url + "?final", PARAGRAPH * 3)
    r = client.post("/v1/check", json={"url": "https://news.example/story"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["url"] == "https://news.example/story?final"
    assert client.get(f"/v1/checks/{body['id']}").json()["url"] == body["url"]


def test_api_refuses_internal_urls_with_a_problem(client: TestClient) -> None:
    r = client.post("/v1/check", json={"url": "http://169.254.169.254/latest/meta-data/"})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "not a public internet address" in r.json()["detail"]
    both = client.post("/v1/check", json={"url": "https://news.example/", "text": "x"})
    assert both.status_code == 422 and "exactly one" in both.json()["detail"]
    assert client.post("/v1/check", json={}).status_code == 422
