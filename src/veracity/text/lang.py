"""Cheap, deterministic checks that a text is long enough and looks like English.

The English test is the share of tokens that are common English function words
("the", "of", "and", …). News prose scores 0.35 to 0.55; other languages and
keyword lists score below 0.1. It works on raw and on normalized text alike.
"""

from __future__ import annotations

import numpy as np

from veracity.text._compiled import ngrams
from veracity.text.normalize import normalize

__all__ = [
    "ENGLISH_FUNCTION_WORDS",
    "SKLEARN_ENGLISH_STOP_WORDS",
    "english_ratio",
    "looks_english",
    "word_count",
    "word_stats",
]


#: Closed-class English words; their share of tokens is the English score.
ENGLISH_FUNCTION_WORDS: frozenset[str] = frozenset(
    """a about after all also an and any are as at be been before being but by can could
    did do does for from had has have he her him his how i if in into is it its just
    may me more most my no not now of on one only or other our out over said she should
    so some such than that the their them then there these they this those through to
    up us was we were what when where which while who will with would you your""".split()
)


#: scikit-learn's ``ENGLISH_STOP_WORDS`` (318 words, from the Glasgow Information Retrieval
#: Group's list), copied so that checking a text need not import scikit-learn; a test
#: checks the copy against scikit-learn's.
SKLEARN_ENGLISH_STOP_WORDS: frozenset[str] = frozenset(
    """a about above across after afterwards again against all almost alone along already
    also although always am among amongst amoungst amount an and another any anyhow
    anyone anything anyway anywhere are around as at back be became because become
    becomes becoming been before beforehand behind being below beside besides between
    beyond bill both bottom but by call can cannot cant co con could couldnt cry de
    describe detail do done down due during each eg eight either eleven else elsewhere
    empty enough etc even ever every everyone everything everywhere except few fifteen
    fifty fill find fire first five for former formerly forty found four from front full
    further get give go had has hasnt have he hence her here hereafter hereby herein
    hereupon hers herself him himself his how however hundred i ie if in inc indeed
    interest into is it its itself keep last latter latterly least less ltd made many
    may me meanwhile might mill mine more moreover most mostly move much must my myself
    name namely neither never nevertheless next nine no nobody none noone nor not
    nothing now nowhere of off often on once one only onto or other others otherwise our
    ours ourselves out over own part per perhaps please put rather re same see seem
    seemed seeming seems serious several she should show side since sincere six sixty so
    some somehow someone something sometime sometimes somewhere still such system take
    ten than that the their them themselves then thence there thereafter thereby
    therefore therein thereupon these they thick thin third this those though three
    through throughout thru thus to together too top toward towards twelve twenty two un
    under until up upon us very via was we well were what whatever when whence whenever
    where whereafter whereas whereby wherein whereupon wherever whether which while
    whither who whoever whole whom whose why will with within without would yet you your
    yours yourself yourselves""".split()
)


def _words(text: str) -> list[str]:
    """The runs of ASCII letters of ``text``, lower-cased (``[A-Za-z]+``, found fast)."""
    return normalize(text).split()


def word_count(text: str) -> int:
    """Number of letter-only words in ``text`` (digits and punctuation do not count)."""
    return len(_words(text))


def english_ratio(text: str) -> float:
    """Share of letter-only words that are English function words (0.0 for no words)."""
    return word_stats(text)[1]


def _letter_code(word: str) -> int:
    """A lower-case word of at most 12 ASCII letters as 5 bits a letter (a=1), first lowest."""
    return sum((ord(c) - 96) << (5 * k) for k, c in enumerate(word))


#: The function words' codes, sorted: what the compiled ``letter_words`` looks words up in.
_FUNCTION_CODES = np.array(sorted(map(_letter_code, ENGLISH_FUNCTION_WORDS)), dtype=np.uint64)


def _word_stats_python(text: str) -> tuple[int, int]:
    """``(words, function words)`` of ``text`` (the reference of ``letter_words``)."""
    words = _words(text)
    return len(words), sum(map(ENGLISH_FUNCTION_WORDS.__contains__, words))


def word_stats(text: str) -> tuple[int, float]:
    """``(word_count(text), english_ratio(text))`` from one pass over the words."""
    if ngrams is not None:
        n, hits = ngrams.letter_words(text, _FUNCTION_CODES)
    else:
        n, hits = _word_stats_python(text)
    return (n, hits / n) if n else (0, 0.0)


def looks_english(text: str, min_ratio: float = 0.12) -> bool:
    """True when at least ``min_ratio`` of the words are English function words."""
    return english_ratio(text) >= min_ratio
