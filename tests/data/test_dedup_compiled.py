"""Deduplication's MinHash input computed in C equals datasketch's own ``sha1_hash32``.

``veracity.text._ngrams.sha1_32`` and ``shingle_sha1_32`` replace a Python hashlib call
per shingle; the signatures, and so the clusters, must not change.
"""

from __future__ import annotations

import importlib

import pytest
from datasketch.hashfunc import sha1_hash32
from hypothesis import given
from hypothesis import strategies as st

from veracity.data import Dataset, deduplicate
from veracity.data.dedup import SHINGLE_WORDS, shingles

dedup = importlib.import_module("veracity.data.dedup")
_ngrams = dedup._ngrams
needs_compiled = pytest.mark.skipif(_ngrams is None, reason="veracity.text._ngrams was not built")

PREPARED = st.lists(st.text(alphabet="abcxyz", min_size=1, max_size=6), max_size=30).map(" ".join)


def _u32(buffer: bytearray) -> list[int]:
    return memoryview(buffer).cast("I").tolist()


@needs_compiled
@given(st.lists(st.binary(max_size=200), max_size=20))
def test_sha1_32_is_datasketchs_sha1_hash32(items: list[bytes]) -> None:
    assert _u32(_ngrams.sha1_32(items)) == [sha1_hash32(b) for b in items]


@needs_compiled
@pytest.mark.parametrize("length", [0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 1000])
def test_sha1_32_at_the_padding_edges(length: int) -> None:
    item = bytes(range(256)) * 4
    assert _u32(_ngrams.sha1_32([item[:length]])) == [sha1_hash32(item[:length])]


@needs_compiled
@given(PREPARED, st.integers(1, 7))
def test_shingle_hashes_are_those_of_the_shingle_set(text: str, size: int) -> None:
    got = _ngrams.shingle_sha1_32(text, size)
    assert got is not None
    assert set(_u32(got)) == {sha1_hash32(s) for s in shingles(text, size)}


@needs_compiled
@pytest.mark.parametrize("text", [" a b", "a b ", "a  b", "A b", "a\tb", "a-b", "caf\u00e9 lait"])
def test_text_not_in_the_prepared_form_is_refused(text: str) -> None:
    assert _ngrams.shingle_sha1_32(text, SHINGLE_WORDS) is None
    # dedup then hashes its shingle set instead: the same values
    assert set(dedup._shingle_hashes(text)) == {sha1_hash32(s) for s in shingles(text)}


def test_clusters_are_the_same_without_the_extension(
    isot: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = isot.frame.head(1500)
    compiled = deduplicate(frame)
    assert compiled.near_dropped > 0  # near duplicates found, so the signatures matter
    monkeypatch.setattr(dedup, "_ngrams", None)
    pure = deduplicate(frame)
    assert compiled.cluster.tolist() == pure.cluster.tolist()
    assert compiled.exact_dropped == pure.exact_dropped
    assert compiled.near_dropped == pure.near_dropped
