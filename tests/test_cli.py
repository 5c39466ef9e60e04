"""The command line, end to end on the bundled model and real data (CliRunner, no network)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from veracity.cli import app
from veracity.text import normalize

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SEED = SHARED / "seed" / "seed_article.txt"
ISOT = SHARED / "datasets" / "isot_sample" / "isot_sample.csv.gz"
# A fake ISOT article from the bundled model's held-out split (it was not trained on).
FAKE_TITLE = "Trump Directly Begs Twitter Fans For Money In Unprecedented Desperation (TWEET)"

runner = CliRunner()


def run(*args: str, input: str | bytes | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=input)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def check_json(*args: str, input: str | None = None) -> dict[str, object]:
    code, out, err = run("check", "--json", *args, input=input)
    assert code == 0, err
    data = json.loads(out)
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def seed() -> str:
    if not SEED.exists():
        pytest.skip(f"seed article not found at {SEED}")
    return SEED.read_text(encoding="ascii")


@pytest.fixture(scope="module")
def fake_article() -> str:
    if not ISOT.exists():
        pytest.skip(f"ISOT sample not found at {ISOT}")
    frame = pd.read_csv(ISOT, keep_default_na=False)
    rows = frame[frame["title"].str.strip() == FAKE_TITLE]
    assert len(rows) == 1 and rows.iloc[0]["label"] == "fake"
    return str(rows.iloc[0]["text"])


def test_json_fields_match_the_api(seed: str) -> None:
    data = check_json(seed)
    assert {"label", "probability", "abstained", "evidence", "verdict", "model_id"} <= set(data)
    evidence = data["evidence"]
    assert isinstance(evidence, list) and evidence
    assert {"term", "weight", "toward", "kind", "start", "end", "count"} == set(evidence[0])
    for e in evidence:  # phrases and sentences are the text as written, at their offsets
        if e["kind"] != "signal":
            assert seed[e["start"] : e["end"]] == e["term"]


def test_seed_article_is_reliable(seed: str) -> None:
    data = check_json("--file", str(SEED))
    assert data["label"] == "reliable" and data["abstained"] is False
    assert data["input_form"] == "normalized"
    # calibrated on sources the model never saw: clearly reliable, but not falsely certain
    assert isinstance(data["probability"], float) and 0.01 < data["probability"] < 0.4


def test_seed_article_without_reuters_is_reliable(seed: str) -> None:
    stripped = re.sub(r"\breuters\b", "", seed)
    assert "reuters" not in stripped
    data = check_json(stripped)
    assert data["label"] == "reliable" and data["abstained"] is False


def test_seed_evidence_never_mentions_reuters(seed: str) -> None:
    data = check_json(seed)
    terms = [e["term"] for e in data["evidence"]]  # type: ignore[attr-defined]
    assert all("reuters" not in t for t in terms)
    weights = [
        abs(e["weight"])
        for e in data["evidence"]  # type: ignore[attr-defined]
        if e["toward"] == "reliable" and e["kind"] == "phrase"
    ]
    assert weights == sorted(weights, reverse=True)


def test_clear_fake_article_is_fake_raw_and_normalized(fake_article: str) -> None:
    raw = check_json(fake_article)
    assert raw["label"] == "fake" and raw["abstained"] is False and raw["input_form"] == "raw"
    norm = check_json(normalize(fake_article))
    assert norm["label"] == "fake" and norm["input_form"] == "normalized"
    assert abs(float(raw["probability"]) - float(norm["probability"])) < 0.05  # type: ignore[arg-type]


def test_stdin_input(seed: str) -> None:
    data = check_json("-", input=seed)
    assert data["label"] == "reliable"


def test_short_text_is_not_sure() -> None:
    data = check_json("Aliens landed in Ohio.")
    assert data["abstained"] is True and data["verdict"] == "not sure"
    assert "too short" in str(data["reason"])


def test_human_output_shows_verdict_and_evidence(seed: str) -> None:
    code, out, _ = run("check", seed)
    assert code == 0
    assert "RELIABLE" in out and "probability of fake" in out and "evidence" in out
    assert "sentence toward reliable" in out  # the passage that moved the verdict most
    # a percentage, never a false certainty such as 0.000 / 1.000; and what it judges
    assert re.search(r"probability of fake: (<1%|>99%|[1-9][0-9]?%) ", out), out
    assert "cannot tell whether the facts" in " ".join(out.split())


def assert_clean_error(code: int, err: str, expected: str, exit_code: int = 2) -> None:
    assert code == exit_code, err
    assert "Traceback" not in err
    assert expected in err
    assert err.strip().startswith("error:")


def test_missing_file(tmp_path: Path) -> None:
    code, _, err = run("check", "--file", str(tmp_path / "nope.txt"))
    assert_clean_error(code, err, "no such file")


def test_fifty_megabyte_input_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    with big.open("wb") as fh:
        fh.truncate(50 * 1024 * 1024)
    code, _, err = run("check", "--file", str(big))
    assert_clean_error(code, err, "limit")
    code, _, err = run("check", "-", input=b"a " * (25 * 1024 * 1024))
    assert_clean_error(code, err, "limit")


def test_binary_and_undecodable_files(tmp_path: Path) -> None:
    binary = tmp_path / "x.bin"
    binary.write_bytes(b"\x00\x01\x02" * 100)
    code, _, err = run("check", "--file", str(binary))
    assert_clean_error(code, err, "binary")
    late = tmp_path / "late.txt"  # a NUL past the first 8 KB was checked as text
    late.write_bytes(b"word " * 2000 + b"\x00 more words")
    code, _, err = run("check", "--file", str(late))
    assert_clean_error(code, err, "NUL byte at offset 10,000")
    latin = tmp_path / "latin.txt"
    latin.write_bytes("Caf\u00e9 society news ".encode("latin-1") * 30)
    code, _, err = run("check", "--file", str(latin))
    assert_clean_error(code, err, "UTF-8")


def test_no_input_and_empty_input() -> None:
    code, _, err = run("check")
    assert_clean_error(code, err, "nothing to check")
    code, _, err = run("check", "   ")
    assert_clean_error(code, err, "nothing to check")


def test_missing_model_dir(tmp_path: Path) -> None:
    code, _, err = run("check", "--model", str(tmp_path / "none"), "some text here")
    assert_clean_error(code, err, str(tmp_path / "none"), exit_code=3)


FAKE_WORDS = "shocking unbelievable secret exposed hiding share deleted outrage destroy wow".split()
REAL_WORDS = (
    "committee said tuesday budget proposal reviewed month officials statement vote".split()
)
COMMON = "the a of to and in on for with that this it".split()


def _tiny_csv(path: Path, n: int = 60) -> Path:
    """Distinct synthetic articles whose class is told by their vocabulary."""
    import random

    rng = random.Random(0)
    rows = []
    for i in range(n):
        words, label = (FAKE_WORDS, "FAKE") if i % 2 else (REAL_WORDS, "REAL")
        body = " ".join(rng.choice(words + COMMON) for _ in range(40))
        rows.append({"headline": "", "body": body, "class": label})
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_train_evaluate_check_on_a_generic_file(tmp_path: Path) -> None:
    data = _tiny_csv(tmp_path / "tiny.csv")
    out_dir = tmp_path / "model"
    common = ["--text-col", "body", "--title-col", "headline", "--label-col", "class"]
    code, out, err = run(
        "train", "--data", str(data), "--out", str(out_dir), "--test-size", "0.3", *common
    )
    assert code == 0, err
    assert (out_dir / "model.skops").exists() and (out_dir / "card.json").exists()
    card = json.loads((out_dir / "card.json").read_text())
    assert card["training_data"][0]["name"] == "tiny"
    code, out, err = run(
        "evaluate", "--model", str(out_dir), "--data", str(data), "--json", *common
    )
    assert code == 0, err
    result = json.loads(out)["results"]["tiny"]
    assert result["n"] == 60
    assert result["accuracy"]["value"] > 0.9
    assert {"macro_f1", "roc_auc", "ece", "brier", "confusion"} <= set(result)
    assert sum(map(sum, result["confusion"])) == 60


def test_evaluate_bundled_model_on_real_data() -> None:
    if not (SHARED / "datasets" / "random_political").exists():
        pytest.skip("shared datasets not found")
    code, out, err = run("evaluate", "--data", "random_political", "--json")
    assert code == 0, err
    result = json.loads(out)["results"]["random_political"]
    assert result["n"] == 150
    assert 0.0 <= result["ece"] <= 1.0
    low, value, high = (result["accuracy"][k] for k in ("low", "value", "high"))
    assert low <= value <= high


def test_evaluate_bad_dataset_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("title,summary\nA,B\n")
    code, _, err = run("evaluate", "--data", str(bad))
    assert_clean_error(code, err, "bad.csv")
    code, _, err = run("evaluate", "--data", "no_such_dataset_name")
    assert_clean_error(code, err, "no_such_dataset_name")


def test_unlabelled_01_without_positive_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "zero_one.csv"
    pd.DataFrame({"text": ["a b c"] * 4, "label": [0, 1, 0, 1]}).to_csv(path, index=False)
    code, _, err = run("evaluate", "--data", str(path))
    assert_clean_error(code, err, "--positive")


def test_train_with_a_grouped_split_keeps_groups_apart(tmp_path: Path) -> None:
    import random

    rng = random.Random(1)
    rows = []
    for i in range(80):
        words, label = (FAKE_WORDS, "FAKE") if i % 2 else (REAL_WORDS, "REAL")
        body = " ".join(rng.choice(words + COMMON) for _ in range(40))
        rows.append({"text": body, "label": label, "site": f"site{i % 10}"})
    data = tmp_path / "sites.csv"
    pd.DataFrame(rows).to_csv(data, index=False)
    out_dir = tmp_path / "model"
    code, out, err = run(
        "train",
        "--data",
        str(data),
        "--out",
        str(out_dir),
        "--split",
        "group",
        "--group-col",
        "site",
        "--json",
    )
    assert code == 0, err
    split = json.loads(out)["card"]["rows"]
    assert split["train"] + split["held-out"] == 80
    code, _, err = run("train", "--data", str(data), "--out", str(out_dir), "--split", "nope")
    assert_clean_error(code, err, "--split must be")


def test_param_overrides_reach_the_model_card(tmp_path: Path) -> None:
    data = _tiny_csv(tmp_path / "tiny.csv")
    common = ["--text-col", "body", "--title-col", "headline", "--label-col", "class"]
    args = ["train", "--data", str(data), "--test-size", "0.3", *common]
    code, _, err = run(*args, "--out", str(tmp_path / "m"), "--param", "C=0.5")
    assert code == 0, err
    params = json.loads((tmp_path / "m" / "card.json").read_text())["params"]
    assert params["C"] == 0.5
    code, _, err = run(*args, "--out", str(tmp_path / "x"), "--param", "nonsense")
    assert code == 2 and "KEY=VALUE" in err
    code, _, err = run(*args, "--out", str(tmp_path / "x"), "--param", "no_such=1")
    assert code == 2 and "no_such" in err


def test_preset_applies_to_cross_evaluation_only(tmp_path: Path) -> None:
    data = _tiny_csv(tmp_path / "tiny.csv")
    code, _, err = run("evaluate", "--data", str(data), "--preset", "tfidf-lr.v1", "--param", "C=1")
    assert code == 2 and "--cross" in err
    other = _tiny_csv(tmp_path / "other.csv")
    code, _, err = run(
        "evaluate", "--cross", "--data", str(data), "--data", str(other), "--preset", "no-such.v9"
    )
    assert code == 2 and "unknown model preset" in err


def test_selection_file_is_recorded_in_the_card(tmp_path: Path) -> None:
    data = _tiny_csv(tmp_path / "tiny.csv")
    common = ["--text-col", "body", "--title-col", "headline", "--label-col", "class"]
    chosen = {"preset": "tfidf-lr.v1", "rule": "best LODO", "lodo_mean_auc": 0.8}
    results = [{"preset": "tfidf-lr.v1", "lodo": {"a": {"roc_auc": 0.8}}}]
    selection = tmp_path / "acc.json"
    selection.write_text(json.dumps({"selection": chosen, "results": results, "datasets": ["a"]}))
    args = ["train", "--data", str(data), "--test-size", "0.3", *common]
    code, _, err = run(*args, "--out", str(tmp_path / "m"), "--selection", str(selection))
    assert code == 0, err
    card = json.loads((tmp_path / "m" / "card.json").read_text())
    assert card["extra"]["selection"]["lodo"] == {"a": {"roc_auc": 0.8}}
    assert card["extra"]["selection"]["preset"] == "tfidf-lr.v1"
    chosen["preset"] = "other.v1"
    selection.write_text(json.dumps({"selection": chosen, "results": results}))
    code, _, err = run(*args, "--out", str(tmp_path / "x"), "--selection", str(selection))
    assert code == 2 and "chose 'other.v1'" in err
    # the chosen parameters must be the ones given
    chosen = {"name": "v1 C=1", "preset": "tfidf-lr.v1", "params": {"C": 1.0}, "rule": "r"}
    results = [{"name": "v1 C=1", "preset": "tfidf-lr.v1", "folds": {"a": {"roc_auc": 0.7}}}]
    selection.write_text(json.dumps({"selection": chosen, "results": results}))
    code, _, err = run(*args, "--out", str(tmp_path / "x"), "--selection", str(selection))
    assert code == 2 and "--param C=1.0" in err
    code, _, err = run(
        *args, "--param", "C=1.0", "--out", str(tmp_path / "y"), "--selection", str(selection)
    )
    assert code == 0, err
    card = json.loads((tmp_path / "y" / "card.json").read_text())
    assert card["extra"]["selection"]["lodo"] == {"a": {"roc_auc": 0.7}}
    selection.write_text("not json")
    code, _, err = run(*args, "--out", str(tmp_path / "x"), "--selection", str(selection))
    assert code == 2 and "bench/accuracy.py" in err
