"""The protocol every veracity estimator follows, and its text-only default input.

Besides scikit-learn's classifier surface (``fit``, ``predict_proba`` with columns
in the order of ``classes_``), every estimator a preset makes answers
``model_input(data)``: what its ``fit`` and ``predict_proba`` take as ``X`` for the
rows of ``data``. Training, evaluation and benchmarks ask the model instead of
knowing which model wants what:

* a text-only model (:class:`TextInput`, the default) takes the model text of each
  row (``title + "\\n\\n" + text``, as :meth:`veracity.data.Dataset.texts` builds it);
* :class:`~veracity.models.claims.ClaimsClassifier` with metadata takes a frame of
  the text and the metadata columns it reads (it overrides ``model_input``).

Optional, for speed: ``check_parts(texts)`` returns ``(predict_proba, novelty, parts)``
where each text's ``parts`` is what scoring computed for it (``hashing-sgd.v2``: a
:class:`~veracity.models.hashing.TextParts`), and ``explain(text, top_k, parts=...)``
then builds the evidence without preparing or counting the text again. The
:class:`~veracity.detector.Detector` uses the pair when a model has it.

``data`` may be a dataset (anything with ``.frame`` and ``.texts()``, such as
:class:`veracity.data.Dataset`), a frame with a ``doc`` column of model texts (as
``veracity.training.combine`` stacks datasets), or a sequence of texts.

This module imports neither scikit-learn nor pandas.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from veracity.errors import InputError

__all__ = ["TextInput", "VeracityModel", "model_frame", "model_texts"]


@runtime_checkable
class VeracityModel(Protocol):
    """What training, evaluation and the :class:`~veracity.detector.Detector` rely on."""

    def model_input(self, data: Any) -> Any:
        """``X`` for ``fit`` / ``predict_proba`` from a dataset, a ``doc`` frame or texts."""
        ...

    def fit(self, X: Any, y: Any, sample_weight: Any | None = None) -> Any:
        """Learn from ``X`` (what :meth:`model_input` gives) and labels ``y``."""
        ...

    def predict_proba(self, X: Any) -> Any:
        """Class probabilities, columns in the order of ``classes_``."""
        ...


def model_frame(data: Any) -> Any | None:
    """The frame of ``data`` (a dataset's ``.frame``, or ``data`` itself), None for texts."""
    frame = getattr(data, "frame", None)
    if frame is not None and callable(getattr(data, "texts", None)):
        return frame
    if hasattr(data, "columns"):
        return data
    return None


def model_texts(data: Any) -> list[str]:
    """The model text of each row of ``data`` (see the module docstring for its forms).

    Raises
    ------
    veracity.errors.InputError
        A frame without a ``doc`` column, or a single string instead of a sequence.

    Examples
    --------
    >>> model_texts(["Taxes went up."])
    ['Taxes went up.']
    """
    texts = getattr(data, "texts", None)
    if callable(texts) and getattr(data, "frame", None) is not None:
        return list(texts())
    if hasattr(data, "columns"):
        if "doc" not in data.columns:
            raise InputError(
                "model_input needs a dataset, texts, or a frame with a 'doc' column of "
                f"model texts (columns found: {', '.join(map(str, data.columns))})"
            )
        return [str(t) for t in data["doc"].tolist()]
    if isinstance(data, str | bytes):
        raise InputError("model_input takes a sequence of texts, not a single string")
    if not isinstance(data, Sequence) and not hasattr(data, "__iter__"):
        raise InputError(f"model_input cannot read rows from a {type(data).__name__}")
    return list(data)


class TextInput:
    """Mixin of the text-only estimators: ``model_input`` gives the texts of the rows."""

    def model_input(self, data: Any) -> Any:
        """The model text of each row of ``data`` (a list of str; see :func:`model_texts`).

        Examples
        --------
        >>> TextInput().model_input(["Taxes went up."])
        ['Taxes went up.']
        """
        return model_texts(data)
