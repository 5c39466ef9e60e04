"""Cheap, deterministic checks that a text is long enough and looks like English.

The English test is the share of tokens that are common English function words
("the", "of", "and", …). News prose scores 0.35 to 0.55; other languages and
keyword lists score below 0.1. It works on raw and on normalized text alike.
"""

from __future__ import annotations

from veracity.text.normalize import normalize

__all__ = ["ENGLISH_FUNCTION_WORDS", "english_ratio", "looks_english", "word_count"]


#: Closed-class English words; their share of tokens is the English score.
ENGLISH_FUNCTION_WORDS: frozenset[str] = frozenset(
    """a about after all also an and any are as at be been before being but by can could
    did do does for from had has have he her him his how i if in into is it its just
    may me more most my no not now of on one only or other our out over said she should
    so some such than that the their them then there these they this those through to
    up us was we were what when where which while who will with would you your""".split()
)


def _words(text: str) -> list[str]:
    """The runs of ASCII letters of ``text``, lower-cased (``[A-Za-z]+``, found fast)."""
    return normalize(text).split()


def word_count(text: str) -> int:
    """Number of letter-only words in ``text`` (digits and punctuation do not count)."""
    return len(_words(text))


def english_ratio(text: str) -> float:
    """Share of letter-only words that are English function words (0.0 for no words)."""
    words = _words(text)
    if not words:
        return 0.0
    return sum(map(ENGLISH_FUNCTION_WORDS.__contains__, words)) / len(words)


def looks_english(text: str, min_ratio: float = 0.12) -> bool:
    """True when at least ``min_ratio`` of the words are English function words."""
    return english_ratio(text) >= min_ratio
