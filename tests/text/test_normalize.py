"""The seed form: exact, character-for-character, idempotent."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from veracity.text import is_normalized, normalize
from veracity.text.lang import ENGLISH_FUNCTION_WORDS, english_ratio, word_count, word_stats

SEED = Path(__file__).resolve().parents[2].parent / "shared" / "seed" / "seed_article.txt"
OPENING = (
    "SACRAMENTO, Calif. (Reuters) - The election of Republican businessman Donald Trump as "
    "president of the United States has some Californians dreaming"
)


@pytest.fixture(scope="module")
def seed() -> str:
    if not SEED.exists():
        pytest.skip(f"seed article not found at {SEED}")
    return SEED.read_bytes().decode("ascii")


def test_seed_file_is_the_documented_one(seed: str) -> None:
    assert len(seed.encode()) == 4164
    assert seed.endswith("hell to pay    ")


def test_known_opening_normalizes_to_exact_prefix_of_seed(seed: str) -> None:
    out = normalize(OPENING)
    assert out.startswith("sacramento  calif   reuters    the election")
    assert seed.startswith(out)


def test_seed_is_a_fixed_point_byte_for_byte(seed: str) -> None:
    assert normalize(seed).encode() == seed.encode()
    assert is_normalized(seed)


def test_each_non_letter_becomes_one_space_runs_not_collapsed() -> None:
    assert normalize("U.S. state's 40%, don't") == "u s  state s      don t"
    assert normalize("caf\u00e9\u00a0ol\u00e9\n") == "caf  ol  "


def test_raw_text_is_not_normalized() -> None:
    assert not is_normalized("The Senate")
    assert not is_normalized("the senate voted 5 times")
    assert not is_normalized("the senate voted.")
    assert is_normalized("the senate voted ")


@given(st.text())
def test_length_preserved_idempotent_and_matches_reference(text: str) -> None:
    out = normalize(text)
    assert len(out) == len(text)
    assert normalize(out) == out
    assert is_normalized(out)
    assert out == re.sub("[^a-zA-Z]", " ", text).lower()


@given(
    st.text(alphabet=st.characters(max_codepoint=127))
    | st.text(alphabet=st.characters(codec=None, categories=None))
)
def test_ascii_and_any_code_point_match_reference(text: str) -> None:
    assert normalize(text) == re.sub("[^a-zA-Z]", " ", text).lower()


def test_lone_surrogates_and_astral_characters_are_one_space_each() -> None:
    text = "a\ud800b\U0001f600C\udfffd"
    assert normalize(text) == "a b c d" == re.sub("[^a-zA-Z]", " ", text).lower()


# Function words in every case, glued to letters, digits, non-ASCII letters (which end a
# word: only ASCII letters count) and letter runs longer than the compiled code's 12.
_WORDY = st.lists(
    st.sampled_from(
        [*sorted(ENGLISH_FUNCTION_WORDS), "THE", "The", "tHe", "OF", "x", "thex", "theabcdefghij",
         "abcdefghijkl", "abcdefghijklm", "\u017f", "\u0130", "\xe9", "1", " ", "-", "\n",
         "\U0001f600"]
    ),
    max_size=30,
).map("".join)  # fmt: skip


@given(st.text(alphabet=st.characters(max_codepoint=0x24F)) | st.text() | _WORDY)
def test_word_count_and_english_ratio_match_the_letter_runs(text: str) -> None:
    words = [w.lower() for w in re.findall("[A-Za-z]+", text)]
    assert word_count(text) == len(words)
    share = sum(w in ENGLISH_FUNCTION_WORDS for w in words) / len(words) if words else 0.0
    assert english_ratio(text) == share
    assert word_stats(text) == (len(words), share)


def test_word_stats_count_function_words_in_real_rows() -> None:
    from real_texts import DATASET_NAMES, real_texts

    hits = 0
    for name in DATASET_NAMES:
        for text in real_texts(name, 200):
            words = normalize(text).split()
            english = sum(w in ENGLISH_FUNCTION_WORDS for w in words)
            assert word_stats(text) == (len(words), english / len(words) if words else 0.0)
            hits += english
    assert hits > 10_000


def test_letter_words_codes_hold_twelve_letters_and_no_more() -> None:
    import numpy as np

    from veracity.text._compiled import ngrams
    from veracity.text.lang import _letter_code

    if ngrams is None:
        pytest.skip("veracity.text._ngrams was not built")
    codes = np.array(sorted(map(_letter_code, ["abcdefghijkl", "zz", "the"])), dtype=np.uint64)
    text = "ABCDEFGHIJKL abcdefghijklm abcdefghijk zz zzz The xthe the1the é-zz"
    # words: 12 letters (hit), 13 (no code), 11, zz (hit), zzz, The (hit), xthe, the (hit),
    # the (hit), zz after the non-ASCII letter (hit)
    assert ngrams.letter_words(text, codes) == (10, 6)
