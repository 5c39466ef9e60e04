"""The committed bench/results/checking.json is what bench/checking.py wrote: consistent."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULT = ROOT / "bench" / "results" / "checking.json"


def test_each_target_verdict_follows_from_its_numbers() -> None:
    result = json.loads(RESULT.read_text(encoding="utf-8"))
    n = result["numbers"]
    ref = n["reference_articles_per_s"]
    derived = [
        n["with_evidence_articles_per_s"] / ref,
        n["probability_only_articles_per_s"] / ref,
        n["check_single_ms"] / n["reference_single_ms"],
        n["cold_check_s"],
        n["cold_check_peak_rss_mb"],
        n["document_s"],
        n["document_peak_rss_mb"],
    ]
    assert len(result["targets"]) == len(derived)
    for row, value in zip(result["targets"], derived, strict=True):
        assert abs(row["value"] - value) < 0.01 * max(1.0, abs(value)), row["target"]
        ops = {"≥": value >= row["goal"], "≤": value <= row["goal"], "<": value < row["goal"]}
        op = next(o for o in ("≥", "≤", "<") if f" {o} " in f" {row['target']} ")
        assert row["met"] == ops[op], row["target"]


def test_it_ran_on_a_clean_tree_of_this_history() -> None:
    result = json.loads(RESULT.read_text(encoding="utf-8"))
    assert result["dirty"] is False
    known = subprocess.run(
        ["git", "cat-file", "-e", f"{result['commit']}^{{commit}}"], cwd=ROOT, check=False
    )
    if known.returncode == 0:  # a shallow clone may not hold it
        ancestor = subprocess.run(
            ["git", "merge-base", "--is-ancestor", result["commit"], "HEAD"], cwd=ROOT, check=False
        )
        assert ancestor.returncode == 0
