"""Scrubbing's shortcuts (trigger words, tail-only search) never change its result.

Each pattern is skipped when none of its trigger strings occurs in the text, and the
end-anchored ones only search the last words of the text. These tests compare that
with running every regex over the whole text, on real rows and on generated text
built from the patterns' own vocabulary.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from veracity.text.scrub import NORMALIZED_PATTERNS, RAW_PATTERNS, ScrubPattern, _apply

DATASETS = Path(__file__).resolve().parents[3] / "shared" / "datasets"


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
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=40))
def test_same_result_as_every_regex_on_the_whole_text(pieces: list[str]) -> None:
    text = " ".join(pieces)
    assert _apply(text, RAW_PATTERNS) == naive(text, RAW_PATTERNS)
    lowered = " ".join(
        "".join(c if c.isalpha() and c.isascii() else " " for c in p).lower() for p in pieces
    )
    assert _apply(lowered, NORMALIZED_PATTERNS) == naive(lowered, NORMALIZED_PATTERNS)


@pytest.mark.parametrize("name", ["isot_sample", "celebrity", "random_political"])
def test_same_result_on_real_articles(name: str) -> None:
    path = DATASETS / name
    files = sorted(path.glob("*.csv.gz")) if path.is_dir() else []
    if not files:
        pytest.skip(f"{path} not found")
    frame = pd.read_csv(files[0], nrows=600)
    column = "text" if "text" in frame else frame.columns[-1]
    texts = frame[column].fillna("").astype(str).tolist()
    for text in texts:
        assert _apply(text, RAW_PATTERNS) == naive(text, RAW_PATTERNS)
