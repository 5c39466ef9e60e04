"""The shortcut audit finds planted and real shortcuts, and flags nothing where there is none."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from veracity.data import Dataset, load_dataset
from veracity.errors import InputError
from veracity.evaluate.audit import AUDIT_STEPS, AuditReport, audit_dataset
from veracity.evaluate.leaks import value_shape
from veracity.settings import Settings

_RNG = random.Random(7)
_VOCAB = [
    "".join(_RNG.choices("abcdefghijklmnopqrstuvwxyz", k=_RNG.randint(3, 9))) for _ in range(2000)
]


def _prose(seed: int, words: int = 120) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(_VOCAB) for _ in range(words)).capitalize() + "."


def _frame(n: int, *, planted: bool, seed: int = 1) -> pd.DataFrame:
    """``n`` random articles with random labels; ``planted`` adds two shortcuts."""
    rng = random.Random(seed)
    labels = [rng.choice(["fake", "reliable"]) for _ in range(n)]
    texts = [_prose(seed * 100_000 + i) for i in range(n)]
    if planted:
        texts = [
            t + " via ShadyWire" if y == "fake" else t for t, y in zip(texts, labels, strict=True)
        ]
        channel = [f"ch-{y}" for y in labels]
    else:
        channel = [f"ch-{rng.randint(1, 5)}" for _ in range(n)]
    return pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(n)],
            "title": [_prose(seed * 100_000 + n + i, 8) for i in range(n)],
            "text": texts,
            "label": labels,
            "channel": channel,
        }
    )


@pytest.fixture(scope="module")
def planted() -> AuditReport:
    return audit_dataset(Dataset("planted", _frame(400, planted=True)), seed=3)


@pytest.fixture(scope="module")
def control() -> AuditReport:
    return audit_dataset(Dataset("control", _frame(400, planted=False)), seed=3)


def _terms(report: AuditReport) -> set[str]:
    return {w for t in report.flagged_tokens for w in (t.term, *t.related)}


def test_planted_token_is_found_and_survives_scrubbing(planted: AuditReport) -> None:
    hits = [t for t in planted.flagged_tokens if "shadywire" in {t.term, *t.related}]
    assert len(hits) == 1
    token = hits[0]
    assert token.points_to == "fake" and token.field == "text"
    assert token.purity == 1.0 and token.coverage == 1.0 and token.separation == 1.0
    # veracity's scrubber does not know this site: models would lean on it
    assert token.survives_prepare == 1.0
    assert _terms(planted) <= {"via", "shadywire", "via shadywire"}


def test_planted_column_is_flagged_and_baseline_is_perfect(planted: AuditReport) -> None:
    flagged = {r.feature: r for r in planted.flagged_leaks}
    assert "channel" in flagged
    assert flagged["channel"].separability == pytest.approx(1.0)
    shortcut = planted.baseline("shortcut-only")
    assert "channel" in shortcut.features
    assert shortcut.accuracy >= 0.99 and shortcut.roc_auc >= 0.99
    assert shortcut.folds == 5


def test_control_flags_nothing_and_baselines_are_chance(control: AuditReport) -> None:
    assert control.flagged_tokens == []
    assert control.terms_flagged == 0
    assert control.flagged_leaks == []
    assert all(t.purity < 0.95 or t.fake_rows + t.reliable_rows < 10 for t in control.tokens)
    shortcut = control.baseline("shortcut-only")
    assert shortcut.features == [] and shortcut.roc_auc == 0.5
    assert shortcut.accuracy == shortcut.majority
    fmt = control.baseline("format-only")
    assert fmt.features
    assert abs(fmt.roc_auc - 0.5) < 0.1
    assert fmt.accuracy <= fmt.majority + 0.05


def test_report_is_json_ready_and_counts_steps() -> None:
    calls: list[int] = []
    report = audit_dataset(
        Dataset("small", _frame(120, planted=True, seed=5)), max_rows=80, advance=calls.append
    )
    assert sum(calls) == AUDIT_STEPS
    assert report.rows == 120 and report.rows_audited == 80
    assert sum(report.labels.values()) == 80
    data = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert "text: via shadywire" in data["flagged"]["tokens"] or any(
        "shadywire" in t for t in data["flagged"]["tokens"]
    )
    assert "channel" in data["flagged"]["features"]


def test_duplicates_and_conflicts_across_splits() -> None:
    frame = _frame(60, planted=False, seed=9)
    frame["split"] = ["train"] * 40 + ["test"] * 20
    copy = frame.iloc[[0, 1, 2]].assign(id=["c0", "c1", "c2"], split="test")
    copy["label"] = ["reliable" if v == "fake" else "fake" for v in copy["label"]]
    report = audit_dataset(Dataset("dups", pd.concat([frame, copy], ignore_index=True)))
    dups = report.duplicates
    assert dups.exact_dropped == 3 and dups.duplicate_clusters == 3
    assert dups.conflicting_labels == 3 and len(dups.conflicting_examples) == 3
    assert dups.across_splits == {"train/test": 3}
    assert dups.rows_across_splits == 6


def test_unlabelled_and_one_class_data_are_refused() -> None:
    frame = _frame(40, planted=False)
    unlabelled = frame.assign(label="")
    unlabelled.attrs["labelled"] = False
    with pytest.raises(InputError, match="no labels"):
        audit_dataset(Dataset("u", unlabelled))
    with pytest.raises(InputError, match="at least 5"):
        audit_dataset(Dataset("one", frame.assign(label="fake")))
    with pytest.raises(InputError, match="max_rows"):
        audit_dataset(Dataset("x", frame), max_rows=5)


def test_value_shape_tells_isot_date_formats_apart() -> None:
    assert value_shape("December 31, 2017 ") == "Month D, YYYY␠"
    assert value_shape("December 31, 2017") == "Month D, YYYY"
    assert value_shape("Dec 31, 2017") == "Mon D, YYYY"
    assert value_shape("31-Dec-17") == "D-Mon-YY"


# ---------------------------------------------------------------- real data


def _real_settings() -> Settings:
    for folder in (Path.cwd() / "shared" / "datasets", Path.cwd().parent / "shared" / "datasets"):
        if folder.is_dir():
            return Settings(datasets_dir=folder.absolute())
    pytest.skip("real datasets not found: run pytest from the repo root next to shared/")


@pytest.fixture(scope="module")
def isot() -> AuditReport:
    settings = _real_settings()
    if not (Path(str(settings.datasets_dir)) / "isot_sample").is_dir():
        pytest.skip("isot_sample is not in the datasets folder")
    return audit_dataset(load_dataset("isot_sample", settings=settings), max_rows=1500)


def test_isot_sample_shortcuts(isot: AuditReport) -> None:
    tokens = {t.term: t for t in isot.flagged_tokens if t.field == "text"}
    reuters = tokens["reuters"]
    assert reuters.points_to == "reliable" and reuters.purity >= 0.95 and reuters.coverage > 0.9
    assert reuters.survives_prepare == 0.0  # scrubbed: veracity's models cannot use it
    assert "washington reuters" in reuters.related
    assert any("getty" in w or "featured" in w for w in _terms(isot))
    flagged = {r.feature: r for r in isot.flagged_leaks}
    for feature in ("subject", "date (format)", "text: non-ASCII characters", "row order"):
        assert feature in flagged, feature
    assert flagged["subject"].separability == pytest.approx(1.0)
    non_ascii = flagged["text: non-ASCII characters"]
    assert non_ascii.fake == 0.0 and non_ascii.purity == 1.0
    (dates,) = isot.dates
    shapes = {f.shape: f for f in dates.formats}
    assert shapes["Month D, YYYY␠"].fake == 0 and shapes["Month D, YYYY␠"].reliable > 0
    assert isot.baseline("shortcut-only").accuracy > 0.98
    assert isot.baseline("format-only").roc_auc > 0.9


def test_liar_credit_history_is_flagged() -> None:
    settings = _real_settings()
    if not (Path(str(settings.datasets_dir)) / "liar").is_dir():
        pytest.skip("liar is not in the datasets folder")
    report = audit_dataset(load_dataset("liar:train", settings=settings), max_rows=3000)
    flagged = {r.feature: r for r in report.flagged_leaks}
    credit = [f for f in flagged if f.startswith("credit_")]
    assert len(credit) == 5
    assert all("statement being judged" in flagged[c].note for c in credit)
    group = next(r for r in report.leaks if r.kind == "group")
    assert group.flagged and group.separability >= 0.75  # found without knowing the name
    assert "speaker" not in flagged and "party" not in flagged
    assert any("label6" in n for n in report.notes)


# ---------------------------------------------------------------- CLI


def test_cli_audit_json_finds_the_planted_shortcut(tmp_path: Path) -> None:
    from veracity.cli import app

    frame = _frame(120, planted=True, seed=11).rename(columns={"channel": "subject"})
    path = tmp_path / "planted.csv"
    frame.to_csv(path, index=False)
    result = CliRunner().invoke(app, ["audit", str(path), "--json", "--text-col", "text"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert any("shadywire" in t for t in data["flagged"]["tokens"])
    assert "subject" in data["flagged"]["features"]
    assert data["baselines"][0]["name"] == "shortcut-only"
    table = CliRunner().invoke(app, ["audit", str(path), "--max-rows", "100"])
    assert table.exit_code == 0, table.output
    assert "shadywire" in table.stdout and "subject" in table.stdout


def test_cli_audit_missing_file_is_one_line_exit_2(tmp_path: Path) -> None:
    from veracity.cli import app

    result = CliRunner().invoke(app, ["audit", str(tmp_path / "nope.csv")])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert result.output.strip().count("\n") == 0
    assert "error" in result.output
