"""Remove shortcut artefacts: text that reveals the *source* of an article, not its truth.

Models trained on ISOT learn that ``(Reuters)`` means reliable and ``Featured image
via`` means fake. Neither says anything about whether a story is true, and both
vanish on any other dataset, so veracity removes them before features are built.

Each pattern below is named, documented and tested on real ISOT rows
(``tests/text/test_scrub.py``). :func:`scrub` works on raw text and on text that is
already in the seed form (:func:`veracity.text.normalize`), keeping the form it was
given; :func:`prepare` is what models see: scrubbed, normalized, spaces collapsed,
the same for a raw article and for its normalized copy.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from veracity.text._compiled import ngrams
from veracity.text.normalize import is_normalized, normalize

__all__ = [
    "NORMALIZED_PATTERNS",
    "RAW_PATTERNS",
    "ScrubPattern",
    "apply_patterns",
    "prepare",
    "scrub",
]


@dataclass(frozen=True)
class ScrubPattern:
    """A named regular expression whose matches are replaced by a space.

    ``triggers`` are lower-case strings of which every match contains at least one
    (after ``str.casefold``): when none occurs in a text the regex is not run, which
    is most of the time and is what makes scrubbing cheap. ``tail``, when set, says
    every match ends the text and starts within its last ``tail`` words, so the regex
    only searches there (it is anchored at the end, and searching a long text from
    every position for it costs more than all the other patterns together).

    ``starts``, when set, are lower-case strings at one of which every match begins
    (after ``str.casefold``; with ``tail``, those in the tail), and ``words_before`` =
    ``(mark, n)`` adds the beginnings of the ``n`` words (letter runs, whitespace
    between) before each ``mark``. The regex is then tried only at those places
    (``regex.match``) instead of at every character,
    which finds the same matches: a regex whose alternatives do not begin with a literal
    is otherwise tried at every position of a long text.
    """

    name: str
    regex: re.Pattern[str]
    doc: str
    triggers: tuple[str, ...] = ()
    tail: int | None = None
    starts: tuple[str, ...] | None = None
    words_before: tuple[str, int] | None = None


def _p(
    name: str,
    pattern: str,
    doc: str,
    flags: int = 0,
    *,
    triggers: tuple[str, ...] = (),
    tail: int | None = None,
    starts: tuple[str, ...] | None = None,
    words_before: tuple[str, int] | None = None,
) -> ScrubPattern:
    return ScrubPattern(name, re.compile(pattern, flags), doc, triggers, tail, starts, words_before)


# Every credit agency of _CREDIT_AGENCY contains one of these.
_AGENCY_TRIGGERS = ("getty", "photo", "afp", "reuters", "shutterstock", "wikimedia")
# Where a photo credit can begin: its first word, or an agency named on its own.
_CREDIT_STARTS = (
    "photo", "image", "picture", "video", "getty", "ap", "afp", "shutterstock", "wikimedia",
    "screen",
)  # fmt: skip


# The COVID disclaimer of Medical News Today and Healthline, as CoAID stores it: lower-cased,
# sometimes without "the", often cut off mid-word. Its wording, in any order, around one
# of the anchor phrases; a word cut off at the very end of the text goes too.
_DISCLAIMER_WORDS = (
    "all data and statistics are based on publicly available at the time of publication some "
    "information may be out date visit our coronavirus hub follow live updates page for most "
    "recent covid 19 outbreak more advice prevention treatment stay informed with current"
).split()
_DISCLAIMER_ANCHORS = (
    ("statistics", "are", "based", "on", "publicly"),
    ("visit", "our", "coronavirus", "hub"),
    ("stay", "informed", "with", "live", "updates"),
)
_DISCLAIMER_TRIGGERS = ("statistics are based", "coronavirus hub", "informed with live")


def _disclaimer(sep: str, letter: str) -> str:
    """The disclaimer's regex for one text form: words joined by ``sep``."""
    word = r"(?:" + "|".join(sorted(set(_DISCLAIMER_WORDS), key=len, reverse=True)) + r")\b"
    anchor = "|".join(sep.join(a) for a in _DISCLAIMER_ANCHORS)
    return (
        rf"\b(?:{word}{sep}){{0,12}}(?:{anchor})\b(?:{sep}{word})*"
        rf"(?:{sep}{letter}{{1,14}}{sep.replace('+', '*')}\Z)?\.?"
    )


_I = re.IGNORECASE
_CREDIT_AGENCY = r"(?:getty\s+images?|ap\s+photo|afp|reuters|shutterstock|wikimedia(?:\s+commons)?)"

#: Patterns applied to raw text, in order.
RAW_PATTERNS: tuple[ScrubPattern, ...] = (
    _p(
        "dateline",
        r"\A\s*(?:[A-Z][\w.,'\u2019/&() -]{0,80}?)?\(\s*reuters\s*\)\s*[-\u2013\u2014]*\s*",
        "Wire dateline opening the text: 'WASHINGTON (Reuters) - ', "
        "'SACRAMENTO, Calif. (Reuters) - '. 2,756 of 2,799 ISOT real texts start with one.",
        _I,
        triggers=("reuters",),
    ),
    _p(
        "reuters",
        r"\(\s*reuters\s*\)|\breuters\b",
        "Any '(Reuters)' or the word 'Reuters'.",
        _I,
        triggers=("reuters",),
        starts=("(", "reuters"),
    ),
    _p(
        "featured_image",
        r"featured\s+image[^\n]*",
        "'Featured image via …' credit line to the end of its line (1,289 ISOT fake rows).",
        _I,
        triggers=("featured",),
        starts=("featured",),
    ),
    _p(
        "photo_credit",
        r"\b(?:photo|image|picture|video)s?\s*(?:by|via|credit|courtesy(?:\s+of)?)\s*:?"
        r"[^\n.]{0,60}?"
        + _CREDIT_AGENCY
        + r"\.?|\b(?:[A-Z][a-z]+\s+){1,2}[A-Z][a-z]+\s*/\s*"
        + _CREDIT_AGENCY
        + r"|"
        + _CREDIT_AGENCY.replace("reuters|", "")
        + r"|\bscreen\s*(?:shot|grab|capture)s?\b",
        "Photo credits: 'Photo by Chip Somodevilla/Getty Images', 'Getty Images', "
        "'AP Photo', 'via screengrab'.",
        _I,
        triggers=(*_AGENCY_TRIGGERS, "screen"),
        starts=_CREDIT_STARTS,
        words_before=("/", 3),  # 'Chip Somodevilla/Getty Images'
    ),
    _p(
        "21wire",
        r"21st\s+century\s+wire(?:\s+says)?|support\s+(?:our\s+work|21wire)[^\n]*|\b21wire(?:\.tv)?\b",
        "21st Century Wire's signature and its 'SUPPORT OUR WORK … @21WIRE.TV' footer.",
        _I,
        triggers=("century", "support", "21wire"),
        starts=("21st", "support", "21wire"),
    ),
    _p(
        "url",
        r"pic\.twitter\.com/\S*|(?:https?://|\bwww\.)\S+",
        "URLs and embedded tweet pictures (pic.twitter.com/…): only fake ISOT rows have them.",
        _I,
        triggers=("pic.twitter.com", "http", "www."),
        starts=("pic.twitter.com", "http", "www."),
    ),
    _p(
        "handle",
        r"@\w{1,30}",
        "Social-media @handles ('@realDonaldTrump'), also glued to a date.",
        0,
        triggers=("@",),
    ),
    _p(
        "trailing_boilerplate",
        r"(?<!(?-i:[a-z]))(?:read\s+more\b\s*:?|share\s+this\b|h/t\b|hat\s+tip\b)[^\n]{0,200}\s*\Z",
        "Trailing 'Read more: Daily Caller', 'Share this …', 'h/t …' at the very end.",
        _I,
        triggers=("read", "share", "h/t", "hat"),
        tail=110,  # the two trigger words, then at most 200 characters (100 words)
        starts=("read", "share", "h/t", "hat"),
    ),
    _p(
        "site_disclaimer",
        _disclaimer(r"[\s.,:;-]+", r"\w"),
        "Health sites' COVID disclaimer ('All data and statistics are based on publicly "
        "available data at the time of publication. … Visit our coronavirus hub …'): in 444 "
        "coaid_news real rows (Medical News Today, Healthline), no fake one.",
        _I,
        triggers=_DISCLAIMER_TRIGGERS,
    ),
    _p(
        "medscape_header",
        r"what\s+your\s+doctor\s+is\s+reading\s+on\s+medscape\.com",
        "WebMD's 'What your doctor is reading on Medscape.com' header (coaid_news real rows).",
        _I,
        triggers=("medscape",),
    ),
    _p(
        "healthday",
        r"\bEn\s+Espa\u00f1ol\b|\bHealthDay\s+Reporter\b|\(\s*HealthDay\s+News\s*\)\s*[-\u2013\u2014]*",
        "HealthDay's 'En Español', 'HealthDay Reporter' byline and '(HealthDay News) --' "
        "dateline (198 fakehealth_healthstory rows): they name the publisher.",
        _I,
        triggers=("healthday", "espa\u00f1ol"),
    ),
)

#: Patterns applied to text in the seed form (lower-case letters and spaces), in order.
NORMALIZED_PATTERNS: tuple[ScrubPattern, ...] = (
    _p(
        "dateline",
        r"\A *(?:[a-z]+ +){0,6}?reuters\b",
        "Seed-form dateline: 'washington  reuters    ', 'sacramento  calif   reuters    '.",
        triggers=("reuters",),
    ),
    _p(
        "reuters",
        r"\breuters\b",
        "The token 'reuters' anywhere.",
        triggers=("reuters",),
        starts=("reuters",),
    ),
    _p(
        "featured_image",
        r"\bfeatured +image(?: +via)?\b(?: +[a-z]+){0,6} *\Z|\bfeatured +image(?: +via)?\b",
        "'featured image via …' (with up to six credit words when it ends the text).",
        triggers=("featured",),
        starts=("featured",),
    ),
    _p(
        "photo_credit",
        r"\b(?:photo|image|picture|video)s? +(?:by|via|credit|courtesy(?: +of)?)\b"
        r"(?: +[a-z]+){0,6}? +"
        r"(?:getty +images?|ap +photo|afp|shutterstock|wikimedia(?: +commons)?)\b"
        r"|\bgetty +images?\b|\bap +photo\b|\bafp\b|\bshutterstock\b|\bwikimedia(?: +commons)?\b"
        r"|\bscreen *(?:shot|grab|capture)s?\b",
        "Photo credits in seed form: 'photo by chip somodevilla getty images', 'getty images'.",
        triggers=(*_AGENCY_TRIGGERS, "screen"),
        starts=_CREDIT_STARTS,
    ),
    _p(
        "21wire",
        r"\bst +century +wire(?: +says)?\b|\bsupport +(?:our +work|wire)\b(?: +[a-z]+){0,8}? +"
        r"member(?: +wire +tv)?\b|\bwire +tv\b",
        "21st Century Wire ('  st century wire says', digits are gone) and its footer.",
        triggers=("wire", "support"),
        starts=("st ", "support", "wire"),
    ),
    _p(
        "url",
        r"\bpic +twitter +com(?: +[a-z]+)?\b"
        r"|\b(?:https?|www)\b(?: +(?:www|t|co|com|org|net|html?))*\b",
        "What URLs leave behind in seed form: 'https   t co', 'pic twitter com xyz'.",
        triggers=("twitter", "http", "www"),
        starts=("pic", "http", "www"),
    ),
    _p(
        "trailing_boilerplate",
        r"\b(?:read +more|share +this|h +t|hat +tip)\b(?: +[a-z]+){0,12} *\Z",
        "Trailing 'read more …', 'share this …', 'h t …' at the very end.",
        tail=16,  # two trigger words, then at most 12 words
        starts=("read", "share", "h ", "hat"),
    ),
    _p(
        "site_disclaimer",
        _disclaimer(" +", "[a-z]"),
        "The health sites' COVID disclaimer in seed form.",
        triggers=_DISCLAIMER_TRIGGERS,
    ),
    _p(
        "medscape_header",
        r"\bwhat +your +doctor +is +reading +on +medscape +com\b",
        "'what your doctor is reading on medscape com' in seed form.",
        triggers=("medscape",),
    ),
    _p(
        "healthday",
        r"\ben +espa +ol\b|\bhealthday +(?:reporter|news)\b",
        "HealthDay's 'en espa ol', 'healthday reporter' and 'healthday news' in seed form.",
        triggers=("healthday", "espa"),
        starts=("en ", "healthday"),
    ),
)


def _tail_start(text: str, words: int) -> int:
    """Index just past the word before the last ``words`` words of ``text`` (0 if fewer).

    The tail ``text[index:]`` starts with whitespace, so ``\\b`` and look-behinds at
    its first word behave as they do in the whole text.
    """
    parts = text.rsplit(None, words)
    return len(parts[0]) if len(parts) > words else 0


# The two characters that re.IGNORECASE matches to an ASCII letter ("i") but whose
# casefold is not that letter; with either in a text, ``starts`` cannot be used.
_FOLD_MISMATCH = ("\u0130", "\u0131")
# What [A-Za-z] matches under re.IGNORECASE: the ASCII letters and four others.
_IGNORECASE_LETTERS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ\u0130\u0131\u017f\u212a"
)


def _find_all(haystack: str, needle: str, start: int = 0) -> Iterator[int]:
    at = haystack.find(needle, start)
    while at >= 0:
        yield at
        at = haystack.find(needle, at + 1)


def _run_starts_before(text: str, end: int, runs: int) -> Iterator[int]:
    """Where each of the (up to) ``runs`` letter runs before ``end`` begins, walking back
    over whitespace before each run (as ``\\s`` does: ``str.isspace``)."""
    at = end
    for _ in range(runs):
        while at > 0 and text[at - 1].isspace():
            at -= 1
        run_end = at
        while at > 0 and text[at - 1] in _IGNORECASE_LETTERS:
            at -= 1
        if at == run_end:
            return
        yield at


def _aligned(text: str, folded: str) -> bool:
    """Whether ``folded`` (``text.casefold()``) has each character of ``text`` at the same
    index and each ASCII letter where re.IGNORECASE sees one: then ``starts`` apply."""
    return len(folded) == len(text) and (
        text.isascii() or not any(c in text for c in _FOLD_MISMATCH)
    )


def _matches(pattern: ScrubPattern, text: str, folded: str, aligned: bool) -> list[tuple[int, int]]:
    """The ``(start, end)`` of each match of ``pattern`` in ``text``, as
    ``pattern.regex.finditer(text)`` finds them (its triggers already found in ``folded``)."""
    start = 0
    if pattern.tail is not None:
        start = _tail_start(text, pattern.tail)
        if pattern.starts is None or not aligned:
            tail = pattern.regex.finditer(text[start:])
            return [(start + m.start(), start + m.end()) for m in tail]
    elif pattern.starts is None or not aligned:
        return [m.span() for m in pattern.regex.finditer(text)]
    # The tail starts with whitespace, so a match tried in the whole text at a place in
    # the tail sees what it would see in the tail alone (look-behinds, \b).
    candidates = {at for s in pattern.starts for at in _find_all(folded, s, start)}
    if pattern.words_before is not None:
        mark, runs = pattern.words_before
        for at in _find_all(text, mark):
            candidates.update(_run_starts_before(text, at, runs))
    spans: list[tuple[int, int]] = []
    after = 0
    for at in sorted(candidates):
        if at >= after and (m := pattern.regex.match(text, at)) is not None:
            spans.append(m.span())
            after = m.end()
    return spans


def _replaced(text: str, spans: list[tuple[int, int]]) -> str:
    pieces, last = [], 0
    for start, end in spans:
        pieces += [text[last:start], " "]
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


def _present_python(text: str, needles: Iterable[str]) -> set[str]:
    """The needles that occur in ``text`` (the reference; the extension's ``present`` is
    the same set, found in one pass over the text)."""
    return {t for t in needles if t in text}


_present: Callable[[str, Iterable[str]], set[str]] = (
    ngrams.present if ngrams is not None else _present_python
)


#: id(patterns) -> (patterns, their triggers, those holding a space); the tuple is kept,
#: so its id cannot be reused while cached (hashing the tuple cost more than the lookup).
_TRIGGERS: dict[int, tuple[tuple[ScrubPattern, ...], frozenset[str], frozenset[str]]] = {}


def _triggers(patterns: tuple[ScrubPattern, ...]) -> tuple[frozenset[str], frozenset[str]]:
    """The patterns' triggers, and those holding a space. A cut (a span becoming one space)
    can make a trigger appear only across that space: after one, only those and the
    triggers still present need seeking again."""
    hit = _TRIGGERS.get(id(patterns))
    if hit is not None and hit[0] is patterns:
        return hit[1], hit[2]
    triggers = frozenset(t for p in patterns for t in p.triggers)
    spaced = frozenset(t for t in triggers if " " in t)
    if len(_TRIGGERS) < 64:
        _TRIGGERS[id(patterns)] = (patterns, triggers, spaced)
    return triggers, spaced


def apply_patterns(
    text: str,
    patterns: tuple[ScrubPattern, ...],
    seen: Callable[[list[tuple[int, int]]], None] | None = None,
) -> str:
    """Replace each match of each pattern, in order, by one space.

    ``seen``, if given, is called with each pass's match spans, in the text as it was
    before that pass (``veracity.explain`` follows each character's origin with it).
    """
    folded = text.casefold()
    aligned = _aligned(text, folded)
    triggers, spaced = _triggers(patterns)
    present = _present(folded, triggers)  # each trigger sought once, not per pattern
    for pattern in patterns:
        if pattern.triggers and present.isdisjoint(pattern.triggers):
            continue
        spans = _matches(pattern, text, folded, aligned)
        if not spans:
            continue
        if seen is not None:
            seen(spans)
        text = _replaced(text, spans)
        if aligned:  # the same cuts in the casefolded text: no need to fold it again
            folded = _replaced(folded, spans)
        else:
            folded = text.casefold()
            aligned = _aligned(text, folded)
        present = _present(folded, present | spaced)
    return text


def scrub(text: str) -> str:
    """Remove shortcut artefacts from ``text``, keeping the form it came in.

    Raw text stays raw (patterns in :data:`RAW_PATTERNS`); text in the seed form
    stays in the seed form (patterns in :data:`NORMALIZED_PATTERNS`): each removed
    span becomes one space, so the result is again only ``a`` to ``z`` and spaces.

    Examples
    --------
    >>> scrub("WASHINGTON (Reuters) - The Senate voted.")
    'The Senate voted.'
    >>> scrub("washington  reuters    the senate voted ")
    '     the senate voted '
    """
    if is_normalized(text):
        return apply_patterns(text, NORMALIZED_PATTERNS)
    return apply_patterns(text, RAW_PATTERNS).strip()


def prepare(text: str) -> str:
    """What models see: scrubbed, in the seed form, runs of spaces collapsed.

    A raw article and its normalized copy give the same (or nearly the same)
    result, so veracity treats both inputs alike.

    Examples
    --------
    >>> prepare("WASHINGTON (Reuters) - The Senate voted.")
    'the senate voted'
    >>> prepare(normalize("WASHINGTON (Reuters) - The Senate voted."))
    'the senate voted'
    """
    if not is_normalized(text):
        text = normalize(apply_patterns(text, RAW_PATTERNS))
    return " ".join(apply_patterns(text, NORMALIZED_PATTERNS).split())
