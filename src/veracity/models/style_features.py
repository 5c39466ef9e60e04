"""What :class:`~veracity.models.style.StyleFeatures` measures: lexicons and feature functions.

Two groups of writing-style features (see :mod:`veracity.models.style` for why):

* :func:`form_free_features` (:data:`FORM_FREE_FEATURES`), on the seed form of a
  text: word length, vocabulary richness, syllables, function words, and rates per
  100 words of the small built-in word lists below (the ``*_WORDS`` constants);
* :func:`form_features` (:data:`FORM_FEATURES`), on the scrubbed raw text: sentence
  lengths, Flesch reading ease, punctuation, quotation marks, numbers and case.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

import numpy as np

from veracity.text.lang import ENGLISH_FUNCTION_WORDS

__all__ = [
    "ATTRIBUTION_WORDS",
    "FORM_FEATURES",
    "FORM_FREE_FEATURES",
    "HEDGE_WORDS",
    "INTENSIFIER_WORDS",
    "NEGATION_WORDS",
    "SENSATIONAL_WORDS",
    "form_features",
    "form_free_features",
    "format_feature_value",
]

#: Hedges: the writer is not sure, or says who is.
HEDGE_WORDS = frozenset(
    """may might could perhaps possibly probably likely unlikely apparently reportedly
    allegedly seemingly suggest suggests suggested appear appears appeared seem seems
    seemed estimate estimated approximately roughly unclear uncertain believed""".split()
)
#: Attribution: reported speech, the staple of wire copy.
ATTRIBUTION_WORDS = frozenset(
    """said says told according reported stated announced added noted explained
    spokesman spokeswoman spokesperson statement""".split()
)
#: Sensational and emotional words of click-bait headlines and rants.
SENSATIONAL_WORDS = frozenset(
    """shocking shocked outrage outraged outrageous incredible unbelievable amazing
    stunning horrifying horrific disgusting disgrace disgraceful insane crazy epic
    destroy destroys destroyed slams slammed blasts blasted bombshell explosive scandal
    hoax evil sick pathetic terrifying exposed busted meltdown furious hilarious
    brutal idiot stupid liar lies""".split()
)
#: Intensifiers and absolutes.
INTENSIFIER_WORDS = frozenset(
    """very really totally completely absolutely extremely literally truly utterly
    entirely always ever everyone everybody everything nobody""".split()
)
#: Negations ("don't" is "don t" in the seed form, hence "t").
NEGATION_WORDS = frozenset("not no never nor none neither nothing cannot t".split())
_FIRST_SINGULAR = frozenset("i me my mine myself".split())
_FIRST_PLURAL = frozenset("we us our ours ourselves".split())
_SECOND = frozenset("you your yours yourself yourselves".split())

#: Names of the form-free features (same value for a raw text and its seed form).
FORM_FREE_FEATURES: tuple[str, ...] = (
    "mean word length (letters)",
    "spread of word length (letters)",
    "share of words with 7+ letters",
    "vocabulary richness (type-token ratio of 50-word segments)",
    "syllables per word",
    "share of words with 3+ syllables",
    "share of English function words",
    "hedges per 100 words",
    "attribution words per 100 words",
    "sensational words per 100 words",
    "intensifiers per 100 words",
    "negations per 100 words",
    "I/me/my per 100 words",
    "we/us/our per 100 words",
    "you/your per 100 words",
)
#: Names of the form features (raw punctuation, digits and case; NaN for seed form).
FORM_FEATURES: tuple[str, ...] = (
    "words per sentence",
    "spread of words per sentence",
    "Flesch reading ease",
    "exclamation marks per sentence",
    "question marks per sentence",
    "commas per sentence",
    "quotation marks per 100 words",
    "numbers per 100 words",
    "ALL-CAPS words per 100 words",
    "capitalized words per 100 words",
)

_RAW_WORD = re.compile(r"[A-Za-z]+(?:['\u2019][A-Za-z]+)?")
_SENTENCE = re.compile(r"(?<=[.!?])[\"'\u201d\u2019)\]]*\s+|\n\s*\n")
_VOWELS = re.compile(r"[aeiouy]+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_QUOTE = re.compile(r"[\"\u201c\u201d]")
_TTR_WINDOW = 50


@lru_cache(maxsize=1 << 16)
def _syllables(word: str) -> int:
    """Vowel groups, minus a silent final ``e``; at least one. ``word`` is lower-case."""
    n = len(_VOWELS.findall(word))
    if n > 1 and word.endswith("e") and not word.endswith(("le", "ee", "ye")):
        n -= 1
    return max(n, 1)


def _segmental_ttr(words: list[str]) -> float:
    """Mean type-token ratio of consecutive 50-word segments (the whole text when shorter)."""
    if len(words) < 2 * _TTR_WINDOW:
        return len(set(words)) / len(words)
    segments = range(0, len(words) - _TTR_WINDOW + 1, _TTR_WINDOW)
    return float(np.mean([len(set(words[i : i + _TTR_WINDOW])) for i in segments])) / _TTR_WINDOW


def form_free_features(prepared: str) -> list[float]:
    """The :data:`FORM_FREE_FEATURES` of a text in the seed form (:func:`veracity.text.prepare`)."""
    words = prepared.split()
    n = len(words)
    if n == 0:
        return [0.0] * len(FORM_FREE_FEATURES)
    counts = Counter(words)
    weight = np.fromiter(counts.values(), dtype=np.float64, count=len(counts)) / n
    lengths = np.fromiter((len(w) for w in counts), dtype=np.float64, count=len(counts))
    syllables = np.fromiter((_syllables(w) for w in counts), dtype=np.float64, count=len(counts))
    mean_length = float(weight @ lengths)

    def per100(lexicon: frozenset[str]) -> float:
        return 100.0 * sum(counts.get(w, 0) for w in lexicon) / n

    return [
        mean_length,
        float(np.sqrt(weight @ (lengths - mean_length) ** 2)),
        float(weight[lengths >= 7].sum()),
        _segmental_ttr(words),
        float(weight @ syllables),
        float(weight[syllables >= 3].sum()),
        per100(ENGLISH_FUNCTION_WORDS) / 100.0,
        per100(HEDGE_WORDS),
        per100(ATTRIBUTION_WORDS),
        per100(SENSATIONAL_WORDS),
        per100(INTENSIFIER_WORDS),
        per100(NEGATION_WORDS),
        per100(_FIRST_SINGULAR),
        per100(_FIRST_PLURAL),
        per100(_SECOND),
    ]


def form_features(scrubbed: str) -> list[float]:
    """The :data:`FORM_FEATURES` of a raw text after :func:`veracity.text.scrub`."""
    words = _RAW_WORD.findall(scrubbed)
    n = len(words)
    if n == 0:
        return [0.0] * len(FORM_FEATURES)
    sentences = [s for s in _SENTENCE.split(scrubbed) if _RAW_WORD.search(s)]
    per_sentence = np.array([len(_RAW_WORD.findall(s)) for s in sentences], dtype=np.float64)
    n_sentences = max(len(sentences), 1)
    syllables = sum(k * _syllables(w) for w, k in Counter(w.lower() for w in words).items())
    flesch = 206.835 - 1.015 * (n / n_sentences) - 84.6 * (syllables / n)
    caps = sum(len(w) >= 2 and w.isupper() for w in words)
    capitalized = sum(w[0].isupper() and not w.isupper() for w in words)
    return [
        float(per_sentence.mean()) if len(per_sentence) else float(n),
        float(per_sentence.std()) if len(per_sentence) else 0.0,
        flesch,
        scrubbed.count("!") / n_sentences,
        scrubbed.count("?") / n_sentences,
        scrubbed.count(",") / n_sentences,
        100.0 * len(_QUOTE.findall(scrubbed)) / n,
        100.0 * len(_NUMBER.findall(scrubbed)) / n,
        100.0 * caps / n,
        100.0 * capitalized / n,
    ]


def format_feature_value(value: float) -> str:
    """A feature value for people: ``"n/a"`` for NaN, else 0-2 decimals by magnitude."""
    if np.isnan(value):
        return "n/a"
    if abs(value) >= 100 or float(value).is_integer():
        return f"{value:.0f}"
    return f"{value:.2f}".rstrip("0").rstrip(".") if abs(value) < 10 else f"{value:.1f}"
