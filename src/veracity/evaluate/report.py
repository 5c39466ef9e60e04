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
* robustness to shortcut attacks (:mod:`veracity.evaluate.robustness`): flip rate and
  P(fake) shift per attack and dataset, when given;
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

import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from veracity._extras import require
from veracity.errors import InputError
from veracity.evaluate.calibration import reliability_curve
from veracity.evaluate.metrics import MetricReport, evaluate_binary, risk_coverage
from veracity.evaluate.published import PUBLISHED, PublishedResult
from veracity.evaluate.report_tables import (
    Table,
    audit_tables,
    cross_tables,
    image,
    interval,
    number,
    published_table,
    robustness_table,
    summary_table,
)
from veracity.evaluate.run import predict_proba_batched, training_overlap
from veracity.types import FAKE, RELIABLE

if TYPE_CHECKING:
    from veracity.data import Dataset
    from veracity.evaluate.crossdata import CrossMatrix
    from veracity.evaluate.robustness import RobustnessReport

__all__ = [
    "DatasetEvaluation",
    "build_report",
    "score_dataset",
    "write_report",
]


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
        in_training=training_overlap(training_data, dataset),
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
    robustness: Sequence[RobustnessReport | Mapping[str, Any]] | None = None,
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
    robustness : sequence of RobustnessReport or their ``to_dict()``, optional
        Shortcut attacks on each dataset (:func:`~veracity.evaluate.robustness.robustness_report`);
        one table of flip rates and probability shifts.
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

    Raises
    ------
    veracity.errors.MissingExtraError
        matplotlib or jinja2 (the ``report`` extra) is not installed.
    """
    require("report", "the HTML report")
    from veracity.evaluate import plots

    cross_data: dict[str, Any] | None = None
    if cross is not None:
        cross_data = dict(cross) if isinstance(cross, Mapping) else cross.to_dict()
    images: dict[str, Any] = {}
    tables: dict[str, Any] = {}
    if evaluations:
        names = ", ".join(ev.name for ev in evaluations)
        tables["summary"] = summary_table(evaluations)
        curves = {ev.name: reliability_curve(ev.labels, ev.proba, n_bins) for ev in evaluations}
        eces = "; ".join(f"{ev.name} {number(ev.metrics.ece)}" for ev in evaluations)
        images["reliability"] = image(
            plots.reliability_diagram(curves),
            f"Reliability diagram of {names}: observed share of fake articles against the "
            f"mean predicted probability of fake in {n_bins} bins; ECE {eces}.",
        )
        risk = {
            ev.name: risk_coverage(
                (ev.proba >= 0.5) == (np.asarray(ev.labels) == FAKE), np.abs(ev.proba - 0.5)
            )
            for ev in evaluations
        }
        images["risk_coverage"] = image(
            plots.risk_coverage_curves(risk),
            f"Risk-coverage curves of {names}: accuracy on the texts answered when only the "
            "most confident share is answered; "
            + "; ".join(
                f"{n} {a[4][1]:.3f} at half, {a[-1][1]:.3f} at all" for n, a in risk.items()
            )
            + ".",
        )
        aucs = "; ".join(f"{ev.name} {interval(ev.metrics.roc_auc)}" for ev in evaluations)
        images["roc"] = image(
            plots.roc_curves({ev.name: (ev.labels, ev.proba) for ev in evaluations}),
            f"ROC curves of {names}: true positive rate against false positive rate; "
            f"ROC-AUC {aucs}.",
        )
        images["confusion"] = [
            image(
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
        tables["calibration"] = Table(
            f"Calibration per dataset ({n_bins} equal-width bins)",
            ["dataset", "n", "ECE", "Brier", "mean P(fake)", "share fake"],
            [
                [
                    ev.name,
                    number(ev.metrics.n),
                    number(ev.metrics.ece),
                    number(ev.metrics.brier),
                    number(float(np.mean(ev.proba))),
                    number(float(np.mean([label == FAKE for label in ev.labels]))),
                ]
                for ev in evaluations
            ],
        )
    if cross_data is not None:
        images["cross"] = image(
            plots.cross_heatmap(cross_data),
            "Heatmap of cross-dataset ROC-AUC with 95% intervals, rows: dataset trained on, "
            "columns: dataset tested on; the same numbers are in the table below.",
        )
        tables["cross"] = cross_tables(cross_data)
    if robustness:
        tables["robustness"] = robustness_table(
            [r if isinstance(r, Mapping) else r.to_dict() for r in robustness]
        )
    tables["published"] = published_table(published, cross_data)
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
            robustness_given=robustness is not None,
            number=number,
            interval=interval,
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
