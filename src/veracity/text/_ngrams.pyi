"""Types of the compiled n-gram hasher (``_ngrams.c``)."""

from collections.abc import Iterable, Sequence
from typing import Any

from numpy.typing import NDArray
from typing_extensions import Buffer

_Array = Buffer | NDArray[Any]

def counts(
    texts: Sequence[str],
    char_wb: bool,
    min_n: int,
    max_n: int,
    n_features: int,
    binary: bool,
    /,
) -> tuple[bytearray, bytearray, bytearray]:
    """(indptr int64, indices int32, data float64) buffers of the hashed n-gram counts."""

def sublinear_dots(
    texts: Sequence[str],
    char_wb: bool,
    min_n: int,
    max_n: int,
    n_features: int,
    coef: _Array,
    /,
) -> tuple[bytearray, bytearray]:
    """(dots float64, squares float64): per text, sums over its distinct n-gram buckets."""

def unknown_shares(texts: Sequence[str], n_features: int, seen: _Array, /) -> bytearray:
    """Per text, the float64 share of its distinct word buckets whose bit in seen is 0."""

def buckets(strings: Sequence[str], n_features: int, /) -> bytearray:
    """The int32 FeatureHasher bucket of each string."""

def sha1_32(items: Sequence[bytes], /) -> bytearray:
    """datasketch's ``sha1_hash32`` of each item, as uint32."""

def shingle_sha1_32(text: str, size: int, /) -> bytearray | None:
    """``sha1_32`` of each word ``size``-shingle of a prepared text, or None if not prepared."""

def phrase_windows(
    text: str,
    starts: _Array,
    ends: _Array,
    weights: _Array,
    function: _Array,
    too_long: _Array,
    max_words: int,
    piece: int,
    /,
) -> list[tuple[int, int, float]]:
    """``veracity.explain._phrases`` on per-word arrays (int64, int64, float64, uint8, uint8)."""

def present(haystack: str, needles: Iterable[str], /) -> set[str]:
    """``{n for n in needles if n in haystack}``, in one pass over ``haystack``."""

def letter_words(text: str, codes: _Array, /) -> tuple[int, int]:
    """(runs of ASCII letters, those whose 5-bit code is in the sorted uint64 codes)."""
