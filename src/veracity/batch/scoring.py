"""Score planned partitions on a Dask cluster; resumable, atomic Parquet parts and rejects."""

from __future__ import annotations

import functools
import json
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from veracity._extras import require
from veracity.batch.output import OutputFolder, temporary_name
from veracity.batch.partitions import (
    DEFAULT_PARTITION_ROWS,
    Columns,
    Partition,
    expand_inputs,
    plan_partitions,
    read_partition,
)
from veracity.errors import InputError
from veracity.settings import Settings

if TYPE_CHECKING:
    from veracity.detector import Detector

__all__ = [
    "PLAN_FILE",
    "REJECTS_DIR",
    "STAGING_DIR",
    "BatchResult",
    "cluster_client",
    "score_files",
    "score_frame",
]

PLAN_FILE = "_plan.json"
REJECTS_DIR = "_rejects"
STAGING_DIR = "_staging"
_PLAN_VERSION = 1

Stage = Callable[[str], None]
Advance = Callable[[int], None]


@dataclass
class BatchResult:
    """What a scoring run did.

    Attributes
    ----------
    output : Path
        The output folder.
    partitions : int
        Partitions of the inputs.
    skipped : int
        Of those, partitions an earlier run had already scored (not scored again).
    scored, rejected : int
        Rows in the output's scored parts and rejects: every partition's, also skipped ones.
    reasons : dict of str to int
        Rejected rows per reason.
    seconds : float
        Wall time of this run.
    model_id : str
        The model that scored the rows.
    rows_this_run : int
        Rows of the partitions this run scored (0 when every partition was already done):
        what a rate per second is measured over.
    """

    output: Path
    partitions: int
    skipped: int
    scored: int
    rejected: int
    reasons: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    model_id: str = ""
    rows_this_run: int = 0


# -- scoring ---------------------------------------------------------------------------------


@functools.lru_cache(maxsize=2)
def _detector(model_path: str, settings_json: str) -> Detector:
    """The detector of a worker process, loaded and verified once (evidence off)."""
    from veracity.detector import Detector

    settings = Settings.model_validate_json(settings_json)
    return Detector.from_path(
        model_path, settings.model_copy(update={"evidence_terms": 0}), fast=True
    )


def score_frame(frame: pd.DataFrame, detector: Detector) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(scored, rejects)`` for a frame from :func:`read_partition`.

    ``scored`` has ``id, label, probability, abstained, model_id`` — exactly what
    ``detector.check_many`` says of the good rows; ``rejects`` has ``source, row, id,
    reason``.
    """
    good = frame["reason"] == ""
    ok = frame.loc[good]
    verdicts = detector.check_many(ok["doc"].tolist()) if len(ok) else []
    scored = pd.DataFrame(
        {
            "id": ok["id"].astype(str).tolist(),
            "label": [v.label for v in verdicts],
            "probability": pd.array([v.probability for v in verdicts], dtype="float64"),
            "abstained": pd.array([v.abstained for v in verdicts], dtype="bool"),
            "model_id": [v.model_id for v in verdicts],
        }
    )
    rejects = frame.loc[~good, ["source", "row", "id", "reason"]].reset_index(drop=True)
    return scored, rejects.astype({"source": str, "row": "int64", "id": str, "reason": str})


def _write_atomic(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` as Parquet at ``path``: a temporary file, fsync, then os.replace."""
    tmp = temporary_name(path)
    try:
        frame.to_parquet(tmp, index=False, engine="pyarrow")
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _part_name(index: int) -> str:
    return f"part-{index:05d}.parquet"


def _score_and_write(
    part: Partition, model_path: str, settings_json: str, output: str
) -> tuple[int, int, int]:
    """Read, score and write one partition on a worker: ``(index, scored, rejected)``."""
    settings = Settings.model_validate_json(settings_json)
    scored, rejects = score_frame(
        read_partition(part, settings), _detector(model_path, settings_json)
    )
    out = Path(output)
    _write_atomic(rejects, out / REJECTS_DIR / _part_name(part.index))
    _write_atomic(scored, out / _part_name(part.index))
    return part.index, len(scored), len(rejects)


@contextmanager
def cluster_client(scheduler: str | None = None, workers: int = 2) -> Iterator[Any]:
    """A ``distributed.Client``: on ``scheduler`` (``tcp://HOST:PORT``) or a LocalCluster.

    The local cluster has ``workers`` processes of one thread each: scoring is
    pure-Python text work that holds the GIL, so threads would not run in parallel,
    and one thread per process keeps one partition in memory per worker.

    Raises
    ------
    InputError
        The scheduler cannot be reached.
    """
    import logging

    require("batch", "Dask (veracity batch, veracity train --engine dask)")
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            try:
                client = Client(scheduler, timeout="5s")  # type: ignore[no-untyped-call]
            except AssertionError:
                # distributed waits a fixed 10 s for its IO-loop thread to start and then
                # fails an assert; on a machine that busy, one more try usually gets it
                client = Client(scheduler, timeout="5s")  # type: ignore[no-untyped-call]
        except AssertionError:
            raise InputError(
                "the Dask client's event loop did not start within 10 s (is the machine "
                "overloaded?); try again"
            ) from None
        except ValueError as exc:  # unknown scheme, malformed address
            raise InputError(
                f"{scheduler} is not a Dask scheduler address ({exc}); give tcp://HOST:PORT"
            ) from None
        except (OSError, TimeoutError) as exc:
            raise InputError(
                f"cannot reach the Dask scheduler at {scheduler} ({exc}); check the address "
                "or leave out --scheduler to start a local cluster"
            ) from None
        try:
            yield client
        finally:
            client.close()  # type: ignore[no-untyped-call]
        return
    if workers < 1:
        raise InputError(f"--workers must be at least 1, got {workers}")
    with (
        LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # a free port: never collide with other clusters
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,  # type: ignore[no-untyped-call]
    ):
        yield client


def _check_plan(folder: OutputFolder, plan: dict[str, Any]) -> None:
    path = folder.root / PLAN_FILE
    if path.is_file():
        try:
            previous = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            previous = None
        if previous != plan:
            raise InputError(
                f"{folder.root} holds a run with other inputs, columns, partition size or "
                "model; give another --output, or delete it to start over"
            )
        return
    folder.record(path)
    tmp = temporary_name(path)
    tmp.write_text(json.dumps(plan, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def _file_identity(path: str) -> dict[str, Any]:
    stat = os.stat(path)
    return {"path": path, "bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _done(output: Path, index: int) -> bool:
    """Whether partition ``index`` is complete; a damaged part is removed to be redone.

    Parts are written atomically, so damage means outside interference (a copy cut
    short, a full disk): both files must be readable Parquet. Both names are listed in
    the folder's manifest before this is called: only files the run wrote are removed.
    """
    import pyarrow.parquet as pq

    paths = (output / REJECTS_DIR / _part_name(index), output / _part_name(index))
    if not paths[1].is_file():
        return False
    try:
        for path in paths:
            pq.read_metadata(path)
    except (OSError, ValueError):  # pyarrow's ArrowInvalid is a ValueError
        for path in paths:
            path.unlink(missing_ok=True)
        return False
    return True


def _totals(output: Path, n_parts: int) -> tuple[int, int, dict[str, int]]:
    import pyarrow.parquet as pq

    scored = rejected = 0
    reasons: Counter[str] = Counter()
    for index in range(n_parts):
        scored += pq.read_metadata(output / _part_name(index)).num_rows
        rejects = pd.read_parquet(output / REJECTS_DIR / _part_name(index), columns=["reason"])
        rejected += len(rejects)
        reasons.update(r.split(":", 1)[0] for r in rejects["reason"].tolist())
    return scored, rejected, dict(reasons)


def score_files(
    inputs: Sequence[str],
    output: str | Path,
    *,
    model: str | Path | None = None,
    columns: Columns | None = None,
    partition_rows: int = DEFAULT_PARTITION_ROWS,
    scheduler: str | None = None,
    workers: int = 2,
    settings: Settings | None = None,
    stage: Stage | None = None,
    advance: Advance | None = None,
    total: Callable[[int], None] | None = None,
) -> BatchResult:
    """Score every row of ``inputs`` with Dask; write Parquet parts and rejects to ``output``.

    Parameters
    ----------
    inputs : sequence of str
        Files or glob patterns (CSV, TSV, JSONL, Parquet; text formats may be gzipped).
    output : str or Path
        Output directory (see the module docstring for its layout): a new or empty
        folder, or one an earlier run made (see :mod:`veracity.batch.output`).
    model : str or Path, optional
        Model directory; default ``settings.model_dir``, else the bundled model.
    columns : Columns, optional
        Text, title and id columns (detected when omitted).
    partition_rows : int
        Most rows per partition (what one worker holds in memory at a time).
    scheduler : str, optional
        Address of a running Dask scheduler; default: a local cluster.
    workers : int
        Worker processes of the local cluster.
    settings : Settings, optional
        Abstention, size limits; ``Settings()`` when omitted.
    stage, advance, total : callables, optional
        Progress: ``stage(name)``, ``advance(rows)`` per finished partition, and
        ``total(rows)`` once the rows to score are known.

    Returns
    -------
    BatchResult

    Raises
    ------
    InputError
        Bad inputs or options, unreachable scheduler, an output of another run, an
        output folder that is blank, holds an input or holds files batch did not write.
    ModelError
        The model is missing or fails verification.

    Examples
    --------
    >>> score_files(["news/*.parquet"], "scored.parquet")  # doctest: +SKIP
    BatchResult(output=PosixPath('scored.parquet'), partitions=12, skipped=0, ...)
    """
    require("batch", "veracity batch")
    from distributed import as_completed

    from veracity.detector import default_model_path
    from veracity.models.artifact import load_card

    say: Stage = stage or (lambda _name: None)
    settings = settings if settings is not None else Settings()
    columns = columns or Columns()
    columns = Columns(columns.text_col, columns.title_col, columns.id_col, "", None)
    started = time.perf_counter()
    folder = OutputFolder.open(output, expand_inputs(inputs))
    out = folder.root
    # Only the card here (fast); each worker loads and verifies the model itself.
    model_path = Path(model or settings.model_dir or default_model_path()).absolute()
    model_id = load_card(model_path).model_id
    say("planning partitions")
    parts = plan_partitions(
        inputs,
        columns=columns,
        partition_rows=partition_rows,
        settings=settings,
        staging=out / STAGING_DIR,
        claim=folder.record,
    )
    sources = sorted({p.source for p in parts})
    _check_plan(
        folder,
        {
            "version": _PLAN_VERSION,
            "inputs": [_file_identity(s) for s in sources],
            "partition_rows": partition_rows,
            "columns": asdict(columns),
            "model_id": model_id,
            "partitions": len(parts),
        },
    )
    folder.record(
        *(out / _part_name(p.index) for p in parts),
        *(out / REJECTS_DIR / _part_name(p.index) for p in parts),
    )
    (out / REJECTS_DIR).mkdir(parents=True, exist_ok=True)
    folder.remove_temporaries()
    pending = [p for p in parts if not _done(out, p.index)]
    if total is not None:
        total(sum(p.n_rows for p in parts))
    if advance is not None:
        advance(sum(p.n_rows for p in parts) - sum(p.n_rows for p in pending))
    if pending:
        say(f"scoring {len(pending):,} of {len(parts):,} partitions")
        # One task a partition (read, score, write on the worker): no dask.dataframe
        # graph, whose import alone cost the client and each worker over a second.
        with cluster_client(scheduler, workers) as client:
            futures = client.map(
                _score_and_write,
                pending,
                model_path=str(model_path),
                settings_json=settings.model_dump_json(),
                output=str(out),
                pure=False,
            )
            rows = {p.index: p.n_rows for p in pending}
            for future in as_completed(futures):  # type: ignore[no-untyped-call]
                index, _scored, _rejected = future.result()
                if advance is not None:
                    advance(rows[index])
    folder.forget(*(out / f for f in sorted(folder.files) if f.startswith(f"{STAGING_DIR}/")))
    folder.remove_empty_subfolder(STAGING_DIR)
    say("counting")
    scored, rejected, reasons = _totals(out, len(parts))
    return BatchResult(
        output=out,
        partitions=len(parts),
        skipped=len(parts) - len(pending),
        scored=scored,
        rejected=rejected,
        reasons=reasons,
        seconds=time.perf_counter() - started,
        model_id=model_id,
        rows_this_run=sum(p.n_rows for p in pending),
    )
