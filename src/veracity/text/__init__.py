"""Text handling that every model shares: the seed normalization, scrubbing, language checks."""

from veracity.text.lang import english_ratio, looks_english, word_count
from veracity.text.normalize import is_normalized, normalize
from veracity.text.scrub import prepare, scrub

__all__ = [
    "english_ratio",
    "is_normalized",
    "looks_english",
    "normalize",
    "prepare",
    "scrub",
    "word_count",
]
