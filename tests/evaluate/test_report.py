"""The HTML report: self-contained, accessible, honest about its numbers; and `veracity report`."""

from __future__ import annotations

import base64
import sys
import types
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from synthetic import FAST_PARAMS, synthetic_frame
from veracity.cli import app
from veracity.data import Dataset, load_dataset
from veracity.errors import InputError
from veracity.evaluate import report, run
from veracity.evaluate.crossdata import CrossMatrix, cross_dataset_matrix
from veracity.evaluate.published import PUBLISHED
from veracity.evaluate.report import (
    DatasetEvaluation,
    build_report,
    score_dataset,
    write_report,
)
from veracity.evaluate.robustness import PERTURBATIONS, RobustnessReport, robustness_report
from veracity.models import make_model
from veracity.models.artifact import ModelCard, save_model

TOPICS = {
    "fakenewsamt": "business school sports technology market college coach gadget".split(),
    "celebrity": "movie actor film star studio premiere singer award".split(),
}
PARAMS: dict[str, Any] = dict(FAST_PARAMS)
AUDIT = {
    "dataset": "celebrity",
    "rows": 60,
    "flagged": ["exclusive", "empty title"],
    "tokens": [
        {"term": "exclusive", "toward": "fake", "purity": 0.97, "rows": 31},
        {"term": "<script>", "toward": "reliable", "purity": 0.9, "rows": 12},
    ],
    "baselines": {
        "shortcut-only": {"accuracy": 0.81, "roc_auc": 0.88},
        "words": {"accuracy": 0.9, "roc_auc": 0.95},
    },
    "duplicates": {"exact": 0, "near": 1, "clusters": {"largest": 2}},
}


def _frame(name: str, n_per_class: int, seed: int) -> pd.DataFrame:
    return synthetic_frame(
        name,
        TOPICS[name],
        n_per_class=n_per_class,
        seed=seed,
        own_words=4,
        flip=None,
        reliable_label="real",
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two labelled CSV files named like the shared datasets (so published rows match)."""
    folder = tmp_path_factory.mktemp("data")
    paths = {}
    for i, name in enumerate(TOPICS):
        paths[name] = folder / f"{name}.csv"
        _frame(name, 30, seed=i).to_csv(paths[name], index=False)
    return paths


@pytest.fixture(scope="module")
def datasets(files: dict[str, Path]) -> list[Dataset]:
    return [load_dataset(str(path)) for path in files.values()]


@pytest.fixture(scope="module")
def model(datasets: list[Dataset]) -> Any:
    first = datasets[0]
    return make_model("tfidf-lr.v1", random_state=0, **PARAMS).fit(first.texts(), first.labels())


@pytest.fixture(scope="module")
def evaluations(model: Any, datasets: list[Dataset]) -> list[DatasetEvaluation]:
    trained_on = [{"name": datasets[0].name, "sha256": datasets[0].sha256, "rows": 60}]
    return [score_dataset(model, ds, training_data=trained_on, n_boot=50) for ds in datasets]


@pytest.fixture(scope="module")
def matrix(datasets: list[Dataset]) -> CrossMatrix:
    return cross_dataset_matrix(datasets, params=PARAMS, n_boot=50)


@pytest.fixture(scope="module")
def attacks(model: Any, datasets: list[Dataset]) -> list[RobustnessReport]:
    return [
        robustness_report(model, ds.texts(), ds.labels(), limit=20, name=ds.name) for ds in datasets
    ]


@pytest.fixture(scope="module")
def html(
    evaluations: list[DatasetEvaluation], matrix: CrossMatrix, attacks: list[RobustnessReport]
) -> str:
    return build_report(
        evaluations=evaluations,
        cross=matrix,
        robustness=attacks,
        audits={"celebrity": AUDIT},
        model={"model_id": "tfidf-lr.v1-test", "preset": "tfidf-lr.v1", "training_data": []},
        generated="2026-01-01T00:00:00+00:00",
    )


class Page(HTMLParser):
    """Collects what the tests look at: images, headers, headings, title, links and scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, str | None]] = []
        self.th: list[dict[str, str | None]] = []
        self.headings: list[str] = []
        self.tags: list[str] = []
        self.title = ""
        self._text: list[str] | None = None
        self.lang: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        values = dict(attrs)
        if tag == "html":
            self.lang = values.get("lang")
        elif tag == "img":
            self.images.append(values)
        elif tag == "th":
            self.th.append(values)
        if tag in ("h1", "h2", "h3", "title"):
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h1", "h2", "h3", "title") and self._text is not None:
            text = "".join(self._text).strip()
            if tag == "title":
                self.title = text
            else:
                self.headings.append(text)
            self._text = None


def parse(text: str) -> Page:
    page = Page()
    page.feed(text)
    return page


def test_page_is_self_contained_and_accessible(html: str) -> None:
    page = parse(html)
    assert html.startswith("<!DOCTYPE html>")
    assert page.lang == "en" and page.title == "veracity evaluation report"
    assert "script" not in page.tags and "link" not in page.tags and "iframe" not in page.tags
    assert "http://" not in html and "https://" not in html  # no external resource or link
    # one reliability diagram, one risk-coverage figure, one ROC figure, a confusion matrix
    # per dataset, one heatmap
    assert len(page.images) == 1 + 1 + 1 + 2 + 1
    for img in page.images:
        src, alt = img["src"] or "", img["alt"] or ""
        assert src.startswith("data:image/png;base64,")
        png = base64.b64decode(src.split(",", 1)[1])
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 2000
        assert len(alt) > 30
        assert int(img["width"] or 0) > 100 and int(img["height"] or 0) > 100
    assert page.th and all(th.get("scope") in ("col", "row") for th in page.th)
    for heading in (
        "Summary",
        "Calibration",
        "Accuracy when answering",
        "ROC curves",
        "Confusion matrices",
        "Cross-dataset evaluation",
        "Robustness to shortcut attacks",
        "Published numbers beside ours",
        "Data audit",
    ):
        assert heading in page.headings


def test_robustness_table_has_every_attack_on_every_dataset(
    html: str, attacks: list[RobustnessReport]
) -> None:
    section = html.split('id="robustness"', 1)[1].split("</section>", 1)[0]
    assert section.count("<tr>") == 1 + len(attacks) * len(PERTURBATIONS)
    for result in attacks:
        assert f"{result.name} (20 rows)" in section
        for a in result.attacks:
            assert a.name in section
        dateline = result.attack("dateline")
        assert f"{100 * dateline.flip_rate:.2f}%" in section
    assert "&lt; 2%: met" in section or "&lt; 2%: MISSED" in section


def test_robustness_section_without_results() -> None:
    assert "run <code>veracity robustness" in build_report()
    assert "No dataset was attacked" in build_report(robustness=[])
    one = {
        "name": "x",
        "rows": 3,
        "attacks": [
            {
                "name": "dateline",
                "description": "d",
                "rows": 2,
                "flipped": 1,
                "flip_rate": 0.5,
                "mean_shift": -0.25,
                "mean_abs_shift": 0.25,
                "target": 0.02,
                "passed": False,
            }
        ],
    }
    text = build_report(robustness=[one])
    assert "50.00%" in text and "MISSED" in text and "-0.2500" in text


def test_numbers_and_warnings(html: str, evaluations: list[DatasetEvaluation]) -> None:
    first, second = evaluations
    assert first.in_training and "is the model's training data" in first.in_training
    assert second.in_training is None
    assert "In-sample warning" in html
    assert str(first.metrics.roc_auc) in html  # "0.xxx [0.xxx, 0.xxx]"
    assert "All our numbers are on the shared data" in html
    assert f"{first.metrics.ece:.3f}" in html


def test_published_numbers_sit_beside_ours(html: str, matrix: CrossMatrix) -> None:
    for needle in (
        "Ahmed, Traore &amp; Saad 2017",
        "0.92",
        "Wang 2017",
        "0.274",
        "official LIAR train/valid/test split",
        "Verma et al. 2021",
        "0.9673",
        "Pérez-Rosas et al. 2018",
        "0.74",
        "0.76",
        "Horne &amp; Adali 2017",
        "≈",
    ):
        assert needle in html, needle
    # our in-domain and cross-domain accuracies come from the matrix cells of the same names
    for train, test in (("fakenewsamt", "fakenewsamt"), ("fakenewsamt", "celebrity")):
        cell = matrix.cell(train, test)
        assert cell is not None and cell.metrics is not None
        assert f"{cell.metrics.accuracy} (n={cell.n:,})" in html
    assert all(item.citation and item.protocol for item in PUBLISHED)


def test_audit_dicts_become_escaped_tables(html: str) -> None:
    assert "<h3>celebrity</h3>" in html
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert "shortcut-only" in html and "0.810" in html  # dict of records → one table
    assert "duplicates / clusters" in html  # nested dicts keep their path


def test_a_report_with_nothing_but_published_numbers_still_renders() -> None:
    text = build_report(audits=None)
    page = parse(text)
    assert "Cross-dataset evaluation" in page.headings
    assert page.images == []
    assert "run with --cross" in text and "No audit in this report" in text


def test_cross_matrix_can_be_given_as_a_dict(matrix: CrossMatrix) -> None:
    text = build_report(cross=matrix.to_dict(), audits={})
    assert len(parse(text).images) == 1
    assert "No dataset was audited" in text


def test_write_report_writes_one_file(tmp_path: Path, matrix: CrossMatrix) -> None:
    path = write_report(tmp_path / "sub" / "r.html", cross=matrix)
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in path.parent.iterdir()] == ["r.html"]
    with pytest.raises(InputError, match="is a directory"):
        write_report(tmp_path, cross=matrix)


def test_score_dataset_needs_binary_labels_and_model(model: Any, datasets: list[Dataset]) -> None:
    frame = datasets[0].frame.copy()
    frame["label"] = "maybe"
    with pytest.raises(InputError, match="fake/reliable labels"):
        score_dataset(model, Dataset("odd", frame, [], "article"))
    six = make_model("tfidf-lr.v1", **PARAMS).fit(
        datasets[0].texts(), ["a", "b", "c"] * (len(datasets[0].frame) // 3)
    )
    with pytest.raises(InputError, match="predicts 'fake'/'reliable'"):
        score_dataset(six, datasets[0])


# -- veracity report ------------------------------------------------------------------


@pytest.fixture
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    """50 bootstrap resamples instead of 1,000, and a stand-in audit module."""
    for module in (run, report):
        real = module.evaluate_binary

        def fewer(*args: Any, _real: Any = real, **kwargs: Any) -> Any:
            return _real(*args, **{**kwargs, "n_boot": 50})

        monkeypatch.setattr(module, "evaluate_binary", fewer)
    fake_audit = types.ModuleType("veracity.evaluate.audit")

    class _Report:
        def __init__(self, name: str) -> None:
            self.name = name

        def to_dict(self) -> dict[str, Any]:
            return {**AUDIT, "dataset": self.name}

    fake_audit.audit_dataset = lambda ds, seed=42: _Report(ds.name)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "veracity.evaluate.audit", fake_audit)


@pytest.fixture
def model_dir(tmp_path: Path, model: Any, datasets: list[Dataset]) -> Path:
    card = ModelCard.create(
        preset="tfidf-lr.v1",
        params=PARAMS,
        labels=model.classes_,
        training_data=[{"name": datasets[0].name, "sha256": datasets[0].sha256, "rows": 60}],
    )
    return save_model(model, tmp_path / "model", card)


@pytest.mark.usefixtures("quick")
def test_cli_report_writes_the_page(
    tmp_path: Path, files: dict[str, Path], model_dir: Path
) -> None:
    out = tmp_path / "report.html"
    args = ["report", "--model", str(model_dir), "--cross", "--max-rows", "40", "--out", str(out)]
    for path in files.values():
        args += ["--data", str(path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.stderr
    assert "wrote" in result.stdout and "in the model's training data" in result.stdout
    text = out.read_text(encoding="utf-8")
    page = parse(text)
    assert len(page.images) == 6 and "Cross-dataset evaluation" in page.headings
    assert "<h3>fakenewsamt</h3>" in text and "<h3>celebrity</h3>" in text  # the audits
    assert "at most 40 rows per dataset" in text
    robustness = text.split('id="robustness"', 1)[1].split("</section>", 1)[0]
    assert "fakenewsamt (60 rows)" in robustness and "celebrity (60 rows)" in robustness


@pytest.mark.usefixtures("quick")
def test_cli_report_without_cross_or_audit(
    tmp_path: Path, files: dict[str, Path], model_dir: Path
) -> None:
    out = tmp_path / "plain.html"
    base = ["report", "--model", str(model_dir), "--data", str(files["celebrity"])]
    result = CliRunner().invoke(
        app, [*base, "--no-audit", "--robustness-limit", "10", "--out", str(out)]
    )
    assert result.exit_code == 0, result.stderr
    text = out.read_text(encoding="utf-8")
    assert "left out (--no-audit)" in text and "run with --cross" in text
    assert "celebrity (10 rows)" in text
    result = CliRunner().invoke(app, [*base, "--no-audit", "--no-robustness", "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    assert "run <code>veracity robustness" in out.read_text(encoding="utf-8")
    result = CliRunner().invoke(app, [*base, "--max-rows", "50"])
    assert result.exit_code == 2 and "--max-rows applies to --cross only" in result.stderr


def test_a_split_of_a_dataset_stands_in_for_it_in_the_published_table() -> None:
    interval = {"value": 0.59, "low": 0.53, "high": 0.65}
    cell = {"train": "liar:test", "test": "liar:test", "in_domain": True, "n": 257}
    cross = {
        "mode": "pairwise",
        "rows": ["liar:test"],
        "columns": ["liar:test"],
        "cells": [{**cell, "roc_auc": interval, "accuracy": interval, "macro_f1": interval}],
        "settings": {"seed": 42, "n_boot": 10, "near_threshold": 0.8, "test_size": 0.2},
        "seconds": 1.0,
    }
    text = build_report(cross=cross)
    assert "0.590 [0.530, 0.650] (n=257) on liar:test → liar:test" in text
