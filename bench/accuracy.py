"""Leave-one-dataset-out accuracy, calibration and abstention of every candidate, nested.

The candidates, the datasets and the selection rule come from ``bench/selection_rule.json``,
a committed file fixed before the run. For every candidate and every dataset ``k``:

* the candidate is trained on the other datasets (those its ``train_on`` allows), with each
  text's dataset as its domain, and scores ``k`` (test rows whose prepared text is a
  training text are dropped);
* ``k``'s ROC-AUC, ECE (15 bins) of the probabilities shown, accuracy, accuracy when
  answering and coverage (the model's own "not sure" band, or the rule's default band)
  and a risk-coverage curve are recorded;
* once per candidate, an **in-domain** check: trained on 80% of every dataset pooled,
  tested on the other 20%.

**Nested selection.** The number reported for dataset ``k`` comes from the candidate the
rule picks on the *other* datasets' folds, never from a choice made on ``k``. The overall
choice (for the bundled model) applies the rule to every fold. Paired bootstrap CIs (rows
resampled within each fold) give each candidate's difference in mean ROC-AUC to the
runner-up (the winner) or to the winner (every other candidate).

The result file records the commit, the rule and its sha256; it is committed exactly as
written. ``tests/test_bench_results.py`` re-derives the choices from its rows.

Usage::

    python bench/accuracy.py --json-out bench/results/accuracy.json --jobs 2
    python bench/accuracy.py --only "hashing-sgd.v1 (all)" --max-rows 500   # a quick look
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from _provenance import commit

RULE_FILE = Path(__file__).with_name("selection_rule.json")
REFERENCE = "reference"
COVERAGES = [round(c, 1) for c in np.arange(0.1, 1.01, 0.1)]


# -- data ----------------------------------------------------------------------------------


def load_sets(names: Sequence[str], max_rows: int | None, seed: int) -> dict[str, dict[str, Any]]:
    """Raw texts, prepared texts and labels of each dataset (deduplicated by prepared text)."""
    from veracity.data import load_dataset
    from veracity.text import prepare

    sets = {}
    for name in names:
        ds = load_dataset(name)
        raw, labels = ds.texts(), ds.labels()
        prepared = [prepare(t) for t in raw]
        keep, seen = [], set()
        for i, p in enumerate(prepared):
            if p and p not in seen:
                seen.add(p)
                keep.append(i)
        if max_rows is not None and len(keep) > max_rows:
            rng = np.random.default_rng(seed)
            keep = sorted(rng.choice(keep, size=max_rows, replace=False).tolist())
        sets[name] = {
            "raw": [raw[i] for i in keep],
            "prepared": [prepared[i] for i in keep],
            "y": np.array([labels[i] for i in keep], dtype=object),
        }
    return sets


# -- models --------------------------------------------------------------------------------


def reference_pipeline() -> Any:
    """The common public baseline: TF-IDF on raw text + logistic regression."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=1000))


def fit_and_score(
    cand: dict[str, Any],
    train: dict[str, Any],
    test: dict[str, Any],
    seed: int,
    default_band: Sequence[float],
) -> tuple[np.ndarray, np.ndarray]:
    """P(fake) and the "not sure" half-width for each test text."""
    from veracity.models import fit_model, make_model

    if cand["preset"] == REFERENCE:
        model = reference_pipeline().fit(train["raw"], train["y"])
        p = model.predict_proba(test["raw"])[:, list(model.classes_).index("fake")]
        return p, np.full(len(p), 0.5 - default_band[0])
    model = make_model(cand["preset"], preprocess=False, random_state=seed, **cand["params"])
    fit_model(model, train["prepared"], train["y"], domains=train["domains"])
    fake = list(model.classes_).index("fake")
    if hasattr(model, "proba_and_novelty"):
        proba, novelty = model.proba_and_novelty(test["prepared"])
        return proba[:, fake], np.asarray(model.abstain_halfwidth(novelty))
    p = model.predict_proba(test["prepared"])[:, fake]
    return p, np.full(len(p), 0.5 - default_band[0])


def _pool(sets: dict[str, dict[str, Any]], names: Sequence[str]) -> dict[str, Any]:
    return {
        "raw": [t for n in names for t in sets[n]["raw"]],
        "prepared": [t for n in names for t in sets[n]["prepared"]],
        "y": np.concatenate([sets[n]["y"] for n in names]),
        "domains": [n for n in names for _ in sets[n]["y"]],
    }


def _take(part: dict[str, Any], rows: np.ndarray) -> dict[str, Any]:
    return {
        "raw": [part["raw"][i] for i in rows],
        "prepared": [part["prepared"][i] for i in rows],
        "y": part["y"][rows],
        "domains": [part["domains"][i] for i in rows],
    }


# -- metrics -------------------------------------------------------------------------------


def ece(p: np.ndarray, t: np.ndarray, bins: int = 15) -> float:
    """Expected calibration error of P(fake) against 1 = fake, equal-width bins."""
    from veracity.evaluate.metrics import expected_calibration_error

    return expected_calibration_error(t, p, n_bins=bins)


def auc(p: np.ndarray, t: np.ndarray) -> float | None:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(t, p)) if 0 < t.sum() < len(t) else None


def fold_metrics(p: np.ndarray, half: np.ndarray, t: np.ndarray) -> dict[str, Any]:
    """ROC-AUC, ECE, accuracy, accuracy when answering, coverage, risk-coverage points."""
    from veracity.evaluate.metrics import risk_coverage

    correct = (p >= 0.5) == (t == 1)
    answered = np.abs(p - 0.5) >= half
    curve = [[c, round(a, 4)] for c, a in risk_coverage(correct, np.abs(p - 0.5), COVERAGES)]
    return {
        "n": len(p),
        "roc_auc": auc(p, t),
        "ece": round(ece(p, t), 4),
        "accuracy": round(float(correct.mean()), 4),
        "accuracy_answered": round(float(correct[answered].mean()), 4) if answered.any() else None,
        "coverage": round(float(answered.mean()), 4),
        "risk_coverage": curve,
    }


def summarize(folds: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Means over the folds (and the smallest ROC-AUC)."""

    def mean(key: str) -> float | None:
        values = [f[key] for f in folds.values() if f[key] is not None]
        return round(float(np.mean(values)), 4) if values else None

    aucs = [f["roc_auc"] for f in folds.values() if f["roc_auc"] is not None]
    return {
        "mean_auc": mean("roc_auc"),
        "min_auc": round(float(min(aucs)), 4) if aucs else None,
        "mean_ece": mean("ece"),
        "mean_accuracy": mean("accuracy"),
        "mean_accuracy_answered": mean("accuracy_answered"),
        "mean_coverage": mean("coverage"),
    }


# -- the rule -------------------------------------------------------------------------------


def choose(rows: Sequence[dict[str, Any]], folds: Sequence[str], tie: float) -> str:
    """The candidate the rule picks on ``folds``: best mean ROC-AUC; within ``tie`` of it,
    the lowest mean off-domain ECE (then the name, so the choice is deterministic)."""

    def mean_of(row: dict[str, Any], key: str) -> float:
        values = [row["folds"][f][key] for f in folds if row["folds"][f][key] is not None]
        return float(np.mean(values)) if values else float("nan")

    ranked = [r for r in rows if r["preset"] != REFERENCE]
    best = max(mean_of(r, "roc_auc") for r in ranked)
    tied = [r for r in ranked if mean_of(r, "roc_auc") >= best - tie]
    return min(tied, key=lambda r: (mean_of(r, "ece"), r["name"]))["name"]


def nested(rows: Sequence[dict[str, Any]], names: Sequence[str], tie: float) -> dict[str, Any]:
    """Per held-out dataset: the candidate chosen on the other folds, and its numbers there."""
    by_name = {r["name"]: r for r in rows}
    per = {}
    for k in names:
        chosen = choose(rows, [n for n in names if n != k], tie)
        per[k] = {"chosen": chosen, **{m: by_name[chosen]["folds"][k][m] for m in METRICS}}
    return {"folds": per, **summarize({k: v for k, v in per.items()})}


METRICS = ("n", "roc_auc", "ece", "accuracy", "accuracy_answered", "coverage")


def bootstrap_difference(
    a: dict[str, Any], b: dict[str, Any], names: Sequence[str], n_boot: int, seed: int
) -> dict[str, float]:
    """Mean ROC-AUC of ``a`` minus ``b`` with a 95% paired bootstrap interval."""
    rng = np.random.default_rng(seed)
    diffs = []
    pairs = []
    for k in names:
        pa, pb, t = a["scores"][k]["p"], b["scores"][k]["p"], a["scores"][k]["t"]
        if len(pa) != len(pb) or 0 in (t.sum(), len(t) - t.sum()):
            continue  # different test rows (different training sets): not paired here
        pairs.append((pa, pb, t))
    point = float(np.mean([auc(pa, t) - auc(pb, t) for pa, pb, t in pairs])) if pairs else 0.0
    for _ in range(n_boot):
        values = []
        for pa, pb, t in pairs:
            idx = rng.integers(0, len(t), len(t))
            tt = t[idx]
            if 0 < tt.sum() < len(tt):
                values.append(auc(pa[idx], tt) - auc(pb[idx], tt))
        if values:
            diffs.append(float(np.mean(values)))
    low, high = np.percentile(diffs, [2.5, 97.5]) if diffs else (np.nan, np.nan)
    return {
        "difference": round(point, 4),
        "low": round(float(low), 4),
        "high": round(float(high), 4),
        "paired_folds": len(pairs),
    }


# -- running ---------------------------------------------------------------------------------


def run_candidate(
    cand: dict[str, Any], rule: dict[str, Any], max_rows: int | None
) -> dict[str, Any]:
    """Every LODO fold and the in-domain check of one candidate (run in its own process)."""
    t0 = time.perf_counter()
    names, seed = rule["datasets"], int(rule["seed"])
    sets = load_sets(names, max_rows, seed)
    allowed = names if cand["train_on"] == "all" else cand["train_on"]
    folds, scores = {}, {}
    for k in names:
        train = _pool(sets, [n for n in allowed if n != k])
        known = set(train["prepared"])
        rows = np.array([i for i, p in enumerate(sets[k]["prepared"]) if p not in known])
        test = _take(_pool(sets, [k]), rows)
        p, half = fit_and_score(cand, train, test, seed, rule["default_band"])
        t = (test["y"] == "fake").astype(float)
        folds[k] = fold_metrics(p, half, t)
        scores[k] = {"p": p, "t": t}
        print(f"[{cand['name']}] {k}: {folds[k]['roc_auc']}", file=sys.stderr, flush=True)
    # in-domain: 80/20 of every allowed dataset pooled (stratified by dataset and label)
    pooled = _pool(sets, allowed)
    rng = np.random.default_rng(seed)
    held = np.zeros(len(pooled["y"]), dtype=bool)
    strata = np.char.add(np.asarray(pooled["domains"], dtype=str), pooled["y"].astype(str))
    for s in np.unique(strata):
        idx = np.flatnonzero(strata == s)
        held[rng.choice(idx, size=max(1, len(idx) // 5), replace=False)] = True
    train, test = _take(pooled, np.flatnonzero(~held)), _take(pooled, np.flatnonzero(held))
    p, half = fit_and_score(cand, train, test, seed, rule["default_band"])
    t = (test["y"] == "fake").astype(float)
    in_domain = fold_metrics(p, half, t)
    curve = np.mean([[pt[1] for pt in f["risk_coverage"]] for f in folds.values()], axis=0)
    return {
        **cand,
        "folds": folds,
        **summarize(folds),
        "in_domain": {m: in_domain[m] for m in METRICS},
        "risk_coverage": [[c, round(float(a), 4)] for c, a in zip(COVERAGES, curve, strict=True)],
        "seconds": round(time.perf_counter() - t0, 1),
        "scores": scores,
    }


def main(argv: Sequence[str] | None = None) -> None:
    """Run every candidate of the rule file, choose, and write the complete result file."""
    from rich.console import Console
    from rich.table import Table

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rule", type=Path, default=RULE_FILE)
    parser.add_argument("--only", action="append", default=None, help="candidate names")
    parser.add_argument("--max-rows", type=int, default=None, help="subsample per dataset")
    parser.add_argument("--jobs", type=int, default=1, help="candidates run in parallel")
    parser.add_argument("--json-out", type=Path, default=None)
    args = parser.parse_args(argv)
    raw_rule = args.rule.read_bytes()
    rule = json.loads(raw_rule)
    names, tie = rule["datasets"], float(rule["tie"])
    cands = [
        {
            "name": REFERENCE,
            "preset": REFERENCE,
            "params": {},
            "train_on": rule["candidates"][0]["train_on"],
        },
        *rule["candidates"],
    ]
    if args.only:
        cands = [c for c in cands if c["name"] in args.only or c["name"] == REFERENCE]
    started = datetime.now(UTC).isoformat(timespec="seconds")
    provenance = commit()
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        rows = list(
            pool.map(run_candidate, cands, [rule] * len(cands), [args.max_rows] * len(cands))
        )
    chosen = choose(rows, names, tie)
    by_name = {r["name"]: r for r in rows}
    ranked = sorted(
        (r for r in rows if r["preset"] != REFERENCE), key=lambda r: -(r["mean_auc"] or 0)
    )
    runner_up = next(r["name"] for r in ranked if r["name"] != chosen) if len(ranked) > 1 else None
    for r in rows:
        other = runner_up if r["name"] == chosen else chosen
        r["difference_to"] = other
        r["auc_difference"] = (
            bootstrap_difference(r, by_name[other], names, int(rule["bootstrap"]), rule["seed"])
            if other is not None
            else None
        )
    result = {
        **provenance,
        "started": started,
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "rule_file": str(args.rule),
        "rule_sha256": hashlib.sha256(raw_rule).hexdigest(),
        "rule": rule,
        "max_rows": args.max_rows,
        "results": [{k: v for k, v in r.items() if k != "scores"} for r in rows],
        "nested": nested(rows, names, tie),
        "selection": {
            "name": chosen,
            "preset": by_name[chosen]["preset"],
            "params": by_name[chosen]["params"],
            "train_on": by_name[chosen]["train_on"],
            "rule": rule["criterion"],
            "lodo_mean_auc": by_name[chosen]["mean_auc"],
            "lodo_min_auc": by_name[chosen]["min_auc"],
            "candidates": {r["name"]: r["mean_auc"] for r in ranked},
        },
    }
    console = Console(width=200)
    table = Table(title="leave-one-dataset-out (each dataset scored by a model that never saw it)")
    for col in (
        "candidate",
        *[n[:10] for n in names],
        "mean AUC",
        "min",
        "ECE",
        "acc ans",
        "coverage",
        "in-dom AUC",
        "in-dom ECE",
        "ΔAUC [95% CI]",
    ):
        table.add_column(col, justify="left" if col == "candidate" else "right")
    for r in [*ranked, by_name[REFERENCE]] if REFERENCE in by_name else ranked:
        d = r["auc_difference"]
        table.add_row(
            r["name"],
            *(_fmt(r["folds"][n]["roc_auc"]) for n in names),
            _fmt(r["mean_auc"]),
            _fmt(r["min_auc"]),
            _fmt(r["mean_ece"]),
            _fmt(r["mean_accuracy_answered"]),
            _fmt(r["mean_coverage"]),
            _fmt(r["in_domain"]["roc_auc"]),
            _fmt(r["in_domain"]["ece"]),
            "" if d is None else f"{d['difference']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}]",
        )
    console.print(table)
    n = result["nested"]
    console.print(
        f"nested: mean AUC {n['mean_auc']}, min {n['min_auc']}, ECE {n['mean_ece']}, "
        f"accuracy when answering {n['mean_accuracy_answered']} at coverage {n['mean_coverage']}"
    )
    console.print(f"chosen for the bundled model: [bold]{chosen}[/]")
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
        console.print(f"wrote {args.json_out}")


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


if __name__ == "__main__":
    main()
