"""The report's figures as PNG bytes: one function per plot, drawn with matplotlib's Agg.

Every function builds a :class:`matplotlib.figure.Figure` on an explicit Agg canvas
and returns the PNG's bytes. pyplot is never used, so no GUI backend is touched,
no global state (the current backend, open figures) changes, and nothing leaks
between calls; matplotlib itself is imported inside the functions, so importing
this module costs nothing.

Examples
--------
>>> png = confusion_matrix([[40, 10], [5, 45]], ["reliable", "fake"])  # doctest: +SKIP
>>> png[:8]  # doctest: +SKIP
b'\\x89PNG\\r\\n\\x1a\\n'
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from veracity.errors import InputError
from veracity.evaluate.calibration import ReliabilityCurve, as_binary
from veracity.types import FAKE

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from veracity.evaluate.crossdata import CrossMatrix

__all__ = [
    "confusion_matrix",
    "cross_heatmap",
    "reliability_diagram",
    "risk_coverage_curves",
    "roc_curves",
]

#: Line colours (Okabe-Ito, readable with the common colour-vision deficiencies).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
_DPI = 100


def _figure(width: float, height: float) -> Figure:
    """A pyplot-free figure on an Agg canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=_DPI, metadata={"Software": None})
    return buffer.getvalue()


def reliability_diagram(
    curves: Mapping[str, ReliabilityCurve] | ReliabilityCurve,
    *,
    title: str = "Reliability diagram",
) -> bytes:
    """Observed share of fake vs mean predicted P(fake), per bin, for one or more datasets.

    Parameters
    ----------
    curves : ReliabilityCurve or mapping of str to ReliabilityCurve
        From :func:`veracity.evaluate.calibration.reliability_curve`; a mapping draws
        one line per name.
    title : str
        Figure title.

    Returns
    -------
    bytes
        A PNG: the curves above the diagonal of perfect calibration, and the number of
        predictions per bin below.
    """
    from matplotlib.ticker import NullFormatter

    named = {"": curves} if isinstance(curves, ReliabilityCurve) else dict(curves)
    if not named:
        raise InputError("reliability_diagram needs at least one curve")
    fig = _figure(6.0, 6.4)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1))
    top.plot([0, 1], [0, 1], linestyle="--", color="#888888", linewidth=1, label="perfect")
    for i, (name, curve) in enumerate(named.items()):
        colour = PALETTE[i % len(PALETTE)]
        filled = curve.counts > 0
        top.plot(
            curve.mean_predicted[filled],
            curve.observed[filled],
            marker="o",
            markersize=4,
            color=colour,
            label=name or None,
        )
        bottom.step(curve.centers, curve.counts, where="mid", color=colour)
    top.set(xlim=(0, 1), ylim=(0, 1), ylabel="observed share of fake", title=title)
    top.grid(alpha=0.3)
    top.legend(loc="upper left", fontsize="small")
    bottom.set(xlabel="mean predicted probability of fake", ylabel="predictions")
    bottom.set_yscale("log", nonpositive="mask")  # one dataset's counts can dwarf another's
    bottom.yaxis.set_minor_formatter(NullFormatter())
    bottom.grid(alpha=0.3)
    return _png(fig)


def risk_coverage_curves(
    curves: Mapping[str, Sequence[tuple[float, float]]],
    *,
    title: str = "Accuracy when answering",
) -> bytes:
    """Risk-coverage curve of each dataset: accuracy against the share answered.

    Parameters
    ----------
    curves : mapping of str to sequence of (coverage, accuracy)
        From :func:`veracity.evaluate.metrics.risk_coverage`.
    title : str
        Figure title.

    Returns
    -------
    bytes
        A PNG.
    """
    if not curves:
        raise InputError("risk_coverage_curves needs at least one dataset")
    fig = _figure(6.0, 4.4)
    ax = fig.subplots()
    for i, (name, points) in enumerate(curves.items()):
        cov = [c for c, _ in points]
        acc = [a for _, a in points]
        ax.plot(cov, acc, marker="o", color=PALETTE[i % len(PALETTE)], label=name)
    ax.set(
        xlim=(0, 1.02),
        ylim=(0.4, 1.01),
        xlabel="share of texts answered (the most confident first)",
        ylabel="accuracy on the texts answered",
        title=title,
    )
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize="small")
    return _png(fig)


def roc_curves(
    scores: Mapping[str, tuple[Sequence[Any] | NDArray[Any], Sequence[float] | NDArray[Any]]],
    *,
    positive: str = FAKE,
    title: str = "ROC curves",
) -> bytes:
    """ROC curve of each dataset, with its AUC in the legend.

    Parameters
    ----------
    scores : mapping of str to (labels, probabilities)
        Per dataset: the true labels (or 0/1) and the predicted probability of ``positive``.
        A dataset with only one class is listed in the legend as "one class, no curve".
    positive : str, default "fake"
        The positive label.
    title : str
        Figure title.

    Returns
    -------
    bytes
        A PNG.
    """
    from sklearn.metrics import roc_auc_score, roc_curve

    if not scores:
        raise InputError("roc_curves needs at least one dataset")
    fig = _figure(6.0, 5.4)
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], linestyle="--", color="#888888", linewidth=1, label="chance")
    for i, (name, (labels, proba)) in enumerate(scores.items()):
        y = as_binary(labels, positive)
        p = np.asarray(proba, dtype=np.float64)
        if len(np.unique(y)) < 2:
            ax.plot([], [], color=PALETTE[i % len(PALETTE)], label=f"{name} (one class, no curve)")
            continue
        fpr, tpr, _ = roc_curve(y, p)
        auc = float(roc_auc_score(y, p))
        ax.plot(fpr, tpr, color=PALETTE[i % len(PALETTE)], label=f"{name} (AUC {auc:.3f})")
    ax.set(
        xlim=(0, 1),
        ylim=(0, 1),
        xlabel="false positive rate (reliable called fake)",
        ylabel="true positive rate (fake caught)",
        title=title,
    )
    ax.set_aspect("equal", adjustable="box")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize="small")
    return _png(fig)


def confusion_matrix(
    matrix: Sequence[Sequence[int]],
    labels: Sequence[str],
    *,
    title: str = "Confusion matrix",
) -> bytes:
    """Counts (and row shares) of true label (rows) vs predicted label (columns).

    Parameters
    ----------
    matrix : sequence of sequences of int
        ``matrix[i][j]``: rows whose true label is ``labels[i]`` and predicted ``labels[j]``
        (as in :attr:`veracity.evaluate.metrics.MetricReport.confusion`).
    labels : sequence of str
        Class names, in the order of the rows and columns.
    title : str
        Figure title.

    Returns
    -------
    bytes
        A PNG.
    """
    counts = np.asarray(matrix, dtype=np.int64)
    k = len(labels)
    if counts.shape != (k, k):
        raise InputError(f"a confusion matrix for {k} labels must be {k}x{k}, got {counts.shape}")
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, np.maximum(totals, 1))
    fig = _figure(1.6 + 1.3 * k, 1.2 + 1.2 * k)
    ax = fig.subplots()
    ax.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    for i in range(k):
        for j in range(k):
            colour = "white" if shares[i, j] > 0.6 else "black"
            text = f"{counts[i, j]:,}\n{shares[i, j]:.0%}"
            ax.text(j, i, text, ha="center", va="center", color=colour, fontsize="medium")
    ax.set_xticks(range(k), labels=list(labels))
    ax.set_yticks(range(k), labels=list(labels))
    ax.set(xlabel="predicted", ylabel="true", title=title)
    return _png(fig)


def _cross_cells(matrix: CrossMatrix | Mapping[str, Any]) -> dict[str, Any]:
    return dict(matrix) if isinstance(matrix, Mapping) else matrix.to_dict()


def cross_heatmap(
    matrix: CrossMatrix | Mapping[str, Any],
    *,
    metric: str = "roc_auc",
    title: str | None = None,
) -> bytes:
    """Heatmap of one metric over training sets (rows) and test sets (columns), with CIs.

    Parameters
    ----------
    matrix : CrossMatrix or its ``to_dict()``
        From :func:`veracity.evaluate.crossdata.cross_dataset_matrix`.
    metric : {"roc_auc", "accuracy", "macro_f1"}, default "roc_auc"
        Which metric to show; each cell reads ``value`` over ``[low, high]``.
    title : str, optional
        Figure title (default: the metric and the mode).

    Returns
    -------
    bytes
        A PNG; in-domain cells (the diagonal) are outlined, cells without a value are grey.
    """
    from matplotlib.colors import Normalize

    if metric not in ("roc_auc", "accuracy", "macro_f1"):
        raise InputError(f"metric must be roc_auc, accuracy or macro_f1, got {metric!r}")
    data = _cross_cells(matrix)
    rows, cols = list(data["rows"]), list(data["columns"])
    if not rows or not cols:
        raise InputError("the cross-dataset matrix has no cells to draw")
    values = np.full((len(rows), len(cols)), np.nan)
    notes: dict[tuple[int, int], str] = {}
    diagonal: list[tuple[int, int]] = []
    for cell in data["cells"]:
        i, j = rows.index(cell["train"]), cols.index(cell["test"])
        if cell.get("in_domain"):
            diagonal.append((i, j))
        interval = cell.get(metric)
        if not interval or interval.get("value") is None or math.isnan(interval["value"]):
            notes[(i, j)] = f"n={cell.get('n', 0)}\nundefined"
            continue
        values[i, j] = interval["value"]
        notes[(i, j)] = (
            f"{interval['value']:.2f}\n[{interval['low']:.2f}, {interval['high']:.2f}]\n"
            f"n={cell.get('n', 0):,}"
        )
    fig = _figure(1.8 + 1.75 * len(cols), 1.4 + 1.0 * len(rows))
    ax = fig.subplots()
    cmap = _cmap()
    image = ax.imshow(
        np.ma.masked_invalid(values), cmap=cmap, norm=Normalize(0.0, 1.0), aspect="auto"
    )
    for (i, j), text in notes.items():
        v = values[i, j]
        colour = "white" if not np.isnan(v) and abs(v - 0.5) > 0.3 else "black"
        ax.text(j, i, text, ha="center", va="center", fontsize="small", color=colour)
    for i, j in diagonal:
        ax.add_patch(_outline(i, j))
    ax.set_xticks(range(len(cols)), labels=cols, rotation=20, ha="right")
    ax.set_yticks(range(len(rows)), labels=rows)
    ax.set(xlabel="tested on", ylabel="trained on")
    nice = {"roc_auc": "ROC-AUC", "accuracy": "accuracy", "macro_f1": "macro-F1"}[metric]
    ax.set_title(title or f"Cross-dataset {nice} ({data.get('mode', 'pairwise')}), 95% CI")
    fig.colorbar(image, ax=ax, label=nice, shrink=0.85)
    return _png(fig)


def _cmap() -> Any:
    from matplotlib import colormaps

    # red below chance (0.5), blue above; grey where a cell has no value
    return colormaps["RdBu"].with_extremes(bad="#dddddd")


def _outline(i: int, j: int) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle(
        (j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="black", linewidth=2.0, linestyle="--"
    )
