"""normalize, scrub and prepare take any str: odd unicode, controls, huge lines."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from fuzz.strategies import ANY_TEXT
from veracity.text import is_normalized, normalize, prepare, scrub
from veracity.text.lang import looks_english, word_count

FUZZ = settings(max_examples=120, deadline=None, database=None)
PREPARED = re.compile(r"(?:[a-z]+(?: [a-z]+)*)?")


@FUZZ
@given(ANY_TEXT)
def test_normalize_is_the_seed_form_of_anything(text: str) -> None:
    seed = normalize(text)
    assert len(seed) == len(text) and is_normalized(seed)
    assert normalize(seed) == seed


@FUZZ
@given(ANY_TEXT)
def test_scrub_keeps_the_form_it_was_given(text: str) -> None:
    out = scrub(text)
    assert isinstance(out, str)
    seed = normalize(text)
    assert is_normalized(scrub(seed))


@FUZZ
@given(ANY_TEXT)
def test_prepare_gives_single_spaced_lower_case_words(text: str) -> None:
    out = prepare(text)
    assert PREPARED.fullmatch(out), out[:200]
    assert prepare(text) == out  # deterministic


@FUZZ
@given(ANY_TEXT, st.floats(0, 1))
def test_language_checks_take_anything(text: str, ratio: float) -> None:
    assert word_count(text) >= 0
    assert looks_english(text, ratio) in (True, False)
