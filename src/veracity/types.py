"""Plain typed records that flow through veracity: documents in, verdicts out."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Literal

from veracity.errors import InputError, InputTooLargeError

__all__ = [
    "FAKE",
    "LABELS",
    "RELIABLE",
    "SCOPE",
    "CheckFailure",
    "Document",
    "Evidence",
    "EvidenceKind",
    "Label",
    "Verdict",
    "format_probability",
]

Label = Literal["reliable", "fake"]
RELIABLE: Label = "reliable"
FAKE: Label = "fake"
#: The two verdict labels, in the order used for ``classes_`` of every model.
LABELS: tuple[Label, Label] = (FAKE, RELIABLE)

#: What a verdict is about, in one plain sentence (shown by the CLI, the page and README).
SCOPE = (
    "veracity judges how a text is written and what the sources it learned from looked "
    "like; it cannot tell whether the facts in it are true."
)


def format_probability(p: float) -> str:
    """A probability as a person should read it: whole percent, never 0% or 100%.

    Nothing veracity knows justifies more certainty than 99%, so probabilities above
    0.99 show as ``">99%"`` and below 0.01 as ``"<1%"``.

    Examples
    --------
    >>> format_probability(0.0003), format_probability(0.734), format_probability(0.9999)
    ('<1%', '73%', '>99%')
    """
    if p > 0.99:
        return ">99%"
    if p < 0.01:
        return "<1%"
    return f"{min(max(round(p * 100), 1), 99)}%"


@dataclass(frozen=True)
class Document:
    """One article or claim as loaded from a dataset or given by a user."""

    id: str
    text: str
    title: str = ""
    label: Label | None = None
    source: str | None = None
    meta: dict[str, str] = field(default_factory=dict)


#: What a piece of evidence is: words of the text, a sentence of it, or a signal.
EvidenceKind = Literal["phrase", "sentence", "signal"]


@dataclass(frozen=True)
class Evidence:
    """Something in the text that pushed the verdict toward ``toward``.

    Attributes
    ----------
    term : str
        What to show, exactly as written in the text (``text[start:end]``) for a
        phrase or sentence; a signal's description (``"words in capitals: 7"``).
    weight : float
        Its contribution to the calibrated log-odds of ``fake`` (positive pushes
        toward fake, negative toward reliable): the log-odds the verdict's probability
        shows, so the contributions of every word, the model's base and the rest add up
        to it. A repeated phrase's weight is the sum over its repeats.
    toward : {"reliable", "fake"}
        The label it supports (the sign of ``weight``).
    kind : {"phrase", "sentence", "signal"}, default "phrase"
        1 to 3 words of the text; a sentence (or passage) of it; or a readable input of
        the model that is not a span of the text (a style measure, metadata).
    start, end : int or None
        Character offsets of the term in the text as given (the first occurrence of a
        repeated phrase); None for a signal.
    count : int, default 1
        How many times the phrase occurs (compared in lower case) in the attributed text.
    """

    term: str
    weight: float
    toward: Label
    kind: EvidenceKind = "phrase"
    start: int | None = None
    end: int | None = None
    count: int = 1

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with the dataclass's fields, in order (``dataclasses.asdict``,
        without its deep copy of each value: they are all plain values)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class Verdict:
    """The answer for one document.

    ``label`` is the more likely class, ``probability`` the calibrated probability
    that the document is fake, and ``abstained`` is True when veracity is not sure
    (``reason`` then says why: the probability fell in the abstention band, the text
    is too short, or it does not look like English). ``band_halfwidth`` is the
    half-width of the model's own band around 0.5 for this text, when it has one.
    """

    label: Label
    probability: float
    abstained: bool
    evidence: list[Evidence] = field(default_factory=list)
    reason: str | None = None
    input_form: Literal["raw", "normalized"] = "raw"
    model_id: str = ""
    #: Half-width around 0.5 of the model's own "not sure" band for this text (wider
    #: for texts unlike its training texts); None for a model without one.
    band_halfwidth: float | None = None

    @property
    def verdict(self) -> str:
        """The verdict a person reads: ``reliable``, ``fake`` or ``not sure``."""
        return "not sure" if self.abstained else self.label

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with the same field names as the dataclass (plus ``verdict``)."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["evidence"] = [e.to_dict() for e in self.evidence]
        data["verdict"] = self.verdict
        return data


@dataclass(frozen=True)
class CheckFailure:
    """A text that could not be checked, in place of its verdict.

    ``Detector.check_many(texts, errors="report")`` returns one of these at the
    position of each bad text (empty, only whitespace, not a str, over the size
    limit) and a :class:`Verdict` for every other text.

    Attributes
    ----------
    index : int
        Position of the text in the sequence given (from 0).
    error : InputError
        What ``check_many`` raises for this text with the default ``errors="raise"``:
        an :class:`~veracity.errors.InputTooLargeError` when it is over the size limit.

    Examples
    --------
    >>> from veracity.errors import InputError, InputTooLargeError
    >>> failure = CheckFailure(2, InputError("nothing to check: text #2 is empty"))
    >>> failure.message
    'nothing to check: text #2 is empty'
    """

    index: int
    error: InputError

    @property
    def message(self) -> str:
        """Why the text could not be checked, in one line naming it (``text #2``)."""
        return str(self.error)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: ``index``, ``error`` (the message) and ``too_large``."""
        return {
            "index": self.index,
            "error": self.message,
            "too_large": isinstance(self.error, InputTooLargeError),
        }
