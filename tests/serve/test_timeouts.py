"""Requests over VERACITY_REQUEST_TIMEOUT_SECONDS get 503 problem JSON at the deadline."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from fastapi.testclient import TestClient

from veracity.detector import Detector
from veracity.serve.app import create_app
from veracity.settings import Settings
from veracity.types import Verdict


class SlowDetector:
    """A test double for timing: the real detector, ``delay`` seconds late."""

    def __init__(self, detector: Detector, delay: float) -> None:
        self.detector = detector
        self.delay = delay
        self.model = detector.model

    def check_many(self, texts: Sequence[str]) -> list[Verdict]:
        time.sleep(self.delay)
        return self.detector.check_many(texts)


def _app(tmp_path: Path, detector: Detector, delay: float, timeout: float) -> TestClient:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'slow.db'}", request_timeout_seconds=timeout
    )
    return TestClient(create_app(settings, SlowDetector(detector, delay)))  # type: ignore[arg-type]


def test_slow_request_gets_503_at_the_deadline(
    tmp_path: Path, detector: Detector, article: str
) -> None:
    with _app(tmp_path, detector, delay=1.5, timeout=0.2) as client:
        start = time.perf_counter()
        response = client.post("/v1/check", json={"text": article})
        elapsed = time.perf_counter() - start
        assert response.status_code == 503
        assert response.headers["content-type"].startswith("application/problem+json")
        body = response.json()
        assert body["type"] == "urn:veracity:problem:timeout"
        assert "timed out after 0.2 s" in body["detail"]
        assert elapsed < 1.2, "the client must not wait for the worker thread"
        # the worker thread cannot be interrupted: it finishes and stores the check
        assert client.get("/healthz").status_code == 200
        deadline = time.monotonic() + 5
        while client.get("/v1/checks").json()["total"] == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert client.get("/v1/checks").json()["total"] == 1


def test_requests_within_the_deadline_are_untouched(
    tmp_path: Path, detector: Detector, article: str
) -> None:
    with _app(tmp_path, detector, delay=0.0, timeout=5.0) as client:
        response = client.post("/v1/check", json={"text": article})
        assert response.status_code == 200, response.text
        assert client.get("/v1/checks/999").status_code == 404


def test_default_timeout_is_30_seconds() -> None:
    assert Settings().request_timeout_seconds == 30.0
