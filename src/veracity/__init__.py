"""veracity: tell reliable news from fake news, with calibrated probabilities and evidence.

>>> import veracity
>>> verdict = veracity.check(open("article.txt").read())   # doctest: +SKIP
>>> verdict.label, verdict.probability, verdict.abstained   # doctest: +SKIP
('reliable', 0.08, False)

Heavy modules (scikit-learn, the model) load on first use, not at import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from veracity.errors import VeracityError
from veracity.types import CheckFailure, Evidence, Verdict

if TYPE_CHECKING:
    from veracity.detector import Detector, check, load_model
    from veracity.models.artifact import save_model

__version__ = "0.1.0"

__all__ = [
    "CheckFailure",
    "Detector",
    "Evidence",
    "VeracityError",
    "Verdict",
    "__version__",
    "check",
    "load_model",
    "save_model",
]

_LAZY = {
    "Detector": "veracity.detector",
    "check": "veracity.detector",
    "load_model": "veracity.detector",
    "save_model": "veracity.models.artifact",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'veracity' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
