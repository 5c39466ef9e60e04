"""Property-based API tests: schemathesis sends schema-shaped (and malformed) requests to
every operation of the OpenAPI schema, in process, and no answer may be a 5xx. Over all
operations at least 1,000 cases are sent (``test_enough_cases_were_sent``).

URL checks never reach the network: the app's fetch validates the URL with the real
SSRF guard (resolving every host to one public address) and returns the seed article.
"""

from __future__ import annotations

from collections import Counter
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


#: Cases sent per operation ("METHOD path" → count), for the total asserted below.
CASES: Counter[str] = Counter()
#: The whole run must send at least this many cases over all operations.
MIN_TOTAL_CASES = 1000


@schema.parametrize()
@settings(
    max_examples=170,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_errors(case: schemathesis.Case) -> None:
    CASES[f"{case.method.upper()} {case.path}"] += 1
    case.call_and_validate(checks=[not_a_server_error])


def test_enough_cases_were_sent(api_schema: Any) -> None:
    """Runs after the property tests: at least MIN_TOTAL_CASES cases, none a 5xx."""
    operations = {
        f"{method.upper()} {path}"
        for path, methods in api_schema.raw_schema["paths"].items()
        for method in methods
    }
    if not operations <= set(CASES):
        pytest.skip("only some operations ran (-k or -x): the total is not meaningful")
    # only the schema's own operations count (not the probes with unsupported methods)
    counted = {op: n for op, n in CASES.items() if op in operations}
    total = sum(counted.values())
    print(f"schemathesis: {total:,} cases over {len(counted)} operations: {counted}")
    assert total >= MIN_TOTAL_CASES, counted


def test_a_huge_page_number_is_an_empty_page_not_a_500(client: Any) -> None:
    """Found by schemathesis: OFFSET (page - 1) * per_page overflowed SQLite's 64 bits."""
    for page in (461168601842738792, 10**30):
        r = client.get("/v1/checks", params={"page": page})
        assert r.status_code == 200, r.text
        assert r.json()["items"] == [] and r.json()["page"] == page
    assert client.get("/history", params={"page": 10**30}).status_code == 200
