"""The JSON API: every /v1 route, health checks, and the problem+json error shape."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from veracity.detector import Detector
from veracity.serve.app import create_app
from veracity.serve.fetch import FetchedPage
from veracity.serve.problems import MAX_REPORTED_ERRORS
from veracity.settings import Settings

PROBLEM = "application/problem+json"
JSON = {"content-type": "application/json"}


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status
    assert isinstance(body["detail"], str) and body["detail"]
    return body


def test_check_returns_the_verdict_and_stores_it(client: TestClient, article: str) -> None:
    r = client.post("/v1/check", json={"text": article})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["verdict"] == "reliable"
    assert body["label"] == "reliable" and body["abstained"] is False
    assert 0.0 <= body["probability"] < 0.35
    evidence = body["evidence"]
    assert evidence and {"term", "weight", "toward", "kind", "start", "end", "count"} == set(
        evidence[0]
    )
    assert body["model_id"] and body["input_form"] in ("raw", "normalized")
    assert isinstance(body["id"], int) and body["created_at"].endswith(("Z", "+00:00"))
    stored = client.get(f"/v1/checks/{body['id']}").json()
    assert stored["probability"] == body["probability"]
    assert stored["evidence"] == body["evidence"]
    assert stored["feedback"] == []


def test_short_text_is_not_sure(client: TestClient) -> None:
    body = client.post("/v1/check", json={"text": "Aliens built the pyramids."}).json()
    assert body["verdict"] == "not sure" and body["abstained"] is True
    assert "too short" in body["reason"]


def test_batch(client: TestClient, article: str) -> None:
    docs = [{"text": article}, {"text": "Shocking hoax exposed, the elite hide the truth."}]
    r = client.post("/v1/check/batch", json={"documents": docs})
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert len(items) == 2 and items[0]["verdict"] == "reliable"
    assert items[0]["id"] != items[1]["id"]
    assert client.get("/v1/checks").json()["total"] == 2


def test_batch_over_the_document_limit_is_413(client: TestClient) -> None:
    docs = [{"text": "some words"}] * 101
    body = assert_problem(client.post("/v1/check/batch", json={"documents": docs}), 413)
    assert "101 documents" in body["detail"] and "100" in body["detail"]
    assert client.get("/v1/checks").json()["total"] == 0


def _explodes(detector: Detector, settings: Settings) -> Detector:
    class Exploding(Detector):
        def check_many(self, texts: Any) -> Any:
            raise AssertionError("the model must not run")

    return Exploding(detector.model, settings)


def test_a_huge_batch_is_counted_before_its_documents_are_validated(
    settings: Settings, detector: Detector
) -> None:
    """#13: 600,000 empty documents (7.8 MB) got a 71 MB 422 after 7-25 s of validation."""
    body = b'{"documents": [' + b",".join([b'{"text": ""}'] * 600_000) + b"]}"
    assert len(body) < settings.max_request_bytes  # under the body limit: the route sees it
    with TestClient(create_app(settings, _explodes(detector, settings))) as client:
        started = time.perf_counter()
        r = client.post("/v1/check/batch", content=body, headers=JSON)
        elapsed = time.perf_counter() - started
        assert len(r.content) < 10_000, (r.status_code, r.content[:500])
        assert elapsed < 2.0, f"took {elapsed:.2f} s"
        problem = assert_problem(r, 413)
        assert "600,000 documents" in problem["detail"] and "100" in problem["detail"]
        assert problem["type"] == "urn:veracity:problem:input-too-large"
        # one over the limit, each document valid: 413 before the model, nothing stored
        r = client.post("/v1/check/batch", json={"documents": [{"text": "some words"}] * 101})
        assert "101 documents" in assert_problem(r, 413)["detail"]
        assert client.get("/v1/checks").json()["total"] == 0


def test_validation_problems_stay_small(client: TestClient, article: str) -> None:
    """#13: a 422 is bounded: unknown fields are one error, long names are cut, and at most
    MAX_REPORTED_ERRORS errors are listed beside their count."""
    check_id = client.post("/v1/check", json={"text": article}).json()["id"]
    extra = {f"k{i}": 0 for i in range(200_000)}  # was 200,000 errors: 18 MB after 5.5 s
    content = json.dumps({"agree": True, **extra}).encode()
    started = time.perf_counter()
    r = client.post(f"/v1/checks/{check_id}/feedback", content=content, headers=JSON)
    elapsed = time.perf_counter() - started
    assert len(r.content) < 10_000, (r.status_code, r.content[:500])
    assert elapsed < 2.0, f"took {elapsed:.2f} s"
    body = assert_problem(r, 422)
    assert body["error_count"] == 1 and "199,997 more" in body["errors"][0]["msg"]
    long_key = {"agree": True, "k" * 1_000_000: 0}  # was echoed whole: a 2 MB 422
    r = client.post(f"/v1/checks/{check_id}/feedback", json=long_key)
    assert len(r.content) < 10_000, (r.status_code, r.content[:500])
    assert_problem(r, 422)
    documents = [{"text": ""}] * 100  # one error per document, in a batch at the limit
    r = client.post("/v1/check/batch", json={"documents": documents})
    assert len(r.content) < 10_000, (r.status_code, r.content[:500])
    body = assert_problem(r, 422)
    assert body["error_count"] == 100 and len(body["errors"]) == MAX_REPORTED_ERRORS
    assert "100 errors" in body["detail"]


def test_empty_batch_is_422(client: TestClient) -> None:
    assert_problem(client.post("/v1/check/batch", json={"documents": []}), 422)


def test_document_over_1mb_is_413_before_the_model(settings: Settings, detector: Detector) -> None:
    class Exploding(Detector):
        def check_many(self, texts: Any) -> Any:
            raise AssertionError("the model must not run")

    with TestClient(create_app(settings, Exploding(detector.model, settings))) as client:
        body = assert_problem(client.post("/v1/check", json={"text": "a" * 1_000_001}), 413)
        assert "1,000,000 bytes" in body["detail"]
        assert body["type"] == "urn:veracity:problem:input-too-large"
        r = client.post("/v1/check/batch", json={"documents": [{"text": "é" * 600_000}]})
        assert_problem(r, 413)


def test_request_body_over_the_limit_is_413(settings: Settings, detector: Detector) -> None:
    small = settings.model_copy(update={"max_request_bytes": 1000})
    with TestClient(create_app(small, detector)) as client:
        body = assert_problem(client.post("/v1/check", json={"text": "x" * 2000}), 413)
        assert "VERACITY_MAX_REQUEST_BYTES" in body["detail"]

        def chunks() -> Any:  # no Content-Length: streamed
            for _ in range(10):
                yield b"x" * 200

        r = client.post("/v1/check", content=chunks(), headers={"content-type": "text/plain"})
        assert_problem(r, 413)


@pytest.mark.parametrize(
    "payload",
    [{}, {"text": ""}, {"text": 5}, {"text": "ok", "extra": 1}, [], "text"],
)
def test_invalid_check_bodies_are_422_problems(client: TestClient, payload: Any) -> None:
    body = assert_problem(client.post("/v1/check", json=payload), 422)
    assert body["type"] == "urn:veracity:problem:validation"
    assert body["errors"] and {"loc", "msg", "type"} <= set(body["errors"][0])


def test_whitespace_only_text_is_a_422_input_problem(client: TestClient) -> None:
    body = assert_problem(client.post("/v1/check", json={"text": "   \n"}), 422)
    assert body["type"] == "urn:veracity:problem:input"
    assert "empty" in body["detail"]


def test_malformed_json_is_422(client: TestClient) -> None:
    r = client.post("/v1/check", content=b"{not json", headers={"content-type": "application/json"})
    assert_problem(r, 422)


def test_unknown_check_is_404_problem(client: TestClient) -> None:
    body = assert_problem(client.get("/v1/checks/999"), 404)
    assert "999" in body["detail"]
    assert_problem(client.get("/v1/checks/abc"), 422)
    assert_problem(client.get("/v1/nothing-here"), 404)


def test_wrong_method_is_405_problem(client: TestClient) -> None:
    assert_problem(client.get("/v1/check"), 405)


def test_list_checks_pages_and_filters(client: TestClient, article: str) -> None:
    ids = [client.post("/v1/check", json={"text": article}).json()["id"] for _ in range(3)]
    client.post("/v1/check", json={"text": "too short to judge"})
    page = client.get("/v1/checks", params={"per_page": 2}).json()
    assert page["total"] == 4 and page["pages"] == 2 and len(page["items"]) == 2
    assert page["items"][0]["verdict"] == "not sure"  # newest first
    second = client.get("/v1/checks", params={"per_page": 2, "page": 2}).json()
    assert [i["id"] for i in second["items"]] == ids[:2][::-1]
    sure = client.get("/v1/checks", params={"abstained": "false"}).json()
    assert sure["total"] == 3
    reliable = client.get("/v1/checks", params={"label": "reliable", "abstained": False}).json()
    assert reliable["total"] == 3
    assert client.get("/v1/checks", params={"q": "TOO SHORT"}).json()["total"] == 1
    assert_problem(client.get("/v1/checks", params={"label": "maybe"}), 422)
    assert_problem(client.get("/v1/checks", params={"per_page": 101}), 422)
    assert_problem(client.get("/v1/checks", params={"page": 0}), 422)


def test_feedback(client: TestClient, article: str) -> None:
    check_id = client.post("/v1/check", json={"text": article}).json()["id"]
    r = client.post(
        f"/v1/checks/{check_id}/feedback",
        json={"agree": False, "correct_label": "fake", "comment": "satire site"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["correct_label"] == "fake"
    feedback = client.get(f"/v1/checks/{check_id}").json()["feedback"]
    assert [(f["agree"], f["comment"]) for f in feedback] == [(False, "satire site")]
    assert_problem(client.post("/v1/checks/999/feedback", json={"agree": True}), 404)
    bad = {"agree": True, "correct_label": "satire"}
    assert_problem(client.post(f"/v1/checks/{check_id}/feedback", json=bad), 422)
    assert_problem(client.post(f"/v1/checks/{check_id}/feedback", json={}), 422)


def test_model_card(client: TestClient, detector: Detector) -> None:
    card = client.get("/v1/model").json()
    assert card["model_id"] == detector.model_id
    assert {"preset", "metrics", "training_data", "labels"} <= set(card)


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready", "model": True, "database": True}


def test_readyz_is_503_when_the_model_cannot_load(settings: Settings, tmp_path: Any) -> None:
    missing = settings.model_copy(update={"model_dir": tmp_path / "no-model"})
    with TestClient(create_app(missing)) as client:
        body = assert_problem(client.get("/readyz"), 503)
        assert body["model"] is False and body["database"] is True
        assert client.get("/healthz").status_code == 200
        body = assert_problem(client.post("/v1/check", json={"text": "some text"}), 503)
        assert body["type"] == "urn:veracity:problem:model-not-found"


def test_startup_migrates_the_database(settings: Settings, detector: Detector) -> None:
    from sqlalchemy import inspect

    from veracity.store.migrate import make_engine

    with TestClient(create_app(settings, detector)):
        engine = make_engine(settings.database_url)
        assert {"checks", "feedback"} <= set(inspect(engine).get_table_names())
        engine.dispose()


def test_openapi_lists_every_route(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    paths = set(client.get("/openapi.json").json()["paths"])
    assert {
        "/v1/check",
        "/v1/check/batch",
        "/v1/checks",
        "/v1/checks/{check_id}",
        "/v1/checks/{check_id}/feedback",
        "/v1/model",
        "/healthz",
        "/readyz",
    } <= paths
    assert "/history" not in paths  # HTML pages stay out of the API schema


def test_unexpected_errors_are_500_problems(settings: Settings, detector: Detector) -> None:
    class Broken(Detector):
        def check_many(self, texts: Any) -> Any:
            raise RuntimeError("boom")

    app = create_app(settings, Broken(detector.model, settings))
    with TestClient(app, raise_server_exceptions=False) as client:
        body = assert_problem(client.post("/v1/check", json={"text": "some text"}), 500)
        assert "boom" not in body["detail"]


def test_url_check_carries_the_site_reputation_apart_from_the_verdict(
    client: TestClient, article: str
) -> None:
    service = client.app.state.service  # type: ignore[attr-defined]
    service.fetch = lambda url: FetchedPage(url, url, article)
    by_url = client.post("/v1/check", json={"url": "https://www.abcnews.com.co/story"}).json()
    assert by_url["source_reputation"] == {
        "domain": "abcnews.com.co",
        "tags": ["fake"],
        "note": "",
        "source": "OpenSources 2017 (LGPL-3.0)",
    }
    by_text = client.post("/v1/check", json={"text": article}).json()
    assert by_text["source_reputation"] is None
    verdict_fields = ("verdict", "label", "probability", "abstained", "reason", "evidence")
    assert {k: by_url[k] for k in verdict_fields} == {k: by_text[k] for k in verdict_fields}
    stored = client.get(f"/v1/checks/{by_url['id']}").json()
    assert stored["source_reputation"] == by_url["source_reputation"]
    unlisted = client.post("/v1/check", json={"url": "https://news.example/story"}).json()
    assert unlisted["source_reputation"] is None and unlisted["url"]


@pytest.mark.parametrize("control", ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f"])
def test_control_characters_in_texts_are_422_and_nothing_is_stored(
    client: TestClient, csrf: Callable[..., dict[str, str]], article: str, control: str
) -> None:
    """#13: a NUL was stored, exported, and then the training refused the whole export."""
    text = f"abc {control} def"
    body = assert_problem(client.post("/v1/check", json={"text": text}), 422)
    assert f"U+{ord(control):04X}" in body["detail"] and "control character" in body["detail"]
    documents = [{"text": article}, {"text": text}]
    body = assert_problem(client.post("/v1/check/batch", json={"documents": documents}), 422)
    assert "document #1" in body["detail"]
    r = client.post("/check", data={**csrf(), "text": text}, follow_redirects=False)  # web form
    assert r.status_code == 422 and "control character" in r.text
    assert client.get("/v1/checks").json()["total"] == 0


def test_tab_newline_and_carriage_return_are_text(client: TestClient, article: str) -> None:
    r = client.post("/v1/check", json={"text": f"\t{article}\r\n\r\nMore.\n"})
    assert r.status_code == 200, r.text


def test_a_feedback_comment_with_control_characters_is_422(
    client: TestClient, article: str
) -> None:
    check_id = client.post("/v1/check", json={"text": article}).json()["id"]
    body = {"agree": True, "comment": "bad\x00comment"}
    assert_problem(client.post(f"/v1/checks/{check_id}/feedback", json=body), 422)
    assert client.get(f"/v1/checks/{check_id}").json()["feedback"] == []


def test_control_characters_of_a_fetched_page_become_spaces(
    client: TestClient, article: str
) -> None:
    """The page's bytes are not the client's: a URL check is not refused for them."""
    service = client.app.state.service  # type: ignore[attr-defined]
    service.fetch = lambda url: FetchedPage(url, url, article.replace(" ", "\x00", 1))
    check_id = client.post("/v1/check", json={"url": "https://news.example/a"}).json()["id"]
    service_text = client.get("/v1/checks", params={"q": article[:30]}).json()
    assert [c["id"] for c in service_text["items"]] == [check_id]


@pytest.mark.parametrize("q", ["%00", "abc%00", "%1B", "%0B"])
def test_search_for_a_control_character_is_422_not_everything(
    client: TestClient, article: str, q: str
) -> None:
    """#13: SQLite's LIKE stops at a NUL, so ?q=%00 matched every check."""
    client.post("/v1/check", json={"text": article})
    body = assert_problem(client.get(f"/v1/checks?q={q}"), 422)
    assert "control character" in body["detail"]


def test_search_wildcards_are_literal(client: TestClient) -> None:
    texts = ("it is 100% sure", "a snake_case name", "back\\slash", "plain words only")
    ids = {t: client.post("/v1/check", json={"text": t}).json()["id"] for t in texts}

    def found(raw_query: str) -> list[int]:
        r = client.get(f"/v1/checks?q={raw_query}")
        assert r.status_code == 200, r.text
        return [item["id"] for item in r.json()["items"]]

    assert found("%25") == [ids["it is 100% sure"]]
    assert found("_") == [ids["a snake_case name"]]
    assert found("%5C") == [ids["back\\slash"]]
    assert found("%25%25") == [] and found("__") == []
