"""Load test of the HTTP service on loopback: latency percentiles, throughput, server RSS.

Starts the real server (as ``veracity serve [--workers N]`` does: 127.0.0.1, a free
port, a temporary SQLite file, the bundled model, no access log) in a subprocess, waits
until ``/readyz`` answers, warms it up, then sends ``POST /v1/check`` with real article
texts (rows of ``isot_sample``, or the seed article) and stops by itself after
``--requests`` requests or ``--max-seconds``.

Two modes:

- closed loop (default): ``--concurrency`` workers each send the next request as soon
  as the last one is answered; measures throughput;
- fixed rate (``--rate R``): requests start on a fixed schedule of R a second, whether
  or not earlier ones are answered; latency counts from the scheduled start, so a
  server that falls behind shows it (no coordinated omission).

Usage::

    python bench/api.py --requests 2000 --concurrency 16
    python bench/api.py --rate 100 --requests 1000
    python bench/api.py --rate 100 --requests 1000 --workers 2   # as `serve --workers 2`

The client runs on the same machine and takes CPU from the server: numbers are an
upper bound on latency for this machine, not a capacity plan.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

SERVER = """
import sys
from veracity.serve.server import run
from veracity.settings import Settings
run(Settings(), port=int(sys.argv[1]), workers=int(sys.argv[2]), log_level="warning",
    access_log=False)
"""


@dataclass
class Results:
    """Latencies (seconds) of answered requests and the count of failed ones."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)

    def record(self, status: int | None, latency: float) -> None:
        """Count one request: a 200 adds its latency, anything else is an error."""
        if status is not None:
            self.statuses[status] = self.statuses.get(status, 0) + 1
        if status == 200:
            self.latencies.append(latency)
        else:
            self.errors += 1


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def article_texts(limit: int) -> list[str]:
    """Real article texts: rows of isot_sample, else the seed article."""
    try:
        from veracity.data import load_dataset

        frame = load_dataset("isot_sample").frame
        texts = [t for t in frame["text"].astype(str) if len(t.split()) >= 50]
        if texts:
            return texts[:limit]
    except Exception as exc:  # the dataset is optional for a bench
        print(f"isot_sample not available ({exc}); using the seed article", file=sys.stderr)
    seed = Path(__file__).resolve().parents[2] / "shared" / "seed" / "seed_article.txt"
    return [seed.read_text(encoding="utf-8")]


def _tree(pid: int) -> list[int]:
    """``pid`` and every process below it (a server's workers), from /proc."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    return [pid, *(p for c in children for p in _tree(int(c)))]


def memory_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident set size of process ``pid`` and its children in MB.

    Summed over the processes; the peak is the sum of each one's peak (VmHWM), an upper
    bound when they peak at different times.
    """
    values = {"VmRSS": 0.0, "VmHWM": 0.0}
    for one in _tree(pid):
        try:
            for line in Path(f"/proc/{one}/status").read_text().splitlines():
                key, _, rest = line.partition(":")
                if key in values:
                    values[key] += int(rest.split()[0]) / 1024
        except OSError:
            pass
    return values["VmRSS"], values["VmHWM"]


def start_server(port: int, database: Path, workers: int) -> subprocess.Popen[bytes]:
    """Run the service in a subprocess and wait until it is ready (model loaded)."""
    env = {**os.environ, "VERACITY_DATABASE_URL": f"sqlite:///{database}"}
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(port), str(workers)], env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with code {proc.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    proc.terminate()
    raise SystemExit("the server did not become ready within 60 s")


async def _send(client: httpx.AsyncClient, text: str) -> int | None:
    try:
        response = await client.post("/v1/check", json={"text": text})
        return response.status_code
    except httpx.HTTPError:
        return None


async def closed_loop(
    base: str, texts: list[str], requests: int, concurrency: int, max_seconds: float
) -> tuple[Results, float]:
    """``concurrency`` workers sending back to back until ``requests`` are done."""
    results = Results()
    counter = iter(range(requests))
    stop_at = time.perf_counter() + max_seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:

        async def worker() -> None:
            for i in counter:
                if time.perf_counter() > stop_at:
                    return
                start = time.perf_counter()
                status = await _send(client, texts[i % len(texts)])
                results.record(status, time.perf_counter() - start)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return results, time.perf_counter() - began


async def fixed_rate(
    base: str, texts: list[str], requests: int, rate: float, max_seconds: float
) -> tuple[Results, float]:
    """Start request ``i`` at ``i / rate`` seconds; latency counts from that moment."""
    results = Results()
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        began = time.perf_counter()

        async def one(i: int, scheduled: float) -> None:
            status = await _send(client, texts[i % len(texts)])
            results.record(status, time.perf_counter() - scheduled)

        tasks = []
        for i in range(requests):
            scheduled = began + i / rate
            if scheduled - began > max_seconds:
                break
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i, scheduled)))
        await asyncio.gather(*tasks)
        return results, time.perf_counter() - began


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ``values``, nearest rank."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered)) - 1))
    return ordered[rank]


def report(results: Results, elapsed: float, pid: int, mode: str) -> None:
    """Print the latency percentiles, throughput, errors and server memory."""
    done = len(results.latencies) + results.errors
    rss, peak = memory_mb(pid)
    print(f"mode              {mode}")
    print(f"requests          {done} in {elapsed:.2f} s  ({done / elapsed:.1f} req/s)")
    print(f"errors            {results.errors}  statuses {dict(sorted(results.statuses.items()))}")
    if results.latencies:
        ms = [x * 1000 for x in results.latencies]
        print(
            f"latency ms        p50 {percentile(ms, 50):.1f}  p95 {percentile(ms, 95):.1f}  "
            f"p99 {percentile(ms, 99):.1f}  max {max(ms):.1f}  mean {statistics.fmean(ms):.1f}"
        )
    print(f"server RSS MB     now {rss:.0f}  peak (VmHWM) {peak:.0f}  (all its processes)")


def main(argv: list[str] | None = None) -> None:
    """Parse the options, run the server and the load, print the numbers."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests to send")
    parser.add_argument("--concurrency", type=int, default=16, help="closed-loop workers")
    parser.add_argument("--rate", type=float, default=None, help="fixed rate (requests/s)")
    parser.add_argument("--max-seconds", type=float, default=120.0, help="stop after this")
    parser.add_argument("--warmup", type=int, default=50, help="unmeasured first requests")
    parser.add_argument("--workers", type=int, default=1, help="server processes (serve --workers)")
    args = parser.parse_args(argv)
    texts = article_texts(500)
    words = statistics.median(len(t.split()) for t in texts)
    print(f"articles          {len(texts)} (median {words:.0f} words)")
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        proc = start_server(port, Path(tmp) / "bench.db", args.workers)
        base = f"http://127.0.0.1:{port}"
        try:
            asyncio.run(closed_loop(base, texts, args.warmup, 4, args.max_seconds))
            if args.rate:
                results, elapsed = asyncio.run(
                    fixed_rate(base, texts, args.requests, args.rate, args.max_seconds)
                )
                mode = f"fixed rate {args.rate:g} req/s"
            else:
                results, elapsed = asyncio.run(
                    closed_loop(base, texts, args.requests, args.concurrency, args.max_seconds)
                )
                mode = f"closed loop, {args.concurrency} workers"
            report(results, elapsed, proc.pid, mode)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    main()
