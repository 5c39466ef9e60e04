"""Shared pieces of the command line: the Typer app, consoles, options, error handling."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from typer.core import TyperCommand, TyperGroup
from typer.models import CommandFunctionType

from veracity.errors import InputError, VeracityError
from veracity.settings import Settings


class _FlagsAsFlags:
    """Help that shows a flag as ``--json``, never ``--json <bool>``.

    Typer's rich help prints every option's type, flags too (``--help <bool>``),
    which reads as if the flag took a value. An empty metavar leaves the type column
    blank; flags take no value, so nothing else uses it.
    """

    params: list[Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _blank_flag_types(self.params)

    def get_help_option(self, ctx: Any) -> Any:
        """The ``--help`` option, shown as a flag too."""
        option = super().get_help_option(ctx)  # type: ignore[misc]
        _blank_flag_types([option])
        return option


class _Command(_FlagsAsFlags, TyperCommand):
    """A command whose help shows flags as flags."""


class _Group(_FlagsAsFlags, TyperGroup):
    """A command group whose help shows flags as flags."""


def _blank_flag_types(params: list[Any]) -> None:
    for param in params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""


class _Typer(typer.Typer):
    """``typer.Typer`` whose groups and commands show flags as flags."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("cls", _Group)
        super().__init__(**kwargs)

    def command(
        self, name: str | None = None, **kwargs: Any
    ) -> Callable[[CommandFunctionType], CommandFunctionType]:
        """Register a command (a :class:`_Command` unless ``cls`` is given)."""
        kwargs.setdefault("cls", _Command)
        return super().command(name, **kwargs)


app = _Typer(
    name="veracity",
    help="Tell reliable news from fake news: calibrated verdicts with evidence, honest numbers.",
    epilog="Exit codes: 0 done; 2 bad input, option, setting or database; 3 the model cannot "
    "be used; 4 serve cannot listen on its host and port (port in use); 130 interrupted.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
out = Console()
err = Console(stderr=True)


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
        # escaped: messages quote user input ("[/bold]" would be read as markup)
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None
    except OSError as exc:  # a path the OS refuses: too long, not permitted, a full disk
        name = str(exc.filename or "")
        shown = f" ({name[:100]}…)" if len(name) > 100 else f" ({name})" if name else ""
        reason = escape(f"{exc.strerror or exc}{shown}")
        err.print(
            f"[bold red]error:[/] {reason}; check the path",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(2) from None
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


def _set_total(progress: Progress, task: TaskID, total: int) -> None:
    """Give a progress bar its total once the work is known (a ``total`` callback)."""
    progress.update(task, total=total)


def _load_all(names: list[str], columns: dict[str, Any], settings: Settings) -> list[Any]:
    from veracity.data import load_dataset
    from veracity.errors import DataFormatError

    datasets = [load_dataset(name, settings=settings, **columns) for name in names]
    for ds in datasets:
        if not len(ds.frame):
            raise DataFormatError(
                f"dataset {ds.name!r}: none of its {ds.rows_read:,} rows has a title or a "
                "text; check the text column (--text-col)."
            )
    return datasets


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
ParamOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--param",
        help="Override a preset parameter, KEY=VALUE (value read as JSON, else text); repeatable.",
    ),
]
PresetOpt = Annotated[str, typer.Option(help="Model preset (see README's presets table).")]


def _params(items: list[str] | None) -> dict[str, Any]:
    """``["C=3", "calibration=isotonic"]`` → ``{"C": 3, "calibration": "isotonic"}``."""
    params: dict[str, Any] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--param takes KEY=VALUE, got {item!r}")
        try:
            value: Any = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        params[key.strip()] = tuple(value) if isinstance(value, list) else value
    return params
