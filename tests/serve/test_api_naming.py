"""How the API's errors name a bad text (#14): "the text" of one check, "document #i" of a batch."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from veracity.detector import Detector
from veracity.serve.app import create_app
from veracity.settings import Settings


def _detail(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    detail = response.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail
    return detail


@pytest.mark.parametrize("blank", [" ", "  \n\t ", "\u00a0\u2003"])
def test_an_empty_single_check_is_the_text_not_text_0(client: TestClient, blank: str) -> None:
    detail = _detail(client.post("/v1/check", json={"text": blank}), 422)
    assert detail == "nothing to check: the text is empty or only whitespace"
    assert "#" not in detail
    assert client.get("/v1/checks").json()["total"] == 0


def test_batch_errors_name_the_document_by_its_index(client: TestClient, article: str) -> None:
    docs = [{"text": article}, {"text": "   "}]
    detail = _detail(client.post("/v1/check/batch", json={"documents": docs}), 422)
    assert detail == "nothing to check: document #1 is empty or only whitespace"
    one = _detail(client.post("/v1/check/batch", json={"documents": [{"text": " "}]}), 422)
    assert "document #0" in one  # a batch of one still says which document
    control = _detail(client.post("/v1/check/batch", json={"documents": [{"text": "a\x01"}]}), 422)
    assert control.startswith("document #0 holds")
    assert client.get("/v1/checks").json()["total"] == 0
    single = _detail(client.post("/v1/check", json={"text": "a\x01 b"}), 422)
    assert single.startswith("the text holds")


def test_the_detectors_own_size_limit_is_named_too(tmp_path: Any, detector: Detector) -> None:
    """VERACITY_MAX_DOCUMENT_BYTES below the service's limit: a 413 naming it, not "text #0"."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 's.db'}", max_document_bytes=100)
    with TestClient(create_app(settings, detector)) as client:
        detail = _detail(client.post("/v1/check", json={"text": "word " * 40}), 413)
        assert detail.startswith("the text is 200 bytes") and "#" not in detail
        assert "at most 100 bytes (VERACITY_MAX_DOCUMENT_BYTES)" in detail
        docs = [{"text": "fine words"}, {"text": "word " * 40}]
        detail = _detail(client.post("/v1/check/batch", json={"documents": docs}), 413)
        assert detail.startswith("document #1 is 200 bytes")
