"""An app on a temporary SQLite file with the bundled model, loaded once per session.

``csrf(page)`` gets a page the way a browser does and returns its form's CSRF field (the
client keeps the cookie), to post the HTML forms with.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
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


def form_token(client: TestClient, page: str = "/") -> dict[str, str]:
    """The hidden CSRF field of the POST form on ``page`` (the client keeps the cookie)."""
    html = client.get(page).text
    found = re.search(r'<input type="hidden" name="csrf_token" value="([^"]+)">', html)
    assert found, f"no CSRF field on {page}"
    return {"csrf_token": found.group(1)}


@pytest.fixture
def csrf(client: TestClient) -> Callable[..., dict[str, str]]:
    """``csrf(page="/")``: the CSRF field of the form on ``page``, for ``client``."""
    return lambda page="/": form_token(client, page)


@pytest.fixture
def allow_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the SSRF guard pass 127.0.0.1, and only it: tests fetch from loopback servers."""
    from veracity.serve import fetch

    refused = fetch._refused
    monkeypatch.setattr(fetch, "_refused", lambda a: a != "127.0.0.1" and refused(a))
