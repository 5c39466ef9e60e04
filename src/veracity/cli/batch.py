"""`veracity batch`, and the Dask engine of `veracity train` (``--engine dask``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from veracity.cli._common import (
    IdCol,
    JsonOpt,
    ModelOpt,
    TextCol,
    TitleCol,
    _errors,
    _print_metrics,
    _progress,
    app,
    out,
)
from veracity.errors import InputError
from veracity.settings import Settings


@app.command()
def batch(
    inputs: Annotated[
        list[str],
        typer.Option(
            "--input",
            "-i",
            help="CSV/TSV/JSONL/Parquet file or glob pattern (quote it); repeatable.",
        ),
    ],
    output: Annotated[
        str,
        typer.Option(
            "--output",
            "-o",
            help="Output directory of Parquet parts (e.g. scored.parquet): new, empty, "
            "or made by an earlier batch run.",
        ),
    ],
    model: ModelOpt = None,
    text_col: TextCol = None,
    title_col: TitleCol = None,
    id_col: IdCol = None,
    partition_rows: Annotated[
        int,
        typer.Option(
            "--partition-rows", min=1, help="Most rows per partition (memory per worker)."
        ),
    ] = 10_000,
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="Address of a running Dask scheduler (tcp://HOST:PORT)."),
    ] = None,
    workers: Annotated[
        int, typer.Option("--workers", min=1, help="Worker processes of the local cluster.")
    ] = 2,
    as_json: JsonOpt = False,
) -> None:
    """Score a corpus with Dask: resumable Parquet parts, bad rows to _rejects with a reason."""
    from veracity.batch import Columns, score_files

    with _errors():
        settings = Settings()
        with _progress() as progress:
            task = progress.add_task("starting", total=None)
            result = score_files(
                inputs,
                output,
                model=model,
                columns=Columns(text_col=text_col, title_col=title_col, id_col=id_col),
                partition_rows=partition_rows,
                scheduler=scheduler,
                workers=workers,
                settings=settings,
                stage=lambda name: progress.update(task, description=name),
                advance=lambda n: progress.advance(task, n),
                total=lambda n: progress.update(task, total=n),
            )
    if as_json:
        data: dict[str, Any] = {**vars(result), "output": str(result.output)}
        out.print_json(json.dumps(data))
        return
    if result.skipped == result.partitions:
        out.print(
            f"nothing left to do: all {result.partitions:,} partitions were already scored "
            f"by an earlier run; nothing scored this run ({result.seconds:.1f} s). The output "
            f"holds [bold]{result.scored:,}[/] scored rows and [bold]{result.rejected:,}[/] "
            f"rejected, by {result.model_id}"
        )
    else:
        rate = result.rows_this_run / result.seconds if result.seconds else 0.0
        already = f", {result.skipped:,} already done" if result.skipped else ""
        out.print(
            f"scored [bold]{result.scored:,}[/] rows, rejected [bold]{result.rejected:,}[/] "
            f"in {result.partitions:,} partitions{already}; this run read "
            f"{result.rows_this_run:,} rows of {result.partitions - result.skipped:,} "
            f"partitions in {result.seconds:.1f} s ({rate:,.0f} rows/s) with {result.model_id}"
        )
    for reason, count in sorted(result.reasons.items()):
        out.print(f"  rejected, {reason}: {count:,}")
    out.print(f"output: {result.output} (rejects in {result.output / '_rejects'})")


def train_with_dask(
    data: list[str],
    out_dir: Path,
    *,
    preset: str,
    params: dict[str, Any],
    columns: dict[str, Any],
    test_size: float,
    seed: int,
    refused: dict[str, bool],
    as_json: bool,
) -> None:
    """``veracity train --engine dask``: train out of core, save, print like ``train``."""
    from veracity.models.artifact import load_card, save_model
    from veracity.training import train

    given = [name for name, used in refused.items() if used]
    if given:
        raise InputError(
            f"{', '.join(given)} cannot be used with --engine dask (it holds out a hashed "
            f"--test-size share of the rows); drop {'them' if len(given) > 1 else 'it'} or use "
            "--engine memory"
        )
    settings = Settings()
    with _progress() as progress:
        task = progress.add_task("starting", total=None)
        result = train(
            data,
            engine="dask",
            preset=preset,
            params=params,
            columns=columns,
            test_size=test_size,
            seed=seed,
            settings=settings,
            stage=lambda name: progress.update(task, description=name),
        )
        progress.update(task, description="saving")
        path = save_model(result.estimator, out_dir, result.card)
        progress.update(task, description="done")
    card = load_card(path)
    if as_json:
        out.print_json(json.dumps({"model": str(path), "card": card.to_dict()}, default=str))
        return
    report = result.report
    out.print(f"saved [bold]{card.model_id}[/] to {path}")
    out.print(
        f"rows: {report['rows_loaded']:,} loaded, {report['rejected']:,} rejected, "
        f"{report['duplicates_dropped']:,} exact duplicates dropped, "
        f"{report['train_rows']:,} trained on over {report['epochs']} epochs of "
        f"{report['partitions']:,} partitions; fit {report['fit_seconds']} s"
    )
    for name, metrics in result.test_metrics.items():
        _print_metrics(name, metrics)
