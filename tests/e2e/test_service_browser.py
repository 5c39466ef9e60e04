"""The real service (uvicorn on a free port, temporary SQLite) driven by headless chromium.

Paste the seed article, read the verdict and its highlights, agree, find the check in
the history; every page runs under the Content Security Policy without a violation in
the console, and a form posted from another site is refused. Needs Debian's chromium at
/usr/bin/chromium and the playwright package (its own browser download is not used). CI
installs both; elsewhere the test skips.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from veracity.settings import Settings

SEED = Path(__file__).resolve().parents[3] / "shared" / "seed" / "seed_article.txt"

pytestmark = pytest.mark.browser

SHORT_ARTICLE = (
    "WASHINGTON (Reuters) - The Senate committee said on Friday that the budget report from "
    "the agency showed the economy grew 2 percent, officials said, adding that the minister "
    "would present the figures to lawmakers next week."
)


def _console(page: Any) -> list[str]:
    """Every console message of ``page`` from now on (CSP violations are logged there)."""
    messages: list[str] = []
    page.on("console", lambda message: messages.append(f"{message.type}: {message.text}"))
    return messages


def _csp_errors(messages: list[str]) -> list[str]:
    return [m for m in messages if "Content Security Policy" in m]


@pytest.fixture
def server(tmp_path: Path, live_app: Callable[[Any], str]) -> str:
    """The real app under uvicorn in a thread; its base URL."""
    from veracity.serve.app import create_app

    return live_app(create_app(Settings(database_url=f"sqlite:///{tmp_path / 'e2e.db'}")))


def test_paste_check_agree_history(server: str, browser: Any, tmp_path: Path) -> None:
    if not SEED.is_file():
        pytest.skip(f"seed article not found at {SEED}")
    from playwright.sync_api import expect

    article = SEED.read_text(encoding="utf-8")
    page = browser.new_page()
    console = _console(page)
    page.goto(f"{server}/")
    page.get_by_label("Article text").fill(article)
    page.get_by_role("button", name="Check").click()
    page.wait_for_url("**/checks/*", timeout=60_000)
    expect(page.get_by_test_id("verdict")).to_have_text("reliable")
    marks = page.locator(".article mark")
    assert marks.count() >= 1
    assert "weight" in (marks.first.get_attribute("title") or "")
    expect(page.locator("svg#gauge")).to_be_visible()
    check_url = page.url
    shot = tmp_path / "result.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.is_file() and shot.stat().st_size > 0

    page.get_by_role("button", name="Agree", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("feedback was saved")

    page.goto(f"{server}/history")
    check_id = check_url.rsplit("/", 1)[1]
    row = page.locator("tr", has=page.locator(f'a[href="/checks/{check_id}"]'))
    expect(row).to_have_count(1)
    expect(row.locator(".feedback-cell")).to_have_text("agree")
    expect(row).to_contain_text("reliable")
    history_shot = tmp_path / "history.png"
    page.screenshot(path=str(history_shot), full_page=True)
    assert history_shot.is_file()
    page.get_by_label("Show").select_option("fake")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator(f'a[href="/checks/{check_id}"]')).to_have_count(0)
    expect(page.get_by_text("No checks match this filter.")).to_be_visible()
    page.goto(f"{server}/model")
    assert page.locator("link[rel=stylesheet]").get_attribute("href") == "/static/style.css"
    assert page.evaluate("getComputedStyle(document.body).margin") == "0px"  # the CSS applied
    assert _csp_errors(console) == [], console


def test_url_box_refuses_a_loopback_address(server: str, browser: Any) -> None:
    from playwright.sync_api import expect

    page = browser.new_page()
    console = _console(page)
    page.goto(f"{server}/")
    page.get_by_label("Article URL").fill(f"{server}/history")
    page.get_by_role("button", name="Check").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("not a public internet address")
    expect(page.get_by_label("Article URL")).to_have_value(f"{server}/history")
    # static/app.js ran (it focuses the field at fault), so the policy let it load
    assert page.evaluate("document.activeElement.id") == "url"
    assert _csp_errors(console) == [], console


def test_the_policy_refuses_injected_inline_script(server: str, browser: Any) -> None:
    """The policy is enforced, and its violations do show in the console watched above."""
    page = browser.new_page()
    console = _console(page)
    page.goto(f"{server}/")
    page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "window.injected = true";
            document.body.append(script);
        }"""
    )
    page.wait_for_timeout(200)
    assert page.evaluate("window.injected") is None
    assert any("inline script" in m for m in _csp_errors(console)), console


def test_form_posted_from_another_site_is_refused(server: str, browser: Any) -> None:
    """Check and agree for real, then a hostile page posts the feedback form: 403."""
    from playwright.sync_api import expect

    page = browser.new_page()
    console = _console(page)
    page.goto(f"{server}/")
    page.get_by_label("Article text").fill(SHORT_ARTICLE)
    page.get_by_role("button", name="Check").click()
    page.wait_for_url("**/checks/*", timeout=60_000)
    check_id = page.url.rsplit("/", 1)[1]
    token = page.locator("form.feedback input[name=csrf_token]").get_attribute("value")
    page.get_by_role("button", name="Agree", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("feedback was saved")
    assert _csp_errors(console) == [], console

    # even with the real token, the Strict cookie stays home: the post is refused
    hostile = (
        f'<form method="post" action="{server}/checks/{check_id}/feedback">'
        f'<input name="agree" value="no"><input name="csrf_token" value="{token}"></form>'
        "<script>document.forms[0].submit()</script>"
    )
    page.route(
        "http://evil.test/**",
        lambda route: route.fulfill(status=200, content_type="text/html", body=hostile),
    )
    with page.expect_navigation(url=f"{server}/checks/{check_id}/feedback") as navigation:
        page.goto("http://evil.test/")
    assert navigation.value.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Form expired")
    page.goto(f"{server}/v1/checks/{check_id}")
    feedback = page.evaluate("JSON.parse(document.body.innerText).feedback")
    assert [f["agree"] for f in feedback] == [True]
