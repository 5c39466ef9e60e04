"""The tables, numbers and images of the evaluation report, ready for its template.

Everything here turns results (metric reports, the cross-dataset matrix as a dict,
audit dicts, robustness reports, published numbers) into :class:`Table` objects of
strings and ``<img>`` dicts; :mod:`veracity.evaluate.report` puts them on the page.
This module never imports :mod:`~veracity.evaluate.report` (the report uses the tables,
not the other way round): a dataset's evaluation is read through :class:`Evaluated`.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from veracity.evaluate.published import PublishedResult

if TYPE_CHECKING:
    from veracity.evaluate.metrics import MetricReport

__all__ = [
    "Evaluated",
    "Table",
    "audit_tables",
    "cross_tables",
    "image",
    "interval",
    "number",
    "published_table",
    "robustness_table",
    "summary_table",
]


class Evaluated(Protocol):
    """What :func:`summary_table` reads of a dataset's evaluation (a ``DatasetEvaluation``)."""

    @property
    def name(self) -> str:
        """The dataset's name."""
        ...

    @property
    def metrics(self) -> MetricReport:
        """The model's metrics on it."""
        ...

    @property
    def in_training(self) -> str | None:
        """Why it overlaps the model's training data, or None."""
        ...


def image(png: bytes, alt: str) -> dict[str, Any]:
    """An ``<img>`` for the template: data URI, pixel size (from the PNG header), alt text."""
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    src = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return {"src": src, "width": width, "height": height, "alt": alt}


def number(value: Any, digits: int = 3) -> str:
    """``value`` for a table cell: ``—`` when missing, thousands separators, ``digits`` decimals."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def interval(value: Any, digits: int = 3) -> str:
    """``0.672 [0.620, 0.720]`` from an Interval or its dict; ``—`` when missing."""
    if value is None:
        return "—"
    if not isinstance(value, Mapping):
        value = {"value": value.value, "low": value.low, "high": value.high}
    point, low, high = value.get("value"), value.get("low"), value.get("high")
    if point is None or (isinstance(point, float) and math.isnan(point)):
        return "—"
    if low is None or high is None or math.isnan(low) or math.isnan(high):
        return number(point, digits)
    return f"{point:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


@dataclass
class Table:
    """A table for the template: caption, column headers, rows of strings."""

    caption: str
    headers: list[str]
    rows: list[list[str]]
    row_headers: bool = True  # the first cell of each row is a header (scope="row")


_AUDIT_MAX_ROWS = 15
_AUDIT_MAX_CELL = 120


def cell(value: Any) -> str:
    """Any JSON-like value as one short table cell (intervals as ``x [lo, hi]``, long text cut)."""
    if isinstance(value, Mapping):
        if {"value", "low", "high"} <= set(value):
            return interval(value)
        text = ", ".join(f"{k}: {cell(v)}" for k, v in value.items())
    elif isinstance(value, list | tuple):
        text = ", ".join(cell(v) for v in value)
    else:
        text = number(value)
    return text if len(text) <= _AUDIT_MAX_CELL else text[: _AUDIT_MAX_CELL - 1] + "…"


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def audit_tables(audit: Mapping[str, Any], title: str = "", depth: int = 0) -> list[Table]:
    """Tables for any JSON-like audit dict (scalars, lists of records, nested dicts)."""
    tables: list[Table] = []
    scalars = [[str(k), cell(v)] for k, v in audit.items() if _scalar(v)]
    if scalars:
        tables.append(Table(title or "summary", ["item", "value"], scalars))
    for key, value in audit.items():
        name = f"{title} / {key}" if title else str(key)
        if _scalar(value):
            continue
        if isinstance(value, list | tuple):
            if not value:
                tables.append(Table(name, ["item"], [["(none)"]], row_headers=False))
            elif all(isinstance(v, Mapping) for v in value):
                headers = list(dict.fromkeys(k for v in value for k in v))
                rows = [[cell(v.get(h)) for h in headers] for v in value[:_AUDIT_MAX_ROWS]]
                more = len(value) - _AUDIT_MAX_ROWS
                if more > 0:
                    rows.append([f"… and {more} more rows", *[""] * (len(headers) - 1)])
                tables.append(Table(name, [str(h) for h in headers], rows))
            else:
                tables.append(Table(name, ["values"], [[cell(value)]], row_headers=False))
        elif isinstance(value, Mapping):
            if value and all(
                isinstance(v, Mapping) and all(map(_scalar, v.values())) for v in value.values()
            ):
                headers = list(dict.fromkeys(k for v in value.values() for k in v))
                rows = [[str(k), *(cell(v.get(h)) for h in headers)] for k, v in value.items()]
                tables.append(Table(name, ["", *map(str, headers)], rows[:_AUDIT_MAX_ROWS]))
            elif depth < 3:
                tables.extend(audit_tables(value, name, depth + 1))
            else:
                tables.append(Table(name, ["value"], [[cell(value)]], row_headers=False))
    return tables


def summary_table(evaluations: Sequence[Evaluated]) -> Table:
    """The model's metrics on each dataset, one row per dataset."""
    rows = []
    for ev in evaluations:
        m = ev.metrics
        rows.append(
            [
                ev.name,
                number(m.n),
                interval(m.roc_auc),
                interval(m.accuracy),
                interval(m.macro_f1),
                number(m.ece),
                number(m.brier),
                "yes — in-sample" if ev.in_training else "no",
            ]
        )
    return Table(
        "The model on each dataset (95% bootstrap intervals)",
        ["dataset", "n", "ROC-AUC", "accuracy", "macro-F1", "ECE", "Brier", "in training data"],
        rows,
    )


def cross_tables(data: Mapping[str, Any]) -> list[Table]:
    """The cross-dataset matrix (``CrossMatrix.to_dict()``): grid, every cell, datasets."""
    rows_names, cols = list(data["rows"]), list(data["columns"])
    by_key = {(c["train"], c["test"]): c for c in data["cells"]}
    grid = []
    for r in rows_names:
        line = [r]
        for c in cols:
            cell = by_key.get((r, c))
            if cell is None:
                line.append("")
            elif not cell.get("n"):
                line.append("no rows left")
            else:
                line.append(
                    f"AUC {interval(cell.get('roc_auc'), 2)} · acc "
                    f"{interval(cell.get('accuracy'), 2)} · n={cell['n']:,}"
                    + (" (in-domain)" if cell.get("in_domain") else "")
                )
        grid.append(line)
    detail = [
        [
            f"{c['train']} → {c['test']}",
            "in-domain" if c.get("in_domain") else "cross",
            number(c.get("train_rows")),
            number(c.get("n")),
            number(c.get("leaks_dropped")),
            interval(c.get("roc_auc")),
            interval(c.get("accuracy")),
            interval(c.get("macro_f1")),
            number(c.get("ece")),
            number(c.get("brier")),
        ]
        for c in data["cells"]
    ]
    datasets = []
    for name, info in data.get("data", {}).items():
        mapping = info.get("label_mapping", {})
        how = mapping.get("mapping", "")
        if isinstance(how, Mapping):
            how = "; ".join(f"{k} ← {', '.join(v)}" for k, v in how.items())
        datasets.append(
            [
                name,
                number(info.get("rows_loaded")),
                number(info.get("rows_sampled")),
                number(info.get("exact_dropped", 0) + info.get("near_dropped", 0)),
                number(info.get("rows")),
                f"{number(info.get('fake'))} / {number(info.get('reliable'))}",
                str(how),
            ]
        )
    return [
        Table(
            "ROC-AUC and accuracy [95% CI]; rows: trained on, columns: tested on",
            ["trained on", *cols],
            grid,
        ),
        Table(
            "Every cell",
            [
                "train → test",
                "kind",
                "train rows",
                "test rows",
                "leaks dropped",
                "ROC-AUC",
                "accuracy",
                "macro-F1",
                "ECE",
                "Brier",
            ],
            detail,
        ),
        Table(
            "Datasets: rows and label semantics (positive class: fake)",
            [
                "dataset",
                "loaded",
                "after subsampling",
                "duplicates dropped",
                "used",
                "fake / reliable",
                "label mapping",
            ],
            datasets,
        ),
    ]


def published_table(published: Sequence[PublishedResult], cross: Mapping[str, Any] | None) -> Table:
    """Published numbers beside ours (the matrix cell of the same train/test datasets)."""

    def base(name: str) -> str:  # "liar:test" counts as "liar"
        return name.partition(":")[0]

    cells = {(base(c["train"]), base(c["test"])): c for c in (cross or {}).get("cells", [])}
    rows = []
    for item in published:
        ours = "—"
        if item.ours is not None:
            cell = cells.get(item.ours)
            if cell is not None and cell.get("n"):
                ours = f"{interval(cell.get('accuracy'))} (n={cell['n']:,})"
                if (cell["train"], cell["test"]) != item.ours:
                    ours += f" on {cell['train']} → {cell['test']}"
            elif cross is not None:
                ours = "not run (dataset not in the matrix)"
            else:
                ours = "run with --cross"
        rows.append(
            [
                item.study,
                item.dataset,
                item.task,
                item.method,
                f"{item.metric}: {item.value}",
                item.protocol,
                ours,
                item.comparability,
                item.citation,
            ]
        )
    return Table(
        "Published numbers (their data and splits) beside ours (shared sample data)",
        [
            "study",
            "data",
            "task",
            "method",
            "published",
            "whose split",
            "ours: accuracy [95% CI]",
            "comparability",
            "citation",
        ],
        rows,
    )


def robustness_table(reports: Sequence[Mapping[str, Any]]) -> Table:
    """One row per dataset and attack, from :meth:`RobustnessReport.to_dict` dicts."""
    rows = []
    for report in reports:
        for a in report["attacks"]:
            target, passed = a.get("target"), a.get("passed")
            verdict = (
                "—"
                if target is None
                else f"< {target:.0%}: "
                + ("met" if passed else "MISSED" if passed is False else "no rows")
            )
            rate = a.get("flip_rate")
            rows.append(
                [
                    f"{report['name']} ({number(report['rows'])} rows)",
                    str(a["name"]),
                    str(a["description"]),
                    number(a["rows"]),
                    number(a["flipped"]),
                    "—" if rate is None else f"{100 * rate:.2f}%",
                    number(a.get("mean_shift"), 4),
                    number(a.get("mean_abs_shift"), 4),
                    verdict,
                ]
            )
    return Table(
        "Shortcut attacks: share of edited articles whose predicted label flips",
        [
            "dataset",
            "attack",
            "edit",
            "articles edited",
            "flipped",
            "flip rate",
            "mean P(fake) shift",
            "mean |shift|",
            "target",
        ],
        rows,
    )
