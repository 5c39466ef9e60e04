"""The HTML report renders in a real headless chromium: title, every image, the sections.

Needs Debian's chromium at /usr/bin/chromium and the playwright package (its own browser
download is not used). CI installs both; elsewhere the test skips, saying which is missing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from synthetic import FAST_PARAMS, synthetic_frame
from veracity.data import Dataset
from veracity.evaluate.crossdata import cross_dataset_matrix
from veracity.evaluate.report import score_dataset, write_report
from veracity.models import make_model

pytestmark = pytest.mark.browser

TOPICS = {
    "alpha": "football match goal team league coach season player".split(),
    "beta": "movie actor film star studio premiere director award".split(),
    "gamma": "storm weather rain snow flood forecast cold wind".split(),
}
PARAMS: dict[str, Any] = dict(FAST_PARAMS)


def _dataset(name: str, seed: int, n_per_class: int = 40) -> Dataset:
    frame = synthetic_frame(name, TOPICS[name], n_per_class=n_per_class, seed=seed, own_words=3)
    return Dataset(name, frame, [], "article")


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sets = [_dataset(name, seed) for seed, name in enumerate(TOPICS)]
    model = make_model("tfidf-lr.v1", random_state=0, **PARAMS)
    model.fit(sets[0].texts(), sets[0].labels())
    evaluations = [score_dataset(model, ds, n_boot=100) for ds in sets]
    matrix = cross_dataset_matrix(sets, params=PARAMS, n_boot=100)
    audit = {"dataset": "alpha", "rows": 80, "tokens": [{"term": "goal", "purity": 0.6}]}
    path = tmp_path_factory.mktemp("report") / "report.html"
    return write_report(
        path,
        evaluations=evaluations,
        cross=matrix,
        audits={"alpha": audit},
        model={"model_id": "tfidf-lr.v1-e2e", "preset": "tfidf-lr.v1", "training_data": []},
    )


def test_report_renders_in_chromium(report_file: Path, browser: Any, tmp_path: Path) -> None:
    outside: list[str] = []
    screenshot = tmp_path / "report.png"
    page = browser.new_page(viewport={"width": 1280, "height": 900})

    def only_local(route: Any) -> None:
        url = route.request.url
        if url.startswith(("file:", "data:")):
            route.continue_()
        else:  # the report must not need the network
            outside.append(url)
            route.abort()

    page.route("**/*", only_local)
    page.goto(report_file.as_uri(), wait_until="load")
    assert page.title() == "veracity evaluation report"
    sizes = page.eval_on_selector_all(
        "img", "imgs => imgs.map(i => [i.complete, i.naturalWidth, i.naturalHeight])"
    )
    assert len(sizes) == 4 + 3 == 7  # reliability, risk-coverage, ROC, heatmap + 3 confusion
    assert all(done and w > 0 and h > 0 for done, w, h in sizes), sizes
    alts = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.alt)")
    assert all(len(alt) > 30 for alt in alts)
    heading = page.get_by_role("heading", name="Cross-dataset evaluation")
    heading.scroll_into_view_if_needed()
    assert heading.is_visible()
    for name in ("Calibration", "ROC curves", "Published numbers beside ours"):
        assert page.get_by_role("heading", name=name).is_visible()
    page.screenshot(path=str(screenshot), full_page=True)
    assert outside == []
    assert screenshot.is_file() and screenshot.stat().st_size > 50_000
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
