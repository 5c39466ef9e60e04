"""Types of the compiled n-gram hasher (``_ngrams.c``)."""

from collections.abc import Sequence

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

def buckets(strings: Sequence[str], n_features: int, /) -> bytearray:
    """The int32 FeatureHasher bucket of each string."""

def sha1_32(items: Sequence[bytes], /) -> bytearray:
    """datasketch's ``sha1_hash32`` of each item, as uint32."""

def shingle_sha1_32(text: str, size: int, /) -> bytearray | None:
    """``sha1_32`` of each word ``size``-shingle of a prepared text, or None if not prepared."""
