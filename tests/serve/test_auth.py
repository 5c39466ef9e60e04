"""API keys on the /v1 routes: off by default; 401 without a good key; 429 over the limit.

And the per-address limit of the page's check form: 429 with Retry-After over it. Every
test runs on SQLite and on PostgreSQL (the limits are kept in the database); across
worker processes in tests/e2e/test_workers.py.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from veracity.detector import Detector
from veracity.serve.app import create_app
from veracity.serve.auth import RateLimiter, client_address
from veracity.serve.csrf import FIELD
from veracity.settings import Settings
from veracity.store.migrate import make_engine, upgrade
from veracity.store.models import RateLimit
from veracity.store.repository import create_api_key, revoke_api_key, sessions


def _settings(database_url: str, **kw: object) -> Settings:
    return Settings(database_url=database_url, **kw)  # type: ignore[arg-type]


@pytest.fixture
def settings(database_url: str) -> Settings:
    """The ``client`` fixture's settings, on each database backend."""
    return _settings(database_url)


@pytest.fixture
def guarded(database_url: str, detector: Detector) -> Iterator[TestClient]:
    app = create_app(
        _settings(database_url, require_api_key=True, rate_limit_per_minute=5), detector
    )
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


def test_rate_limit_zero_is_unlimited(database_url: str, detector: Detector) -> None:
    settings = _settings(database_url, require_api_key=True, rate_limit_per_minute=0)
    with TestClient(create_app(settings, detector)) as client:
        key = _new_key(client)
        for _ in range(100):
            assert client.get("/healthz").status_code == 200
            assert client.get("/v1/checks", headers={"X-API-Key": key}).status_code == 200
        with client.app.state.service.session() as session:  # type: ignore[attr-defined]
            assert session.query(RateLimit).count() == 0  # the database is not touched


@pytest.fixture
def make_session(database_url: str) -> Iterator[sessionmaker[Session]]:
    upgrade(database_url)
    engine = make_engine(database_url)
    yield sessions(engine)
    engine.dispose()


def test_token_bucket_refills_evenly(make_session: sessionmaker[Session]) -> None:
    now = [0.0]
    limiter = RateLimiter(per_minute=60, sessions=make_session, clock=lambda: now[0])
    assert all(limiter.acquire("k") == 0.0 for _ in range(60))
    assert limiter.acquire("k") == pytest.approx(1.0)
    assert limiter.acquire("other") == 0.0
    now[0] = 2.5
    assert limiter.acquire("k") == 0.0 and limiter.acquire("k") == 0.0
    assert limiter.acquire("k") == pytest.approx(0.5)
    now[0] = 1000.0
    assert sum(limiter.acquire("k") == 0.0 for _ in range(100)) == 60


def _form_post(client: TestClient, text: str = "") -> Any:
    """Post the page's check form as a browser would (token from the page, cookie kept)."""
    html = client.get("/").text
    token = html.split(f'name="{FIELD}" value="', 1)[1].split('"', 1)[0]
    return client.post("/check", data={FIELD: token, "text": text}, follow_redirects=False)


def test_the_check_form_is_limited_per_address_by_default(client: TestClient, article: str) -> None:
    """60 a minute by default: the 61st post from one address is 429 with Retry-After."""
    assert Settings().rate_limit_per_address_per_minute == 60
    client.app.state.address_limiter.clock = lambda: 0.0  # type: ignore[attr-defined]
    assert _form_post(client, article).status_code == 303
    for _ in range(59):
        assert _form_post(client).status_code == 422  # empty form: still counted
    over = _form_post(client, article)
    assert over.status_code == 429
    assert over.headers["retry-after"] == "1"
    assert client.get("/v1/checks").json()["total"] == 1


def test_over_the_address_limit_is_a_readable_429_page(
    database_url: str, detector: Detector, article: str
) -> None:
    app = create_app(_settings(database_url, rate_limit_per_address_per_minute=3), detector)
    with TestClient(app) as client:
        for _ in range(3):
            assert _form_post(client, article).status_code == 303
        over = _form_post(client, article)
        assert over.status_code == 429
        assert 1 <= int(over.headers["retry-after"]) <= 20  # one check every 20 s
        assert over.headers["content-type"].startswith("text/html")
        assert 'role="alert"' in over.text and "at most 3 a minute" in over.text
        assert html.escape(article[:60]) in over.text  # the pasted text is kept in the form
        assert client.get("/v1/checks").json()["total"] == 3  # no work was done
        # other addresses have their own allowance; the API and feedback are not counted
        other = TestClient(app, client=("203.0.113.9", 50000))
        assert _form_post(other, article).status_code == 303
        assert client.post("/v1/check", json={"text": article}).status_code == 200
        # an IPv6 client's whole /64 shares one allowance
        for host in ("2001:db8::1", "2001:db8::2", "2001:db8::3"):
            v6 = TestClient(app, client=(host, 50000))
            assert _form_post(v6).status_code == 422
        assert _form_post(TestClient(app, client=("2001:db8::ffff", 1))).status_code == 429
        assert _form_post(TestClient(app, client=("2001:db8:0:1::1", 1))).status_code == 422


def test_address_limit_zero_is_unlimited(database_url: str, detector: Detector) -> None:
    app = create_app(_settings(database_url, rate_limit_per_address_per_minute=0), detector)
    with TestClient(app) as client:
        assert all(_form_post(client).status_code == 422 for _ in range(100))


def test_client_address_groups_ipv6_by_64_and_unmaps_ipv4() -> None:
    def key(host: str) -> str:
        return client_address(SimpleNamespace(client=SimpleNamespace(host=host)))  # type: ignore[arg-type]

    assert key("192.0.2.7") == key("::ffff:192.0.2.7") == "address:192.0.2.7"
    assert key("2001:db8::1") == key("2001:db8::ffff:1") == "address:2001:db8::/64"
    assert key("2001:db8:0:1::1") != key("2001:db8::1")
    assert key("testclient") == "address:testclient"


def test_the_limiters_table_stays_bounded(make_session: sessionmaker[Session]) -> None:
    """The table stays small: a bucket idle for a minute is full again, so it is deleted."""
    now = [0.0]
    limiter = RateLimiter(per_minute=1, sessions=make_session, clock=lambda: now[0])
    assert limiter.acquire("hot") == 0.0 and limiter.acquire("hot") > 0
    for i in range(100):  # a flood of new addresses
        limiter.acquire(f"address:198.51.100.{i}")
    now[0] = 30.0
    assert limiter.acquire("hot") > 0  # still limited: half a token back
    with make_session() as session:
        assert session.query(RateLimit).count() == 101  # nothing is a minute old yet
    now[0] = 85.0  # the flood (0 s) is a minute old, "hot" (used at 30 s) is not
    assert limiter.acquire("new") == 0.0
    with make_session() as session:
        assert {r.bucket for r in session.query(RateLimit)} == {"hot", "new"}


def test_the_apps_limiters_keep_their_buckets_in_the_database(client: TestClient) -> None:
    state = client.app.state  # type: ignore[attr-defined]
    assert state.rate_limiter.sessions == state.address_limiter.sessions
    assert _form_post(client).status_code == 422
    with state.service.session() as session:
        rows = session.query(RateLimit).all()
    assert [(r.bucket, r.granted) for r in rows] == [("address:testclient", True)]
    assert rows[0].tokens == pytest.approx(59.0, abs=0.1)
