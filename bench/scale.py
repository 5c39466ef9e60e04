"""Articles/s and peak memory of `veracity batch` (Dask) vs a single-process pandas loop.

For each size, a corpus is made by resampling (with replacement, seeded) the articles of the
shared datasets, written as Parquet to a temporary directory (never into the repository),
then scored twice in the same run:

* **dask** — ``veracity batch`` in a subprocess: a LocalCluster of ``--workers`` processes,
  partitions of ``--partition-rows`` rows, parts written atomically;
* **pandas** — one Python process reading the same file batch by batch with pyarrow, scoring
  each batch with ``Detector.check_many`` and writing one Parquet part per batch.

Peak memory is the largest sum of the resident set sizes of the process and all its
children (sampled every 0.2 s), so the Dask number includes the scheduler and workers.
The last column says how linear the curve is: seconds per article at this size divided by
seconds per article at the smallest size (1.00 = perfectly linear; below 1 when the fixed
start-up cost — cluster, model loading — weighs less at larger sizes). "marginal
articles/s" is the rate between two sizes, where the start-up cost cancels out.

Usage::

    python bench/scale.py --sizes 10000 100000          # what the README quotes
    python bench/scale.py --sizes 2000 --model runs/my-model

Numbers are wall-clock on this machine; compare the two engines and the ratios.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from veracity.data import load_dataset

DATASETS = ("isot_sample", "fakenewsamt", "celebrity", "random_political")


def make_corpus(pool: pd.DataFrame, n: int, path: Path, seed: int, group_rows: int) -> None:
    """Write ``n`` rows resampled from ``pool`` to a Parquet file, one row group at a time."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    writer: Any = None
    try:
        for start in range(0, n, group_rows):
            rows = pool.iloc[rng.integers(0, len(pool), min(group_rows, n - start))]
            chunk = pd.DataFrame(
                {
                    "id": [f"a{i}" for i in range(start, start + len(rows))],
                    "title": rows["title"].to_numpy(),
                    "text": rows["text"].to_numpy(),
                }
            )
            table = pa.Table.from_pandas(chunk, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()


def pandas_loop(source: str, output: str, model: str | None, batch_rows: int) -> None:
    """The single-process baseline: read a batch, score it, write a part; repeat."""
    import pyarrow.parquet as pq

    from veracity.detector import Detector
    from veracity.settings import Settings

    settings = Settings(evidence_terms=0)
    detector = Detector.from_path(model, settings, fast=True)  # as batch scoring loads it
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    for number, batch in enumerate(pq.ParquetFile(source).iter_batches(batch_size=batch_rows)):
        frame = batch.to_pandas()
        docs = [
            f"{title}\n\n{text}" if title.strip() else text
            for title, text in zip(frame["title"], frame["text"], strict=True)
        ]
        verdicts = detector.check_many(docs)
        pd.DataFrame(
            {
                "id": frame["id"],
                "label": [v.label for v in verdicts],
                "probability": [v.probability for v in verdicts],
                "abstained": [v.abstained for v in verdicts],
                "model_id": [v.model_id for v in verdicts],
            }
        ).to_parquet(out / f"part-{number:05d}.parquet", index=False)


def run_measured(command: Sequence[str]) -> tuple[float, float]:
    """Run ``command``; return (seconds, peak MB of the summed RSS of its process tree)."""
    import psutil

    t0 = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    root = psutil.Process(process.pid)
    peak = 0
    while process.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.2)
    seconds = time.perf_counter() - t0
    if process.returncode != 0:
        raise SystemExit(f"failed ({process.returncode}): {' '.join(command)}")
    return seconds, peak / 2**20


def main(argv: Sequence[str] | None = None) -> None:
    """Build the corpora, score each with both engines and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--data", action="append", default=None, help="dataset(s) to resample")
    parser.add_argument("--model", default=None, help="model directory (default: bundled)")
    parser.add_argument("--partition-rows", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--engines", nargs="+", default=["dask", "pandas"])
    parser.add_argument("--workdir", default=None, help="where corpora go (default: a temp dir)")
    args = parser.parse_args(argv)
    console = Console()

    frames = [load_dataset(name).frame for name in (args.data or DATASETS)]
    pool = pd.concat([f[["title", "text"]] for f in frames], ignore_index=True)
    work = Path(args.workdir or tempfile.mkdtemp(prefix="veracity-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    console.print(f"{len(pool):,} source articles; corpora in {work}")
    model = ["--model", args.model] if args.model else []
    results: list[dict[str, Any]] = []
    try:
        for n in sorted(args.sizes):
            corpus = work / f"corpus-{n}.parquet"
            make_corpus(pool, n, corpus, args.seed, args.partition_rows)
            for engine in args.engines:
                out = work / f"out-{engine}-{n}"
                shutil.rmtree(out, ignore_errors=True)
                if engine == "dask":
                    command = [
                        sys.executable, "-c", "from veracity.cli import main; main()",
                        "batch", "-i", str(corpus), "-o", str(out), *model,
                        "--partition-rows", str(args.partition_rows),
                        "--workers", str(args.workers),
                    ]  # fmt: skip
                else:
                    command = [
                        sys.executable, __file__, "--pandas-loop", str(corpus), str(out),
                        args.model or "", str(args.partition_rows),
                    ]  # fmt: skip
                seconds, peak = run_measured(command)
                rows = len(pd.read_parquet(out, columns=["id"]))
                results.append({"n": n, "engine": engine, "s": seconds, "rows": rows, "peak": peak})
                console.print(
                    f"{engine:>6} {n:>9,} rows: {seconds:8.1f} s, {n / seconds:7.0f} articles/s, "
                    f"peak {peak:6.0f} MB ({rows:,} scored)"
                )
                shutil.rmtree(out, ignore_errors=True)
            corpus.unlink()
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)

    table = Table(title="veracity batch (Dask) vs a single-process pandas loop")
    columns = ("articles", "engine", "seconds", "articles/s", "marginal articles/s", "peak MB")
    for col in (*columns, "s/article vs smallest"):
        table.add_column(col, justify="right")
    base = {r["engine"]: r["s"] / r["n"] for r in results if r["n"] == min(args.sizes)}
    previous: dict[str, dict[str, Any]] = {}
    for r in results:
        before = previous.get(r["engine"])
        # articles/s between this size and the one before: start-up costs cancel out
        marginal = (r["n"] - before["n"]) / (r["s"] - before["s"]) if before else float("nan")
        previous[r["engine"]] = r
        table.add_row(
            f"{r['n']:,}",
            r["engine"],
            f"{r['s']:.1f}",
            f"{r['n'] / r['s']:,.0f}",
            "" if before is None else f"{marginal:,.0f}",
            f"{r['peak']:,.0f}",
            f"{(r['s'] / r['n']) / base[r['engine']]:.2f}",
        )
    console.print(table)
    for n in sorted(args.sizes):
        pair = {r["engine"]: r for r in results if r["n"] == n}
        if {"dask", "pandas"} <= set(pair):
            speedup = pair["pandas"]["s"] / pair["dask"]["s"]
            console.print(f"{n:,} articles: dask is {speedup:.2f}x the speed of the pandas loop")


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--pandas-loop":
        pandas_loop(sys.argv[2], sys.argv[3], sys.argv[4] or None, int(sys.argv[5]))
    else:
        main()
