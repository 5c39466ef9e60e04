"""Training time, articles/s scored and peak RSS: veracity's presets vs the reference pipeline.

The reference is what most public fake-news repositories do: a plain
``TfidfVectorizer`` + ``LogisticRegression`` on raw text. Every pipeline runs in its
own fresh Python process (so its peak RSS is its own), one after the other in the
same run, on the same deduplicated 80/20 split of the same data, and is then scored
on the held-out rows and on other datasets it never saw. The table shows each
preset's numbers beside the reference's, with ratios.

Usage::

    python bench/speed.py                                  # tfidf-lr.v1 and hashing-sgd.v1
    python bench/speed.py --preset stack-light.v1 --repeat 3
    python bench/speed.py --data isot_sample --cross fakenewsamt --cross celebrity

Numbers are wall-clock on this machine; compare ratios, not absolute values.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

REFERENCE = "reference"
DEFAULT_PRESETS = ["tfidf-lr.v1", "hashing-sgd.v1"]
DEFAULT_CROSS = ["fakenewsamt", "celebrity", "random_political"]


def reference_pipeline() -> Any:
    """The common public baseline: TF-IDF on raw text + logistic regression."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=1000))


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _scores(model: Any, texts: list[str], labels: list[str]) -> dict[str, float]:
    import numpy as np
    from sklearn.metrics import accuracy_score, roc_auc_score

    proba = model.predict_proba(texts)
    p_fake = proba[:, list(model.classes_).index("fake")]
    y = np.array([v == "fake" for v in labels])
    return {"accuracy": accuracy_score(y, p_fake >= 0.5), "roc_auc": roc_auc_score(y, p_fake)}


def worker(name: str, data: list[str], cross: list[str], repeat: int, seed: int) -> dict[str, Any]:
    """Fit and score one pipeline in this process; the numbers as a dict."""
    from veracity.data import drop_leaks, load_dataset, split_dataset
    from veracity.models import make_model
    from veracity.training import combine

    frame = combine([load_dataset(n) for n in data])
    frame["label"] = frame["y"]
    split = split_dataset(frame, test_size=0.2, seed=seed)
    train, test = split.train, split.test
    model = reference_pipeline() if name == REFERENCE else make_model(name, random_state=seed)
    loaded_rss = peak_rss_mb()
    t0 = time.perf_counter()
    model.fit(train["doc"].tolist(), train["y"].tolist())
    fit_s = time.perf_counter() - t0
    texts = test["doc"].tolist()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        model.predict_proba(texts)
        best = min(best, time.perf_counter() - t0)
    result: dict[str, Any] = {
        "name": name,
        "train_rows": len(train),
        "test_rows": len(test),
        "fit_s": fit_s,
        "articles_per_s": len(texts) / best,
        "in_domain": _scores(model, texts, test["y"].tolist()),
        "cross": {},
    }
    for other in cross:
        target = combine([load_dataset(other)])
        kept, _ = drop_leaks(train, target, 0.8, seed)
        result["cross"][other] = _scores(model, kept["doc"].tolist(), kept["y"].tolist())
    result["peak_rss_mb"] = peak_rss_mb()
    result["rss_over_data_mb"] = result["peak_rss_mb"] - loaded_rss
    return result


def run_isolated(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """:func:`worker` in a fresh interpreter (its own peak RSS)."""
    cmd = [sys.executable, __file__, "--worker", name, "--repeat", str(args.repeat)]
    cmd += ["--seed", str(args.seed)]
    for d in args.data or ["isot_sample"]:
        cmd += ["--data", d]
    for c in args.cross if args.cross is not None else DEFAULT_CROSS:
        cmd += ["--cross", c]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{name} failed:\n{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def print_table(rows: list[dict[str, Any]], cross: list[str]) -> None:
    """Absolute numbers, then each preset's ratio to the reference."""
    from rich.console import Console
    from rich.table import Table

    console = Console(width=max(Console().width, 150))
    ref = rows[0]
    table = Table(title="speed and accuracy, same split, each in its own process")
    cols = ["pipeline", "fit s", "articles/s", "peak RSS MB", "in-domain acc", "in-domain AUC"]
    cols += [f"AUC {c}" for c in cross] + ["mean cross AUC"]
    for col in cols:
        table.add_column(
            col, justify="left" if col == "pipeline" else "right", no_wrap=col == "pipeline"
        )

    def mean_cross(r: dict[str, Any]) -> float:
        values = [v["roc_auc"] for v in r["cross"].values()]
        return sum(values) / len(values) if values else float("nan")

    for r in rows:
        table.add_row(
            r["name"],
            f"{r['fit_s']:.1f}",
            f"{r['articles_per_s']:,.0f}",
            f"{r['peak_rss_mb']:,.0f}",
            f"{r['in_domain']['accuracy']:.3f}",
            f"{r['in_domain']['roc_auc']:.3f}",
            *(f"{r['cross'][c]['roc_auc']:.3f}" for c in cross),
            f"{mean_cross(r):.3f}",
        )
    for r in rows[1:]:
        table.add_row(
            f"{r['name']} ÷ ref",
            f"{r['fit_s'] / ref['fit_s']:.2f}x",
            f"{r['articles_per_s'] / ref['articles_per_s']:.2f}x",
            f"{r['peak_rss_mb'] / ref['peak_rss_mb']:.2f}x",
            f"{r['in_domain']['accuracy'] - ref['in_domain']['accuracy']:+.3f}",
            f"{r['in_domain']['roc_auc'] - ref['in_domain']['roc_auc']:+.3f}",
            *(f"{r['cross'][c]['roc_auc'] - ref['cross'][c]['roc_auc']:+.3f}" for c in cross),
            f"{mean_cross(r) - mean_cross(ref):+.3f}",
        )
    console.print(table)
    console.print(
        f"[dim]{ref['train_rows']:,} train / {ref['test_rows']:,} held-out articles. In-domain "
        "numbers flatter the reference: it reads the (Reuters) dateline and other source "
        "artefacts that veracity scrubs; the cross columns say what generalizes.[/]"
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", action="append", default=None, help="training set(s)")
    parser.add_argument("--cross", action="append", default=None, help="unseen test set(s)")
    parser.add_argument("--preset", action="append", default=None, help="preset(s) to time")
    parser.add_argument("--repeat", type=int, default=3, help="scoring repeats (best kept)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    cross = args.cross if args.cross is not None else DEFAULT_CROSS
    if args.worker:
        result = worker(args.worker, args.data or ["isot_sample"], cross, args.repeat, args.seed)
        print(json.dumps(result))
        return
    rows = []
    for name in [REFERENCE, *(args.preset or DEFAULT_PRESETS)]:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        rows.append(run_isolated(name, args))
    print_table(rows, cross)


if __name__ == "__main__":
    main()
