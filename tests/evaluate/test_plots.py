"""Every plot is a real PNG, drawn without pyplot, and nothing is imported before it is needed."""

from __future__ import annotations

import io
import subprocess
import sys
from typing import Any

import numpy as np
import pytest
from PIL import Image

from veracity.errors import InputError
from veracity.evaluate import plots
from veracity.evaluate.calibration import reliability_curve

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _image(png: bytes) -> Image.Image:
    assert png.startswith(PNG_SIGNATURE)
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def _not_blank(image: Image.Image) -> bool:
    grey = np.asarray(image.convert("L"), dtype=np.float64)
    return bool(grey.std() > 10)  # lines, text and colour, not an empty canvas


def _scores(seed: int, n: int = 300) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    p = np.clip(0.3 * y + rng.normal(0.35, 0.2, n), 0, 1)
    return y, p


def cross_dict(mode: str = "pairwise") -> dict[str, Any]:
    """A cross-matrix dict as ``CrossMatrix.to_dict()`` writes it (no training needed)."""
    names = ["alpha", "beta"]
    cells = []
    for i, train in enumerate(names):
        for j, test in enumerate(names):
            auc = 0.9 if i == j else 0.4 + 0.1 * j
            cells.append(
                {
                    "train": train,
                    "test": test,
                    "in_domain": i == j,
                    "n": 100,
                    "roc_auc": {"value": auc, "low": auc - 0.05, "high": auc + 0.05},
                    "accuracy": {"value": 0.7, "low": 0.6, "high": 0.8},
                    "macro_f1": {"value": 0.69, "low": 0.6, "high": 0.78},
                }
            )
    cells[1]["roc_auc"] = None  # e.g. a test set with one class
    return {"mode": mode, "rows": names, "columns": names, "cells": cells}


def test_reliability_diagram_of_one_or_many_curves() -> None:
    y, p = _scores(0)
    one = _image(plots.reliability_diagram(reliability_curve(y, p)))
    many = _image(
        plots.reliability_diagram(
            {"a": reliability_curve(y, p), "b": reliability_curve(y, p**2, n_bins=10)},
            title="two datasets",
        )
    )
    for image in (one, many):
        assert image.width >= 400 and image.height >= 400 and _not_blank(image)
    with pytest.raises(InputError, match="at least one curve"):
        plots.reliability_diagram({})


def test_roc_curves_handle_one_class_datasets() -> None:
    y, p = _scores(1)
    png = plots.roc_curves(
        {
            "a": (y, p),
            "labels": (np.where(y == 1, "fake", "reliable"), p),
            "one": ([1, 1], [0.2, 0.9]),
        }
    )
    assert _not_blank(_image(png))
    with pytest.raises(InputError, match="at least one dataset"):
        plots.roc_curves({})


def test_confusion_matrix_checks_its_shape() -> None:
    image = _image(plots.confusion_matrix([[40, 10], [5, 45]], ["reliable", "fake"]))
    assert _not_blank(image)
    three = _image(plots.confusion_matrix(np.eye(3, dtype=int) * 7, ["a", "b", "c"]))
    assert three.width > image.width
    with pytest.raises(InputError, match="must be 2x2"):
        plots.confusion_matrix([[1, 2, 3]], ["reliable", "fake"])


@pytest.mark.parametrize("metric", ["roc_auc", "accuracy", "macro_f1"])
def test_cross_heatmap_from_a_dict(metric: str) -> None:
    image = _image(plots.cross_heatmap(cross_dict(), metric=metric))
    assert image.width > 300 and _not_blank(image)


def test_cross_heatmap_refuses_unknown_metrics_and_empty_matrices() -> None:
    with pytest.raises(InputError, match="metric must be"):
        plots.cross_heatmap(cross_dict(), metric="ece")
    with pytest.raises(InputError, match="no cells"):
        plots.cross_heatmap({"rows": [], "columns": [], "cells": []})


def test_plots_are_deterministic() -> None:
    y, p = _scores(2)
    assert plots.roc_curves({"a": (y, p)}) == plots.roc_curves({"a": (y, p)})
    assert plots.cross_heatmap(cross_dict()) == plots.cross_heatmap(cross_dict())


def test_plotting_leaves_matplotlib_state_alone() -> None:
    import matplotlib

    backend = matplotlib.get_backend()
    plots.confusion_matrix([[1, 0], [0, 1]], ["reliable", "fake"])
    assert matplotlib.get_backend() == backend
    if "matplotlib.pyplot" in sys.modules:  # imported by something else: no figure left open
        import matplotlib.pyplot as plt

        assert plt.get_fignums() == []


def test_nothing_heavy_is_imported_with_the_modules() -> None:
    code = (
        "import sys, veracity.evaluate.plots, veracity.evaluate.report, "
        "veracity.evaluate.crossdata, veracity.evaluate.calibration\n"
        "heavy = [m for m in ('matplotlib', 'jinja2', 'playwright') if m in sys.modules]\n"
        "assert not heavy, heavy"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_risk_coverage_curves() -> None:
    from veracity.evaluate.plots import risk_coverage_curves

    png = risk_coverage_curves({"a": [(0.5, 0.9), (1.0, 0.7)], "b": [(0.5, 0.8), (1.0, 0.6)]})
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size[0] > 300
    with pytest.raises(InputError, match="at least one"):
        risk_coverage_curves({})
