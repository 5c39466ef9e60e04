"""Page and API details (#14): the offline API reference, the favicon, the gauge's
"not sure" band, evidence before feedback, and abstention shown only where measured."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from veracity.detector import Detector
from veracity.evaluate.metrics import evaluate_binary
from veracity.serve.app import create_app
from veracity.serve.headers import CSP
from veracity.settings import Settings

LABELS = ["fake", "reliable", "fake", "reliable", "fake", "reliable", "reliable", "fake"]
P_FAKE = [0.9, 0.1, 0.55, 0.45, 0.8, 0.3, 0.6, 0.4]


def form_token(client: TestClient) -> dict[str, str]:
    """The check form's CSRF field (the client keeps the cookie)."""
    html = client.get("/").text
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    return {"csrf_token": found.group(1)}


# -- /docs ---------------------------------------------------------------------------


def test_docs_is_the_apps_own_page_listing_every_operation(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    r = client.get("/docs")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    # the same strict policy as every page: no CDN, no inline script
    assert r.headers["content-security-policy"] == CSP
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/app.js" defer>']
    assert not re.search(r'(?:src|href)="(?:https?:)?//', html)
    assert '<a href="/openapi.json">/openapi.json</a>' in html
    for path, item in spec["paths"].items():
        for method, op in item.items():
            anchor = re.sub(r"[^0-9A-Za-z]", "-", f"op-{method}-{path}").strip("-")
            section = html.split(f'id="{anchor}"', 1)[1].split('<section class="operation"')[0]
            assert f'method-{method}">{method.upper()}</span>' in section, path
            assert f'<code class="path">{path}</code>' in section
            for param in op.get("parameters", []):
                assert f"<code>{param['name']}</code>" in section, (path, param["name"])
            for status in op["responses"]:
                assert f"<td>{status}</td>" in section, (path, status)
    for name, schema in spec["components"]["schemas"].items():
        assert f'id="schema-{name}"' in html
        for prop in schema.get("properties", {}):
            assert f"<code>{prop}</code>" in html
    # references link to their schema on the page
    assert '<a href="#schema-CheckRequest">CheckRequest</a>' in html
    assert '<a href="#schema-CheckOut">CheckOut</a>' in html
    # a parameter's limits and description are shown
    assert "at most 100" in html and "Text contains, literally" in html


def test_docs_marks_the_routes_that_need_a_key(settings: Settings, detector: Detector) -> None:
    locked = settings.model_copy(update={"require_api_key": True})
    with TestClient(create_app(locked, detector)) as c:
        r = c.get("/docs")  # no key: the page stays open
    assert r.status_code == 200
    html = r.text
    assert "Authentication" in html and "X-API-Key" in html and "Bearer" in html
    check = html.split('id="op-post--v1-check"', 1)[1].split('<section class="operation"')[0]
    assert "Needs an API key" in check
    health = html.split('id="op-get--healthz"', 1)[1].split('<section class="operation"')[0]
    assert "Needs an API key" not in health


@pytest.mark.parametrize("path", ["/redoc", "/docs/oauth2-redirect"])
def test_the_cdn_docs_pages_are_gone(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 404


# -- favicon -------------------------------------------------------------------------


def test_favicon_is_served_and_linked(client: TestClient) -> None:
    ico = client.get("/favicon.ico")
    assert ico.status_code == 200 and ico.headers["content-type"] == "image/x-icon"
    assert ico.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
    svg = client.get("/static/favicon.svg")
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.startswith("<svg")
    for page in ("/", "/history", "/model", "/docs"):
        html = client.get(page).text
        assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in html
        assert '<link rel="icon" href="/favicon.ico"' in html
    assert "/favicon.ico" not in client.get("/openapi.json").json()["paths"]


# -- the result page -----------------------------------------------------------------


def _band(html: str, kind: str) -> tuple[float, float, float, float] | None:
    """(data-low, data-high, x %, width %) of the gauge's band of ``kind``."""
    found = re.search(
        rf'class="gauge-band gauge-band-{kind}"[^>]*data-low="([\d.]+)" data-high="([\d.]+)"'
        r'\s+x="([\d.]+)%"[^>]*width="([\d.]+)%"',
        html,
    )
    return tuple(float(g) for g in found.groups()) if found else None  # type: ignore[return-value]


@pytest.fixture
def wide_band(tmp_path: Path, detector: Detector) -> Iterator[tuple[TestClient, Settings]]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'band.db'}", abstain_low=0.2, abstain_high=0.7
    )
    with TestClient(create_app(settings, Detector(detector.model, settings))) as c:
        yield c, settings


def test_gauge_marks_the_bands_the_detector_uses(
    wide_band: tuple[TestClient, Settings], detector: Detector, article: str
) -> None:
    client, _ = wide_band
    r = client.post("/check", data={**form_token(client), "text": article})
    html = r.text
    low, high, x, width = _band(html, "settings") or pytest.fail("no settings band")
    assert (low, high) == (0.2, 0.7)
    assert x == pytest.approx(20.0) and width == pytest.approx(50.0)
    # the bundled model has its own band around 0.5, which widens with the text's novelty
    _, _, halfwidth = detector.scores([article])
    assert halfwidth is not None
    half = float(halfwidth[0])
    model = _band(html, "model") or pytest.fail("no model band")
    assert model[0] == pytest.approx(0.5 - half, abs=1e-4)
    assert model[1] == pytest.approx(0.5 + half, abs=1e-4)
    assert model[2] == pytest.approx((0.5 - half) * 100, abs=1e-3)
    assert model[3] == pytest.approx(2 * half * 100, abs=1e-3)
    assert "20% to 70%" in html
    stored = client.get(f"/v1/checks/{r.url.path.rsplit('/', 1)[1]}").json()["probability"]
    marker = re.search(r'class="gauge-marker" x1="([\d.]+)%"', html)
    assert marker and float(marker.group(1)) == pytest.approx(stored * 100, abs=1e-3)


def test_the_stored_band_is_drawn_without_scoring_the_text_again(
    client: TestClient, article: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    r = client.post("/check", data={**form_token(client), "text": article})
    check_id = int(r.url.path.rsplit("/", 1)[1])
    stored = client.get(f"/v1/checks/{check_id}").json()["band_halfwidth"]
    assert stored is not None and 0 < stored < 0.5
    service = client.app.state.service  # type: ignore[attr-defined]
    with service.session() as session:
        from veracity.store.models import Check

        session.get(Check, check_id).model_id = "a-model-no-longer-served"
        session.commit()

    def never(*args: object) -> None:
        raise AssertionError("the result page scored the stored text again")

    monkeypatch.setattr(Detector, "scores", never)
    html = client.get(f"/checks/{check_id}").text
    model = _band(html, "model") or pytest.fail("no model band")
    assert model[:2] == pytest.approx((0.5 - stored, 0.5 + stored), abs=1e-4)


def test_an_older_check_of_another_model_shows_the_settings_band_only(
    client: TestClient, detector: Detector, article: str
) -> None:
    """Stored before the band was kept (migration 0004), by another model than the one
    serving: its band is unknown, so only the settings' band is drawn."""
    r = client.post("/check", data={**form_token(client), "text": article})
    check_id = int(r.url.path.rsplit("/", 1)[1])
    service = client.app.state.service  # type: ignore[attr-defined]
    with service.session() as session:
        from veracity.store.models import Check

        check = session.get(Check, check_id)
        check.model_id, check.band_halfwidth = "some-older-model", None
        session.commit()
    html = client.get(f"/checks/{check_id}").text
    assert _band(html, "settings") is not None
    assert _band(html, "model") is None and "Dashed outline" not in html


def test_evidence_comes_before_the_feedback_buttons_and_neither_is_preselected(
    client: TestClient, article: str
) -> None:
    html = client.post("/check", data={**form_token(client), "text": article}).text
    assert html.index('id="evidence-heading"') < html.index('id="feedback-heading"')
    assert html.index('<div class="article">') < html.index('name="agree"')
    buttons = re.findall(r'<button type="submit" name="agree"[^>]*>', html)
    assert len(buttons) == 2
    classes = {re.search(r'class="([^"]*)"', b).group(1) for b in buttons}  # type: ignore[union-attr]
    assert classes == {"choice"}  # the same look: neither is the suggested answer
    for button in buttons:
        assert "autofocus" not in button and "aria-pressed" not in button


# -- history at phone width ----------------------------------------------------------


def test_history_cells_carry_their_column_names(client: TestClient, article: str) -> None:
    """On narrow screens each row becomes a card; its cells label themselves."""
    client.post("/check", data={**form_token(client), "text": article})
    html = client.get("/history").text
    for label in ("#", "When (UTC)", "Verdict", "P(fake)", "Feedback", "Text"):
        assert f'data-label="{label}"' in html


# -- the model page ------------------------------------------------------------------


def _client_with_metrics(tmp_path: Path, detector: Detector, metrics: dict) -> TestClient:  # type: ignore[type-arg]
    card = dataclasses.replace(detector.model.card, metrics=metrics)
    model = dataclasses.replace(detector.model, card=card)
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'model.db'}")
    return TestClient(create_app(settings, Detector(model, settings)))


def _model_rows(html: str) -> dict[tuple[str, str], str]:
    table = html.split('<table class="metrics">', 1)[1].split("</table>", 1)[0]
    return {
        (data, name): value
        for data, name, value in re.findall(
            r"<tr><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", table
        )
    }


def test_model_page_says_not_measured_where_abstention_was_not_measured(
    tmp_path: Path, detector: Detector
) -> None:
    # what `veracity train` records: scored without verdicts, so "abstained": 0 means nothing
    unmeasured = evaluate_binary(LABELS, P_FAKE, n_boot=20).to_dict()
    assert unmeasured["abstained"] == 0 and unmeasured["accuracy_answered"] is None
    # what `veracity evaluate` records with the detector's verdicts: 4 of 8 not sure
    abstained = [abs(p - 0.5) < 0.15 for p in P_FAKE]
    measured = evaluate_binary(LABELS, P_FAKE, abstained=abstained, n_boot=20).to_dict()
    metrics = {"held-out": unmeasured, "liar": measured}
    with _client_with_metrics(tmp_path, detector, metrics) as c:
        html = c.get("/model").text
    rows = _model_rows(html)
    assert rows[("held-out", "abstention rate")] == "not measured"
    assert ("held-out", "abstained") not in rows
    assert ("held-out", "accuracy when answered") not in rows
    assert rows[("liar", "abstention rate")] == "50.0% (4 of 8)"
    assert rows[("liar", "accuracy when answered")] == f"{measured['accuracy_answered']:.3f}"
    assert "abstained 0" not in html and "<td>abstained</td>" not in html


def test_model_page_counts_a_measured_zero_and_the_bundled_card(
    tmp_path: Path, detector: Detector
) -> None:
    """Measured and none abstained is 0.0%; the bundled card was scored without verdicts."""
    none = evaluate_binary(LABELS, P_FAKE, abstained=[False] * 8, n_boot=20).to_dict()
    with _client_with_metrics(tmp_path, detector, {"test": none}) as c:
        rows = _model_rows(c.get("/model").text)
    assert rows[("test", "abstention rate")] == "0.0% (0 of 8)"
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'bundled.db'}")
    with TestClient(create_app(settings, detector)) as c:
        rows = _model_rows(c.get("/model").text)
    bundled = detector.model.card.metrics
    for data, values in bundled.items():
        if values.get("accuracy_answered") is None and values.get("abstained") == 0:
            assert rows[(data, "abstention rate")] == "not measured"
