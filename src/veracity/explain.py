"""Per-prediction evidence a person can use: phrases and sentences of the text as written.

Every veracity model that can explain itself returns an :class:`Attribution` of one
text: the exact decomposition of the **calibrated log-odds of fake** (the log-odds of
the probability veracity shows) into

* ``base``: the log-odds of a text with no features at all (the model's intercept,
  calibrated);
* one weight per **word of the original text** (``spans``: character offsets into the
  text as given, original case and accents), for the first
  :data:`MAX_ATTRIBUTED_CHARS` characters of what the model reads;
* ``signals``: readable inputs the model used that are not words of the text (a
  style model's ``"words in capitals: 7"``, a claims model's ``"speaker: bob"``);
* ``rest``: whatever was not attributed to a word or a signal (the part of a very
  long text past the cap, a member model without word-level evidence).

so that ``base + sum(weights) + sum(signals) + rest == logit(p)`` (tested to 1e-6).
A linear model's raw score ``s = intercept + sum(feature contributions)`` becomes the
calibrated log-odds through its calibrator ``L = g(s)``; every raw contribution is
multiplied by the secant slope ``(g(s) - g(intercept)) / (s - intercept)`` and
``base = g(intercept)`` (:func:`calibrate`). For a Platt (logistic) calibrator ``g`` is
linear and the slope is its own; for isotonic calibration the secant keeps the sum
exact.

How the raw contributions reach words (:func:`linear_attribution`, and
``HashingSGDClassifier.attribution`` for hashed features): a word n-gram feature's
contribution is shared equally by its occurrences and, within one occurrence, by the
n words of it; a ``char_wb`` n-gram feature's contribution is shared by the words that
produced it, in proportion to how often each did. The model reads the text after
:func:`veracity.text.prepare` (seed form: ASCII letters, lower case); :func:`align`
maps each prepared word back to the characters it came from, and a prepared word is
credited to the whole original word around it (``"Höhe"`` is read as ``"h he"``; both
parts are credited to ``"Höhe"``), so evidence never names a word that is not in the
text.

:func:`rank_evidence` turns an attribution into :class:`~veracity.types.Evidence`:

* **phrases**: runs of 1 to :data:`MAX_PHRASE_WORDS` adjacent words that pushed the
  same way, trimmed of function words at their ends; a phrase of function words only
  (:func:`is_function_word`), or with a word over :data:`MAX_WORD_CHARS` characters,
  is never shown. Repeats of a phrase (compared in lower
  case) are one item whose weight is their sum, ``count`` says how many and
  ``start``/``end`` locate the first;
* **sentences**: the sentence (or, in text without punctuation, the passage of
  :data:`MAX_SENTENCE_WORDS` words) whose words moved the verdict most, one per
  direction;
* **signals**, strongest first.

At most ``top_k`` phrases and ``top_k`` signals per direction. A phrase's weight is the
sum of its words' weights, in the same units as the verdict's log-odds.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from veracity.text import is_normalized, normalize, prepare
from veracity.text._compiled import ngrams
from veracity.text.lang import ENGLISH_FUNCTION_WORDS, SKLEARN_ENGLISH_STOP_WORDS
from veracity.text.scrub import NORMALIZED_PATTERNS, RAW_PATTERNS, ScrubPattern, apply_patterns
from veracity.types import FAKE, Evidence, Label

__all__ = [
    "MAX_ATTRIBUTED_CHARS",
    "MAX_PHRASE_WORDS",
    "MAX_SENTENCE_WORDS",
    "MAX_WORD_CHARS",
    "SENTENCES_PER_DIRECTION",
    "Alignment",
    "Attribution",
    "Contributions",
    "LinearTextModel",
    "align",
    "calibrate",
    "calibrator_log_odds",
    "is_function_word",
    "linear_attribution",
    "prepare_with_spans",
    "rank_evidence",
]

#: Characters of the model's text (after ``prepare``) whose words get evidence. Words
#: past it still count for the verdict; their share of the log-odds is ``rest``.
#: 100,000 characters is about 15,000 words, longer than nearly any article.
MAX_ATTRIBUTED_CHARS = 100_000
#: Longest phrase shown, in words.
MAX_PHRASE_WORDS = 3
#: Longest word shown in a phrase, in characters (the longest English word has 45);
#: a longer run of letters is not something a reader can use.
MAX_WORD_CHARS = 45
#: A sentence longer than this (or text without sentence punctuation) is cut into
#: passages of this many words.
MAX_SENTENCE_WORDS = 40
#: Sentences shown per direction (toward fake, toward reliable).
SENTENCES_PER_DIRECTION = 1

# -- function words ------------------------------------------------------------------

#: Words of scikit-learn's English stop list that are content words in news.
_NOT_FUNCTION = frozenset(
    """bill fire computer system interest con cry mill thick thin detail describe find
    found call side top bottom front back full empty fill move show name part amount
    sincere de inc ltd co eg etc ie un""".split()
)
#: Reporting verbs and the pieces contractions leave ("don't" → "don", "t").
_EXTRA_FUNCTION = frozenset(
    """said says say saying told tells tell according don didn doesn isn wasn aren
    weren won wouldn couldn shouldn hasn haven hadn ll ve re mr mrs ms""".split()
)


@functools.cache
def _function_words() -> frozenset[str]:
    return (SKLEARN_ENGLISH_STOP_WORDS - _NOT_FUNCTION) | ENGLISH_FUNCTION_WORDS | _EXTRA_FUNCTION


_LETTERS = re.compile(r"[^\W\d_]+")


def is_function_word(word: str) -> bool:
    """True for a word that says nothing on its own: ``"the"``, ``"said"``, ``"don't"``, ``"U"``.

    The list is scikit-learn's ``ENGLISH_STOP_WORDS`` without its content words
    (``"bill"``, ``"fire"``, ``"system"``, …), plus veracity's English function words,
    reporting verbs (``"said"``, ``"told"``: wire copy's staple, which tells a reader
    nothing about the story) and the pieces of contractions. A word counts as a
    function word when every letter run in it is one of those or a single letter.

    Examples
    --------
    >>> [is_function_word(w) for w in ("The", "said", "don't", "U", "Senate", "Höhe")]
    [True, True, True, True, False, False]
    """
    found = _FUNCTION_FLAGS.get(word)
    if found is None:
        found = _is_function_word(word)
        if len(word) <= _CACHED_WORD_CHARS:
            if len(_FUNCTION_FLAGS) >= _CACHED_WORDS:
                _FUNCTION_FLAGS.clear()
            _FUNCTION_FLAGS[word] = found
    return found


#: Words up to this long have their answer cached in :data:`_FUNCTION_FLAGS` (at most
#: _CACHED_WORDS of them, emptied when full, so the cache stays under a few MB); a text
#: repeats its words, and the lookup is the cost.
_CACHED_WORD_CHARS = 40
_CACHED_WORDS = 16_384
#: Word -> is_function_word(word); read directly (without a call per word) where many
#: words are looked up at once.
_FUNCTION_FLAGS: dict[str, bool] = {}


def _is_function_word(word: str) -> bool:
    parts = _LETTERS.findall(word.lower())
    words = _function_words()
    return all(len(p) == 1 or p in words for p in parts)


# -- alignment: the model's words back to the original text ----------------------------

#: An original word: letters/digits joined by apostrophes ("Trump's", "don\u2019t").
_TOKEN = re.compile(r"\w+(?:['\u2019]\w+)*")
#: ASCII letters with no word character or apostrophe before them and no word character
#: after them: where a span is all of one, the span is its original word.
_ASCII_WORD = re.compile(r"(?<![\w'\u2019])[A-Za-z]+(?!\w)")


@dataclass(frozen=True)
class Alignment:
    """The words a model reads, each tied to the original word it came from.

    ``words[i]`` is the i-th whitespace-separated word of ``prepared`` (what the
    vectorizers receive); ``word_token[i]`` is the index in ``tokens`` of the original
    word it lies in (-1 when it could not be found); ``tokens`` holds
    ``(start, end)`` offsets into ``text``, in order. Only the first ``attributed``
    words (those within the character cap) are aligned.
    """

    text: str
    prepared: str
    words: list[str]
    word_token: NDArray[np.int64]
    tokens: NDArray[np.int64]
    attributed: int


def _tracked_apply(
    text: str, pos: NDArray[np.int64], patterns: tuple[ScrubPattern, ...]
) -> tuple[str, NDArray[np.int64]]:
    """``scrub``'s pattern pass, keeping each character's offset in the original (-1: new)."""
    new = np.array([-1], dtype=np.int64)

    def follow(spans: list[tuple[int, int]]) -> None:
        nonlocal pos
        pieces, last = [], 0
        for start, end in spans:
            pieces += [pos[last:start], new]
            last = end
        pieces.append(pos[last:])
        pos = np.concatenate(pieces)

    return apply_patterns(text, patterns, follow), pos


_SPACE = ord(" ")
#: scikit-learn's default token pattern (words of two or more word characters).
_DEFAULT_TOKENS = r"(?u)\b\w\w+\b"


def _prepared_word_spans(
    text: str, max_words: int | None = None
) -> tuple[str, list[tuple[int, int]]] | None:
    """``prepare(text)`` with the ``(start, end)`` in ``text`` of each of its first
    ``max_words`` words (all by default); None if unsure of one of them.

    The steps are ``prepare``'s, so the string is ``prepare(text)`` exactly.
    """
    pos = np.arange(len(text), dtype=np.int64)
    current = text
    if not is_normalized(current):
        current, pos = _tracked_apply(current, pos, RAW_PATTERNS)
        current = normalize(current)  # one character for one: the offsets still hold
    current, pos = _tracked_apply(current, pos, NORMALIZED_PATTERNS)
    # the words are the runs of non-spaces (the text is letters and spaces by now):
    # their starts and ends found on the characters as an array, not word by word
    chars = np.frombuffer(current.encode("utf-32-le"), dtype=np.uint32)
    edges = np.flatnonzero(np.diff(np.concatenate(([0], chars != _SPACE, [0])).astype(np.int8)))
    starts, ends = edges[0::2], edges[1::2]
    if max_words is not None:
        starts, ends = starts[:max_words], ends[:max_words]
    first, last = pos[starts], pos[ends - 1]
    if ((first < 0) | (last - first != ends - 1 - starts)).any():
        return None
    spans = list(zip(first.tolist(), (last + 1).tolist(), strict=True))
    return " ".join(current.split()), spans


def prepare_with_spans(text: str) -> tuple[str, list[tuple[int, int]] | None]:
    """``prepare(text)``, and for a text of up to a few times
    :data:`MAX_ATTRIBUTED_CHARS` the offsets in ``text`` of its words (else None).

    Scoring with evidence prepares each text this way once, and :func:`align` takes
    the spans from it instead of tracking scrubbing through the text a second time.
    """
    if len(text) <= _HEAD_FACTOR * MAX_ATTRIBUTED_CHARS:
        found = _prepared_word_spans(text)
        if found is not None:
            return found
    return prepare(text), None


def _greedy_word_spans(text: str, words: list[str]) -> list[tuple[int, int]]:
    """Each word's first whole-word occurrence in ``normalize(text)`` after the last one."""
    norm = normalize(text)
    spans: list[tuple[int, int]] = []
    at = 0
    for word in words:
        m = re.compile(rf"(?<![a-z]){re.escape(word)}(?![a-z])").search(norm, at)
        start = m.start() if m else norm.find(word, at)
        if start < 0:
            spans.append((-1, -1))
            continue
        spans.append((start, start + len(word)))
        at = start + len(word)
    return spans


def _ascii_words(text: str, spans: NDArray[np.int64]) -> NDArray[np.bool_]:
    """Per span: whether :data:`_ASCII_WORD` matched at its start ends at its end, found
    on the characters as arrays (only ASCII neighbours are judged; others say False)."""
    starts, ends = spans[:, 0], spans[:, 1]
    valid = (starts >= 0) & (ends > starts)
    if not valid.any():
        return valid
    chars = np.frombuffer(
        text[: int(ends.max()) + 1].encode("utf-32-le", "surrogatepass"), dtype=np.uint32
    )
    letter = ((chars >= 65) & (chars <= 90)) | ((chars >= 97) & (chars <= 122))
    word = letter | ((chars >= 48) & (chars <= 57)) | (chars == 95)  # ASCII \w
    seen = np.concatenate(([0], np.cumsum(letter)))
    s, e = np.where(valid, starts, 0), np.where(valid, ends, 0)
    letters = seen[e] - seen[s] == e - s
    before = chars[np.maximum(s - 1, 0)]
    clear_before = (s == 0) | ((before < 128) & ~word[np.maximum(s - 1, 0)] & (before != 39))
    last = len(chars) - 1
    after = chars[np.minimum(e, last)]
    clear_after = (e >= len(text)) | ((e <= last) & (after < 128) & ~word[np.minimum(e, last)])
    found: NDArray[np.bool_] = valid & letters & clear_before & clear_after
    return found


def _tokens_of(text: str, spans: list[tuple[int, int]]) -> tuple[NDArray[Any], NDArray[Any]]:
    """The original word around each span: (index per span, unique token spans)."""
    tokens: list[tuple[int, int]] = []
    index = [-1] * len(spans)
    array = np.asarray(spans, dtype=np.int64).reshape(-1, 2)
    # plain: a whole ASCII word (its own token), after the span before it
    plain = _ascii_words(text, array)
    plain[1:] &= array[1:, 0] >= array[:-1, 1]
    if plain.all():
        return np.arange(len(spans), dtype=np.int64), array

    def one(i: int) -> None:
        start, end = spans[i]
        if start < 0:
            return
        if tokens and tokens[-1][0] <= start and end <= tokens[-1][1]:
            index[i] = len(tokens) - 1
            return
        if plain[i]:
            # ASCII letters alone between non-word characters (most words): the token the
            # search below finds is the span itself (it stops at ``end + 1``, so an
            # apostrophe after the span cannot join a later part to it)
            token = (start, end)
        else:
            m = None
            # the original word around [start, end): search from a little before it
            lo = start
            while lo > 0 and (text[lo - 1].isalnum() or text[lo - 1] in "_'\u2019"):
                lo -= 1
            for m in _TOKEN.finditer(text, lo, max(end, lo) + 1):
                if m.start() <= start and end <= m.end():
                    break
            else:
                m = None
            token = (m.start(), m.end()) if m is not None else (start, end)
        if tokens and token[0] < tokens[-1][1]:  # overlaps the previous token: share it
            token = tokens.pop()
            token = (token[0], max(token[1], end))
        tokens.append(token)
        index[i] = len(tokens) - 1

    # One span at a time only where it matters: the spans that are not plain, and plain
    # ones that start inside the token before them. The other plain spans are their own
    # tokens, added together.
    pos = 0
    for k in [*np.flatnonzero(~plain).tolist(), len(spans)]:
        i = pos
        while i < k and tokens and spans[i][0] < tokens[-1][1]:
            one(i)
            i += 1
        if i < k:
            first = len(tokens)
            tokens += spans[i:k]
            index[i:k] = range(first, first + k - i)
        if k < len(spans):
            one(k)
        pos = k + 1
    return np.asarray(index, dtype=np.int64), np.asarray(tokens, dtype=np.int64).reshape(-1, 2)


#: A long text's aligned words are sought in a prefix of this many times the cap.
_HEAD_FACTOR = 4
#: Words the prefix must hold past the aligned ones: scrubbing's end-of-text patterns
#: act on a text's last words, which in a prefix are not the text's last words.
_HEAD_SPARE_WORDS = 500


def _head_word_spans(
    text: str, words: list[str], kept: int, limit: int
) -> list[tuple[int, int]] | None:
    """The spans of the first ``kept`` words, tracked through a prefix of a long ``text``.

    Tracking scrubbing through all of a 5 MB text cost seconds for the few words within
    the cap. The prefix's spans are used only when its prepared words start with the
    text's first ``kept`` words and hold :data:`_HEAD_SPARE_WORDS` more; otherwise (or
    for a text no longer than the prefix) None, and the whole text is tracked.
    """
    size = _HEAD_FACTOR * limit
    if len(text) <= size:
        return None
    found = _prepared_word_spans(text[:size], kept)
    if found is None:
        return None
    head = found[0].split()
    if len(head) < kept + _HEAD_SPARE_WORDS or head[:kept] != words[:kept]:
        return None
    return found[1][:kept]


def _within(words: list[str], limit: int) -> int:
    """How many of the first ``words``, joined by spaces, fit in ``limit`` characters."""
    used = 0
    kept = 0
    for word in words:
        used += len(word) + (1 if kept else 0)
        if used > limit:
            break
        kept += 1
    return kept


def align(
    text: str,
    preprocess: bool = True,
    max_chars: int | None = None,
    prepared: str | None = None,
    spans: list[tuple[int, int]] | None = None,
) -> Alignment:
    """The words a model reads from ``text`` and the original words they came from.

    Parameters
    ----------
    text : str
        The text as given.
    preprocess : bool, default=True
        The model reads ``prepare(text)`` (else ``text`` itself, split at whitespace).
    max_chars : int, optional
        Align only the words within the first ``max_chars`` characters of what the
        model reads (default :data:`MAX_ATTRIBUTED_CHARS`); later words get index -1.
    prepared : str, optional
        ``prepare(text)``, when the caller has it already (scoring made it): it is not
        computed again.
    spans : list of (int, int), optional
        With ``prepared``: the offsets in ``text`` of its words, as
        :func:`prepare_with_spans` gives them; they are not sought again.

    Examples
    --------
    >>> a = align("Die Höhe is big.")
    >>> a.words, [a.text[s:e] for s, e in a.tokens]
    (['die', 'h', 'he', 'is', 'big'], ['Die', 'Höhe', 'is', 'big'])
    """
    limit = MAX_ATTRIBUTED_CHARS if max_chars is None else max_chars
    if preprocess:
        if prepared is None:
            prepared, spans = prepare(text), None  # spans come only with their prepared text
        words = prepared.split()
        kept = _within(words, limit)  # only these are aligned: their spans alone are sought
        if spans is None or len(spans) < kept:
            spans = _head_word_spans(text, words, kept, limit)
        if spans is None:
            found = _prepared_word_spans(text, kept)
            spans = found[1] if found is not None and found[0] == prepared else None
        if spans is None:
            spans = _greedy_word_spans(text, words[:kept])
    else:
        prepared = text
        matches = list(re.finditer(r"\S+", text))
        words = [m.group(0).lower() for m in matches]
        spans = []
        for m in matches:  # the word without punctuation at its ends
            inner = re.search(r"\w(?:.*\w)?", m.group(0), re.DOTALL)
            spans.append(
                (m.start() + inner.start(), m.start() + inner.end()) if inner else m.span()
            )
        kept = _within(words, limit)
    index, tokens = _tokens_of(text, spans[:kept])
    word_token = np.full(len(words), -1, dtype=np.int64)
    word_token[:kept] = index
    return Alignment(text, prepared, words, word_token, tokens, kept)


# -- attributions ------------------------------------------------------------------------


@dataclass(frozen=True)
class Attribution:
    """The calibrated log-odds of ``target`` for one text, taken apart (see module doc).

    ``base + weights.sum() + sum(signals.values()) + rest`` is the log-odds of
    ``target`` (:attr:`total`). ``spans[i]`` are the ``(start, end)`` offsets in
    ``text`` of the original word that carries ``weights[i]``. ``other`` is the other
    class of a two-class model (None for more classes, where the weights are the raw
    score of the predicted class against the mean, not calibrated).
    """

    text: str
    target: Any
    other: Any | None
    spans: NDArray[np.int64]
    weights: NDArray[np.float64]
    base: float
    rest: float = 0.0
    signals: dict[str, float] = field(default_factory=dict)

    @property
    def total(self) -> float:
        """What the parts add up to: the (calibrated) log-odds of ``target``."""
        return self.base + float(self.weights.sum()) + sum(self.signals.values()) + self.rest

    def scaled(self, factor: float, base: float) -> Attribution:
        """Every part multiplied by ``factor``, and ``base`` in place of ``self.base``."""
        return Attribution(
            self.text,
            self.target,
            self.other,
            self.spans,
            self.weights * factor,
            base,
            self.rest * factor,
            {k: v * factor for k, v in self.signals.items()},
        )


@dataclass(frozen=True)
class Contributions:
    """Named contributions to a raw score of ``target`` (a style model's SHAP values).

    ``intercept + sum(terms.values())`` is the raw score (:attr:`total`); ``other``
    is the other class of a two-class model, None for more classes.
    """

    target: Any
    other: Any | None
    terms: dict[str, float]
    intercept: float

    @property
    def total(self) -> float:
        """The score the contributions add up to (intercept included)."""
        return self.intercept + float(sum(self.terms.values()))

    def attribution(self, text: str) -> Attribution:
        """As an :class:`Attribution` of ``text`` whose parts are all signals."""
        return Attribution(
            text,
            self.target,
            self.other,
            np.zeros((0, 2), dtype=np.int64),
            np.zeros(0),
            self.intercept,
            0.0,
            dict(self.terms),
        )


def calibrate(raw: Attribution, log_odds: Callable[[float], float]) -> Attribution:
    """``raw`` (parts of a raw score) in units of the calibrated log-odds ``log_odds(score)``.

    With ``s = raw.total`` and ``s0 = raw.base``, every part is multiplied by the
    secant slope ``(log_odds(s) - log_odds(s0)) / (s - s0)`` and the base becomes
    ``log_odds(s0)``, so the result adds up to ``log_odds(s)`` exactly (for a linear
    ``log_odds`` the slope is its own).

    Examples
    --------
    >>> raw = Attribution("a b", "fake", "reliable", np.array([[0, 1], [2, 3]]),
    ...                   np.array([1.0, -0.5]), base=0.25)
    >>> calibrate(raw, lambda s: 2 * s - 1).total == 2 * raw.total - 1
    True
    """
    s, s0 = raw.total, raw.base
    top, bottom = log_odds(s), log_odds(s0)
    slope = (top - bottom) / (s - s0) if abs(s - s0) > 1e-12 else 0.0
    out = raw.scaled(slope, bottom)
    if slope == 0.0:  # nothing moved the score: all of it is the base
        out = Attribution(out.text, out.target, out.other, out.spans, out.weights, top)
    return out


def word_attribution(
    alignment: Alignment,
    word_weights: NDArray[np.float64],
    *,
    target: Any,
    other: Any | None,
    score: float,
    base: float,
    signals: dict[str, float] | None = None,
) -> Attribution:
    """Raw per-word weights (one per prepared word) summed onto the original words.

    ``score`` is the raw score they are part of; whatever of ``score - base`` the words
    and ``signals`` do not carry becomes ``rest``.
    """
    keep = alignment.word_token >= 0
    weights = np.bincount(
        alignment.word_token[keep], weights=word_weights[keep], minlength=len(alignment.tokens)
    ).astype(np.float64)
    signals = dict(signals or {})
    rest = score - base - float(weights.sum()) - sum(signals.values())
    return Attribution(
        alignment.text, target, other, alignment.tokens, weights, base, rest, signals
    )


def ngram_tokens(alignment: Alignment, vectorizer: Any) -> tuple[list[str], NDArray[np.intp]]:
    """The tokens of the aligned words, as ``vectorizer``'s analyzer makes them, in order,
    and the index of the word each lies in.

    The analyzer tokenizes with ``token_pattern`` (and drops ``stop_words``); a token
    never spans whitespace, so each lies in one word (a word may hold several, or none).
    """
    token = re.compile(vectorizer.token_pattern)
    stop = vectorizer.get_stop_words() or frozenset()
    preprocess = vectorizer.build_preprocessor()
    words = alignment.words[: alignment.attributed]
    if (
        vectorizer.token_pattern == _DEFAULT_TOKENS
        and not stop
        and getattr(vectorizer, "preprocessor", None) is None
        and is_normalized(" ".join(words))
    ):
        # words of a to z only (what prepare gives): a word is one token if it has two
        # letters or more (lower-case already, so the preprocessor changes nothing)
        kept = [i for i, w in enumerate(words) if len(w) > 1]
        return [words[i] for i in kept], np.asarray(kept, dtype=np.intp)
    tokens: list[str] = []
    owner: list[int] = []
    of_word: dict[str, list[str]] = {}  # a text repeats its words: tokenize each once
    for i in range(alignment.attributed):
        word = alignment.words[i]
        found = of_word.get(word)
        if found is None:
            found = of_word[word] = [t for t in token.findall(preprocess(word)) if t not in stop]
        tokens += found
        owner += [i] * len(found)
    return tokens, np.asarray(owner, dtype=np.intp)


def ngram_owners(
    alignment: Alignment, vectorizer: Any, ngram_range: tuple[int, int]
) -> tuple[list[str], NDArray[np.intp], NDArray[np.intp]]:
    """Every word n-gram of the aligned words as arrays: ``(grams, sizes, owners)``.

    ``sizes[g]`` is the number of tokens of gram ``g``; ``owners`` holds the word index
    of each token of each gram, the grams in order (``sizes.sum()`` entries).
    """
    tokens, owner = ngram_tokens(alignment, vectorizer)
    grams: list[str] = []
    sizes: list[NDArray[np.intp]] = []
    owners: list[NDArray[np.intp]] = []
    lo, hi = ngram_range
    for n in range(lo, hi + 1):
        m = len(tokens) - n + 1
        if m <= 0:
            continue
        if n == 1:
            grams += tokens
        elif n == 2:
            grams += [a + " " + b for a, b in itertools.pairwise(tokens)]
        else:
            grams += [" ".join(tokens[k : k + n]) for k in range(m)]
        sizes.append(np.full(m, n, dtype=np.intp))
        owners.append(owner[np.arange(m)[:, None] + np.arange(n)[None, :]].ravel())
    empty = np.zeros(0, dtype=np.intp)
    return (
        grams,
        np.concatenate(sizes) if sizes else empty,
        np.concatenate(owners) if owners else empty,
    )


def ngram_positions(
    alignment: Alignment, vectorizer: Any, ngram_range: tuple[int, int]
) -> list[tuple[str, list[int]]]:
    """Every word n-gram of the aligned words, as ``vectorizer``'s analyzer makes them.

    Returns ``(gram, [index of the word each of its tokens is in])``, the n-grams of each
    length in turn (:func:`ngram_owners`, one list per gram).
    """
    grams, sizes, owners = ngram_owners(alignment, vectorizer, ngram_range)
    per_gram = np.split(owners, np.cumsum(sizes)[:-1]) if len(grams) else []
    return [(gram, where.tolist()) for gram, where in zip(grams, per_gram, strict=True)]


# -- linear models on TF-IDF features -------------------------------------------------------


class LinearTextModel(Protocol):
    """What :func:`linear_attribution` needs from a fitted linear TF-IDF model.

    ``word_vectorizer_`` and ``char_vectorizer_`` are fitted ``TfidfVectorizer`` s
    (word n-grams, ``char_wb`` n-grams) whose outputs are stacked in that order,
    followed by any other columns (a claims model's metadata).
    """

    classes_: Any
    preprocess: bool
    word_vectorizer_: Any
    char_vectorizer_: Any

    def linear_weights(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """``(coef, intercept)`` of the final linear model."""
        ...


def _row(matrix: Any) -> dict[int, float]:
    csr = matrix.tocsr()
    return {int(j): float(v) for j, v in zip(csr.indices, csr.data, strict=True) if v != 0.0}


def linear_attribution(
    model: LinearTextModel,
    text: str,
    *,
    target: Any | None = None,
    log_odds: Callable[[float], float] | None = None,
    extra: tuple[dict[str, float], float] | None = None,
) -> Attribution:
    """The raw score of a TF-IDF linear model taken apart by word; calibrated if asked.

    Parameters
    ----------
    model : LinearTextModel
        A fitted model (``TfidfLogisticClassifier``, ``ClaimsClassifier``).
    text : str
        The text as given.
    target : label, optional
        The class whose score is explained: ``"fake"`` (or ``classes_[1]``) for two
        classes, the predicted class for more.
    log_odds : callable, optional
        Raw score of ``target`` → its calibrated log-odds (see :func:`calibrate`).
    extra : (signals, score), optional
        Named contributions of columns past the text's (metadata), and their total.
    """
    from veracity.models._charcache import cache_for

    classes: list[Any] = np.asarray(model.classes_).tolist()
    coef, intercept = model.linear_weights()
    alignment = align(text, model.preprocess)
    prepared = alignment.prepared
    word_vec, char_vec = model.word_vectorizer_, model.char_vectorizer_
    n_word = len(word_vec.vocabulary_)
    n_char = len(char_vec.vocabulary_)
    word_values = _row(word_vec.transform([prepared]))
    char_cache = cache_for(char_vec)
    from veracity.models._charcache import char_wb_transform

    char_values = _row(char_wb_transform(char_vec, [prepared]))
    if coef.shape[0] == 1:
        target = (FAKE if FAKE in classes else classes[1]) if target is None else target
        if target not in classes:
            raise ValueError(f"target {target!r} is not one of the model's classes {classes}")
        sign = 1.0 if target == classes[1] else -1.0
        weights, bias = sign * coef[0], sign * float(intercept[0])
        other: Any | None = classes[0] if target == classes[1] else classes[1]
    else:
        centred, centred_bias = coef - coef.mean(axis=0), intercept - intercept.mean()
        if target is None:
            dense = np.zeros(coef.shape[1])
            for j, v in word_values.items():
                dense[j] = v
            for j, v in char_values.items():
                dense[n_word + j] = v
            target = classes[int(np.argmax(centred @ dense + centred_bias))]
        if target not in classes:
            raise ValueError(f"target {target!r} is not one of the model's classes {classes}")
        k = classes.index(target)
        weights, bias, other = centred[k], float(centred_bias[k]), None
    word_contrib = {j: v * float(weights[j]) for j, v in word_values.items()}
    char_contrib = {j: v * float(weights[n_word + j]) for j, v in char_values.items()}
    signals, extra_score = extra if extra is not None else ({}, 0.0)
    score = bias + sum(word_contrib.values()) + sum(char_contrib.values()) + extra_score
    word_weights = np.zeros(len(alignment.words))
    # word n-grams: a feature's contribution shared by its occurrences, then by its words
    vocabulary: dict[str, int] = word_vec.vocabulary_
    counts = Counter(word_vec.build_analyzer()(prepared))
    lo, hi = word_vec.ngram_range
    for gram, where in ngram_positions(alignment, word_vec, (int(lo), int(hi))):
        column = vocabulary.get(gram)
        if column is not None and column in word_contrib:
            np.add.at(word_weights, where, word_contrib[column] / counts[gram] / len(where))
    # char n-grams: shared by the words that produced them, by count
    if char_contrib:
        doc = np.zeros(n_char)
        all_words = Counter(char_vec.build_preprocessor()(prepared).split())
        rows = {w: char_cache.row(w) for w in all_words}
        for w, tf in all_words.items():
            np.add.at(doc, rows[w][0], tf * rows[w][1])
        unit = np.zeros(n_char)
        for j, v in char_contrib.items():
            unit[j] = v / doc[j]
        for i in range(alignment.attributed):
            idx, cnt = rows[alignment.words[i]]
            word_weights[i] += float(cnt @ unit[idx])
    raw = word_attribution(
        alignment,
        word_weights,
        target=target,
        other=other,
        score=score,
        base=bias,
        signals=signals,
    )
    return calibrate(raw, log_odds) if log_odds is not None else raw


def calibrator_log_odds(model: Any, target: Any) -> Callable[[float], float] | None:
    """Raw score of ``target`` → its calibrated log-odds, for a two-class linear model.

    The model is calibrated by one ``CalibratedClassifierCV(ensemble=False)`` pair
    (``calibrated_``: sigmoid or isotonic on the raw score of ``classes_[1]``) or by a
    temperature (``temperature_``). Probabilities are clipped to ``[1e-12, 1 - 1e-12]``
    (an isotonic calibrator can say 0 or 1). None for more than two classes.
    """
    classes = list(np.asarray(model.classes_).tolist())
    if len(classes) != 2:
        return None
    sign = 1.0 if target == classes[1] else -1.0
    temperature = getattr(model, "temperature_", None)
    if temperature is not None:
        return lambda t: t / float(temperature)
    calibrator = model.calibrated_.calibrated_classifiers_[0].calibrators[0]

    def log_odds(t: float) -> float:
        p = float(np.clip(calibrator.predict(np.array([sign * t]))[0], 1e-12, 1.0 - 1e-12))
        return sign * float(np.log(p) - np.log1p(-p))

    return log_odds


# -- ranking ---------------------------------------------------------------------------------

# Where a sentence ends (only each match's end is used): its mark, closing quotes or
# brackets, then whitespace; or a line break. Starting with the mark rather than a
# look-behind for it lets the regex skip to the next mark.
_SENTENCE_END = re.compile(r"[.!?\u2026][\"'\u201d\u2019)\]]*\s+|\n\s*")
_JOIN = re.compile(r"[ \t]{1,3}|[ \t]?[-\u2013\u2014/&][ \t]?|\.")


def _label(value: Any) -> Label:
    label: Label = value
    return label


#: A long run of same-direction words is cut in pieces of this many words before phrases
#: are chosen in it, so that choosing stays cheap.
_RUN_PIECE = 30


def _runs(text: str, spans: list[list[int]], weights: list[float]) -> list[list[int]]:
    """Runs of adjacent words that moved the score the same way, joined only by a space, a
    dash, a slash, "&" or "." (the words' indices)."""
    runs: list[list[int]] = []
    for i in range(len(spans)):
        if weights[i] == 0.0:
            continue
        if runs:
            j = runs[-1][-1]
            gap = text[spans[j][1] : spans[i][0]]
            same_sign = (weights[j] > 0) == (weights[i] > 0)
            if j == i - 1 and same_sign and (gap == " " or _JOIN.fullmatch(gap)):
                runs[-1].append(i)
                continue
        runs.append([i])
    return runs


def _phrases(attribution: Attribution) -> list[tuple[int, int, float]]:
    """Phrases: windows of 1 to 3 adjacent words pushing one way, with content words at
    both ends; in a longer run of such words the strongest window first, then the rest
    of the run on either side of it the same way.

    "The strongest window, then the same in what is left on either side" chooses exactly
    the windows that, taken strongest first (earliest on a tie), overlap none taken
    before: each window's strength is computed once, not once per split.
    """
    if ngrams is not None:
        return sorted(_phrases_compiled(attribution))
    return _phrases_python(attribution)


def _phrases_python(attribution: Attribution) -> list[tuple[int, int, float]]:
    """:func:`_phrases` in Python: where the extension is not built, and its reference."""
    text, spans = attribution.text, attribution.spans.tolist()
    # Python floats: sums of up to three of them, in order from 0.0, are numpy's sums
    # bit for bit, without a numpy call per window
    weights: list[float] = attribution.weights.tolist()
    runs = _runs(text, spans, weights)
    too_long: dict[int, bool] = {}
    function: dict[int, bool] = {}
    for run in runs:
        for i in run:
            s, e = spans[i]
            too_long[i] = e - s > MAX_WORD_CHARS
            function[i] = too_long[i] or is_function_word(text[s:e])
    out: list[tuple[int, int, float]] = []
    for run in runs:
        if len(run) == 1:  # most runs: the word is a phrase unless a function word
            i = run[0]
            if not function[i]:
                out.append((spans[i][0], spans[i][1], 0.0 + weights[i]))
            continue
        for k in range(0, len(run), _RUN_PIECE):
            piece = run[k : k + _RUN_PIECE]
            windows: list[tuple[float, int, int, float]] = []  # (-strength, a, b, sum)
            for a in range(len(piece)):
                if function[piece[a]]:
                    continue
                total = 0.0
                for b in range(a, min(a + MAX_PHRASE_WORDS, len(piece))):
                    if too_long[piece[b]]:
                        break
                    total += weights[piece[b]]
                    if not function[piece[b]]:
                        windows.append((-abs(total), a, b, total))
            taken = [False] * len(piece)
            for _, a, b, total in sorted(windows):
                if any(taken[a : b + 1]):
                    continue
                taken[a : b + 1] = [True] * (b + 1 - a)
                out.append((spans[piece[a]][0], spans[piece[b]][1], total))
    return sorted(out)


def _phrases_compiled(attribution: Attribution) -> list[tuple[int, int, float]]:
    """:func:`_phrases` (unsorted) by the compiled ``phrase_windows``, the same windows:
    the same runs, sums in the same order, the same strongest-first choice."""
    text = attribution.text
    spans = np.asarray(attribution.spans, dtype=np.int64).reshape(-1, 2)
    weights = np.ascontiguousarray(attribution.weights, dtype=np.float64)
    starts, ends = np.ascontiguousarray(spans[:, 0]), np.ascontiguousarray(spans[:, 1])
    too_long = (ends - starts) > MAX_WORD_CHARS
    function = too_long.copy()
    held = np.flatnonzero((weights != 0.0) & ~too_long)  # the words a phrase may hold
    known = _FUNCTION_FLAGS.get
    pairs = zip(starts[held].tolist(), ends[held].tolist(), strict=True)
    flags: list[bool | None] = [known(text[a:b]) for a, b in pairs]
    for k, flag in enumerate(flags):
        if flag is None:  # not cached yet (is_function_word caches it)
            a, b = int(starts[held[k]]), int(ends[held[k]])
            flags[k] = is_function_word(text[a:b])
    function[held] = flags
    found: list[tuple[int, int, float]] = ngrams.phrase_windows(
        text,
        starts,
        ends,
        weights,
        function.view(np.uint8),
        too_long.view(np.uint8),
        MAX_PHRASE_WORDS,
        _RUN_PIECE,
    )
    return found


def _sentences(attribution: Attribution) -> list[tuple[int, int, float]]:
    """Sentences (or passages of :data:`MAX_SENTENCE_WORDS` words) and their weights."""
    text, spans, weights = attribution.text, attribution.spans, attribution.weights
    if not len(spans):
        return []
    ends = np.asarray([m.end() for m in _SENTENCE_END.finditer(text)] + [len(text) + 1])
    # each word's sentence: the ends at or before its start (never fewer than the word
    # before it had); a unit is a sentence's words, 40 at a time
    sentence = np.maximum.accumulate(np.searchsorted(ends, spans[:, 0], side="right"))
    n = len(sentence)
    changed = np.flatnonzero(np.diff(sentence)) + 1
    first_of_sentence = np.zeros(n, dtype=np.int64)
    first_of_sentence[changed] = changed
    first_of_sentence = np.maximum.accumulate(first_of_sentence)
    rank = np.arange(n) - first_of_sentence
    firsts = np.flatnonzero(rank % MAX_SENTENCE_WORDS == 0).tolist()
    if len(firsts) < 2:  # the whole text is one sentence: nothing to point at
        return []
    sums = np.add.reduceat(np.asarray(weights, dtype=np.float64), firsts)
    lasts = [*(f - 1 for f in firsts[1:]), n - 1]
    return [
        (int(spans[a][0]), int(spans[b][1]), float(w))
        for a, b, w in zip(firsts, lasts, sums.tolist(), strict=True)
    ]


def rank_evidence(
    attribution: Attribution, top_k: int = 5, sentences: int = SENTENCES_PER_DIRECTION
) -> list[Evidence]:
    """The evidence a person reads: phrases, sentences and signals (see module doc).

    Parameters
    ----------
    attribution : Attribution
        The text's log-odds taken apart.
    top_k : int, default=5
        Phrases (and signals) per direction.
    sentences : int, default=1
        Sentences per direction.

    Returns
    -------
    list of Evidence
        Phrases and signals by ``abs(weight)``, largest first, then sentences. For
        more than two classes only evidence for the target is returned.
    """
    if top_k < 0:
        raise ValueError(f"top_k must be >= 0, got {top_k}")
    target, other = attribution.target, attribution.other
    text = attribution.text

    def pick(items: list[tuple[str, float, Any]], k: int) -> list[tuple[str, float, Any]]:
        ranked = sorted(items, key=lambda item: (-abs(item[1]), item[0]))
        pos = [it for it in ranked if it[1] > 0][:k]
        neg = [it for it in ranked if it[1] < 0][:k] if other is not None else []
        return sorted(pos + neg, key=lambda item: (-abs(item[1]), item[0]))

    grouped: dict[str, tuple[float, int, int, int]] = {}
    for start, end, weight in _phrases(attribution):
        key = " ".join(text[start:end].lower().split())
        w, n, s, e = grouped.get(key, (0.0, 0, start, end))
        grouped[key] = (w + weight, n + 1, s, e)
    phrase_items = [(key, w, (s, e, n)) for key, (w, n, s, e) in grouped.items()]
    signal_items = [(name, w, None) for name, w in attribution.signals.items() if w != 0.0]
    sentence_items = [(text[s:e], w, (s, e, 1)) for s, e, w in _sentences(attribution) if w != 0.0]
    chosen = [("phrase", *item) for item in pick(phrase_items, top_k)]
    chosen += [("signal", *item) for item in pick(signal_items, top_k)]
    chosen.sort(key=lambda item: (-abs(item[2]), item[1]))
    chosen += [("sentence", *item) for item in pick(sentence_items, sentences if top_k else 0)]
    out: list[Evidence] = []
    for kind, term, weight, where in chosen:
        toward = _label(target if weight > 0 else other)
        if where is None:
            out.append(Evidence(term=term, weight=weight, toward=toward, kind="signal"))
        else:
            start, end, count = where
            out.append(
                Evidence(
                    term=text[start:end],
                    weight=weight,
                    toward=toward,
                    kind="sentence" if kind == "sentence" else "phrase",
                    start=start,
                    end=end,
                    count=count,
                )
            )
    return out
