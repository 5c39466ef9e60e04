"""Requests over VERACITY_REQUEST_TIMEOUT_SECONDS get 503 problem JSON at the deadline."""

from __future__ import annotations

import threading
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


class CountingDetector(SlowDetector):
    """A slow detector that counts its calls and how many ran at once."""

    def __init__(self, detector: Detector, delay: float) -> None:
        super().__init__(detector, delay)
        self.lock = threading.Lock()
        self.running = self.calls = self.most_at_once = 0

    def check_many(self, texts: Sequence[str]) -> list[Verdict]:
        with self.lock:
            self.calls += 1
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        try:
            return super().check_many(texts)
        finally:
            with self.lock:
                self.running -= 1


def test_checks_wait_for_a_model_slot_and_time_out_unrun(
    tmp_path: Path, detector: Detector, article: str
) -> None:
    """One slot, 0.6 s a check, a 1 s limit, four checks at once.

    The model never runs two at a time (busy threads beyond the CPUs would make the
    event loop late), every answer comes by the deadline, and the checks still waiting
    for the slot at the deadline get 503 without running the model.
    """
    slow = CountingDetector(detector, delay=0.6)
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'slots.db'}",
        request_timeout_seconds=1.0,
        max_concurrent_checks=1,
    )
    answers: list[tuple[int, float]] = []
    with TestClient(create_app(settings, slow)) as client:  # type: ignore[arg-type]

        def check() -> None:
            start = time.perf_counter()
            status = client.post("/v1/check", json={"text": article}).status_code
            answers.append((status, time.perf_counter() - start))

        senders = [threading.Thread(target=check) for _ in range(4)]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join(timeout=10)
        time.sleep(0.8)  # the check cut off while running finishes in its thread
    assert len(answers) == 4
    assert all(elapsed < 1.5 for _, elapsed in answers), answers
    assert sum(status == 503 for status, _ in answers) >= 2, answers
    assert slow.most_at_once == 1
    assert slow.calls <= 2  # the two still waiting never reached the model


def test_batch_checks_use_the_model_slots_too(
    tmp_path: Path, detector: Detector, article: str
) -> None:
    slow = CountingDetector(detector, delay=0.3)
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'batch.db'}", max_concurrent_checks=1)
    statuses: list[int] = []
    with TestClient(create_app(settings, slow)) as client:  # type: ignore[arg-type]

        def check() -> None:
            body = {"documents": [{"text": article}]}
            statuses.append(client.post("/v1/check/batch", json=body).status_code)

        senders = [threading.Thread(target=check) for _ in range(3)]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join(timeout=10)
    assert statuses == [200] * 3
    assert slow.most_at_once == 1 and slow.calls == 3
