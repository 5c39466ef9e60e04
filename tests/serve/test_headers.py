"""Security headers on every response: pages, JSON, static files, errors, the API docs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from veracity.detector import Detector
from veracity.serve.app import create_app
from veracity.serve.headers import CSP
from veracity.settings import Settings


def _directives(policy: str) -> dict[str, list[str]]:
    parts = (d.split() for d in policy.split(";") if d.strip())
    return {name: values for name, *values in parts}


def assert_hardened(response: Any) -> dict[str, list[str]]:
    """The response carries the security headers; returns its CSP directives."""
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-frame-options"] == "DENY"
    csp = _directives(headers["content-security-policy"])
    assert csp["default-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["form-action"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    return csp


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/", 200),
        ("GET", "/history", 200),
        ("GET", "/model", 200),
        ("GET", "/checks/999", 404),
        ("POST", "/check", 403),  # no CSRF token
        ("GET", "/static/app.js", 200),
        ("GET", "/static/style.css", 200),
        ("GET", "/static/missing.js", 404),
        ("GET", "/v1/checks", 200),
        ("GET", "/v1/checks/999", 404),
        ("POST", "/v1/check", 422),
        ("GET", "/healthz", 200),
        ("GET", "/openapi.json", 200),
        ("GET", "/nowhere", 404),
    ],
)
def test_every_response_has_the_security_headers(
    client: TestClient, method: str, path: str, status: int
) -> None:
    response = client.request(method, path)
    assert response.status_code == status
    csp = assert_hardened(response)
    # nothing but this origin's own files: no inline script or style, no eval, no CDN
    assert set(csp) == {"default-src", "frame-ancestors", "base-uri", "form-action", "object-src"}


def test_pages_have_no_inline_script_or_style(client: TestClient) -> None:
    """The strict policy forbids inline code, so the pages must not need any."""
    html = client.get("/").text
    assert "<script>" not in html and "<style" not in html and " style=" not in html
    assert " onclick=" not in html and " onload=" not in html and "javascript:" not in html
    assert re.search(r'<script src="[^"]*/static/app\.js" defer></script>', html)
    assert re.search(r'<link rel="stylesheet" href="[^"]*/static/style\.css">', html)


def test_too_large_and_crashed_answers_have_the_headers(tmp_path: Path, detector: Detector) -> None:
    class Broken(Detector):
        def check_many(self, texts: Any) -> Any:
            raise RuntimeError("boom")

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'h.db'}", max_request_bytes=100)
    with TestClient(
        create_app(settings, Broken(detector.model, settings)), raise_server_exceptions=False
    ) as client:
        too_large = client.post("/v1/check", json={"text": "x" * 200})
        assert too_large.status_code == 413
        assert_hardened(too_large)
        crashed = client.post("/v1/check", json={"text": "some text"})
        assert crashed.status_code == 500 and "boom" not in crashed.text
        assert crashed.json()["detail"].startswith("an unexpected error")
        assert_hardened(crashed)


def test_api_docs_get_the_same_strict_policy(client: TestClient) -> None:
    """/docs is the app's own page, not Swagger UI from a CDN: no exception to the policy."""
    response = client.get("/docs")
    assert response.status_code == 200
    csp = assert_hardened(response)
    assert response.headers["content-security-policy"] == CSP
    assert "script-src" not in csp and "cdn.jsdelivr.net" not in response.text
