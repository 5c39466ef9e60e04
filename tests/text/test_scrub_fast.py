"""Scrubbing's shortcuts (trigger words, tail-only search, start places) never change its result.

Each pattern is skipped when none of its trigger strings occurs in the text, the
end-anchored ones only search the last words of the text, and the others are tried only
where a match can begin (``starts``, ``words_before``). These tests compare that with
running every regex over the whole text, on real rows of every dataset and on generated
text built from the patterns' own vocabulary and from the characters that case-folding
treats specially.
"""

from __future__ import annotations

import re
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from real_texts import DATASET_NAMES, real_texts
from veracity.text._compiled import ngrams
from veracity.text.scrub import (
    _FOLD_MISMATCH,
    _IGNORECASE_LETTERS,
    NORMALIZED_PATTERNS,
    RAW_PATTERNS,
    ScrubPattern,
    _present_python,
    _triggers,
    apply_patterns,
)

needs_compiled = pytest.mark.skipif(ngrams is None, reason="veracity.text._ngrams was not built")


def naive(text: str, patterns: tuple[ScrubPattern, ...]) -> str:
    for pattern in patterns:
        text = pattern.regex.sub(" ", text)
    return text


PIECES = [
    "WASHINGTON (Reuters) - ",
    "(Reuters)",
    "reuters",
    "Featured image via Getty Images",
    "Photo by Chip Somodevilla/Getty Images",
    "AP Photo",
    "afp",
    "screengrab",
    "21st Century Wire",
    "SUPPORT OUR WORK",
    "member",
    "wire tv",
    "pic.twitter.com/abc",
    "https://t.co/x",
    "www.x.com",
    "@handle",
    "Read more: Daily Caller",
    "share this",
    "h/t",
    "hat tip",
    "h t",
    "the",
    "senate",
    "voted",
    "spread",
    "more",
    "that",
    "what",
    " ",
    "  ",
    "\n",
    ".",
    "\u017fhare",  # long s: case-insensitively an "s"
    "\u212a",  # Kelvin sign: case-insensitively a "k"
    # credits whose match begins words before the slash, and what surrounds them
    "John Smith/Getty Images",
    "Chip\n Somodevilla /  AFP",
    "Jane Q Doe/Wikimedia Commons",
    "x9Ann Lee/Shutterstock",
    "/",
    "Photo by",
    "images",
    "ap photo",
    "(",
    ")",
    "support 21wire",
    "2",
    "\u0131mage",  # dotless i: matches "i" case-insensitively, casefolds to itself
    "\u0130MAGE",  # dotted capital I: casefolds to two characters
    "stra\u00dfe",  # sharp s: casefolds to "ss", so offsets shift
    "\u2003",  # em space: whitespace for \\s
    # triggers with a space, which a cut can make appear: "coronavirus" + cut + "hub"
    "coronavirus",
    "hub",
    "Coronavirus Hub",
    "informed with",
    "live",
    "statistics are",
    "based",
    "HealthDay",
    "Medscape",
]


@settings(max_examples=800, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=40), st.sampled_from([" ", ""]))
def test_same_result_as_every_regex_on_the_whole_text(pieces: list[str], glue: str) -> None:
    text = glue.join(pieces)
    assert apply_patterns(text, RAW_PATTERNS) == naive(text, RAW_PATTERNS)
    lowered = " ".join(
        "".join(c if c.isalpha() and c.isascii() else " " for c in p).lower() for p in pieces
    )
    assert apply_patterns(lowered, NORMALIZED_PATTERNS) == naive(lowered, NORMALIZED_PATTERNS)


@pytest.mark.parametrize("name", DATASET_NAMES)
def test_same_result_on_real_articles(name: str) -> None:
    texts = real_texts(name, 200)
    assert len(texts) >= 150  # random_political has 150 rows
    for text in texts:
        assert apply_patterns(text, RAW_PATTERNS) == naive(text, RAW_PATTERNS)
        seed_form = " ".join(re.sub("[^a-z]", " ", text.lower()).split())
        assert apply_patterns(seed_form, NORMALIZED_PATTERNS) == naive(
            seed_form, NORMALIZED_PATTERNS
        )


def test_start_places_find_matches_far_into_a_long_text() -> None:
    # The case the start places exist for: few matches in a long text, one of them a
    # credit that begins three words before its slash.
    filler = "The senate voted on the bill again today. " * 2000
    text = filler + "Photo: Chip  Somodevilla/Getty Images. " + filler + "via AP Photo."
    credit = next(p for p in RAW_PATTERNS if p.name == "photo_credit")
    spans: list[tuple[int, int]] = []
    apply_patterns(text, (credit,), spans.extend)
    assert [text[a:b] for a, b in spans] == ["Chip  Somodevilla/Getty Images", "AP Photo"]
    assert apply_patterns(text, RAW_PATTERNS) == naive(text, RAW_PATTERNS)


def test_every_pattern_match_is_longer_than_zero() -> None:
    # Trying a regex only at candidate places equals finditer only if no match is empty.
    from re import _parser  # type: ignore[attr-defined]

    for pattern in (*RAW_PATTERNS, *NORMALIZED_PATTERNS):
        low, _high = _parser.parse(pattern.regex.pattern, pattern.regex.flags).getwidth()
        assert low > 0, pattern.name


@pytest.mark.slow
def test_the_case_folding_assumptions_hold_for_every_code_point() -> None:
    # ``starts`` are found in the casefolded text: every character that re.IGNORECASE
    # matches to an ASCII letter must casefold to that letter, except _FOLD_MISMATCH
    # (texts with those skip the shortcut); _IGNORECASE_LETTERS is [A-Za-z] under
    # IGNORECASE; and \s is str.isspace.
    letters = {c: re.compile(c, re.IGNORECASE) for c in "abcdefghijklmnopqrstuvwxyz"}
    ascii_range = re.compile("[A-Za-z]", re.IGNORECASE)
    space = re.compile(r"\s")
    mismatch, ignorecase_letters = set(), set()
    for code in range(sys.maxunicode + 1):
        if 0xD800 <= code <= 0xDFFF:
            continue
        c = chr(code)
        assert bool(space.fullmatch(c)) == c.isspace(), hex(code)
        if not ascii_range.fullmatch(c):
            continue
        ignorecase_letters.add(c)
        matched = [a for a, r in letters.items() if r.fullmatch(c)]
        if c.casefold() not in matched:
            mismatch.add(c)
    assert mismatch == set(_FOLD_MISMATCH)
    assert ignorecase_letters == set(_IGNORECASE_LETTERS)


def test_a_trigger_that_a_cut_makes_is_sought_again() -> None:
    """ "coronavirus(Reuters)hub" holds no "coronavirus hub" until (Reuters) becomes a space;
    the health sites' disclaimer must then still be found (only the triggers still present,
    and those with a space, are sought after a cut)."""
    text = (
        "the senate voted. " * 8 + "Please visit our coronavirus(Reuters)hub for updates. The end."
    )
    scrubbed = apply_patterns(text, RAW_PATTERNS)
    assert scrubbed == naive(text, RAW_PATTERNS)
    assert "hub" not in scrubbed and "coronavirus" not in scrubbed


# Characters of every string width (one, two and four bytes a character), and pieces of
# the real triggers, so that needles and haystacks share prefixes and first trigrams.
_PRESENT_PIECES = st.sampled_from(
    ["a", "b", "ab", "re", "rea", "read", "reuters", " ", "@", "h/t", "\xe9", "\xf1", "\xff",
     "espa\xf1ol", "\u0130", "\u2019", "\u20ac", "\U0001f600", "\x00", "wire", "www."]
)  # fmt: skip
_NEEDLES = st.lists(st.text(_PRESENT_PIECES.map(lambda p: p[0]), max_size=5) | _PRESENT_PIECES)


@needs_compiled
@settings(max_examples=1500, deadline=None)
@given(st.lists(_PRESENT_PIECES, max_size=30).map("".join), _NEEDLES)
def test_compiled_present_equals_in_for_each_needle(haystack: str, needles: list[str]) -> None:
    # the one-pass search (byte, two-byte and four-byte texts; needles of 0-2 characters
    # by memchr, longer ones by their first three) is exactly `n in haystack` for each n
    assert ngrams.present(haystack, needles) == _present_python(haystack, needles)


@needs_compiled
@pytest.mark.parametrize("width", ["", "\u2019", "\U0001f600"])  # one, two, four bytes
def test_compiled_present_finds_needles_at_both_ends(width: str) -> None:
    needles = ["abc", "xyz", "ab", "z", "abcxyz", "bcx", "abcd", "\u2019", "\U0001f600"]
    for haystack in (f"abc{width}xyz", f"xyz{width}abc", "abcxyz", "xyz", "abc"):
        assert ngrams.present(haystack, needles) == _present_python(haystack, needles)
    assert ngrams.present("abcxyz", needles) == {"abc", "xyz", "ab", "z", "abcxyz", "bcx"}


@needs_compiled
def test_compiled_present_equals_in_on_real_rows() -> None:
    raw_triggers = _triggers(RAW_PATTERNS)[0]
    seed_triggers = _triggers(NORMALIZED_PATTERNS)[0]
    hits = 0
    for name in DATASET_NAMES:
        for text in real_texts(name, 200):
            folded = text.casefold()
            seed_form = re.sub("[^a-z]", " ", text.lower())
            got = ngrams.present(folded, raw_triggers)
            assert got == _present_python(folded, raw_triggers)
            got_seed = ngrams.present(seed_form, seed_triggers)
            assert got_seed == _present_python(seed_form, seed_triggers)
            hits += len(got) + len(got_seed)
    assert hits > 100  # the comparison saw found needles, not only misses


@needs_compiled
def test_scrubbing_seeks_triggers_with_the_compiled_search() -> None:
    # (veracity.text.scrub is also the name of the function the package exports)
    assert sys.modules["veracity.text.scrub"]._present is ngrams.present


def test_needles_must_be_strings() -> None:
    if ngrams is None:
        pytest.skip("veracity.text._ngrams was not built")
    with pytest.raises(TypeError, match="needles\\[1\\] is not a str"):
        ngrams.present("text", ["te", 3])
