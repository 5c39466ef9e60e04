"""Train a preset on one or more datasets, leakage-free, and fill in its model card.

:func:`train` is the one training entry point (``veracity train`` and the Python API
call it), with two engines: ``"memory"`` (below) and ``"dask"``, out-of-core
``partial_fit`` over partitions of files (see :mod:`veracity.batch`; Dask is imported
only when that engine runs).

The in-memory steps are the ones a careful researcher would take by hand:

1. load every dataset and stack them (a ``dataset`` column remembers the origin);
2. find exact and near-duplicate articles *before* splitting and keep one of each
   cluster (counted in the report);
3. split so that no cluster spans train and test — or, with ``test_data``, test on
   other datasets after dropping any test article that also occurs in training;
4. fit the preset on the training rows, score the held-out rows, and write
   metrics with 95% bootstrap intervals into the card.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from veracity.data import Dataset, deduplicate, drop_leaks, split_dataset
from veracity.errors import DataFormatError, InputError
from veracity.evaluate.metrics import MetricReport
from veracity.evaluate.run import score
from veracity.models import fit_model, make_model
from veracity.models.artifact import ModelCard
from veracity.text.formulas import unescape_formula

if TYPE_CHECKING:
    from veracity.settings import Settings

__all__ = [
    "FEEDBACK",
    "Engine",
    "TrainResult",
    "combine",
    "dataset_weights",
    "feedback_dataset",
    "train",
]

#: Name of the dataset made of exported feedback (``veracity train --with-feedback``).
FEEDBACK = "feedback"

Stage = Callable[[str], None]
#: How :func:`train` fits: in memory, or out of core over Dask partitions.
Engine = Literal["memory", "dask"]


@dataclass
class TrainResult:
    """A fitted estimator, its card, and what happened on the way."""

    estimator: Any
    card: ModelCard
    report: dict[str, Any] = field(default_factory=dict)
    test_metrics: dict[str, MetricReport] = field(default_factory=dict)


def combine(datasets: Sequence[Dataset], target: str = "label") -> pd.DataFrame:
    """Stack datasets into one frame with ``dataset``, ``doc`` (title + text) and ``y`` columns."""
    frames = []
    for ds in datasets:
        if target not in ds.frame.columns:
            raise InputError(
                f"dataset {ds.name!r} has no {target!r} column; available: "
                f"{', '.join(map(str, ds.frame.columns))}"
            )
        if not ds.frame.attrs.get("labelled", True):
            raise InputError(f"dataset {ds.name!r} has no labels; give --label-col to train on it")
        frame = ds.frame.copy()
        frame["dataset"] = ds.name
        frame["doc"] = ds.texts()
        frame["y"] = frame[target].astype(str)
        frames.append(frame)
    if not frames:
        raise InputError("no dataset given: pass --data NAME_OR_PATH at least once")
    return pd.concat(frames, ignore_index=True)


def feedback_dataset(paths: Sequence[str | Path], *, settings: Settings) -> Dataset:
    """Exported feedback files as one labelled dataset named :data:`FEEDBACK`.

    Parameters
    ----------
    paths : sequence of str or Path
        CSV files written by ``veracity feedback export`` (``id,title,text,label``),
        read with the generic loader. The export escapes texts a spreadsheet would
        run as formulas with a leading apostrophe; it is removed here
        (:func:`~veracity.text.formulas.unescape_formula`), so the model trains on
        the text as it was checked.
    settings : Settings
        For the file size limit.

    Returns
    -------
    Dataset
        The rows of all files; when an ``id`` (``check-N``) occurs in several files, the
        row of the last file wins (a newer export of the same check).

    Raises
    ------
    InputError
        No path given.
    DataFormatError
        A file without ``id``, ``text`` or ``label`` columns, or with unknown labels.
    """
    from veracity.data.generic import load_file

    if not paths:
        raise InputError("no feedback file given: pass --with-feedback PATH")
    parts: list[Dataset] = []
    for path in paths:
        try:
            parts.append(
                load_file(
                    Path(path), text_col="text", label_col="label", id_col="id", settings=settings
                )
            )
        except DataFormatError as exc:
            raise DataFormatError(
                f"{exc} A feedback file has the columns id,title,text,label: write it with "
                "`veracity feedback export PATH`."
            ) from None
    frame = pd.concat([p.frame for p in parts], ignore_index=True)
    frame = frame.drop_duplicates("id", keep="last").reset_index(drop=True)
    for column in ("title", "text"):
        frame[column] = frame[column].map(unescape_formula)
    frame.attrs = {
        "labelled": True,
        "rows_read": sum(p.rows_read for p in parts),
        "dropped_empty": sum(p.dropped_empty for p in parts),
    }
    return Dataset(FEEDBACK, frame, [s for p in parts for s in p.sources], "article")


def dataset_weights(origin: pd.Series) -> list[float]:
    """Row weights giving each dataset the same total weight; they average 1.0."""
    counts = origin.value_counts()
    raw = origin.map(lambda name: 1.0 / counts[name])
    return (raw / raw.mean()).astype(float).tolist()


def _loaded(
    items: Sequence[Dataset | str], columns: Mapping[str, Any] | None, settings: Settings | None
) -> list[Dataset]:
    """``items`` as datasets: names, folders and files loaded with ``columns``."""
    from veracity.data import load_dataset

    return [
        item
        if isinstance(item, Dataset)
        else load_dataset(item, settings=settings, **dict(columns or {}))
        for item in items
    ]


def _train_out_of_core(
    data: Sequence[Dataset | str],
    *,
    refused: dict[str, bool],
    **kwargs: Any,
) -> TrainResult:
    """The ``"dask"`` engine: names and paths only, none of the memory engine's options."""
    given = [name for name, used in refused.items() if used]
    if given:
        raise InputError(
            f"{', '.join(given)} cannot be used with engine='dask' (it holds out a hashed "
            "test_size share of the rows); use engine='memory'"
        )
    loaded = [item.name for item in data if not isinstance(item, str)]
    if loaded:
        raise InputError(
            f"engine='dask' reads data in partitions: give dataset names or file paths, "
            f"not loaded datasets ({', '.join(loaded)})"
        )
    from veracity.batch.training import train_out_of_core

    return train_out_of_core([str(item) for item in data], **kwargs)


def _pooled_ece(metrics: dict[str, MetricReport]) -> float | None:
    """Row-weighted ECE over the test sets (None when nothing was tested or multi-class)."""
    pairs = [(m.ece, m.n) for m in metrics.values() if m.ece == m.ece]
    total = sum(n for _, n in pairs)
    return sum(e * n for e, n in pairs) / total if total else None


def train(
    datasets: Sequence[Dataset | str],
    *,
    engine: Engine = "memory",
    preset: str = "tfidf-lr.v1",
    params: dict[str, Any] | None = None,
    target: str = "label",
    test_size: float = 0.2,
    strategy: Literal["random", "group", "temporal"] = "random",
    group_col: str | None = None,
    test_data: Sequence[Dataset | str] = (),
    near_threshold: float = 0.8,
    balance: bool = False,
    seed: int = 42,
    columns: Mapping[str, Any] | None = None,
    settings: Settings | None = None,
    epochs: int = 5,
    partition_rows: int | None = None,
    scheduler: str | None = None,
    workers: int = 2,
    card_extra: dict[str, Any] | None = None,
    stage: Stage | None = None,
    advance: Callable[[int], None] | None = None,
) -> TrainResult:
    """Train ``preset`` on ``datasets`` and evaluate it without leakage.

    Parameters
    ----------
    datasets
        Training data (stacked; each keeps its name in the card): loaded
        :class:`~veracity.data.Dataset` objects, or dataset names, folders and files
        (loaded with ``columns``; with the ``"dask"`` engine also glob patterns, read
        in partitions, never whole).
    engine
        ``"memory"``: deduplicate (exact and near) and split the stacked frame, then
        ``fit``. ``"dask"``: ``partial_fit`` over Dask partitions for ``epochs`` shuffled
        passes, holding out a hashed ``test_size`` share (see :mod:`veracity.batch`);
        it needs a preset with ``partial_fit`` and takes no ``test_data``, ``balance``,
        ``strategy``, ``group_col`` or ``target``.
    preset, params
        The model preset (see :data:`veracity.models.PRESETS`) and overrides of its parameters.
    target
        Column to learn: ``label`` (fake/reliable) or e.g. ``label6`` for LIAR's six ratings.
    test_size
        Share of deduplicated rows held out when ``test_data`` is empty (0 trains on all).
    strategy, group_col
        How the held-out rows are chosen: ``random`` (stratified), ``group`` (whole values of
        ``group_col`` — source, speaker, subject — stay on one side) or ``temporal`` (test on
        the latest dated rows). Duplicate clusters never span the two sides in any of them.
    test_data
        Datasets to test on instead of a random split; rows that also occur in the
        training data (same prepared text) are dropped from them first.
    balance
        Weight rows so that every training dataset counts the same in total, however
        many rows it has (a 150-row set then weighs as much as a 6,000-row one). On the
        four shared article sets this raised the leave-one-dataset-out ROC-AUC.
    columns
        ``text_col``, ``title_col``, ``label_col``, ``id_col`` and ``positive`` for the
        datasets given by name or path (as :func:`veracity.data.load_dataset` takes them).
    settings
        For file size limits (``Settings()`` when omitted).
    epochs, partition_rows, scheduler, workers
        The ``"dask"`` engine's passes, rows per partition, scheduler address (a local
        cluster when None) and local workers.
    card_extra
        More facts for the card's ``extra`` (e.g. ``{"selection": ...}``: why this
        preset was chosen).
    stage, advance
        Progress callbacks: ``stage(name)`` when a step starts, ``advance(n)`` as rows are
        scored (memory engine).

    Raises
    ------
    veracity.errors.InputError
        An unknown engine, or an option the engine does not take.
    """
    if engine == "dask":
        return _train_out_of_core(
            datasets,
            preset=preset,
            params=params,
            test_size=test_size,
            seed=seed,
            columns=columns,
            settings=settings,
            epochs=epochs,
            partition_rows=partition_rows,
            scheduler=scheduler,
            workers=workers,
            card_extra=card_extra,
            stage=stage,
            refused={
                "test_data": bool(test_data),
                "balance": balance,
                "strategy": strategy != "random",
                "group_col": group_col is not None,
                "target": target != "label",
            },
        )
    if engine != "memory":
        raise InputError(f"engine must be 'memory' or 'dask', not {engine!r}")
    datasets = _loaded(datasets, columns, settings)
    test_data = _loaded(test_data, columns, settings)
    say: Stage = stage or (lambda _name: None)
    say("stacking datasets")
    frame = combine(datasets, target)
    params = dict(params or {})
    params.setdefault("random_state", seed)
    report: dict[str, Any] = {"rows_loaded": len(frame)}

    say("deduplicating and splitting")
    frame["label"] = frame["y"]  # split_dataset stratifies on "label"
    if test_data or test_size <= 0:
        dedup = deduplicate(frame, threshold=near_threshold, seed=seed)
        train_frame, dropped = dedup.frame, dedup.exact_dropped + dedup.near_dropped
        report["split"] = {"exact_dropped": dedup.exact_dropped, "near_dropped": dedup.near_dropped}
        tests = {ds.name: combine([ds], target) for ds in test_data}
    else:
        split = split_dataset(
            frame,
            test_size=test_size,
            strategy=strategy,
            group_col=group_col,
            seed=seed,
            near_threshold=near_threshold,
        )
        train_frame, dropped = split.train, split.duplicates_dropped
        report["split"] = split.report
        tests = {"held-out": split.test}
    report["duplicates_dropped"] = dropped
    report["train_rows"] = len(train_frame)

    say(f"fitting {preset} on {len(train_frame):,} rows")
    estimator = make_model(preset, **params)
    t0 = time.perf_counter()
    weights = dataset_weights(train_frame["dataset"]) if balance else None
    fit_model(
        estimator,
        estimator.model_input(train_frame),
        train_frame["y"].tolist(),
        sample_weight=weights,
        domains=train_frame["dataset"].tolist(),
    )
    report["fit_seconds"] = round(time.perf_counter() - t0, 2)

    metrics: dict[str, MetricReport] = {}
    for name, test in tests.items():
        if test_data:
            test, leaked = drop_leaks(train_frame, test, near_threshold, seed)
            report.setdefault("test_rows_dropped_as_leaks", {})[name] = leaked
        say(f"scoring {len(test):,} test rows of {name}")
        metrics[name] = score(
            estimator,
            estimator.model_input(test),
            test["y"].tolist(),
            seed=seed,
            advance=advance,
        )
    report["test_rows"] = {name: m.n for name, m in metrics.items()}

    card = ModelCard.create(
        preset=preset,
        params=params,
        labels=[str(c) for c in estimator.classes_],
        training_data=[
            {"name": ds.name, "sha256": ds.sha256, "rows": len(ds.frame)} for ds in datasets
        ],
        rows={"loaded": len(frame), "train": len(train_frame), **report["test_rows"]},
        metrics={name: m.to_dict() for name, m in metrics.items()},
        ece=_pooled_ece(metrics),
        seed=seed,
        extra={
            "target": target,
            "balance_datasets": balance,
            "duplicates_dropped": dropped,
            "fit_seconds": report["fit_seconds"],
            "trained_on": platform.platform(),
            **(card_extra or {}),
        },
    )
    return TrainResult(estimator=estimator, card=card, report=report, test_metrics=metrics)
