"""Robustness to shortcut attacks: does a harmless edit change the verdict?

A model that learned *where* an article came from, not what it says, flips when the
source's fingerprints are added or removed. Each :class:`Perturbation` below edits an
article in a way that does not change whether it is reliable:

* ``dateline``: prepend a Reuters dateline (``"WASHINGTON (Reuters) - "``) to **fake**
  articles, the ISOT shortcut for *reliable*;
* ``credit_line``: append ``"Featured image via Getty Images"`` to **reliable** ones,
  the ISOT shortcut for *fake*;
* ``upper_case`` / ``lower_case``: change the case of the whole text;
* ``strip_punctuation``: the seed form (:func:`veracity.text.normalize`: every
  non-letter becomes a space, then lower-case);
* ``synonyms``: swap up to :data:`SYNONYM_SWAPS` words for synonyms from the small
  built-in :data:`SYNONYMS` table (seeded choice, no download);
* ``truncate``: keep the first :data:`TRUNCATE_WORDS` words.

:func:`robustness_report` scores the articles before and after each edit and reports
the **flip rate** (share of articles whose predicted label changes) and the mean
shift of P(fake). The first five are shortcut attacks: the target is a flip rate
below :data:`SHORTCUT_TARGET` (2%). Synonyms and truncation change the words the model
reads, so some movement is expected; they are reported without a target.

Examples
--------
>>> prepend_dateline("Shocking news.")
'WASHINGTON (Reuters) - Shocking news.'
>>> truncate_words("one two  three four", 2)
'one two'
>>> report = robustness_report(model, texts, labels, limit=500)  # doctest: +SKIP
>>> report.attack("dateline").flip_rate  # doctest: +SKIP
0.002
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from veracity.errors import InputError
from veracity.evaluate.run import predict_proba_batched
from veracity.text.normalize import normalize
from veracity.types import FAKE, RELIABLE

__all__ = [
    "CREDIT_LINE",
    "DATELINE",
    "PERTURBATIONS",
    "SHORTCUT_TARGET",
    "SYNONYMS",
    "SYNONYM_SWAPS",
    "TRUNCATE_WORDS",
    "AttackResult",
    "Perturbation",
    "RobustnessReport",
    "append_credit_line",
    "lower_case",
    "prepend_dateline",
    "robustness_report",
    "strip_punctuation",
    "swap_synonyms",
    "truncate_words",
    "upper_case",
]

#: The wire dateline prepended to fake articles.
DATELINE = "WASHINGTON (Reuters) - "
#: The photo credit appended to reliable articles.
CREDIT_LINE = "Featured image via Getty Images"
#: The flip-rate target of the shortcut attacks (dateline, credit line, case, punctuation).
SHORTCUT_TARGET = 0.02
#: At most this many words are swapped for synonyms per article.
SYNONYM_SWAPS = 5
#: ``truncate`` keeps this many words.
TRUNCATE_WORDS = 100

#: A small synonym table of common news words (lower case); each maps to its swaps.
SYNONYMS: Mapping[str, tuple[str, ...]] = {
    "said": ("stated", "told reporters", "noted"),
    "says": ("states", "notes"),
    "told": ("informed",),
    "big": ("large", "major"),
    "large": ("big", "sizable"),
    "small": ("little", "minor"),
    "important": ("significant", "key"),
    "show": ("demonstrate", "reveal"),
    "shows": ("demonstrates", "reveals"),
    "showed": ("demonstrated", "revealed"),
    "people": ("individuals", "citizens"),
    "country": ("nation",),
    "help": ("assist", "aid"),
    "begin": ("start",),
    "began": ("started",),
    "start": ("begin",),
    "started": ("began",),
    "end": ("finish",),
    "ended": ("finished",),
    "buy": ("purchase",),
    "bought": ("purchased",),
    "need": ("require",),
    "needs": ("requires",),
    "get": ("obtain",),
    "got": ("obtained",),
    "use": ("employ",),
    "used": ("employed",),
    "try": ("attempt",),
    "tried": ("attempted",),
    "fast": ("quick", "rapid"),
    "quickly": ("rapidly", "swiftly"),
    "often": ("frequently",),
    "also": ("too", "as well"),
    "about": ("around", "roughly"),
    "many": ("numerous",),
    "very": ("extremely", "highly"),
    "make": ("create",),
    "made": ("created",),
    "plan": ("proposal",),
    "plans": ("proposals",),
    "rule": ("regulation",),
    "rules": ("regulations",),
    "law": ("statute",),
    "job": ("position",),
    "jobs": ("positions",),
    "car": ("vehicle",),
    "house": ("home",),
    "money": ("funds", "cash"),
    "answer": ("reply", "response"),
    "asked": ("questioned",),
    "think": ("believe",),
    "thinks": ("believes",),
    "area": ("region",),
    "city": ("town",),
    "problem": ("issue",),
    "problems": ("issues",),
}

_WORD = re.compile(r"[A-Za-z]+")
_TOKEN = re.compile(r"\S+")


def prepend_dateline(text: str) -> str:
    """``text`` with a Reuters dateline in front (:data:`DATELINE`)."""
    return DATELINE + text


def append_credit_line(text: str) -> str:
    """``text`` with a photo credit line at the end (:data:`CREDIT_LINE`)."""
    return f"{text.rstrip()}\n\n{CREDIT_LINE}"


def upper_case(text: str) -> str:
    """``text`` in upper case."""
    return text.upper()


def lower_case(text: str) -> str:
    """``text`` in lower case."""
    return text.lower()


def strip_punctuation(text: str) -> str:
    """``text`` in the seed form: every non-letter a space, lower-cased (:func:`normalize`)."""
    return normalize(text)


def _match_case(word: str, replacement: str) -> str:
    if word.isupper() and len(word) > 1:
        return replacement.upper()
    if word[:1].isupper():
        return replacement[:1].upper() + replacement[1:]
    return replacement


def swap_synonyms(
    text: str,
    rng: random.Random,
    *,
    swaps: int = SYNONYM_SWAPS,
    table: Mapping[str, Sequence[str]] = SYNONYMS,
) -> str:
    """``text`` with up to ``swaps`` words from ``table`` replaced by a synonym.

    Which words and which synonyms are chosen with ``rng``; the case of each swapped
    word is kept (``Said`` → ``Stated``, ``SAID`` → ``STATED``).

    Examples
    --------
    >>> swap_synonyms("They said it was big.", random.Random(0))
    'They stated it was major.'
    """
    found = [m for m in _WORD.finditer(text) if m.group().lower() in table]
    if not found or swaps <= 0:
        return text
    chosen = sorted(rng.sample(found, min(swaps, len(found))), key=lambda m: m.start())
    parts: list[str] = []
    last = 0
    for match in chosen:
        word = match.group()
        parts += [text[last : match.start()], _match_case(word, rng.choice(table[word.lower()]))]
        last = match.end()
    parts.append(text[last:])
    return "".join(parts)


def truncate_words(text: str, words: int = TRUNCATE_WORDS) -> str:
    """The start of ``text`` up to the end of its ``words``-th word (whitespace-separated)."""
    end = 0
    for number, match in enumerate(_TOKEN.finditer(text), start=1):
        end = match.end()
        if number == words:
            break
    return text[:end]


@dataclass(frozen=True)
class Perturbation:
    """One edit that must not change whether an article is reliable.

    Attributes
    ----------
    name : str
        Short name (``"dateline"``).
    description : str
        What the edit does, for tables.
    applies_to : str or None
        ``"fake"`` or ``"reliable"``: only articles with that label are edited
        (a shortcut that would push them to the other label); None: every article.
    target : float or None
        The flip rate the model should stay below, or None when no target is set.
    apply : callable
        ``apply(text, rng)`` → the edited text.
    """

    name: str
    description: str
    applies_to: str | None
    target: float | None
    apply: Callable[[str, random.Random], str]


#: The attacks of :func:`robustness_report`, in report order.
PERTURBATIONS: tuple[Perturbation, ...] = (
    Perturbation(
        "dateline",
        f"prepend {DATELINE.strip()!r} to fake articles",
        FAKE,
        SHORTCUT_TARGET,
        lambda text, rng: prepend_dateline(text),
    ),
    Perturbation(
        "credit_line",
        f"append {CREDIT_LINE!r} to reliable articles",
        RELIABLE,
        SHORTCUT_TARGET,
        lambda text, rng: append_credit_line(text),
    ),
    Perturbation(
        "upper_case",
        "the whole text in upper case",
        None,
        SHORTCUT_TARGET,
        lambda text, rng: upper_case(text),
    ),
    Perturbation(
        "lower_case",
        "the whole text in lower case",
        None,
        SHORTCUT_TARGET,
        lambda text, rng: lower_case(text),
    ),
    Perturbation(
        "strip_punctuation",
        "the seed form: every non-letter a space, lower case",
        None,
        SHORTCUT_TARGET,
        lambda text, rng: strip_punctuation(text),
    ),
    Perturbation(
        "synonyms",
        f"swap up to {SYNONYM_SWAPS} words for synonyms (built-in table, seeded)",
        None,
        None,
        lambda text, rng: swap_synonyms(text, rng),
    ),
    Perturbation(
        "truncate",
        f"keep the first {TRUNCATE_WORDS} words",
        None,
        None,
        lambda text, rng: truncate_words(text),
    ),
)


@dataclass(frozen=True)
class AttackResult:
    """How one perturbation moved the model's predictions.

    Attributes
    ----------
    name, description : str
        The perturbation.
    applies_to : str or None
        The label of the articles edited (None: all).
    rows : int
        Articles edited.
    changed : int
        Of those, articles whose text the edit actually changed.
    flipped : int
        Articles whose predicted label (P(fake) ≥ 0.5) changed.
    flip_rate : float
        ``flipped / rows`` (NaN when ``rows`` is 0).
    mean_shift : float
        Mean of P(fake) after minus before (negative: toward reliable).
    mean_abs_shift : float
        Mean absolute change of P(fake).
    target : float or None
        The flip-rate target, if any.
    """

    name: str
    description: str
    applies_to: str | None
    rows: int
    changed: int
    flipped: int
    flip_rate: float
    mean_shift: float
    mean_abs_shift: float
    target: float | None

    @property
    def passed(self) -> bool | None:
        """True when the flip rate is below the target (None without a target or rows)."""
        if self.target is None or self.rows == 0:
            return None
        return self.flip_rate < self.target

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict, with ``passed``; a NaN flip rate becomes None."""
        data = asdict(self)
        for key in ("flip_rate", "mean_shift", "mean_abs_shift"):
            if data[key] != data[key]:
                data[key] = None
        data["passed"] = self.passed
        return data


@dataclass(frozen=True)
class RobustnessReport:
    """The flip rate and probability shift of every attack on one set of articles.

    Attributes
    ----------
    rows : int
        Articles scored (after ``limit``).
    total_rows : int
        Articles given.
    labels : dict of str to int
        Scored articles per label.
    seed : int
        Seed of the sample and of the synonym choice.
    accuracy : float
        Accuracy of the unperturbed predictions on the scored articles.
    attacks : list of AttackResult
        One result per perturbation, in :data:`PERTURBATIONS` order.
    name : str
        What was scored (a dataset name), for tables.
    """

    rows: int
    total_rows: int
    labels: dict[str, int]
    seed: int
    accuracy: float
    attacks: list[AttackResult]
    name: str = ""

    def attack(self, name: str) -> AttackResult:
        """The result of the attack called ``name`` (KeyError when it was not run)."""
        for result in self.attacks:
            if result.name == name:
                return result
        raise KeyError(name)

    @property
    def passed(self) -> bool:
        """True when every attack with a target stays below it."""
        return all(a.passed is not False for a in self.attacks)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; the attacks as a list of :meth:`AttackResult.to_dict`."""
        return {
            "name": self.name,
            "rows": self.rows,
            "total_rows": self.total_rows,
            "labels": dict(self.labels),
            "seed": self.seed,
            "accuracy": self.accuracy,
            "passed": self.passed,
            "attacks": [a.to_dict() for a in self.attacks],
        }


def _sample(n: int, limit: int | None, seed: int) -> list[int]:
    if limit is None or limit >= n:
        return list(range(n))
    if limit < 1:
        raise InputError(f"limit must be at least 1, got {limit}")
    rng = np.random.default_rng(seed)
    return sorted(int(i) for i in rng.choice(n, size=limit, replace=False))


def robustness_report(
    estimator: Any,
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    perturbations: Sequence[Perturbation] = PERTURBATIONS,
    limit: int | None = None,
    seed: int = 42,
    name: str = "",
    advance: Callable[[int], None] | None = None,
    total: Callable[[int], None] | None = None,
) -> RobustnessReport:
    """Flip rate and probability shift of each perturbation on ``texts``.

    Parameters
    ----------
    estimator : classifier
        Fitted, with ``classes_`` ``fake`` and ``reliable`` and ``predict_proba`` over
        raw texts (a veracity model: it scrubs and normalizes inside).
    texts : sequence of str
        The articles.
    labels : sequence of str
        Their true labels, ``fake`` or ``reliable``: label-specific attacks (dateline,
        credit line) edit only the articles of their label.
    perturbations : sequence of Perturbation, default :data:`PERTURBATIONS`
        The attacks to run.
    limit : int, optional
        Score a seeded random sample of this many articles (all when None).
    seed : int, default 42
        Seed of the sample and of the synonym choices.
    name : str
        What is being scored, recorded in the report.
    advance : callable, optional
        ``advance(n)`` after each batch of ``n`` texts scored (progress bars).
    total : callable, optional
        ``total(n)`` once, before scoring: the number of texts that will be scored
        (the sample, then each attack's edited articles), which the ``advance`` calls
        add up to.

    Returns
    -------
    RobustnessReport

    Raises
    ------
    InputError
        The model is not a fake/reliable classifier, ``texts`` and ``labels`` differ in
        length, a label is not fake/reliable, there are no texts, or ``limit`` < 1.
    """
    classes = [str(c) for c in getattr(estimator, "classes_", [])]
    if sorted(classes) != sorted((FAKE, RELIABLE)):
        raise InputError(
            f"robustness needs a model that predicts {FAKE!r}/{RELIABLE!r}, this one predicts "
            f"{classes}"
        )
    if len(texts) != len(labels):
        raise InputError(f"{len(texts)} texts but {len(labels)} labels; give one label per text")
    unknown = sorted({str(label) for label in labels} - {FAKE, RELIABLE})
    if unknown:
        raise InputError(
            f"robustness needs fake/reliable labels; found {unknown[:5]} "
            "(is the dataset labelled? use --label-col/--positive for a generic file)"
        )
    if not texts:
        raise InputError("no texts to score")
    rows = _sample(len(texts), limit, seed)
    sample = [str(texts[i]) for i in rows]
    truth = [str(labels[i]) for i in rows]
    fake = classes.index(FAKE)

    def p_fake(batch: list[str]) -> np.ndarray[Any, np.dtype[np.float64]]:
        proba = predict_proba_batched(estimator, batch, advance=advance)
        return np.asarray(proba[:, fake], dtype=np.float64)

    chosen_by_attack = [
        [i for i, t in enumerate(truth) if attack.applies_to in (None, t)]
        for attack in perturbations
    ]
    if total is not None:
        total(len(sample) + sum(map(len, chosen_by_attack)))
    before = p_fake(sample)
    accuracy = float(np.mean((before >= 0.5) == np.asarray([t == FAKE for t in truth])))
    results = []
    for attack, chosen in zip(perturbations, chosen_by_attack, strict=True):
        rng = random.Random(f"{seed}:{attack.name}")
        edited = [attack.apply(sample[i], rng) for i in chosen]
        old = before[chosen]
        new = p_fake(edited) if edited else np.zeros(0, dtype=np.float64)
        flipped = int(np.sum((old >= 0.5) != (new >= 0.5)))
        n = len(chosen)
        results.append(
            AttackResult(
                name=attack.name,
                description=attack.description,
                applies_to=attack.applies_to,
                rows=n,
                changed=sum(e != sample[i] for e, i in zip(edited, chosen, strict=True)),
                flipped=flipped,
                flip_rate=flipped / n if n else float("nan"),
                mean_shift=float(np.mean(new - old)) if n else float("nan"),
                mean_abs_shift=float(np.mean(np.abs(new - old))) if n else float("nan"),
                target=attack.target,
            )
        )
    return RobustnessReport(
        rows=len(rows),
        total_rows=len(texts),
        labels={label: truth.count(label) for label in (FAKE, RELIABLE)},
        seed=seed,
        accuracy=accuracy,
        attacks=results,
        name=name,
    )
