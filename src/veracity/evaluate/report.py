"""One self-contained HTML evaluation report: calibration, ROC, confusion, cross-dataset, audit.

:func:`build_report` turns results into one HTML page with every figure embedded as
a base64 PNG (:mod:`veracity.evaluate.plots`): no external URL, no script, so the
file can be mailed, archived or opened offline. It holds, in order:

* a summary of the model on each dataset (:class:`DatasetEvaluation`), with a
  warning when a dataset was part of the model's training data;
* calibration: one reliability diagram, ECE and Brier per dataset;
* ROC curves and confusion matrices;
* the cross-dataset matrix (:class:`~veracity.evaluate.crossdata.CrossMatrix`) as a
  heatmap of ROC-AUC with 95% intervals and as a table;
* published numbers beside ours (:data:`PUBLISHED`), each with whose split it is;
* the shortcut and leakage audit of each dataset, when given (any JSON-like dict,
  e.g. ``AuditReport.to_dict()``), rendered as tables.

Examples
--------
>>> evaluation = score_dataset(model, dataset)  # doctest: +SKIP
>>> write_report("report.html", evaluations=[evaluation], cross=matrix)  # doctest: +SKIP
PosixPath('report.html')
"""

from __future__ import annotations

import base64
import math
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from veracity.errors import InputError
from veracity.evaluate.calibration import reliability_curve
from veracity.evaluate.metrics import MetricReport, evaluate_binary
from veracity.evaluate.run import predict_proba_batched
from veracity.types import FAKE, RELIABLE

if TYPE_CHECKING:
    from veracity.data import Dataset
    from veracity.evaluate.crossdata import CrossMatrix

__all__ = [
    "PUBLISHED",
    "DatasetEvaluation",
    "PublishedResult",
    "build_report",
    "score_dataset",
    "write_report",
]


@dataclass(frozen=True)
class PublishedResult:
    """One number from the literature, with what it was measured on and how.

    Attributes
    ----------
    study : str
        Short name, e.g. ``"Pérez-Rosas et al. 2018"``.
    dataset : str
        The data as the authors used it.
    task : str
        What was predicted (``"binary"``, ``"six-way"``, ``"cross-domain"``…).
    method : str
        The model and features.
    metric : str
        Which metric ``value`` is.
    value : str
        The published number, as published (``"≈"`` marks a value quoted approximately).
    protocol : str
        Whose split / which evaluation protocol produced it.
    citation : str
        Full reference.
    ours : tuple of (str, str) or None
        Where our comparable number lives: ``(train, test)`` datasets of a cross-matrix cell
        (the same name twice for in-domain), or None when we have no comparable number.
    comparability : str
        Why our number is or is not comparable.
    """

    study: str
    dataset: str
    task: str
    method: str
    metric: str
    value: str
    protocol: str
    citation: str
    ours: tuple[str, str] | None
    comparability: str


_PEREZ_ROSAS = (
    "V. Pérez-Rosas, B. Kleinberg, A. Lefevre, R. Mihalcea. Automatic Detection of Fake "
    "News. Proceedings of COLING 2018."
)

#: Published results shown beside ours. Only numbers we are sure of are given exactly;
#: a value with "≈" is quoted approximately and should be checked in the paper before reuse.
PUBLISHED: tuple[PublishedResult, ...] = (
    PublishedResult(
        study="Ahmed, Traore & Saad 2017",
        dataset="ISOT fake news data (full set as collected by the authors)",
        task="binary",
        method="linear SVM, unigram TF-IDF",
        metric="accuracy",
        value="0.92",
        protocol="authors' own train/test split of the full data",
        citation=(
            "H. Ahmed, I. Traore, S. Saad. Detection of Online Fake News Using N-Gram Analysis "
            "and Machine Learning Techniques. ISDDC 2017, LNCS 10618, Springer."
        ),
        ours=("isot_sample", "isot_sample"),
        comparability=(
            "ours: deduplicated 80/20 split of isot_sample, a 6,176-row sample of ISOT "
            "with shortcut artefacts (Reuters datelines, photo credits) scrubbed"
        ),
    ),
    PublishedResult(
        study="Wang 2017",
        dataset="LIAR (PolitiFact statements)",
        task="six-way rating",
        method="hybrid CNN, text + all metadata (text-only CNN: 0.270)",
        metric="test accuracy",
        value="0.274",
        protocol="official LIAR train/valid/test split",
        citation=(
            'W. Y. Wang. "Liar, Liar Pants on Fire": A New Benchmark Dataset for Fake News '
            "Detection. Proceedings of ACL 2017 (short papers)."
        ),
        ours=("liar", "liar"),
        comparability=(
            "not comparable: ours is the binary mapping (pants-fire, false, barely-true → "
            "fake), text only, on a deduplicated 80/20 split"
        ),
    ),
    PublishedResult(
        study="Verma et al. 2021",
        dataset="WELFake (72,134 articles merged from four datasets)",
        task="binary",
        method="WELFake: word embeddings over linguistic features, ensemble",
        metric="accuracy",
        value="0.9673",
        protocol="authors' own split",
        citation=(
            "P. K. Verma, P. Agrawal, I. Amorim, R. Prodan. WELFake: Word Embedding Over "
            "Linguistic Features for Fake News Detection. IEEE Transactions on Computational "
            "Social Systems 8(4), 2021."
        ),
        ours=None,
        comparability="WELFake is not in the shared data: no number of ours",
    ),
    PublishedResult(
        study="Pérez-Rosas et al. 2018",
        dataset="FakeNewsAMT (240 legit + 240 crowd-written fake)",
        task="binary",
        method="linear SVM; n-grams, punctuation, LIWC, readability, syntax",
        metric="accuracy",
        value="0.74",
        protocol="five-fold cross-validation, authors' folds",
        citation=_PEREZ_ROSAS,
        ours=("fakenewsamt", "fakenewsamt"),
        comparability="ours: one deduplicated 80/20 split, word + char TF-IDF",
    ),
    PublishedResult(
        study="Pérez-Rosas et al. 2018",
        dataset="Celebrity (250 legit + 250 fake)",
        task="binary",
        method="linear SVM; n-grams, punctuation, LIWC, readability, syntax",
        metric="accuracy",
        value="0.76",
        protocol="five-fold cross-validation, authors' folds",
        citation=_PEREZ_ROSAS,
        ours=("celebrity", "celebrity"),
        comparability="ours: one deduplicated 80/20 split, word + char TF-IDF",
    ),
    PublishedResult(
        study="Pérez-Rosas et al. 2018",
        dataset="train FakeNewsAMT → test Celebrity",
        task="cross-domain",
        method="linear SVM; their feature sets",
        metric="accuracy",
        value="≈0.5 (near chance)",
        protocol="trained on all of FakeNewsAMT, tested on all of Celebrity",
        citation=_PEREZ_ROSAS,
        ours=("fakenewsamt", "celebrity"),
        comparability="ours: trained on 80% of FakeNewsAMT, tested on all of Celebrity",
    ),
    PublishedResult(
        study="Horne & Adali 2017",
        dataset="Random Political News (75 real, 75 fake; satire left out here)",
        task="binary (real vs fake)",
        method="linear SVM on body-text stylistic features",
        metric="accuracy",
        value="≈0.71 to 0.78",
        protocol="authors' cross-validation; range over their feature sets",
        citation=(
            "B. D. Horne, S. Adali. This Just In: Fake News Packs a Lot in Title, Uses Simpler, "
            "Repetitive Content in Text Body, More Similar to Satire than Real News. "
            "Proceedings of ICWSM 11(1), 2017, pp. 759-766 (NECO workshop)."
        ),
        ours=("random_political", "random_political"),
        comparability="ours: one deduplicated 80/20 split (30 test articles: wide CI)",
    ),
)


@dataclass
class DatasetEvaluation:
    """A model's predictions and metrics on one labelled dataset.

    Attributes
    ----------
    name : str
        Dataset name.
    labels : list of str
        True labels, one per row.
    proba : ndarray of shape (n,)
        Predicted probability of ``fake`` per row.
    metrics : MetricReport
        From :func:`veracity.evaluate.metrics.evaluate_binary`.
    in_training : str or None
        Why the dataset overlaps the model's training data (None if it does not, as far
        as the model card tells).
    """

    name: str
    labels: list[str]
    proba: NDArray[np.float64]
    metrics: MetricReport
    in_training: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (metrics and the training-overlap note; not the raw scores)."""
        return {
            "name": self.name,
            "in_training": self.in_training,
            "metrics": self.metrics.to_dict(),
            **self.extra,
        }


def _training_overlap(dataset: Dataset, training_data: Sequence[Any]) -> str | None:
    base = dataset.name.partition(":")[0]
    for item in training_data:
        name = str(item["name"] if isinstance(item, Mapping) else item.name)
        sha = str(item["sha256"] if isinstance(item, Mapping) else item.sha256)
        if dataset.sources and sha == dataset.sha256:
            return f"the model was trained on {name} (same sha256): these numbers are in-sample"
        if name == dataset.name:
            return f"the model was trained on a dataset named {name}: likely in-sample"
        if name.partition(":")[0] == base:
            return f"the model was trained on {name}, which may overlap {dataset.name}"
    return None


def score_dataset(
    estimator: Any,
    dataset: Dataset,
    *,
    training_data: Sequence[Any] = (),
    seed: int = 42,
    n_boot: int = 1000,
    advance: Callable[[int], None] | None = None,
) -> DatasetEvaluation:
    """Predict P(fake) for every row of ``dataset`` and compute the binary metrics.

    Parameters
    ----------
    estimator : classifier
        Fitted, with ``classes_`` ``fake`` and ``reliable`` and ``predict_proba``.
    dataset : Dataset
        Labelled fake/reliable.
    training_data : sequence of TrainingData or dict
        The model card's ``training_data``; a dataset found there is flagged as in-sample.
    seed, n_boot : int
        Bootstrap seed and resamples of the confidence intervals.
    advance : callable, optional
        ``advance(n)`` after each scored batch.

    Raises
    ------
    InputError
        The dataset is unlabelled or not fake/reliable, or the model is not binary fake/reliable.
    """
    classes = [str(c) for c in estimator.classes_]
    if sorted(classes) != sorted((FAKE, RELIABLE)):
        raise InputError(
            f"the report needs a model that predicts {FAKE!r}/{RELIABLE!r}, this one predicts "
            f"{classes}"
        )
    labels = dataset.labels()
    unknown = sorted(set(labels) - {FAKE, RELIABLE})
    if not dataset.labelled or unknown:
        raise InputError(
            f"dataset {dataset.name!r} needs fake/reliable labels for the report"
            + (f"; it has {unknown[:5]}" if unknown else "")
        )
    proba = predict_proba_batched(estimator, dataset.texts(), advance=advance)
    p_fake = np.asarray(proba[:, classes.index(FAKE)], dtype=np.float64)
    metrics = evaluate_binary(labels, p_fake, n_boot=n_boot, seed=seed)
    return DatasetEvaluation(
        name=dataset.name,
        labels=labels,
        proba=p_fake,
        metrics=metrics,
        in_training=_training_overlap(dataset, training_data),
    )


# -- rendering helpers ---------------------------------------------------------------


def _image(png: bytes, alt: str) -> dict[str, Any]:
    """An ``<img>`` for the template: data URI, pixel size (from the PNG header), alt text."""
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    src = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return {"src": src, "width": width, "height": height, "alt": alt}


def _number(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _interval(value: Any, digits: int = 3) -> str:
    """``0.672 [0.620, 0.720]`` from an Interval or its dict; ``—`` when missing."""
    if value is None:
        return "—"
    if not isinstance(value, Mapping):
        value = {"value": value.value, "low": value.low, "high": value.high}
    point, low, high = value.get("value"), value.get("low"), value.get("high")
    if point is None or (isinstance(point, float) and math.isnan(point)):
        return "—"
    if low is None or high is None or math.isnan(low) or math.isnan(high):
        return _number(point, digits)
    return f"{point:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


@dataclass
class _Table:
    """A table for the template: caption, column headers, rows of strings."""

    caption: str
    headers: list[str]
    rows: list[list[str]]
    row_headers: bool = True  # the first cell of each row is a header (scope="row")


_AUDIT_MAX_ROWS = 15
_AUDIT_MAX_CELL = 120


def _cell(value: Any) -> str:
    if isinstance(value, Mapping):
        if {"value", "low", "high"} <= set(value):
            return _interval(value)
        text = ", ".join(f"{k}: {_cell(v)}" for k, v in value.items())
    elif isinstance(value, list | tuple):
        text = ", ".join(_cell(v) for v in value)
    else:
        text = _number(value)
    return text if len(text) <= _AUDIT_MAX_CELL else text[: _AUDIT_MAX_CELL - 1] + "…"


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def audit_tables(audit: Mapping[str, Any], title: str = "", depth: int = 0) -> list[_Table]:
    """Tables for any JSON-like audit dict (scalars, lists of records, nested dicts)."""
    tables: list[_Table] = []
    scalars = [[str(k), _cell(v)] for k, v in audit.items() if _scalar(v)]
    if scalars:
        tables.append(_Table(title or "summary", ["item", "value"], scalars))
    for key, value in audit.items():
        name = f"{title} / {key}" if title else str(key)
        if _scalar(value):
            continue
        if isinstance(value, list | tuple):
            if not value:
                tables.append(_Table(name, ["item"], [["(none)"]], row_headers=False))
            elif all(isinstance(v, Mapping) for v in value):
                headers = list(dict.fromkeys(k for v in value for k in v))
                rows = [[_cell(v.get(h)) for h in headers] for v in value[:_AUDIT_MAX_ROWS]]
                more = len(value) - _AUDIT_MAX_ROWS
                if more > 0:
                    rows.append([f"… and {more} more rows", *[""] * (len(headers) - 1)])
                tables.append(_Table(name, [str(h) for h in headers], rows))
            else:
                tables.append(_Table(name, ["values"], [[_cell(value)]], row_headers=False))
        elif isinstance(value, Mapping):
            if value and all(
                isinstance(v, Mapping) and all(map(_scalar, v.values())) for v in value.values()
            ):
                headers = list(dict.fromkeys(k for v in value.values() for k in v))
                rows = [[str(k), *(_cell(v.get(h)) for h in headers)] for k, v in value.items()]
                tables.append(_Table(name, ["", *map(str, headers)], rows[:_AUDIT_MAX_ROWS]))
            elif depth < 3:
                tables.extend(audit_tables(value, name, depth + 1))
            else:
                tables.append(_Table(name, ["value"], [[_cell(value)]], row_headers=False))
    return tables


def _summary_table(evaluations: Sequence[DatasetEvaluation]) -> _Table:
    rows = []
    for ev in evaluations:
        m = ev.metrics
        rows.append(
            [
                ev.name,
                _number(m.n),
                _interval(m.roc_auc),
                _interval(m.accuracy),
                _interval(m.macro_f1),
                _number(m.ece),
                _number(m.brier),
                "yes — in-sample" if ev.in_training else "no",
            ]
        )
    return _Table(
        "The model on each dataset (95% bootstrap intervals)",
        ["dataset", "n", "ROC-AUC", "accuracy", "macro-F1", "ECE", "Brier", "in training data"],
        rows,
    )


def _cross_tables(data: Mapping[str, Any]) -> list[_Table]:
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
                    f"AUC {_interval(cell.get('roc_auc'), 2)} · acc "
                    f"{_interval(cell.get('accuracy'), 2)} · n={cell['n']:,}"
                    + (" (in-domain)" if cell.get("in_domain") else "")
                )
        grid.append(line)
    detail = [
        [
            f"{c['train']} → {c['test']}",
            "in-domain" if c.get("in_domain") else "cross",
            _number(c.get("train_rows")),
            _number(c.get("n")),
            _number(c.get("leaks_dropped")),
            _interval(c.get("roc_auc")),
            _interval(c.get("accuracy")),
            _interval(c.get("macro_f1")),
            _number(c.get("ece")),
            _number(c.get("brier")),
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
                _number(info.get("rows_loaded")),
                _number(info.get("rows_sampled")),
                _number(info.get("exact_dropped", 0) + info.get("near_dropped", 0)),
                _number(info.get("rows")),
                f"{_number(info.get('fake'))} / {_number(info.get('reliable'))}",
                str(how),
            ]
        )
    return [
        _Table(
            "ROC-AUC and accuracy [95% CI]; rows: trained on, columns: tested on",
            ["trained on", *cols],
            grid,
        ),
        _Table(
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
        _Table(
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


def _published_table(
    published: Sequence[PublishedResult], cross: Mapping[str, Any] | None
) -> _Table:
    def base(name: str) -> str:  # "liar:test" counts as "liar"
        return name.partition(":")[0]

    cells = {(base(c["train"]), base(c["test"])): c for c in (cross or {}).get("cells", [])}
    rows = []
    for item in published:
        ours = "—"
        if item.ours is not None:
            cell = cells.get(item.ours)
            if cell is not None and cell.get("n"):
                ours = f"{_interval(cell.get('accuracy'))} (n={cell['n']:,})"
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
    return _Table(
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


def _environment() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("veracity.evaluate", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def build_report(
    *,
    evaluations: Sequence[DatasetEvaluation] = (),
    cross: CrossMatrix | Mapping[str, Any] | None = None,
    audits: Mapping[str, Mapping[str, Any]] | None = None,
    model: Mapping[str, Any] | None = None,
    published: Sequence[PublishedResult] = PUBLISHED,
    title: str = "veracity evaluation report",
    notes: Sequence[str] = (),
    n_bins: int = 15,
    generated: str | None = None,
) -> str:
    """The report as one self-contained HTML page.

    Parameters
    ----------
    evaluations : sequence of DatasetEvaluation
        The model on each dataset (:func:`score_dataset`): summary, reliability
        diagram, ROC curves and confusion matrices.
    cross : CrossMatrix or its ``to_dict()``, optional
        The cross-dataset matrix; without it that section says how to get one.
    audits : mapping of str to dict, optional
        Dataset name → audit dict (``AuditReport.to_dict()``); rendered as tables.
    model : dict, optional
        The model card (``ModelCard.to_dict()``): its id, preset and training data.
    published : sequence of PublishedResult, default :data:`PUBLISHED`
        Literature numbers to show beside ours.
    title : str
        The page title and first heading.
    notes : sequence of str
        Extra lines for the header (e.g. "audit module not available").
    n_bins : int, default 15
        Bins of the reliability diagram (the same as ECE's).
    generated : str, optional
        Timestamp shown in the header (default: now, UTC).

    Returns
    -------
    str
        HTML5 text; images are ``data:`` URIs.
    """
    from veracity.evaluate import plots

    cross_data: dict[str, Any] | None = None
    if cross is not None:
        cross_data = dict(cross) if isinstance(cross, Mapping) else cross.to_dict()
    images: dict[str, Any] = {}
    tables: dict[str, Any] = {}
    if evaluations:
        names = ", ".join(ev.name for ev in evaluations)
        tables["summary"] = _summary_table(evaluations)
        curves = {ev.name: reliability_curve(ev.labels, ev.proba, n_bins) for ev in evaluations}
        eces = "; ".join(f"{ev.name} {_number(ev.metrics.ece)}" for ev in evaluations)
        images["reliability"] = _image(
            plots.reliability_diagram(curves),
            f"Reliability diagram of {names}: observed share of fake articles against the "
            f"mean predicted probability of fake in {n_bins} bins; ECE {eces}.",
        )
        aucs = "; ".join(f"{ev.name} {_interval(ev.metrics.roc_auc)}" for ev in evaluations)
        images["roc"] = _image(
            plots.roc_curves({ev.name: (ev.labels, ev.proba) for ev in evaluations}),
            f"ROC curves of {names}: true positive rate against false positive rate; "
            f"ROC-AUC {aucs}.",
        )
        images["confusion"] = [
            _image(
                plots.confusion_matrix(
                    ev.metrics.confusion,
                    ev.metrics.labels,
                    title=f"{ev.name} (n={ev.metrics.n:,})",
                ),
                f"Confusion matrix of {ev.name}: "
                + "; ".join(
                    f"true {t}: "
                    + ", ".join(
                        f"{n:,} predicted {q}" for q, n in zip(ev.metrics.labels, row, strict=True)
                    )
                    for t, row in zip(ev.metrics.labels, ev.metrics.confusion, strict=True)
                )
                + ".",
            )
            for ev in evaluations
        ]
        tables["calibration"] = _Table(
            f"Calibration per dataset ({n_bins} equal-width bins)",
            ["dataset", "n", "ECE", "Brier", "mean P(fake)", "share fake"],
            [
                [
                    ev.name,
                    _number(ev.metrics.n),
                    _number(ev.metrics.ece),
                    _number(ev.metrics.brier),
                    _number(float(np.mean(ev.proba))),
                    _number(float(np.mean([label == FAKE for label in ev.labels]))),
                ]
                for ev in evaluations
            ],
        )
    if cross_data is not None:
        images["cross"] = _image(
            plots.cross_heatmap(cross_data),
            "Heatmap of cross-dataset ROC-AUC with 95% intervals, rows: dataset trained on, "
            "columns: dataset tested on; the same numbers are in the table below.",
        )
        tables["cross"] = _cross_tables(cross_data)
    tables["published"] = _published_table(published, cross_data)
    audit_sections = [(name, audit_tables(audit)) for name, audit in (audits or {}).items()]
    template = _environment().get_template("report.html")
    return str(
        template.render(
            title=title,
            generated=generated or datetime.now(UTC).isoformat(timespec="seconds"),
            model=model,
            notes=list(notes),
            evaluations=evaluations,
            in_training=[ev for ev in evaluations if ev.in_training],
            cross=cross_data,
            images=images,
            tables=tables,
            audits=audit_sections,
            audits_given=audits is not None,
            number=_number,
            interval=_interval,
        )
    )


def write_report(path: str | Path, **kwargs: Any) -> Path:
    """Write :func:`build_report` (same keyword arguments) to ``path`` atomically; return it."""
    target = Path(path)
    if target.is_dir():
        raise InputError(f"{target} is a directory; give a file name such as report.html")
    html = build_report(**kwargs)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(html)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
