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
from typing import Annotated, Any, Literal, TypeVar

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
    split: Annotated[
        str, typer.Option(help="Held-out split: random (stratified), group or temporal.")
    ] = "random",
    group_col: Annotated[
        str | None, typer.Option(help="With --split group: column whose values stay together.")
    ] = None,
    target: Annotated[str, typer.Option(help="Label column: label, or label6 (LIAR).")] = "label",
    no_scrub: Annotated[
        bool, typer.Option("--no-scrub", help="Train on raw text (to measure shortcuts).")
    ] = False,
    calibration: Annotated[
        str, typer.Option(help="sigmoid, isotonic or temperature (binary only).")
    ] = "sigmoid",
    balance: Annotated[
        bool, typer.Option("--balance", help="Give every training dataset the same total weight.")
    ] = False,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 42,
    with_feedback: Annotated[
        list[Path] | None,
        typer.Option(
            "--with-feedback",
            help="Also train on a `veracity feedback export` CSV (dataset 'feedback'); repeatable.",
        ),
    ] = None,
    text_col: TextCol = None,
    title_col: TitleCol = None,
    label_col: LabelCol = None,
    id_col: IdCol = None,
    positive: Positive = None,
    as_json: JsonOpt = False,
) -> None:
    """Train a model on datasets (deduplicated, leakage-free split) and save it with its card."""
    from veracity.models.artifact import load_card, save_model
    from veracity.training import feedback_dataset
    from veracity.training import train as train_model

    cols = _columns(text_col, title_col, label_col, id_col, positive)
    with _errors():
        if calibration not in ("sigmoid", "isotonic", "temperature"):
            raise InputError(
                f"--calibration must be sigmoid, isotonic or temperature, not {calibration!r}"
            )
        settings = Settings()
        with _progress() as progress:
            stage, advance = _staged(progress)
            stage("loading datasets")
            train_sets = _load_all(data, cols, settings)
            if with_feedback:
                train_sets.append(feedback_dataset(with_feedback, settings=settings))
            tests = _load_all(test_data or [], cols, settings)
            result = train_model(
                train_sets,
                preset=preset,
                params={"preprocess": not no_scrub, "calibration": calibration},
                target=target,
                balance=balance,
                test_size=test_size,
                strategy=_split_strategy(split),
                group_col=group_col,
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


def _split_strategy(name: str) -> Literal["random", "group", "temporal"]:
    if name == "random":
        return "random"
    if name == "group":
        return "group"
    if name == "temporal":
        return "temporal"
    raise InputError(f"--split must be random, group or temporal, not {name!r}")


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


CrossOpt = Annotated[
    bool,
    typer.Option(
        "--cross",
        help="Train on each --data dataset and test on the others (cross-dataset matrix).",
    ),
]
MaxRowsOpt = Annotated[
    int | None,
    typer.Option(
        "--max-rows",
        min=20,
        help="With --cross: subsample each dataset to at most this many rows (stratified).",
    ),
]


def _cross_matrix(
    datasets: list[Any],
    *,
    mode: str,
    max_rows: int | None,
    settings: Settings,
    progress: Progress,
) -> Any:
    from veracity.evaluate.crossdata import cross_dataset_matrix

    stage, advance = _staged(progress)
    return cross_dataset_matrix(
        datasets,
        mode="leave-one-out" if mode == "leave-one-out" else "pairwise",
        seed=settings.seed,
        max_rows_per_dataset=max_rows,
        stage=stage,
        advance=advance,
    )


def _print_cross(matrix: Any) -> None:
    title = (
        f"cross-dataset, {matrix.mode}: rows trained on, columns tested on "
        "(ROC-AUC and accuracy with 95% CI)"
    )
    table = Table(title=title, show_lines=True)
    table.add_column("trained on")
    for name in matrix.test_names:
        table.add_column(name, justify="right")
    for row in matrix.train_names:
        cells = []
        for col in matrix.test_names:
            cell = matrix.cell(row, col)
            if cell is None:
                cells.append("")
            elif cell.metrics is None:
                cells.append(f"no rows left\n({cell.leaks_dropped:,} leaks)")
            else:
                m = cell.metrics
                auc = m.roc_auc
                auc_text = (
                    "AUC n/a"
                    if auc is None
                    else f"AUC {auc.value:.2f} [{auc.low:.2f},{auc.high:.2f}]"
                )
                acc = m.accuracy
                lines = [
                    auc_text,
                    f"acc {acc.value:.2f} [{acc.low:.2f},{acc.high:.2f}]",
                    f"n={m.n:,}" + (" in-domain" if cell.in_domain else ""),
                ]
                if cell.leaks_dropped:
                    lines.append(f"{cell.leaks_dropped:,} leaks dropped")
                cells.append("\n".join(lines))
        table.add_row(row, *cells)
    out.print(table)
    for name, info in matrix.data.items():
        mapping = info["label_mapping"]["mapping"]
        if isinstance(mapping, dict):
            shown = "; ".join(f"{k} <- {', '.join(v)}" for k, v in mapping.items())
            source = info["label_mapping"]["source_column"]
            out.print(f"{name}: labels mapped from {source}: {shown}", style="dim", markup=False)
    fits = ", ".join(f"{k} {v:.1f} s" for k, v in matrix.fit_seconds.items())
    out.print(f"[dim]fit times: {fits}; total {matrix.seconds:.1f} s[/]")


@app.command()
def evaluate(
    data: DataOpt,
    model: ModelOpt = None,
    target: Annotated[str, typer.Option(help="Label column: label, or label6 (LIAR).")] = "label",
    cross: CrossOpt = False,
    leave_one_out: Annotated[
        bool,
        typer.Option(
            "--leave-one-out",
            help="Cross-dataset, but train on all datasets except one and test on that one.",
        ),
    ] = False,
    max_rows: MaxRowsOpt = None,
    text_col: TextCol = None,
    title_col: TitleCol = None,
    label_col: LabelCol = None,
    id_col: IdCol = None,
    positive: Positive = None,
    as_json: JsonOpt = False,
) -> None:
    """Score labelled datasets: accuracy, macro-F1, ROC-AUC, ECE, Brier, confusion matrix.

    With --cross (or --leave-one-out) no model is loaded: a model is trained per row of a
    train-on-A / test-on-B matrix over the --data datasets, leakage-free.
    """
    from veracity.detector import Detector
    from veracity.evaluate.run import evaluate_dataset

    cols = _columns(text_col, title_col, label_col, id_col, positive)
    if cross or leave_one_out:
        with _errors():
            if model is not None:
                raise InputError(
                    "--model does not apply to --cross: the matrix trains its own models"
                )
            if target != "label":
                raise InputError("--cross compares binary fake/reliable labels: drop --target")
            settings = Settings()
            with _progress() as progress:
                stage, _ = _staged(progress)
                stage("loading datasets")
                datasets = _load_all(data, cols, settings)
                matrix = _cross_matrix(
                    datasets,
                    mode="leave-one-out" if leave_one_out else "pairwise",
                    max_rows=max_rows,
                    settings=settings,
                    progress=progress,
                )
        if as_json:
            out.print_json(json.dumps({"cross": matrix.to_dict()}, default=str))
        else:
            _print_cross(matrix)
        return
    results = {}
    with _errors():
        if max_rows is not None:
            raise InputError("--max-rows applies to --cross only")
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


def _audits(datasets: list[Any], settings: Settings, progress: Progress) -> dict[str, Any]:
    """The shortcut and leakage audit of each dataset, as JSON-ready dicts."""
    from veracity.evaluate.audit import audit_dataset

    audits = {}
    for ds in datasets:
        task = progress.add_task(f"auditing {ds.name}", total=None)
        audits[ds.name] = audit_dataset(ds, seed=settings.seed).to_dict()
        progress.update(task, completed=1, total=1)
    return audits


@app.command()
def report(
    data: DataOpt,
    model: ModelOpt = None,
    cross: CrossOpt = False,
    out_file: Annotated[Path, typer.Option("--out", "-o", help="HTML file to write.")] = Path(
        "report.html"
    ),
    max_rows: MaxRowsOpt = None,
    no_audit: Annotated[
        bool, typer.Option("--no-audit", help="Leave out the shortcut and leakage audit.")
    ] = False,
    text_col: TextCol = None,
    title_col: TitleCol = None,
    label_col: LabelCol = None,
    id_col: IdCol = None,
    positive: Positive = None,
) -> None:
    """Write one self-contained HTML report: calibration, ROC, confusion, cross-dataset, audit."""
    from veracity.detector import Detector
    from veracity.evaluate.report import score_dataset, write_report

    cols = _columns(text_col, title_col, label_col, id_col, positive)
    with _errors():
        if max_rows is not None and not cross:
            raise InputError("--max-rows applies to --cross only")
        settings = Settings()
        detector = Detector.from_path(model, settings=settings)
        card = detector.model.card
        with _progress() as progress:
            stage, _ = _staged(progress)
            stage("loading datasets")
            datasets = _load_all(data, cols, settings)
            evaluations = []
            for ds in datasets:
                task = progress.add_task(f"scoring {ds.name}", total=len(ds.frame))
                evaluations.append(
                    score_dataset(
                        detector.estimator,
                        ds,
                        training_data=card.training_data,
                        seed=settings.seed,
                        advance=partial(progress.advance, task),
                    )
                )
            audits, note = None, "The data audit was left out (--no-audit)."
            if not no_audit:
                audits, note = _audits(datasets, settings, progress), ""
            matrix = None
            if cross:
                matrix = _cross_matrix(
                    datasets,
                    mode="pairwise",
                    max_rows=max_rows,
                    settings=settings,
                    progress=progress,
                )
            stage("writing the report")
            path = write_report(
                out_file,
                evaluations=evaluations,
                cross=matrix,
                audits=audits,
                model=card.to_dict(),
                notes=[note] if note else [],
            )
            stage("done")
    size = path.stat().st_size / 1e6
    out.print(f"wrote [bold]{path}[/] ({size:.1f} MB)", highlight=False, soft_wrap=True)
    for ev in evaluations:
        flag = " [yellow](in the model's training data)[/]" if ev.in_training else ""
        out.print(
            f"{ev.name}: {ev.metrics.n:,} rows, ROC-AUC {ev.metrics.roc_auc}{flag}",
            highlight=False,
            soft_wrap=True,
        )


@app.command()
def audit(
    data: Annotated[
        str, typer.Argument(help="Dataset name (isot_sample, liar:train, …) or a file path.")
    ],
    max_rows: Annotated[
        int | None,
        typer.Option("--max-rows", min=20, help="Audit a stratified sample of this many rows."),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed (default: settings).")] = None,
    text_col: TextCol = None,
    title_col: TitleCol = None,
    label_col: LabelCol = None,
    id_col: IdCol = None,
    positive: Positive = None,
    as_json: JsonOpt = False,
) -> None:
    """Audit a labelled dataset for shortcuts and leaks: what gives the label away for free."""
    from rich.markup import escape

    from veracity.evaluate.audit import AUDIT_STEPS, audit_dataset

    cols = _columns(text_col, title_col, label_col, id_col, positive)
    with _errors():
        settings = Settings()
        with _progress() as progress:
            stage, advance = _staged(progress, total=AUDIT_STEPS)
            stage("loading dataset")
            (dataset,) = _load_all([data], cols, settings)
            stage(f"auditing {dataset.name}")
            report = audit_dataset(
                dataset,
                seed=settings.seed if seed is None else seed,
                max_rows=max_rows,
                advance=advance,
            )
            stage("done")
    if as_json:
        out.print_json(json.dumps(report.to_dict()))
        return

    def flag(flagged: bool) -> str:
        return "[bold red]yes[/]" if flagged else ""

    def num(value: object) -> str:
        return f"{value:,.4g}" if isinstance(value, float) else escape(str(value))

    labels = ", ".join(f"{n:,} {label}" for label, n in report.labels.items())
    out.print(
        f"[bold]{escape(report.dataset)}[/]: {report.rows_audited:,} of {report.rows:,} rows "
        f"audited ({labels}) in {report.seconds} s"
    )
    terms = Table(
        title=f"token shortcuts ({report.terms_flagged:,} terms pass the rule; "
        "related terms folded in)"
    )
    for name in ("field", "term", "points to", "fake", "reliable", "purity", "coverage"):
        terms.add_column(name, justify="right" if name in ("fake", "reliable") else "left")
    for name in ("separation", "survives prepare", "flagged", "also"):
        terms.add_column(name)
    for t in report.tokens:
        terms.add_row(
            t.field,
            escape(t.term),
            t.points_to,
            f"{t.fake_rows:,}",
            f"{t.reliable_rows:,}",
            f"{t.purity:.3f}",
            f"{t.coverage:.3f}",
            f"{t.separation:.3f}",
            f"{t.survives_prepare:.0%}",
            flag(t.flagged),
            escape(", ".join(t.related[:4])),
        )
    out.print(terms)
    leaks = Table(title="metadata and format leaks (separability: ROC-AUC of the feature alone)")
    for name in ("feature", "statistic", "fake", "reliable", "separability", "accuracy"):
        leaks.add_column(name, overflow="fold")
    for name in ("flagged", "note"):
        leaks.add_column(name, overflow="fold")
    for r in report.leaks:
        leaks.add_row(
            escape(r.feature),
            r.statistic,
            num(r.fake),
            num(r.reliable),
            f"{r.separability:.3f}",
            f"{r.accuracy:.3f}",
            flag(r.flagged),
            escape(r.note),
        )
    out.print(leaks)
    for d in report.dates:
        ranges = "; ".join(
            f"{label}: {d.first[label]} … {d.last[label]} ({d.unparsed[label]:,} unparsed)"
            for label in ("fake", "reliable")
        )
        formats = Table(title=f"{escape(d.column)}: formats per class", caption=ranges)
        for name in ("format", "fake", "reliable"):
            formats.add_column(name, justify="left" if name == "format" else "right")
        for f in d.formats:
            formats.add_row(escape(f.shape), f"{f.fake:,}", f"{f.reliable:,}")
        out.print(formats)
    dups = report.duplicates
    dup_table = Table(title="duplicates (prepared text)")
    dup_table.add_column("")
    dup_table.add_column("value", justify="right")
    dup_rows = [
        ("rows", f"{dups.rows:,}"),
        ("exact duplicates (dropped by dedup)", f"{dups.exact_dropped:,}"),
        ("near duplicates (dropped by dedup)", f"{dups.near_dropped:,}"),
        ("clusters with more than one row", f"{dups.duplicate_clusters:,}"),
        ("largest cluster", f"{dups.largest_cluster:,}"),
        ("clusters with conflicting labels", f"{dups.conflicting_labels:,}"),
    ]
    if dups.across_splits is not None:
        for pair, n in dups.across_splits.items():
            dup_rows.append((f"clusters shared by {pair}", f"{n:,}"))
        dup_rows.append(("rows in clusters across splits", f"{dups.rows_across_splits or 0:,}"))
    for key, value in dup_rows:
        dup_table.add_row(escape(key), value)
    out.print(dup_table)
    base = Table(title="baselines: out-of-fold scores of models that see only shortcuts")
    for name in ("model", "accuracy", "ROC-AUC", "majority class", "features"):
        base.add_column(name, justify="left" if name in ("model", "features") else "right")
    for b in report.baselines:
        shown = ", ".join(b.features[:6]) + (
            f" (+{len(b.features) - 6})" if len(b.features) > 6 else ""
        )
        base.add_row(
            b.name,
            f"{b.accuracy:.3f}",
            f"{b.roc_auc:.3f}",
            f"{b.majority:.3f}",
            escape(shown or "(nothing flagged)"),
        )
    out.print(base)
    for note in report.notes:
        out.print(f"[dim]note: {escape(note)}[/]")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port to listen on.")] = 8000,
) -> None:
    """Run the web service: JSON API under /v1, the web page at /, API docs at /docs.

    The database (VERACITY_DATABASE_URL) is migrated to the newest schema on startup.
    """
    from veracity.serve.app import run

    with _errors():
        run(Settings(), host=host, port=port)


db_app = typer.Typer(
    help="Manage the database of checks and feedback (VERACITY_DATABASE_URL).",
    no_args_is_help=True,
)
app.add_typer(db_app, name="db")


def _shown_url(database_url: str) -> str:
    """The database URL with any password hidden."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(database_url).render_as_string(hide_password=True)
    except ArgumentError:
        raise InputError(
            f"VERACITY_DATABASE_URL is not a database URL: {database_url!r} "
            "(example: sqlite:///veracity.db)"
        ) from None


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create the database, or migrate it to the newest schema (safe to repeat)."""
    from veracity.store.migrate import HEAD, upgrade

    with _errors():
        settings = Settings()
        shown = _shown_url(settings.database_url)
        upgrade(settings.database_url)
    out.print(f"database {shown} is at schema revision {HEAD}", highlight=False)


def _export_feedback(path: Path) -> None:
    """Write the feedback training CSV from VERACITY_DATABASE_URL and say how many rows."""
    from veracity.store.migrate import current_revision, make_engine
    from veracity.store.repository import export_feedback, sessions

    with _errors():
        settings = Settings()
        shown = _shown_url(settings.database_url)
        engine = make_engine(settings.database_url)
        try:
            if current_revision(engine) is None:
                raise InputError(
                    f"database {shown} has no veracity tables: run `veracity db upgrade`"
                )
            with sessions(engine)() as session:
                rows = export_feedback(session, path)
        finally:
            engine.dispose()
    out.print(f"wrote {rows:,} rows to {path}", highlight=False, soft_wrap=True)


ExportPath = Annotated[Path, typer.Argument(help="CSV file to write (id,title,text,label).")]


@db_app.command("export-feedback")
def db_export_feedback(path: ExportPath) -> None:
    """Write checks that have feedback as a training CSV (alias of `veracity feedback export`)."""
    _export_feedback(path)


feedback_app = typer.Typer(
    help="Turn people's feedback on checks into training data.", no_args_is_help=True
)
app.add_typer(feedback_app, name="feedback")


@feedback_app.command("export")
def feedback_export(path: ExportPath) -> None:
    """Write checks that have feedback as a training CSV for `veracity train --with-feedback`.

    The label of each row is the corrected label, or the verdict's label when the person
    agreed (the other label when they disagreed).
    """
    _export_feedback(path)


keys_app = typer.Typer(
    help="Manage the API keys of the HTTP service (used when VERACITY_REQUIRE_API_KEY=true).",
    no_args_is_help=True,
)
app.add_typer(keys_app, name="keys")


@contextmanager
def _keys_session() -> Iterator[Any]:
    """A session on VERACITY_DATABASE_URL, whose schema must be current."""
    from veracity.store.migrate import HEAD, current_revision, make_engine
    from veracity.store.repository import sessions

    settings = Settings()
    shown = _shown_url(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        if current_revision(engine) != HEAD:
            raise InputError(
                f"database {shown} is not at the newest schema: run `veracity db upgrade`"
            )
        with sessions(engine)() as session:
            yield session
    finally:
        engine.dispose()


@keys_app.command("create")
def keys_create(
    name: Annotated[
        str, typer.Argument(help="Who or what the key is for (unique among active keys).")
    ],
) -> None:
    """Make a new API key and print it once: only its hash is stored, it cannot be shown again."""
    from veracity.store.repository import create_api_key

    with _errors(), _keys_session() as session:
        row, key = create_api_key(session, name)
    err.print(f"created key {row.name!r} ({row.prefix}…); store it now, it is not shown again:")
    out.print(key, highlight=False, soft_wrap=True)


@keys_app.command("list")
def keys_list() -> None:
    """List the API keys: name, prefix, when made and revoked (never the keys themselves)."""
    from veracity.store.repository import list_api_keys

    with _errors(), _keys_session() as session:
        rows = list_api_keys(session)
    if not rows:
        out.print("no API keys; make one with `veracity keys create NAME`")
        return
    table = Table("name", "prefix", "created", "status")
    for row in rows:
        status = "active" if row.revoked_at is None else f"revoked {row.revoked_at:%Y-%m-%d %H:%M}"
        table.add_row(row.name, f"{row.prefix}…", f"{row.created_at:%Y-%m-%d %H:%M}", status)
    out.print(table)


@keys_app.command("revoke")
def keys_revoke(
    name_or_prefix: Annotated[str, typer.Argument(help="The key's name, or its prefix (vk_…).")],
) -> None:
    """Revoke an API key: requests with it get 401 from now on."""
    from veracity.store.repository import revoke_api_key

    with _errors(), _keys_session() as session:
        row = revoke_api_key(session, name_or_prefix)
        if row is None:
            raise InputError(
                f"no active key has the name or prefix {name_or_prefix!r}; see `veracity keys list`"
            )
    out.print(f"revoked key {row.name!r} ({row.prefix}…)", highlight=False)


@app.command()
def version() -> None:
    """Print the veracity version."""
    out.print(__version__)


def main() -> None:
    """Entry point of the ``veracity`` console script."""
    app()
