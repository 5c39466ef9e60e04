"""`veracity robustness`: do harmless edits (a dateline, a photo credit, case) flip verdicts?"""

from __future__ import annotations

import json
from functools import partial
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from veracity.cli._common import (
    DataOpt,
    IdCol,
    JsonOpt,
    LabelCol,
    ModelOpt,
    Positive,
    TextCol,
    TitleCol,
    _columns,
    _errors,
    _load_all,
    _progress,
    _set_total,
    _staged,
    app,
    out,
)
from veracity.settings import Settings


def _print_report(report: Any) -> None:
    labels = ", ".join(f"{n:,} {label}" for label, n in report.labels.items())
    table = Table(
        title=f"{escape(report.name)}: {report.rows:,} of {report.total_rows:,} articles "
        f"({labels}); accuracy before the edits {report.accuracy:.3f}"
    )
    for column in ("attack", "edits", "rows", "flipped", "flip rate", "mean shift", "target"):
        table.add_column(column, justify="left" if column in ("attack", "edits") else "right")
    for a in report.attacks:
        if a.target is None:
            target = "—"
        else:
            mark = "[green]ok[/]" if a.passed else "[bold red]missed[/]"
            target = f"< {a.target:.0%} {mark}"
        shift = "—" if a.rows == 0 else f"{a.mean_shift:+.3f} (|{a.mean_abs_shift:.3f}|)"
        table.add_row(
            a.name,
            escape(a.description),
            f"{a.rows:,}",
            f"{a.flipped:,}",
            "—" if a.rows == 0 else f"{a.flip_rate:.2%}",
            shift,
            target,
        )
    out.print(table)


@app.command()
def robustness(
    data: DataOpt,
    model: ModelOpt = None,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            min=1,
            help="Score a seeded random sample of at most this many rows per dataset.",
        ),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed (default: settings).")] = None,
    text_col: TextCol = None,
    title_col: TitleCol = None,
    label_col: LabelCol = None,
    id_col: IdCol = None,
    positive: Positive = None,
    as_json: JsonOpt = False,
) -> None:
    """Shortcut attacks: flip rate and P(fake) shift when a dateline, credit or case changes.

    Prepends a Reuters dateline to fake articles, appends "Featured image via Getty
    Images" to reliable ones, changes case, strips punctuation, swaps synonyms and
    truncates to 100 words; the first five should flip fewer than 2% of verdicts.
    """
    from veracity.detector import Detector
    from veracity.evaluate.robustness import robustness_report

    cols = _columns(text_col, title_col, label_col, id_col, positive)
    reports = []
    with _errors():
        settings = Settings()
        detector = Detector.from_path(model, settings=settings)
        with _progress() as progress:
            stage, _ = _staged(progress)
            stage("loading datasets")
            datasets = _load_all(data, cols, settings)
            for ds in datasets:
                task = progress.add_task(f"attacking {ds.name}", total=None)
                reports.append(
                    robustness_report(
                        detector.estimator,
                        ds.texts(),
                        ds.labels(),
                        limit=limit,
                        seed=settings.seed if seed is None else seed,
                        name=ds.name,
                        advance=partial(progress.advance, task),
                        total=partial(_set_total, progress, task),
                    )
                )
            stage("done")
    if as_json:
        payload = {"model": detector.model_id, "results": [r.to_dict() for r in reports]}
        out.print_json(json.dumps(payload))
        return
    out.print(f"model [bold]{detector.model_id}[/]")
    for report in reports:
        _print_report(report)
    out.print(
        "[dim]flip rate: share of edited articles whose predicted label changed; mean shift: "
        "P(fake) after minus before (|mean absolute change|).[/]"
    )
