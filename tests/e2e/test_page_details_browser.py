"""Page and API details (#14) in a real browser against the real service.

The API reference works with every other host unreachable; no page scrolls sideways on
a 390 px phone; the favicon is served; the gauge's "not sure" bands sit where the
detector's thresholds are; the evidence comes before the feedback buttons, neither of
them preselected; the model page shows abstention only where it was measured.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from veracity.settings import Settings

pytestmark = pytest.mark.browser

SEED = Path(__file__).resolve().parents[3] / "shared" / "seed" / "seed_article.txt"
ARTICLE = (
    "WASHINGTON (Reuters) - The Senate committee said on Friday that the budget report from "
    "the agency showed the economy grew 2 percent, officials said, adding that the minister "
    "would present the figures to lawmakers next week."
)
LONG_URL = "https://news.example/" + "/".join(["a-very-long-path-segment-of-a-story"] * 12)
LONG_WORD = "Supercalifragilistic" * 15


def _watch(page: Any) -> tuple[list[str], list[str]]:
    """(console errors and warnings, URLs answered 4xx/5xx) of ``page`` from now on."""
    console: list[str] = []
    failed: list[str] = []
    page.on(
        "console",
        lambda m: console.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None,
    )
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    return console, failed


def _offline(page: Any) -> list[str]:
    """Abort every request to a host other than 127.0.0.1; returns the aborted URLs."""
    aborted: list[str] = []

    def handle(route: Any) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            aborted.append(route.request.url)
            route.abort()

    page.route("**/*", handle)
    return aborted


@pytest.fixture(scope="module")
def bundled() -> Any:
    """The bundled model, loaded once for the module (a first check need not load it)."""
    from veracity.detector import Detector

    return Detector.from_path(None, settings=Settings())


@pytest.fixture
def server(tmp_path: Path, live_app: Callable[[Any], str], bundled: Any) -> str:
    from veracity.serve.app import create_app

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'e2e.db'}")
    return live_app(create_app(settings, bundled))


def test_api_docs_render_with_the_network_cut_off(server: str, browser: Any) -> None:
    from playwright.sync_api import expect

    page = browser.new_page()
    aborted = _offline(page)
    console, failed = _watch(page)
    page.goto(f"{server}/docs")
    check = page.locator("#op-post--v1-check")
    expect(check.get_by_role("heading", level=3)).to_have_text("POST /v1/check")
    expect(check).to_contain_text("Check one document")
    expect(check.locator('a[href="#schema-CheckRequest"]')).to_be_visible()
    spec = page.request.get(f"{server}/openapi.json").json()
    operations = [(m.upper(), p) for p, item in spec["paths"].items() for m in item]
    shown = page.locator("[data-testid=operation] h3").all_inner_texts()
    assert [" ".join(t.split()) for t in shown] == [f"{m} {p}" for m, p in operations]
    page.locator('a[href="#schema-CheckRequest"]').first.click()
    expect(page.locator("#schema-CheckRequest")).to_be_in_viewport()
    page.get_by_role("link", name="/openapi.json").first.click()
    assert page.url == f"{server}/openapi.json"
    assert aborted == [] and failed == [] and console == [], (aborted, failed, console)


def test_no_page_scrolls_sideways_on_a_phone(server: str, browser: Any) -> None:
    """Several stored checks with long URLs and long words; 390 px wide, like a phone."""
    page = browser.new_page(viewport={"width": 390, "height": 844})
    console, failed = _watch(page)
    texts = {}
    for i in range(4):
        long = [f"{LONG_URL}?story={i}", LONG_WORD][:: 1 if i % 2 else -1]
        text = f"{long[0]} {long[1]} {ARTICLE}"
        answer = page.request.post(f"{server}/v1/check", data={"text": text}, timeout=120_000)
        assert answer.ok, answer.text()
        texts[answer.json()["id"]] = text
    ids = list(texts)
    for path in ("/history", f"/checks/{ids[0]}", "/", "/model", "/docs"):
        page.goto(f"{server}{path}")
        width = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert width[0] <= width[1], (path, width)
        assert width[1] <= 390
    page.goto(f"{server}/history")
    # every check is there, the start of its text readable (wrapped, not clipped away)
    for check_id, text in texts.items():
        row = page.locator("tr", has=page.locator(f'a[href="/checks/{check_id}"]'))
        cell = row.locator(".text-cell")
        assert cell.is_visible()
        assert text[:120] in "".join(cell.inner_text().split())
        box = cell.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert failed == [] and console == [], (failed, console)


def test_favicon_is_served(server: str, browser: Any) -> None:
    page = browser.new_page()
    console, failed = _watch(page)
    page.goto(f"{server}/")
    icons = page.locator("link[rel=icon]")
    assert icons.count() >= 1
    types = {"/static/favicon.svg": "image/svg+xml", "/favicon.ico": "image/x-icon"}
    for href in icons.evaluate_all("links => links.map(l => l.getAttribute('href'))"):
        answer = page.request.get(f"{server}{href}")
        assert answer.status == 200, href
        assert answer.headers["content-type"].split(";")[0] == types[href]
    ico = page.request.get(f"{server}/favicon.ico")
    assert ico.status == 200 and ico.body()[:4] == b"\x00\x00\x01\x00"
    page.goto(f"{server}/history")
    assert failed == [] and console == [], (failed, console)


def _box(page: Any, selector: str) -> dict[str, float]:
    box: dict[str, float] = page.locator(selector).bounding_box()
    return box


def test_gauge_marks_the_not_sure_bands(
    tmp_path: Path, live_app: Any, browser: Any, bundled: Any
) -> None:
    """The settings' band (set to 20%-70% here) and the model's own band for this text."""
    from veracity.detector import Detector
    from veracity.serve.app import create_app

    text = SEED.read_text(encoding="utf-8") if SEED.is_file() else ARTICLE
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'band.db'}", abstain_low=0.2, abstain_high=0.7
    )
    detector = Detector(bundled.model, settings)
    server = live_app(create_app(settings, detector))
    page = browser.new_page()
    console, failed = _watch(page)
    answer = page.request.post(f"{server}/v1/check", data={"text": text}, timeout=120_000).json()
    page.goto(f"{server}/checks/{answer['id']}")

    track = _box(page, ".gauge-track")
    settings_band = _box(page, "[data-testid=band-settings]")
    assert (settings_band["x"] - track["x"]) / track["width"] == pytest.approx(0.2, abs=0.005)
    assert settings_band["width"] / track["width"] == pytest.approx(0.5, abs=0.005)

    p_fake, _, halfwidth = detector.scores([text])
    assert halfwidth is not None  # the bundled model has a band of its own
    half = float(halfwidth[0])
    model_band = _box(page, "[data-testid=band-model]")
    assert (model_band["x"] - track["x"]) / track["width"] == pytest.approx(0.5 - half, abs=0.005)
    assert model_band["width"] / track["width"] == pytest.approx(2 * half, abs=0.005)
    assert float(p_fake[0]) == pytest.approx(answer["probability"])

    marker = _box(page, ".gauge-marker")
    centre = marker["x"] + marker["width"] / 2
    assert (centre - track["x"]) / track["width"] == pytest.approx(answer["probability"], abs=0.005)
    caption = page.locator("#gauge-caption").inner_text()
    assert "20% to 70%" in caption
    assert f"{(0.5 - half) * 100:.0f}% to {(0.5 + half) * 100:.0f}%" in caption
    assert failed == [] and console == [], (failed, console)


def test_evidence_first_and_no_answer_suggested(server: str, browser: Any) -> None:
    from playwright.sync_api import expect

    page = browser.new_page()
    console, failed = _watch(page)
    page.goto(f"{server}/")
    page.get_by_label("Article text").fill(ARTICLE)
    page.get_by_role("button", name="Check").click()
    page.wait_for_url("**/checks/*", timeout=60_000)
    order = page.evaluate(
        """() => {
            const evidence = document.getElementById("evidence-heading");
            const text = document.querySelector(".article");
            return [...document.querySelectorAll("button[name=agree]")].map(b =>
                Boolean(evidence.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING)
                && Boolean(text.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING));
        }"""
    )
    assert order == [True, True]
    agree = page.get_by_role("button", name="Agree", exact=True)
    disagree = page.get_by_role("button", name="Disagree", exact=True)
    assert page.evaluate("document.activeElement.tagName") != "BUTTON"
    style = (
        "b => { const s = getComputedStyle(b);"
        " return [s.backgroundColor, s.color, s.borderColor, s.fontWeight]; }"
    )
    assert agree.evaluate(style) == disagree.evaluate(style)
    for button in (agree, disagree):
        assert button.get_attribute("autofocus") is None
        assert button.get_attribute("aria-pressed") in (None, "false")
        assert not button.evaluate("b => b.matches(':focus, :active')")
    agree.click()
    expect(page.get_by_role("status")).to_contain_text("feedback was saved")
    assert failed == [] and console == [], (failed, console)


def test_model_page_shows_abstention_only_where_measured(
    tmp_path: Path, live_app: Any, browser: Any, bundled: Any
) -> None:
    from playwright.sync_api import expect

    from veracity.detector import Detector
    from veracity.evaluate.metrics import evaluate_binary
    from veracity.serve.app import create_app

    labels = ["fake", "reliable", "fake", "reliable"] * 3
    p_fake = [0.9, 0.2, 0.55, 0.45, 0.7, 0.1, 0.35, 0.6, 0.8, 0.3, 0.52, 0.05]
    abstained = [abs(p - 0.5) < 0.1 for p in p_fake]  # 4 of 12
    metrics = {
        "trained": evaluate_binary(labels, p_fake, n_boot=20).to_dict(),
        "evaluated": evaluate_binary(labels, p_fake, abstained=abstained, n_boot=20).to_dict(),
    }
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'model.db'}")
    card = dataclasses.replace(bundled.model.card, metrics=metrics)
    detector = Detector(dataclasses.replace(bundled.model, card=card), settings)
    server = live_app(create_app(settings, detector))
    page = browser.new_page()
    console, failed = _watch(page)
    page.goto(f"{server}/model")
    rows = page.locator("table.metrics tbody tr")

    def row(data: str, name: str) -> Any:
        return rows.filter(has=page.locator("td", has_text=data)).filter(
            has=page.locator("td", has_text=name)
        )

    expect(row("trained", "abstention rate")).to_contain_text("not measured")
    expect(row("evaluated", "abstention rate")).to_contain_text("33.3% (4 of 12)")
    expect(row("evaluated", "accuracy when answered")).to_have_count(1)
    expect(row("trained", "accuracy when answered")).to_have_count(0)
    expect(page.locator("table.metrics td", has_text="abstained")).to_have_count(0)
    assert failed == [] and console == [], (failed, console)
