"""The ``veracity`` command line: a thin face over the library.

Each command parses its options, calls the library and prints with rich. Errors
that veracity raises on purpose become one line on stderr and a non-zero exit
code (2: bad input, 3: model problem); nothing prints a traceback.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from veracity import __version__
from veracity.errors import InputError, InputTooLargeError, VeracityError
from veracity.settings import Settings

__all__ = ["app", "main"]

app = typer.Typer(
    name="veracity",
    help="Tell reliable news from fake news: calibrated verdicts with evidence, honest numbers.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
out = Console()
err = Console(stderr=True)
T = TypeVar("T")

ModelOpt = Annotated[
    Path | None,
    typer.Option("--model", "-m", help="Model directory (default: the bundled model)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
DataOpt = Annotated[
    list[str],
    typer.Option(
        "--data",
        "-d",
        help="Dataset name (isot_sample, liar:train, fakenewsamt, …) or a path; repeatable.",
    ),
]
TextCol = Annotated[str | None, typer.Option(help="Text column of a generic file.")]
TitleCol = Annotated[str | None, typer.Option(help="Title column of a generic file.")]
LabelCol = Annotated[str | None, typer.Option(help="Label column of a generic file.")]
IdCol = Annotated[str | None, typer.Option(help="Id column of a generic file.")]
Positive = Annotated[
    str | None,
    typer.Option(help="Raw label value that means fake, for 0/1 labels (e.g. --positive 1)."),
]


@contextmanager
def _errors() -> Iterator[None]:
    """Turn deliberate errors into one line and an exit code; Ctrl-C into exit 130."""
    try:
        yield
    except VeracityError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        err.print("interrupted")
        raise typer.Exit(130) from None


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
        disable=not err.is_terminal,
    )


def _read_input(text: str | None, file: Path | None, settings: Settings) -> str:
    """The one document to check, from the argument, a file or stdin (``-``), size-limited."""
    limit = settings.max_document_bytes
    if file is not None and text is not None:
        raise InputError("give either TEXT or --file, not both")
    if file is not None:
        if not file.is_file():
            raise InputError(f"no such file: {file}")
        size = file.stat().st_size
        if size > limit:
            raise InputTooLargeError(
                f"{file} is {size:,} bytes; the limit for one document is {limit:,} bytes "
                "(VERACITY_MAX_DOCUMENT_BYTES). For many articles use `veracity evaluate` "
                "with a CSV/JSONL/Parquet file."
            )
        data = file.read_bytes()
        source = str(file)
    elif text == "-":
        data = sys.stdin.buffer.read(limit + 1)
        source = "standard input"
        if len(data) > limit:
            raise InputTooLargeError(
                f"standard input is over the limit of {limit:,} bytes for one document"
            )
    elif text is not None:
        return text
    else:
        raise InputError("nothing to check: give TEXT, --file PATH, or - to read stdin")
    if b"\x00" in data[:8192]:
        raise InputError(f"{source} looks binary (NUL bytes); give a text file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{source} is not UTF-8 (bad byte at offset {exc.start}); re-encode it as UTF-8"
        ) from None


@app.command()
def check(
    text: Annotated[
        str | None, typer.Argument(help="Article text, or - to read standard input.")
    ] = None,
    file: Annotated[
        Path | None, typer.Option("--file", "-f", help="Read the article from a file.")
    ] = None,
    model: ModelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Check one article: verdict, calibrated probability of fake, and the evidence."""
    from veracity.detector import Detector

    with _errors():
        settings = Settings()
        document = _read_input(text, file, settings)
        detector = Detector.from_path(model, settings=settings)
        verdict = detector.check(document)
    if as_json:
        out.print_json(json.dumps(verdict.to_dict()))
        return
    colour = {"reliable": "green", "fake": "red", "not sure": "yellow"}[verdict.verdict]
    out.print(
        f"[bold {colour}]{verdict.verdict.upper()}[/]  probability of fake: "
        f"[bold]{verdict.probability:.3f}[/]  ({verdict.input_form} input)"
    )
    if verdict.reason:
        out.print(f"[yellow]not sure:[/] {verdict.reason}")
    if verdict.evidence:
        table = Table(title="evidence (contribution to the log-odds of fake)")
        table.add_column("term")
        table.add_column("weight", justify="right")
        table.add_column("toward")
        for ev in verdict.evidence:
            table.add_row(ev.term, f"{ev.weight:+.3f}", ev.toward)
        out.print(table)
    out.print(f"[dim]model {verdict.model_id}[/]")


def _load_all(names: list[str], columns: dict[str, Any], settings: Settings) -> list[Any]:
    from veracity.data import load_dataset

    return [load_dataset(name, settings=settings, **columns) for name in names]


def _columns(
    text_col: str | None,
    title_col: str | None,
    label_col: str | None,
    id_col: str | None,
    positive: str | None,
) -> dict[str, Any]:
    return {
        "text_col": text_col,
        "title_col": title_col,
        "label_col": label_col,
        "id_col": id_col,
        "positive": positive,
    }


def _staged(
    progress: Progress, total: int | None = None
) -> tuple[Callable[[str], None], Callable[[int], None]]:
    task = progress.add_task("starting", total=total)

    def stage(name: str) -> None:
        progress.update(task, description=name)

    def advance(n: int) -> None:
        progress.advance(task, n)

    return stage, advance


@app.command()
def train(
    data: DataOpt,
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Directory to write the model to.")],
    preset: Annotated[str, typer.Option(help="Model preset.")] = "tfidf-lr.v1",
    test_data: Annotated[
        list[str] | None,
        typer.Option("--test-data", help="Test on these datasets instead of a random split."),
    ] = None,
    test_size: Annotated[float, typer.Option(min=0.0, max=0.9, help="Held-out share.")] = 0.2,
    target: Annotated[str, typer.Option(help="Label column: label, or label6 (LIAR).")] = "label",
    no_scrub: Annotated[
        bool, typer.Option("--no-scrub", help="Train on raw text (to measure shortcuts).")
    ] = False,
    calibration: Annotated[str, typer.Option(help="sigmoid or isotonic.")] = "sigmoid",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 42,
    text_col: TextCol = None,
    title_col: TitleCol = None,
    label_col: LabelCol = None,
    id_col: IdCol = None,
    positive: Positive = None,
    as_json: JsonOpt = False,
) -> None:
    """Train a model on datasets (deduplicated, leakage-free split) and save it with its card."""
    from veracity.models.artifact import load_card, save_model
    from veracity.training import train as train_model

    cols = _columns(text_col, title_col, label_col, id_col, positive)
    with _errors():
        if calibration not in ("sigmoid", "isotonic"):
            raise InputError(f"--calibration must be sigmoid or isotonic, not {calibration!r}")
        settings = Settings()
        with _progress() as progress:
            stage, advance = _staged(progress)
            stage("loading datasets")
            train_sets = _load_all(data, cols, settings)
            tests = _load_all(test_data or [], cols, settings)
            result = train_model(
                train_sets,
                preset=preset,
                params={"preprocess": not no_scrub, "calibration": calibration},
                target=target,
                test_size=test_size,
                test_data=tests,
                seed=seed,
                stage=stage,
                advance=advance,
            )
            stage("saving")
            path = save_model(result.estimator, out_dir, result.card)
            stage("done")
    card = load_card(path)
    if as_json:
        out.print_json(json.dumps({"model": str(path), "card": card.to_dict()}, default=str))
        return
    out.print(f"saved [bold]{card.model_id}[/] to {path}")
    out.print(
        f"rows: {result.report['rows_loaded']:,} loaded, "
        f"{result.report['duplicates_dropped']:,} duplicates dropped, "
        f"{result.report['train_rows']:,} trained on; fit {result.report['fit_seconds']} s"
    )
    for name, report in result.test_metrics.items():
        _print_metrics(name, report)


def _print_metrics(name: str, report: Any) -> None:
    table = Table(title=f"{name}: {report.n:,} rows")
    table.add_column("metric")
    table.add_column("value [95% CI]", justify="right")
    table.add_row("accuracy", str(report.accuracy))
    table.add_row("macro-F1", str(report.macro_f1))
    if report.roc_auc is not None:
        table.add_row("ROC-AUC", str(report.roc_auc))
    if report.ece == report.ece:  # not NaN
        table.add_row("ECE (15 bins)", f"{report.ece:.3f}")
        table.add_row("Brier", f"{report.brier:.3f}")
    if report.abstained:
        table.add_row("not sure", f"{report.abstained:,}")
    out.print(table)
    cm = Table(title="confusion matrix (rows: true, columns: predicted)")
    cm.add_column("")
    for label in report.labels:
        cm.add_column(label, justify="right")
    for label, row in zip(report.labels, report.confusion, strict=True):
        cm.add_row(label, *(f"{v:,}" for v in row))
    out.print(cm)


@app.command()
def evaluate(
    data: DataOpt,
    model: ModelOpt = None,
    target: Annotated[str, typer.Option(help="Label column: label, or label6 (LIAR).")] = "label",
    text_col: TextCol = None,
    title_col: TitleCol = None,
    label_col: LabelCol = None,
    id_col: IdCol = None,
    positive: Positive = None,
    as_json: JsonOpt = False,
) -> None:
    """Score labelled datasets: accuracy, macro-F1, ROC-AUC, ECE, Brier, confusion matrix."""
    from veracity.detector import Detector
    from veracity.evaluate.run import evaluate_dataset

    cols = _columns(text_col, title_col, label_col, id_col, positive)
    results = {}
    with _errors():
        settings = Settings()
        detector = Detector.from_path(model, settings=settings)
        with _progress() as progress:
            stage, _ = _staged(progress)
            stage("loading datasets")
            datasets = _load_all(data, cols, settings)
            for ds in datasets:
                task = progress.add_task(f"scoring {ds.name}", total=len(ds.frame))
                results[ds.name] = evaluate_dataset(
                    detector,
                    ds,
                    target=target,
                    seed=settings.seed,
                    advance=partial(progress.advance, task),
                )
            stage("done")
    if as_json:
        payload = {
            "model": detector.model_id,
            "results": {k: v.to_dict() for k, v in results.items()},
        }
        out.print_json(json.dumps(payload, default=str))
        return
    out.print(f"model [bold]{detector.model_id}[/]")
    for name, report in results.items():
        _print_metrics(name, report)


@app.command()
def version() -> None:
    """Print the veracity version."""
    out.print(__version__)


def main() -> None:
    """Entry point of the ``veracity`` console script."""
    app()
