"""`veracity evaluate`, `veracity report` and `veracity audit`: honest numbers."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import (
    Progress,
)
from rich.table import Table

from veracity._extras import require
from veracity.cli._common import (
    CrossOpt,
    DataOpt,
    IdCol,
    JsonOpt,
    LabelCol,
    MaxRowsOpt,
    ModelOpt,
    ParamOpt,
    Positive,
    PresetOpt,
    TextCol,
    TitleCol,
    _columns,
    _errors,
    _load_all,
    _params,
    _print_metrics,
    _progress,
    _set_total,
    _staged,
    app,
    out,
)
from veracity.errors import InputError
from veracity.settings import Settings


def _cross_matrix(
    datasets: list[Any],
    *,
    mode: str,
    max_rows: int | None,
    settings: Settings,
    progress: Progress,
    preset: str = "tfidf-lr.v1",
    params: dict[str, Any] | None = None,
) -> Any:
    from veracity.evaluate.crossdata import cross_dataset_matrix

    stage, advance = _staged(progress)
    return cross_dataset_matrix(
        datasets,
        mode="leave-one-out" if mode == "leave-one-out" else "pairwise",
        preset=preset,
        params=params,
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
    preset: PresetOpt = "tfidf-lr.v1",
    param: ParamOpt = None,
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
                    preset=preset,
                    params=_params(param),
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
        if param or preset != "tfidf-lr.v1":
            raise InputError(
                "--preset and --param apply to --cross and --leave-one-out only "
                "(otherwise the model is --model)"
            )
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
            "warnings": [
                str(v.extra["training_overlap"])
                for v in results.values()
                if v.extra.get("training_overlap")
            ],
        }
        out.print_json(json.dumps(payload, default=str))
        return
    out.print(f"model [bold]{detector.model_id}[/]")
    for name, report in results.items():
        _print_metrics(name, report)
        curve = report.extra.get("risk_coverage")
        if curve:
            points = " · ".join(f"{c:.0%} {a:.3f}" for c, a in curve)
            out.print(f"risk-coverage (accuracy when answering the most confident share): {points}")
        if report.extra.get("training_overlap"):
            out.print(f"[bold yellow]warning:[/] {escape(report.extra['training_overlap'])}")


def _audits(datasets: list[Any], settings: Settings, progress: Progress) -> dict[str, Any]:
    """The shortcut and leakage audit of each dataset, as JSON-ready dicts."""
    from veracity.evaluate.audit import audit_dataset

    audits = {}
    for ds in datasets:
        task = progress.add_task(f"auditing {ds.name}", total=None)
        audits[ds.name] = audit_dataset(ds, seed=settings.seed).to_dict()
        progress.update(task, completed=1, total=1)
    return audits


def _robustness(
    estimator: Any, datasets: list[Any], limit: int, settings: Settings, progress: Progress
) -> list[Any]:
    """The shortcut attacks on a seeded sample of each dataset (for the report)."""
    from veracity.evaluate.robustness import robustness_report

    reports = []
    for ds in datasets:
        task = progress.add_task(f"attacking {ds.name}", total=None)
        reports.append(
            robustness_report(
                estimator,
                ds.texts(),
                ds.labels(),
                limit=limit,
                seed=settings.seed,
                name=ds.name,
                advance=partial(progress.advance, task),
                total=partial(_set_total, progress, task),
            )
        )
    return reports


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
    no_robustness: Annotated[
        bool,
        typer.Option("--no-robustness", help="Leave out the shortcut attacks (robustness)."),
    ] = False,
    robustness_limit: Annotated[
        int,
        typer.Option(
            "--robustness-limit",
            min=1,
            help="Attack a seeded sample of at most this many rows per dataset.",
        ),
    ] = 500,
    text_col: TextCol = None,
    title_col: TitleCol = None,
    label_col: LabelCol = None,
    id_col: IdCol = None,
    positive: Positive = None,
) -> None:
    """Write one self-contained HTML report: calibration, ROC, cross-dataset, robustness, audit."""
    from veracity.detector import Detector
    from veracity.evaluate.report import score_dataset, write_report

    cols = _columns(text_col, title_col, label_col, id_col, positive)
    with _errors():
        require("report", "veracity report")
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
            robustness = None
            if not no_robustness:
                robustness = _robustness(
                    detector.estimator, datasets, robustness_limit, settings, progress
                )
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
                robustness=robustness,
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
