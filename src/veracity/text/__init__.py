"""Text handling that every model shares: the seed normalization, scrubbing, language checks,
control characters, spreadsheet-formula escaping."""

from veracity.text.controls import find_control, replace_controls
from veracity.text.formulas import escape_formula, unescape_formula
from veracity.text.lang import english_ratio, looks_english, word_count, word_stats
from veracity.text.normalize import is_normalized, normalize
from veracity.text.scrub import prepare, scrub

__all__ = [
    "english_ratio",
    "escape_formula",
    "find_control",
    "is_normalized",
    "looks_english",
    "normalize",
    "prepare",
    "replace_controls",
    "scrub",
    "unescape_formula",
    "word_count",
    "word_stats",
]
