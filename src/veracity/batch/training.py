"""Out-of-core training: ``partial_fit`` over Dask partitions, several shuffled epochs.

The ``"dask"`` engine of :func:`veracity.training.train` (the one training entry
point), which imports this module only when that engine runs.
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from veracity._extras import require
from veracity.batch.partitions import (
    DEFAULT_PARTITION_ROWS,
    Columns,
    Partition,
    plan_partitions,
    read_partition,
)
from veracity.batch.scoring import cluster_client
from veracity.data.generic import LABEL_NAMES
from veracity.errors import DataFormatError, InputError
from veracity.settings import Settings

if TYPE_CHECKING:
    from veracity.training import TrainResult

__all__ = ["train_out_of_core"]

Stage = Callable[[str], None]


# -- out-of-core training -----------------------------------------------------------------


def _key(text: str, salt: bytes) -> int:
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8, key=salt)
    return int.from_bytes(digest.digest(), "little")


def _training_partition(
    part: Partition, settings: Settings, columns: Columns, seed: int, preprocess: bool
) -> pd.DataFrame:
    """A partition prepared for training: ``doc`` (prepared), ``y``, ``key``, ``test``."""
    from veracity.data.labels import IS_FAKE_MAP, map_labels
    from veracity.text import prepare

    frame = read_partition(part, settings)
    rejected = int((frame["reason"] != "").sum())
    frame = frame.loc[frame["reason"] == ""]
    label_map = (
        IS_FAKE_MAP
        if columns.positive is None and part.label.strip().lower() == "is_fake"
        else None
    )
    y = map_labels(
        frame["label"].tolist(),
        where=part.source,
        column=part.label,
        label_map=label_map,
        positive=columns.positive,
    )
    docs = [prepare(d) for d in frame["doc"].tolist()] if preprocess else frame["doc"].tolist()
    split_salt = f"veracity-split-{seed}".encode()
    keys = [_key(d, b"veracity-dedup") for d in docs]
    out = pd.DataFrame(
        {
            "doc": docs,
            "y": [str(v) for v in y],
            "key": pd.array([k >> 1 for k in keys], dtype="int64"),
            "test_hash": [_key(d, split_salt) / 2.0**64 for d in docs],
        }
    )
    out.attrs["rejected"] = rejected
    return out


def _pooled(frames: Iterator[pd.DataFrame], mix: int, rng: Any) -> Iterator[pd.DataFrame]:
    """The frames in pools of ``mix``, each pool's rows shuffled together (seeded).

    SGD learns badly from partitions that each hold one label (a file sorted by
    label): pooling a few random partitions gives every ``partial_fit`` chunk both.
    """
    pool: list[pd.DataFrame] = []
    for frame in frames:
        pool.append(frame)
        if len(pool) == mix:
            yield _shuffled(pool, rng)
            pool = []
    if pool:
        yield _shuffled(pool, rng)


def _shuffled(pool: list[pd.DataFrame], rng: Any) -> pd.DataFrame:
    frame = pd.concat(pool, ignore_index=True)
    shuffled: pd.DataFrame = frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)
    shuffled.attrs = {"rejected": sum(int(f.attrs.get("rejected", 0)) for f in pool)}
    return shuffled


def _train_files(
    inputs: Sequence[str],
    *,
    preset: str,
    params: dict[str, Any] | None,
    columns: Columns,
    test_size: float,
    epochs: int,
    partition_rows: int,
    mix: int,
    seed: int,
    scheduler: str | None,
    workers: int,
    settings: Settings,
    card_extra: dict[str, Any] | None,
    stage: Stage | None,
) -> TrainResult:
    """Train a ``partial_fit`` preset over Dask partitions of labelled files.

    Parameters
    ----------
    inputs : sequence of str
        Labelled CSV/TSV/JSONL/Parquet files or glob patterns.
    preset, params : str, dict
        A preset whose estimator has ``partial_fit`` (``hashing-sgd.v1``) and overrides.
    columns : Columns, optional
        Text, title, id and label columns and the ``positive`` label value.
    test_size : float
        Share of the hash space of prepared texts held out for the metrics.
    epochs : int
        Passes over the training partitions, each in a new seeded shuffled order.
    mix : int
        Partitions whose rows are pooled and shuffled together before ``partial_fit``
        (the client holds at most ``mix`` partitions; see :func:`_pooled`).
    partition_rows, scheduler, workers, settings
        As for :func:`score_files`.
    card_extra : dict, optional
        More facts for the card's ``extra``.
    stage : callable, optional
        Progress callback ``stage(name)``.

    Returns
    -------
    veracity.training.TrainResult
        With ``test_metrics["held-out"]`` when ``test_size > 0``.
    """

    import numpy as np

    from veracity.evaluate.metrics import evaluate_binary
    from veracity.models import make_model
    from veracity.models.artifact import ModelCard
    from veracity.training import TrainResult

    require("batch", "out-of-core training (train_files)")
    say: Stage = stage or (lambda _name: None)
    if not 0 <= test_size < 1:
        raise InputError(f"--test-size must be in [0, 1), got {test_size}")
    if epochs < 1:
        raise InputError(f"--epochs must be at least 1, got {epochs}")
    if mix < 1:
        raise InputError(f"mix must be at least 1, got {mix}")
    params = dict(params or {})
    params.setdefault("random_state", seed)
    estimator = make_model(preset, **params)
    if not hasattr(estimator, "partial_fit"):
        raise InputError(
            f"preset {preset!r} cannot learn out of core (no partial_fit); "
            "use --preset hashing-sgd.v1 with --engine dask"
        )
    preprocess = bool(estimator.get_params().get("preprocess", True))
    with tempfile.TemporaryDirectory(prefix="veracity-train-") as tmp:
        say("planning partitions")
        parts = plan_partitions(
            inputs,
            columns=columns,
            partition_rows=partition_rows,
            settings=settings,
            staging=Path(tmp),
        )
        unlabelled = sorted({p.source for p in parts if not p.label})
        if unlabelled:
            raise DataFormatError(
                f"{unlabelled[0]}: no label column found (looked for {', '.join(LABEL_NAMES)}); "
                "name it with --label-col."
            )
        rng = np.random.default_rng(seed)
        report: dict[str, Any] = {"partitions": len(parts), "epochs": epochs}
        test_p: list[float] = []
        test_y: list[str] = []
        seen_keys: set[int] = set()
        t0 = time.perf_counter()
        with cluster_client(scheduler, workers) as client:

            def stream(order: Sequence[int]) -> Iterator[pd.DataFrame]:
                # At most `mix` partitions in flight: memory stays bounded.
                window = mix
                futures = [
                    client.submit(
                        _training_partition,
                        parts[i],
                        settings,
                        columns,
                        seed,
                        preprocess,
                        pure=False,
                    )
                    for i in order[:window]
                ]
                nxt = window
                while futures:
                    frame = futures.pop(0).result()
                    if nxt < len(order):
                        futures.append(
                            client.submit(
                                _training_partition,
                                parts[order[nxt]],
                                settings,
                                columns,
                                seed,
                                preprocess,
                                pure=False,
                            )
                        )
                        nxt += 1
                    yield frame

            classes = ["fake", "reliable"]  # what map_labels gives
            rows_loaded = duplicates = rejected = n_test = 0
            for epoch in range(epochs):
                say(f"epoch {epoch + 1}/{epochs}: partial_fit over {len(parts):,} partitions")
                seen_keys.clear()
                order = rng.permutation(len(parts)).tolist()
                for frame in _pooled(stream(order), mix, rng):
                    test = frame["test_hash"].to_numpy() < test_size
                    if epoch == 0:
                        rows_loaded += len(frame)
                        rejected += int(frame.attrs.get("rejected", 0))
                        n_test += int(test.sum())
                    train = frame.loc[~test]
                    keys = train["key"].tolist()
                    fresh = []
                    for k in keys:
                        fresh.append(k not in seen_keys)
                        seen_keys.add(k)
                    if epoch == 0:
                        duplicates += len(fresh) - sum(fresh)
                    train = train.loc[fresh]
                    for start in range(0, len(train), partition_rows):
                        chunk = train.iloc[start : start + partition_rows]
                        estimator.partial_fit(
                            chunk["doc"].tolist(),
                            chunk["y"].tolist(),
                            classes=classes,
                            prepared=preprocess,
                        )
            report["fit_seconds"] = round(time.perf_counter() - t0, 2)
            if not hasattr(estimator, "classes_"):
                raise InputError("no training rows: every row was rejected or held out")
            if n_test:
                # One more pass, scoring only the held-out rows: O(test rows) floats in memory.
                say(f"scoring {n_test:,} held-out rows")
                fake = list(estimator.classes_).index("fake")
                for frame in stream(list(range(len(parts)))):
                    held = frame.loc[frame["test_hash"].to_numpy() < test_size]
                    if len(held):
                        test_p.extend(estimator.predict_proba(held["doc"].tolist())[:, fake])
                        test_y.extend(held["y"].tolist())
        report.update(
            rows_loaded=rows_loaded,
            rejected=rejected,
            duplicates_dropped=duplicates,
            train_rows=rows_loaded - duplicates - n_test,
        )
        metrics = {}
        if test_y:
            metrics["held-out"] = evaluate_binary(test_y, np.asarray(test_p), seed=seed)
        report["test_rows"] = {name: m.n for name, m in metrics.items()}
    sources = sorted({p.source for p in parts})
    card = ModelCard.create(
        preset=preset,
        params=params,
        labels=[str(c) for c in estimator.classes_],
        training_data=[
            {
                "name": Path(path).name,
                "sha256": _sha256(path),
                "rows": sum(p.n_rows for p in parts if p.source == path),
            }
            for path in sources
        ],
        rows={"loaded": rows_loaded, "train": report["train_rows"], **report["test_rows"]},
        metrics={name: m.to_dict() for name, m in metrics.items()},
        ece=next((m.ece for m in metrics.values() if m.ece == m.ece), None),
        seed=seed,
        extra={
            "engine": "dask",
            "epochs": epochs,
            "partition_rows": partition_rows,
            "mix": mix,
            "dedup": "exact (prepared text) within each epoch; no near-duplicate removal",
            "split": "salted hash of the prepared text",
            "duplicates_dropped": duplicates,
            "rejected_rows": rejected,
            "fit_seconds": report["fit_seconds"],
            "python": sys.version.split()[0],
            **(card_extra or {}),
        },
    )
    return TrainResult(estimator=estimator, card=card, report=report, test_metrics=metrics)


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def train_out_of_core(
    data: Sequence[str],
    *,
    preset: str = "hashing-sgd.v1",
    params: dict[str, Any] | None = None,
    columns: Mapping[str, Any] | None = None,
    test_size: float = 0.2,
    epochs: int = 5,
    partition_rows: int | None = None,
    mix: int = 4,
    seed: int = 42,
    scheduler: str | None = None,
    workers: int = 2,
    settings: Settings | None = None,
    card_extra: dict[str, Any] | None = None,
    stage: Stage | None = None,
) -> TrainResult:
    """Train a ``partial_fit`` preset over Dask partitions of ``data``.

    Called by :func:`veracity.training.train` with ``engine="dask"``. Files and glob
    patterns are read in partitions directly, never loaded whole. A dataset name
    (``isot_sample``, ``liar:train``…) or folder is loaded by its own loader — in
    memory, as those loaders work — and written to a temporary Parquet file of
    ``id, title, text, label`` (labels already mapped), which is then read in
    partitions like any file.

    Parameters
    ----------
    data : sequence of str
        Labelled CSV/TSV/JSONL/Parquet files, glob patterns, dataset names or folders.
    columns : mapping, optional
        ``text_col``, ``title_col``, ``label_col``, ``id_col`` and ``positive``.
    partition_rows : int, optional
        Rows per partition (:data:`~veracity.batch.DEFAULT_PARTITION_ROWS` when None).
    preset, params, test_size, epochs, mix, seed, scheduler, workers, settings, card_extra, stage
        As for :func:`_train_files`.

    Returns
    -------
    veracity.training.TrainResult
        With ``test_metrics["held-out"]`` when ``test_size > 0``.
    """
    import glob

    from veracity.data import load_dataset

    require("batch", "veracity train --engine dask")
    settings = settings if settings is not None else Settings()
    given = dict(columns or {})
    cols = Columns(
        text_col=given.get("text_col"),
        title_col=given.get("title_col"),
        id_col=given.get("id_col"),
        label_col=given.get("label_col"),
        positive=given.get("positive"),
    )
    rows = partition_rows if partition_rows is not None else DEFAULT_PARTITION_ROWS
    with tempfile.TemporaryDirectory(prefix="veracity-datasets-") as tmp:
        files: list[str] = []
        for item in data:
            if glob.has_magic(item) or Path(item).is_file():
                files.append(item)
                continue
            dataset = load_dataset(item, settings=settings)
            path = Path(tmp) / f"{item.replace(':', '_').replace('/', '_')}.parquet"
            frame = dataset.frame[["id", "title", "text", "label"]]
            frame.to_parquet(path, index=False, row_group_size=rows)
            files.append(str(path))
        return _train_files(
            files,
            preset=preset,
            params=params,
            columns=cols,
            test_size=test_size,
            epochs=epochs,
            partition_rows=rows,
            mix=mix,
            seed=seed,
            scheduler=scheduler,
            workers=workers,
            settings=settings,
            card_extra=card_extra,
            stage=stage,
        )
