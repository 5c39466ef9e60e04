"""`veracity check` and `veracity train`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.markup import escape
from rich.table import Table

from veracity.cli._common import (
    DataOpt,
    IdCol,
    JsonOpt,
    LabelCol,
    ModelOpt,
    ParamOpt,
    Positive,
    TextCol,
    TitleCol,
    _columns,
    _errors,
    _load_all,
    _params,
    _print_metrics,
    _progress,
    _staged,
    app,
    out,
)
from veracity.errors import InputError, InputTooLargeError
from veracity.settings import Settings
from veracity.types import SCOPE, Evidence, format_probability

#: What to do about a document over the size limit (``.format(limit)``).
_OVER_LIMIT = (
    "the limit for one document is {:,} bytes (VERACITY_MAX_DOCUMENT_BYTES). For many "
    "articles, put one a row in a CSV/JSONL/Parquet file and score it with "
    "`veracity batch --input FILE --output DIR`."
)


def _read_input(text: str | None, file: Path | None, settings: Settings) -> str:
    """The one document to check, from the argument, a file or stdin (``-``), size-limited."""
    limit = settings.max_document_bytes
    if file is not None and text is not None:
        raise InputError("give either TEXT or --file, not both")
    if file is not None:
        if file.is_dir():
            raise InputError(
                f"{file} is a directory, not a file; give --file one article's text file "
                "(for many articles in CSV/JSONL/Parquet files use `veracity batch`)"
            )
        if not file.is_file():
            raise InputError(f"no such file: {file}")
        size = file.stat().st_size
        if size > limit:
            raise InputTooLargeError(f"{file} is {size:,} bytes; {_OVER_LIMIT.format(limit)}")
        data = file.read_bytes()
        source = str(file)
    elif text == "-":
        data = sys.stdin.buffer.read(limit + 1)
        source = "standard input"
        if len(data) > limit:
            raise InputTooLargeError(f"standard input is too large; {_OVER_LIMIT.format(limit)}")
    elif text is not None:
        return text
    else:
        raise InputError("nothing to check: give TEXT, --file PATH, or - to read stdin")
    nul = data.find(b"\x00")
    if 0 <= nul < 8192:
        raise InputError(f"{source} looks binary (NUL bytes); give a text file")
    if nul >= 0:  # the service refuses such texts too
        raise InputError(f"{source} holds a NUL byte at offset {nul:,}; remove it")
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
        detector = Detector.from_path(model, settings=settings, fast=True)
        verdict = detector.check(document)
    if as_json:
        out.print_json(json.dumps(verdict.to_dict()))
        return
    colour = {"reliable": "green", "fake": "red", "not sure": "yellow"}[verdict.verdict]
    out.print(
        f"[bold {colour}]{verdict.verdict.upper()}[/]  probability of fake: "
        f"[bold]{format_probability(verdict.probability)}[/]  ({verdict.input_form} input)"
    )
    if verdict.reason:
        out.print(f"[yellow]not sure:[/] {verdict.reason}")
    _print_evidence(verdict.evidence)
    out.print(f"[dim]model {verdict.model_id}. {SCOPE}[/]")


def _print_evidence(evidence: list[Evidence]) -> None:
    """Phrases and signals in a table, then the sentences that moved the verdict most."""
    items = [ev for ev in evidence if ev.kind != "sentence"]
    if items:
        table = Table(title="evidence (part of the log-odds of fake each added)")
        table.add_column("phrase or signal")
        table.add_column("weight", justify="right")
        table.add_column("toward")
        for ev in items:
            term = " ".join(ev.term.split())
            term = term if ev.count == 1 else f"{term} (\u00d7{ev.count})"
            table.add_row(escape(term), f"{ev.weight:+.2f}", ev.toward)
        out.print(table)
    for ev in evidence:
        if ev.kind == "sentence":
            out.print(
                f"[bold]sentence toward {ev.toward}[/] ({ev.weight:+.2f}): "
                f"\u201c{escape(' '.join(ev.term.split()))}\u201d"
            )


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
        str | None,
        typer.Option(help="sigmoid, isotonic or temperature (binary only; preset default)."),
    ] = None,
    param: ParamOpt = None,
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
    selection: Annotated[
        Path | None,
        typer.Option(
            help="JSON written by bench/accuracy.py --json-out: records why this preset "
            "was chosen in the model card."
        ),
    ] = None,
    engine: Annotated[
        str,
        typer.Option(help="memory (default) or dask: out-of-core partial_fit over partitions."),
    ] = "memory",
    as_json: JsonOpt = False,
) -> None:
    """Train a model on datasets (deduplicated, leakage-free split) and save it with its card."""
    from veracity.models import require_preset
    from veracity.models.artifact import load_card, save_model
    from veracity.training import feedback_dataset
    from veracity.training import train as train_model

    cols = _columns(text_col, title_col, label_col, id_col, positive)
    with _errors():
        params = _params(param)
        if calibration is not None:
            if calibration not in ("sigmoid", "isotonic", "temperature"):
                raise InputError(
                    f"--calibration must be sigmoid, isotonic or temperature, not {calibration!r}"
                )
            params["calibration"] = calibration
        if no_scrub:
            params["preprocess"] = False
        settings = Settings()
        if engine not in ("memory", "dask"):
            raise InputError(f"--engine must be memory or dask, not {engine!r}")
        require_preset(preset, params)  # before any data is read
        if engine == "dask":
            from veracity.cli.batch import train_with_dask

            refused = {
                "--test-data": bool(test_data),
                "--with-feedback": bool(with_feedback),
                "--balance": balance,
                "--split": split != "random",
                "--group-col": bool(group_col),
                "--target": target != "label",
            }
            return train_with_dask(
                data,
                out_dir,
                preset=preset,
                params=params,
                columns=cols,
                test_size=test_size,
                seed=seed,
                refused=refused,
                as_json=as_json,
            )
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
                params=params,
                card_extra=_selection(selection, preset, params),
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


def _selection(path: Path | None, preset: str, params: dict[str, Any]) -> dict[str, Any]:
    """The ``selection`` block of a bench/accuracy.py result, checked against the model asked for.

    The preset and every parameter the benchmark chose must be the ones given, so a card
    never records a choice that was not the model it describes.
    """
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        chosen = data["selection"]
        name = chosen.get("name", chosen["preset"])
        rows = [r for r in data["results"] if r.get("name", r["preset"]) == name]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(
            f"--selection {path}: not a results file of bench/accuracy.py --json-out ({exc!r})"
        ) from None
    if chosen.get("preset") != preset:
        raise InputError(
            f"--selection {path} chose {chosen.get('preset')!r}, but --preset is {preset!r}"
        )
    differ = {k: v for k, v in (chosen.get("params") or {}).items() if params.get(k) != v}
    if differ:
        wanted = " ".join(f"--param {k}={v}" for k, v in differ.items())
        raise InputError(f"--selection {path} chose {name!r}: add {wanted}")
    return {
        "selection": {
            **chosen,
            "datasets": (data.get("rule") or {}).get("datasets", data.get("datasets")),
            "lodo": rows[0].get("folds", rows[0].get("lodo")) if rows else None,
            "nested": (data.get("nested") or {}).get("folds"),
            "commit": data.get("commit"),
            "source": "bench/accuracy.py",
        }
    }


def _split_strategy(name: str) -> Literal["random", "group", "temporal"]:
    if name == "random":
        return "random"
    if name == "group":
        return "group"
    if name == "temporal":
        return "temporal"
    raise InputError(f"--split must be random, group or temporal, not {name!r}")
