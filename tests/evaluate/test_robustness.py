"""Shortcut attacks: the perturbations, the flip-rate report, `veracity robustness`, real data."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from rich.progress import Progress
from typer.testing import CliRunner

from synthetic import FAST_PARAMS, synthetic_frame
from veracity.cli import app
from veracity.errors import InputError
from veracity.evaluate.robustness import (
    CREDIT_LINE,
    PERTURBATIONS,
    SYNONYMS,
    append_credit_line,
    prepend_dateline,
    robustness_report,
    strip_punctuation,
    swap_synonyms,
    truncate_words,
)
from veracity.models import make_model
from veracity.models.artifact import ModelCard, save_model
from veracity.text import prepare

DATASETS = Path(__file__).resolve().parents[3] / "shared" / "datasets"
SHORTCUT_ATTACKS = ("dateline", "credit_line", "upper_case", "lower_case", "strip_punctuation")
ARTICLE = (
    "The minister said on Friday that the big plan would help people in the city. "
    "SAID the committee: jobs, money and rules were the main problems. " * 3
)


class KeywordModel:
    """P(fake) from keywords of the text: a shortcut model, or one that sees ``prepare``."""

    classes_ = np.array(["fake", "reliable"])

    def __init__(self, scrub_first: bool) -> None:
        self.scrub_first = scrub_first

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        p = []
        for text in texts:
            seen = prepare(text) if self.scrub_first else text
            score = 0.8 if "shocking" in seen.lower() else 0.2
            if "Reuters" in seen:
                score -= 0.5
            if "Featured image" in seen:
                score += 0.5
            if len(seen.split()) < 8:
                score = 0.5
            p.append(min(max(score, 0.0), 1.0))
        fake = np.asarray(p)
        return np.column_stack([fake, 1 - fake])


TEXTS = [f"Shocking secret number {i} the elite never told you about today" for i in range(10)] + [
    f"The committee met on day {i} and approved the budget for the agency" for i in range(10)
]
LABELS = ["fake"] * 10 + ["reliable"] * 10


# -- perturbations -------------------------------------------------------------------


def test_dateline_and_credit_line_are_the_isot_shortcuts() -> None:
    assert prepend_dateline("Body.") == "WASHINGTON (Reuters) - Body."
    assert append_credit_line("Body.  \n") == f"Body.\n\n{CREDIT_LINE}"
    # what veracity's scrubbing removes, so a scrubbing model must not see them
    assert prepare(prepend_dateline(ARTICLE)) == prepare(ARTICLE)
    assert prepare(append_credit_line(ARTICLE)) == prepare(ARTICLE)


def test_strip_punctuation_is_the_seed_form() -> None:
    text = "U.S. (Reuters) - 3 cats!"
    assert strip_punctuation(text) == "u s   reuters      cats "
    assert len(strip_punctuation(text)) == len(text)


def test_swap_synonyms_is_seeded_keeps_case_and_touches_only_table_words() -> None:
    text = " ".join(f"m{i} {w}." for i, w in enumerate(["said", "big", "people", "help"] * 3))
    swapped = swap_synonyms(text, random.Random(1))
    assert swapped == swap_synonyms(text, random.Random(1))
    # between the untouched markers m0 … m11, each slot holds its word or a synonym of it
    slots = re.split(r" ?m\d+ ", " " + swapped)[1:]
    originals = [w for w in re.split(r" ?m\d+ ", " " + text)[1:]]
    assert len(slots) == len(originals) == 12
    changed = 0
    for new, old in zip(slots, originals, strict=True):
        word = old.rstrip(".")
        if new != old:
            changed += 1
            assert new.rstrip(".") in SYNONYMS[word], (old, new)
    assert 1 <= changed <= 5
    assert swap_synonyms(text, random.Random(1), swaps=12).count(" said.") == 0
    upper = swap_synonyms("SAID SAID SAID", random.Random(0), swaps=3)
    assert upper.isupper() and "SAID" not in upper
    assert swap_synonyms("Said it.", random.Random(0))[0].isupper()
    assert swap_synonyms("no table words here", random.Random(0)) == "no table words here"


def test_truncate_keeps_the_first_words_verbatim() -> None:
    text = " ".join(f"w{i}," for i in range(300))
    cut = truncate_words(text, 100)
    assert text.startswith(cut) and len(cut.split()) == 100 and cut.endswith("w99,")
    assert truncate_words("short text", 100) == "short text"


# -- the report ----------------------------------------------------------------------


def test_a_shortcut_model_fails_and_a_scrubbing_model_passes() -> None:
    shortcut = robustness_report(KeywordModel(scrub_first=False), TEXTS, LABELS)
    dateline = shortcut.attack("dateline")
    assert (dateline.rows, dateline.flipped, dateline.flip_rate) == (10, 10, 1.0)
    assert dateline.mean_shift == pytest.approx(-0.5) and dateline.passed is False
    credit = shortcut.attack("credit_line")
    assert credit.rows == 10 and credit.flip_rate == 1.0 and credit.mean_shift > 0
    assert not shortcut.passed
    scrubbing = robustness_report(KeywordModel(scrub_first=True), TEXTS, LABELS)
    for name in SHORTCUT_ATTACKS:
        result = scrubbing.attack(name)
        assert result.flipped == 0 and result.mean_abs_shift == 0.0 and result.passed, name
    assert scrubbing.passed and scrubbing.accuracy == 1.0
    # truncating to 5 words makes every text too short to decide: P(fake) 0.5 → "fake"
    from veracity.evaluate.robustness import Perturbation

    cut = Perturbation("cut", "5 words", None, None, lambda t, r: truncate_words(t, 5))
    short = robustness_report(KeywordModel(True), TEXTS, LABELS, perturbations=[cut])
    assert short.attack("cut").flipped == 10 and short.attack("cut").passed is None


def test_limit_samples_rows_reproducibly() -> None:
    model = KeywordModel(scrub_first=True)
    a = robustness_report(model, TEXTS, LABELS, limit=7, seed=3)
    b = robustness_report(model, TEXTS, LABELS, limit=7, seed=3)
    assert a.rows == 7 and a.total_rows == 20 and sum(a.labels.values()) == 7
    assert a.to_dict() == b.to_dict()
    assert a.attack("dateline").rows == a.labels["fake"]
    assert a.attack("credit_line").rows == a.labels["reliable"]
    payload = json.loads(json.dumps(a.to_dict()))
    assert [x["name"] for x in payload["attacks"]] == [p.name for p in PERTURBATIONS]
    assert payload["attacks"][0]["passed"] is True and payload["attacks"][-1]["passed"] is None


@pytest.mark.parametrize("limit", [None, 7])
def test_total_is_the_work_the_advances_add_up_to(limit: int | None) -> None:
    """The progress total covers the label-specific attacks' rows only (#14: 87.5%)."""
    totals: list[int] = []
    advanced: list[int] = []
    report = robustness_report(
        KeywordModel(True),
        TEXTS,
        LABELS,
        limit=limit,
        seed=3,
        advance=advanced.append,
        total=totals.append,
    )
    assert totals == [report.rows + sum(a.rows for a in report.attacks)]
    assert sum(advanced) == totals[0] < report.rows * (len(PERTURBATIONS) + 1)


@pytest.mark.parametrize(
    ("texts", "labels", "limit", "match"),
    [
        (TEXTS, LABELS[:-1], None, "labels"),
        (TEXTS, ["maybe"] * 20, None, "fake/reliable labels"),
        ([], [], None, "no texts"),
        (TEXTS, LABELS, 0, "at least 1"),
    ],
)
def test_bad_input_is_an_input_error(
    texts: list[str], labels: list[str], limit: int | None, match: str
) -> None:
    with pytest.raises(InputError, match=match):
        robustness_report(KeywordModel(True), texts, labels, limit=limit)


def test_a_model_that_is_not_fake_reliable_is_refused() -> None:
    model = KeywordModel(True)
    model.classes_ = np.array(["a", "b"])  # type: ignore[misc]
    with pytest.raises(InputError, match="predicts 'fake'/'reliable'"):
        robustness_report(model, TEXTS, LABELS)


# -- veracity robustness -------------------------------------------------------------


@pytest.fixture(scope="module")
def data_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rob") / "news.csv"
    synthetic_frame("news", ["market", "school"], n_per_class=30, seed=0, flip=None).to_csv(
        path, index=False
    )
    return path


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory, data_file: Path) -> Path:
    frame = pd.read_csv(data_file)
    model: Any = make_model("tfidf-lr.v1", random_state=0, **FAST_PARAMS)
    model.fit(frame["text"].tolist(), frame["label"].tolist())
    card = ModelCard.create(preset="tfidf-lr.v1", params=FAST_PARAMS, labels=model.classes_)
    return save_model(model, tmp_path_factory.mktemp("model"), card)


def test_cli_json(data_file: Path, model_dir: Path) -> None:
    args = ["robustness", "--model", str(model_dir), "--data", str(data_file)]
    result = CliRunner().invoke(app, [*args, "--limit", "20", "--seed", "1", "--json"])
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    (report,) = payload["results"]
    assert report["name"] == "news" and report["rows"] == 20 and report["total_rows"] == 60
    attacks = {a["name"]: a for a in report["attacks"]}
    assert set(attacks) == {p.name for p in PERTURBATIONS}
    assert attacks["dateline"]["rows"] == report["labels"]["fake"]
    for name in SHORTCUT_ATTACKS:  # the model scrubs: these edits do nothing to it
        assert attacks[name]["flipped"] == 0, name
    table = CliRunner().invoke(app, args)
    assert table.exit_code == 0, table.stderr
    assert "flip rate" in table.stdout and "dateline" in table.stdout and "ok" in table.stdout


def test_cli_errors_exit_2_without_a_traceback(tmp_path: Path, model_dir: Path) -> None:
    unlabelled = tmp_path / "u.csv"
    unlabelled.write_text("text\nsome words here\nmore words there\n", encoding="utf-8")
    result = CliRunner().invoke(
        app, ["robustness", "--model", str(model_dir), "--data", str(unlabelled)]
    )
    assert result.exit_code == 2 and "fake/reliable labels" in result.stderr
    assert "Traceback" not in result.output
    missing = CliRunner().invoke(app, ["robustness", "--model", str(tmp_path / "none"), "-d", "x"])
    assert missing.exit_code == 3


# -- the bundled model on real data --------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(("name", "limit"), [("isot_sample", 400), ("fakenewsamt", None)])
def test_bundled_model_meets_the_shortcut_target_on_real_data(name: str, limit: int | None) -> None:
    if not DATASETS.is_dir():
        pytest.skip(f"real datasets not found at {DATASETS}")
    from veracity.data import load_dataset
    from veracity.detector import Detector
    from veracity.settings import Settings

    settings = Settings(datasets_dir=str(DATASETS))
    dataset = load_dataset(name, settings=settings)
    detector = Detector.from_path(None, settings=settings)
    attacks = [p for p in PERTURBATIONS if p.name in SHORTCUT_ATTACKS]
    report = robustness_report(
        detector.estimator,
        dataset.texts(),
        dataset.labels(),
        perturbations=attacks,
        limit=limit,
        name=name,
    )
    assert report.rows >= 400 and report.accuracy > 0.85
    for result in report.attacks:
        assert result.rows > 150 and result.changed == result.rows, result.name
        assert result.flip_rate < 0.02, (result.name, result.flip_rate)
        assert abs(result.mean_shift) < 0.01, (result.name, result.mean_shift)


@pytest.fixture
def progress_bars(monkeypatch: pytest.MonkeyPatch) -> list[Progress]:
    """The progress displays the commands make, kept to read their bars afterwards."""
    import veracity.cli.analysis
    import veracity.cli.robustness
    from veracity.cli._common import _progress

    made: list[Progress] = []

    def recording() -> Progress:
        made.append(_progress())
        return made[-1]

    monkeypatch.setattr(veracity.cli.robustness, "_progress", recording)
    monkeypatch.setattr(veracity.cli.analysis, "_progress", recording)
    return made


def _attack_bars(made: list[Progress]) -> list[Any]:
    return [t for p in made for t in p.tasks if t.description.startswith("attacking")]


@pytest.mark.parametrize("limit", [[], ["--limit", "25"]])
def test_cli_attack_bars_reach_100_percent(
    data_file: Path, model_dir: Path, progress_bars: list[Progress], limit: list[str]
) -> None:
    args = ["robustness", "--model", str(model_dir), "--data", str(data_file), *limit]
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.stderr
    (bar,) = _attack_bars(progress_bars)
    rows = json.loads(result.stdout)["results"][0]["rows"]
    assert bar.total == bar.completed == rows * len(PERTURBATIONS)  # 7 = 1 + 5 + (fake | real)
    assert bar.finished and bar.percentage == 100


def test_report_attack_bars_reach_100_percent(
    tmp_path: Path, data_file: Path, model_dir: Path, progress_bars: list[Progress]
) -> None:
    args = ["report", "--model", str(model_dir), "--data", str(data_file), "--no-audit"]
    result = CliRunner().invoke(
        app, [*args, "--robustness-limit", "30", "--out", str(tmp_path / "r.html")]
    )
    assert result.exit_code == 0, result.stderr
    (bar,) = _attack_bars(progress_bars)
    assert bar.total == bar.completed == 30 * len(PERTURBATIONS)
    assert bar.percentage == 100
    for task in progress_bars[0].tasks:  # every bar with a total ends full
        assert task.total is None or task.completed == task.total, task.description
