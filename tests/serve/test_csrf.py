"""CSRF tokens on the HTML forms: every POST form has one; a missing or wrong one is 403."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from veracity.detector import Detector
from veracity.serve.app import create_app
from veracity.serve.csrf import COOKIE
from veracity.settings import Settings

Csrf = Callable[..., dict[str, str]]


def _new_check(client: TestClient, csrf: Csrf, article: str) -> str:
    r = client.post("/check", data={**csrf(), "text": article}, follow_redirects=False)
    assert r.status_code == 303, r.text
    location: str = r.headers["location"]
    return location


def _assert_refused(response: Any) -> None:
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1>Form expired</h1>" in response.text and "reload the page" in response.text


def test_every_post_form_carries_a_token(client: TestClient, csrf: Csrf, article: str) -> None:
    pages = [client.get("/").text, client.get(_new_check(client, csrf, article)).text]
    pages += [client.get(p).text for p in ("/history", "/model")]
    forms = [f for page in pages for f in re.findall(r"<form\b.*?</form>", page, re.S)]
    posts = [f for f in forms if 'method="post"' in f.split(">", 1)[0]]
    assert len(posts) == 2  # the check form and the feedback form
    for form in posts:
        assert re.search(r'<input type="hidden" name="csrf_token" value="[0-9a-f]{64}">', form)


def test_the_cookie_is_strict_http_only_and_set_once(client: TestClient) -> None:
    first = client.get("/")
    cookie = first.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    attributes = {a.strip().lower() for a in cookie.split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/"} <= attributes
    assert "secure" not in attributes  # plain http here; over https it is Secure
    assert "set-cookie" not in client.get("/").headers  # the browser already has it
    assert "set-cookie" not in client.get("/healthz").headers  # only pages with forms


def test_the_forms_still_work_with_the_token(client: TestClient, csrf: Csrf, article: str) -> None:
    location = _new_check(client, csrf, article)
    r = client.post(
        f"{location}/feedback", data={"agree": "no", **csrf(location)}, follow_redirects=False
    )
    assert r.status_code == 303
    assert client.get(location.replace("/checks", "/v1/checks")).json()["feedback"]


def _token_on(client: TestClient, page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(page).text)
    assert found, page
    return found.group(1)


@pytest.mark.parametrize(
    "forge",
    [
        "no field",
        "empty field",
        "wrong field",
        "non-ascii field",
        "no cookie",  # what a cross-site post looks like: SameSite=Strict keeps it home
        "planted cookie",  # the attacker's own cookie, and a field made without the secret
        "token of the other form",
        "token of another server",
    ],
)
def test_a_forged_check_form_is_refused_and_checks_nothing(
    client: TestClient, forge: str, tmp_path: Path, detector: Detector
) -> None:
    stored = client.post("/v1/check", json={"text": "A text, for a page with a feedback form."})
    token = _token_on(client, "/")
    data = {"text": "The Senate committee said on Friday that the economy grew."}
    if forge == "empty field":
        data["csrf_token"] = ""
    elif forge == "wrong field":
        data["csrf_token"] = token[:-1] + ("1" if token.endswith("0") else "0")
    elif forge == "non-ascii field":
        data["csrf_token"] = "é" * 64
    elif forge == "no cookie":
        client.cookies.clear()
        data["csrf_token"] = token
    elif forge == "planted cookie":
        client.cookies.set(COOKIE, "A" * 43)
        data["csrf_token"] = "0" * 64
    elif forge == "token of the other form":
        data["csrf_token"] = _token_on(client, f"/checks/{stored.json()['id']}")
    elif forge == "token of another server":
        other = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'o.db'}"), detector)
        with TestClient(other) as elsewhere:
            elsewhere.cookies.set(COOKIE, client.cookies[COOKIE])
            data["csrf_token"] = _token_on(elsewhere, "/")
    _assert_refused(client.post("/check", data=data))
    assert client.get("/v1/checks").json()["total"] == 1  # only the one made above


@pytest.mark.parametrize("forge", ["no field", "no cookie", "token of the other form"])
def test_a_forged_feedback_form_is_refused_and_records_nothing(
    client: TestClient, csrf: Csrf, article: str, forge: str
) -> None:
    location = _new_check(client, csrf, article)
    data = {"agree": "no"}
    if forge == "no cookie":
        data |= csrf(location)
        client.cookies.clear()
    elif forge == "token of the other form":
        data |= csrf("/")
    _assert_refused(client.post(f"{location}/feedback", data=data))
    assert client.get(location.replace("/checks", "/v1/checks")).json()["feedback"] == []


def test_the_json_api_takes_no_form_shaped_bodies(client: TestClient) -> None:
    """What a cross-site HTML form can send (text/plain, urlencoded) is not JSON to the API."""
    body = '{"text": "The Senate committee said on Friday that the economy grew."}'
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        r = client.post("/v1/check", content=body, headers={"content-type": content_type})
        assert r.status_code == 422, content_type
    assert client.get("/v1/checks").json()["total"] == 0
