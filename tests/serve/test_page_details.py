"""Page and API details (#14): the offline API reference, the favicon, history on a phone."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from veracity.detector import Detector
from veracity.serve.app import create_app
from veracity.serve.headers import CSP
from veracity.settings import Settings

LABELS = ["fake", "reliable", "fake", "reliable", "fake", "reliable", "reliable", "fake"]
P_FAKE = [0.9, 0.1, 0.55, 0.45, 0.8, 0.3, 0.6, 0.4]


def form_token(client: TestClient) -> dict[str, str]:
    """The check form's CSRF field (the client keeps the cookie)."""
    html = client.get("/").text
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    return {"csrf_token": found.group(1)}


# -- /docs ---------------------------------------------------------------------------


def test_docs_is_the_apps_own_page_listing_every_operation(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    r = client.get("/docs")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    # the same strict policy as every page: no CDN, no inline script
    assert r.headers["content-security-policy"] == CSP
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/app.js" defer>']
    assert not re.search(r'(?:src|href)="(?:https?:)?//', html)
    assert '<a href="/openapi.json">/openapi.json</a>' in html
    for path, item in spec["paths"].items():
        for method, op in item.items():
            anchor = re.sub(r"[^0-9A-Za-z]", "-", f"op-{method}-{path}").strip("-")
            section = html.split(f'id="{anchor}"', 1)[1].split('<section class="operation"')[0]
            assert f'method-{method}">{method.upper()}</span>' in section, path
            assert f'<code class="path">{path}</code>' in section
            for param in op.get("parameters", []):
                assert f"<code>{param['name']}</code>" in section, (path, param["name"])
            for status in op["responses"]:
                assert f"<td>{status}</td>" in section, (path, status)
    for name, schema in spec["components"]["schemas"].items():
        assert f'id="schema-{name}"' in html
        for prop in schema.get("properties", {}):
            assert f"<code>{prop}</code>" in html
    # references link to their schema on the page
    assert '<a href="#schema-CheckRequest">CheckRequest</a>' in html
    assert '<a href="#schema-CheckOut">CheckOut</a>' in html
    # a parameter's limits and description are shown
    assert "at most 100" in html and "Text contains, literally" in html


def test_docs_marks_the_routes_that_need_a_key(settings: Settings, detector: Detector) -> None:
    locked = settings.model_copy(update={"require_api_key": True})
    with TestClient(create_app(locked, detector)) as c:
        r = c.get("/docs")  # no key: the page stays open
    assert r.status_code == 200
    html = r.text
    assert "Authentication" in html and "X-API-Key" in html and "Bearer" in html
    check = html.split('id="op-post--v1-check"', 1)[1].split('<section class="operation"')[0]
    assert "Needs an API key" in check
    health = html.split('id="op-get--healthz"', 1)[1].split('<section class="operation"')[0]
    assert "Needs an API key" not in health


@pytest.mark.parametrize("path", ["/redoc", "/docs/oauth2-redirect"])
def test_the_cdn_docs_pages_are_gone(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 404


# -- favicon -------------------------------------------------------------------------


def test_favicon_is_served_and_linked(client: TestClient) -> None:
    ico = client.get("/favicon.ico")
    assert ico.status_code == 200 and ico.headers["content-type"] == "image/x-icon"
    assert ico.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
    svg = client.get("/static/favicon.svg")
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.startswith("<svg")
    for page in ("/", "/history", "/model", "/docs"):
        html = client.get(page).text
        assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in html
        assert '<link rel="icon" href="/favicon.ico"' in html
    assert "/favicon.ico" not in client.get("/openapi.json").json()["paths"]


# -- history at phone width ----------------------------------------------------------


def test_history_cells_carry_their_column_names(client: TestClient, article: str) -> None:
    """On narrow screens each row becomes a card; its cells label themselves."""
    client.post("/check", data={**form_token(client), "text": article})
    html = client.get("/history").text
    for label in ("#", "When (UTC)", "Verdict", "P(fake)", "Feedback", "Text"):
        assert f'data-label="{label}"' in html
