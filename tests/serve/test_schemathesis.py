"""Property-based API tests: schemathesis sends schema-shaped (and malformed) requests to
every operation of the OpenAPI schema, in process, and no answer may be a 5xx.

URL checks never reach the network: the app's fetch validates the URL with the real
SSRF guard (resolving every host to one public address) and returns the seed article.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from veracity.detector import Detector
from veracity.serve.app import create_app
from veracity.serve.fetch import FetchedPage, check_public_url
from veracity.settings import Settings


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory, detector: Detector, article: str) -> Any:
    db = tmp_path_factory.mktemp("schemathesis") / "fuzz.db"
    app = create_app(Settings(database_url=f"sqlite:///{db}"), detector)

    def fetch(url: str) -> FetchedPage:
        parsed = check_public_url(url, resolver=lambda host, port: ["93.184.216.34"])
        return FetchedPage(url, str(parsed), article)

    app.state.service.fetch = fetch
    return schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.fixture(scope="module")
def article() -> str:
    seed = Path(__file__).resolve().parents[3] / "shared" / "seed" / "seed_article.txt"
    if seed.is_file():
        return seed.read_text(encoding="utf-8")
    return "The Senate committee said on Friday that the economy grew 2 percent. " * 5


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=30,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_errors(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=[not_a_server_error])
