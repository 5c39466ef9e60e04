"""The real service (uvicorn on a free port, temporary SQLite) driven by headless chromium.

Paste the seed article, read the verdict and its highlights, agree, find the check in
the history. Needs Debian's chromium at /usr/bin/chromium and the playwright package
(its own browser download is not used). CI installs both; elsewhere the test skips.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from veracity.settings import Settings

SEED = Path(__file__).resolve().parents[3] / "shared" / "seed" / "seed_article.txt"

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """The real app under uvicorn in a thread; yields its base URL."""
    import uvicorn

    from veracity.serve.app import create_app

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'e2e.db'}")
    port = _free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_paste_check_agree_history(server: str, browser: Any, tmp_path: Path) -> None:
    if not SEED.is_file():
        pytest.skip(f"seed article not found at {SEED}")
    from playwright.sync_api import expect

    article = SEED.read_text(encoding="utf-8")
    page = browser.new_page()
    page.goto(f"{server}/")
    page.get_by_label("Article text").fill(article)
    page.get_by_role("button", name="Check").click()
    page.wait_for_url("**/checks/*", timeout=60_000)
    expect(page.get_by_test_id("verdict")).to_have_text("reliable")
    marks = page.locator(".article mark")
    assert marks.count() >= 1
    assert "weight" in (marks.first.get_attribute("title") or "")
    expect(page.locator("meter#gauge")).to_be_visible()
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


def test_url_box_refuses_a_loopback_address(server: str, browser: Any) -> None:
    from playwright.sync_api import expect

    page = browser.new_page()
    page.goto(f"{server}/")
    page.get_by_label("Article URL").fill(f"{server}/history")
    page.get_by_role("button", name="Check").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("not a public internet address")
    expect(page.get_by_label("Article URL")).to_have_value(f"{server}/history")
