"""An app on a temporary SQLite file with the bundled model, loaded once per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from veracity.detector import Detector
from veracity.serve.app import create_app
from veracity.settings import Settings

SEED = Path(__file__).resolve().parents[3] / "shared" / "seed" / "seed_article.txt"


@pytest.fixture(scope="session")
def detector() -> Detector:
    return Detector.from_path(None, settings=Settings())


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / 'serve.db'}")


@pytest.fixture
def client(settings: Settings, detector: Detector) -> Iterator[TestClient]:
    with TestClient(create_app(settings, detector)) as c:
        yield c


@pytest.fixture
def article() -> str:
    if SEED.is_file():
        return SEED.read_text(encoding="utf-8")
    return (
        "WASHINGTON (Reuters) - The Senate committee said on Friday that the budget "
        "report from the agency showed the economy grew 2 percent, officials said, "
        "adding that the minister would present the figures to lawmakers next week."
    )


@pytest.fixture
def allow_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the SSRF guard pass 127.0.0.1, and only it: tests fetch from loopback servers."""
    from veracity.serve import fetch

    refused = fetch._refused
    monkeypatch.setattr(fetch, "_refused", lambda a: a != "127.0.0.1" and refused(a))
