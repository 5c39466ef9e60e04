"""API keys on the /v1 routes: off by default; 401 without a good key; 429 over the limit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from veracity.detector import Detector
from veracity.serve.app import create_app
from veracity.serve.auth import RateLimiter
from veracity.settings import Settings
from veracity.store.repository import create_api_key, revoke_api_key


def _settings(tmp_path: Path, **kw: object) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / 'auth.db'}", **kw)  # type: ignore[arg-type]


@pytest.fixture
def guarded(tmp_path: Path, detector: Detector) -> Iterator[TestClient]:
    app = create_app(_settings(tmp_path, require_api_key=True, rate_limit_per_minute=5), detector)
    with TestClient(app) as c:
        yield c


def _new_key(client: TestClient, name: str = "alice") -> str:
    with client.app.state.service.session() as session:  # type: ignore[attr-defined]
        _, key = create_api_key(session, name)
    return key


def test_auth_is_off_by_default(client: TestClient, article: str) -> None:
    assert Settings().require_api_key is False
    assert client.post("/v1/check", json={"text": article}).status_code == 200
    assert client.get("/v1/checks").status_code == 200
    assert client.get("/v1/model").status_code == 200
    assert "securitySchemes" not in client.get("/openapi.json").json().get("components", {})


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer vk_nope"},
        {"X-API-Key": "vk_nope"},
        {"Authorization": "Basic x"},
    ],
)
def test_missing_or_bad_key_is_401_problem(guarded: TestClient, headers: dict[str, str]) -> None:
    _new_key(guarded)
    response = guarded.get("/v1/checks", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["www-authenticate"].startswith("Bearer")
    body = response.json()
    assert body["status"] == 401 and body["type"] == "urn:veracity:problem:unauthorized"


def test_good_key_works_in_both_headers(guarded: TestClient, article: str) -> None:
    key = _new_key(guarded)
    bearer = guarded.post(
        "/v1/check", json={"text": article}, headers={"Authorization": f"Bearer {key}"}
    )
    assert bearer.status_code == 200, bearer.text
    assert guarded.get("/v1/checks", headers={"X-API-Key": key}).status_code == 200


def test_revoked_key_is_401(guarded: TestClient) -> None:
    key = _new_key(guarded)
    assert guarded.get("/v1/checks", headers={"X-API-Key": key}).status_code == 200
    with guarded.app.state.service.session() as session:  # type: ignore[attr-defined]
        assert revoke_api_key(session, "alice") is not None
    assert guarded.get("/v1/checks", headers={"X-API-Key": key}).status_code == 401


def test_health_pages_and_docs_stay_open(guarded: TestClient) -> None:
    for path in ("/healthz", "/readyz", "/", "/openapi.json"):
        assert guarded.get(path).status_code == 200, path
    schemes = guarded.get("/openapi.json").json()["components"]["securitySchemes"]
    assert {s["type"] for s in schemes.values()} == {"http", "apiKey"}


def test_over_the_limit_is_429_with_retry_after(guarded: TestClient) -> None:
    alice, bob = _new_key(guarded, "alice"), _new_key(guarded, "bob")
    for _ in range(5):
        assert guarded.get("/v1/checks", headers={"X-API-Key": alice}).status_code == 200
    response = guarded.get("/v1/checks", headers={"X-API-Key": alice})
    assert response.status_code == 429
    assert response.json()["type"] == "urn:veracity:problem:rate-limited"
    assert 1 <= int(response.headers["retry-after"]) <= 12
    assert guarded.get("/v1/checks", headers={"X-API-Key": bob}).status_code == 200


def test_unknown_keys_do_not_use_up_anyones_allowance(guarded: TestClient) -> None:
    key = _new_key(guarded)
    for _ in range(10):
        assert guarded.get("/v1/checks", headers={"X-API-Key": "vk_bad"}).status_code == 401
    assert guarded.get("/v1/checks", headers={"X-API-Key": key}).status_code == 200


def test_rate_limit_zero_is_unlimited(tmp_path: Path, detector: Detector) -> None:
    settings = _settings(tmp_path, require_api_key=True, rate_limit_per_minute=0)
    with TestClient(create_app(settings, detector)) as client:
        key = _new_key(client)
        for _ in range(100):
            assert client.get("/healthz").status_code == 200
            assert client.get("/v1/checks", headers={"X-API-Key": key}).status_code == 200


def test_token_bucket_refills_evenly() -> None:
    now = [0.0]
    limiter = RateLimiter(per_minute=60, clock=lambda: now[0])
    assert all(limiter.acquire("k") == 0.0 for _ in range(60))
    assert limiter.acquire("k") == pytest.approx(1.0)
    assert limiter.acquire("other") == 0.0
    now[0] = 2.5
    assert limiter.acquire("k") == 0.0 and limiter.acquire("k") == 0.0
    assert limiter.acquire("k") == pytest.approx(0.5)
    now[0] = 1000.0
    assert sum(limiter.acquire("k") == 0.0 for _ in range(100)) == 60
