"""Exact and near-duplicate detection on the text as models see it.

Two rows are *exact* duplicates when :func:`model_text` (``prepare(title + " " + text)``)
is the same for both: scrubbed, normalized, spaces collapsed, so copies that differ
only in case, punctuation, a Reuters dateline or a photo credit count as one.
Two rows are *near* duplicates when the Jaccard similarity of their word
5-shingles (:func:`shingles`) is at least ``threshold``. Candidates come from
MinHash LSH (datasketch), tuned for recall, so the cost grows with the number of
rows, not pairs; each candidate pair is then confirmed with the exact Jaccard
similarity, so false candidates never merge rows.

Duplicates are joined transitively into clusters (A≈B and B≈C put A, B and C in
one cluster), the right unit for keeping train and test apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from veracity.errors import InputError
from veracity.text import prepare
from veracity.text._compiled import ngrams as _ngrams  # None: not built
from veracity.types import FAKE, RELIABLE

__all__ = [
    "SHINGLE_WORDS",
    "Clusters",
    "DedupResult",
    "deduplicate",
    "find_clusters",
    "jaccard",
    "model_text",
    "model_texts",
    "shingles",
]

#: Words per shingle for near-duplicate detection.
SHINGLE_WORDS = 5

# LSH band weights (false positive, false negative): a missed near duplicate leaks into
# the test side, while a false candidate only costs one exact Jaccard check. With 128
# permutations and threshold 0.8 this finds 95% of pairs at Jaccard 0.8, 99.4% at 0.85.
_LSH_WEIGHTS = (0.05, 0.95)


@dataclass
class DedupResult:
    """What :func:`deduplicate` found.

    Attributes
    ----------
    frame : pandas.DataFrame
        The input without duplicates: the first row of each cluster, in the original
        order, with the original index labels.
    exact_dropped : int
        Rows dropped because an earlier row has the same prepared text.
    near_dropped : int
        Further rows dropped because they are near duplicates of a kept row.
    cluster : pandas.Series
        Cluster id per row of the *input* (same index); duplicates share an id. Ids
        are 0, 1, 2… in order of first appearance.
    conflicting_labels : int
        Clusters holding both ``"fake"`` and ``"reliable"`` rows.
    """

    frame: pd.DataFrame
    exact_dropped: int
    near_dropped: int
    cluster: pd.Series
    conflicting_labels: int


@dataclass(frozen=True)
class Clusters:
    """Cluster ids by row position, and how many distinct prepared texts there were."""

    ids: list[int]
    exact_groups: int

    @property
    def count(self) -> int:
        """Number of clusters."""
        return max(self.ids, default=-1) + 1


def model_text(title: str, text: str) -> str:
    """The text models see: ``prepare(title + " " + text)``."""
    return prepare(f"{title} {text}")


def model_texts(frame: pd.DataFrame) -> list[str]:
    """:func:`model_text` for every row (``title`` may be absent; ``text`` may not).

    Raises
    ------
    InputError
        The frame has no ``text`` column.
    """
    if "text" not in frame.columns:
        raise InputError(
            f"deduplication needs a 'text' column; the frame has {list(frame.columns)}."
        )
    texts = ["" if pd.isna(t) else str(t) for t in frame["text"].tolist()]
    if "title" in frame.columns:
        titles = ["" if pd.isna(t) else str(t) for t in frame["title"].tolist()]
    else:
        titles = [""] * len(texts)
    return [model_text(a, b) for a, b in zip(titles, texts, strict=True)]


def shingles(prepared: str, size: int = SHINGLE_WORDS) -> set[bytes]:
    """Word ``size``-shingles of a prepared text; a shorter text is one shingle, "" none.

    Examples
    --------
    >>> sorted(shingles("a b c d e f"))
    [b'a b c d e', b'b c d e f']
    """
    words = prepared.split()
    if not words:
        return set()
    if len(words) <= size:
        return {" ".join(words).encode()}
    return {" ".join(words[i : i + size]).encode() for i in range(len(words) - size + 1)}


def jaccard(a: set[bytes], b: set[bytes]) -> float:
    """Jaccard similarity of two sets (0.0 when both are empty)."""
    if not a and not b:
        return 0.0
    return len(a & b) / len(a | b)


def find_clusters(
    prepared: Sequence[str],
    *,
    near: bool = True,
    threshold: float = 0.8,
    num_perm: int = 128,
    seed: int = 42,
) -> Clusters:
    """Cluster prepared texts into exact and near-duplicate groups.

    Parameters
    ----------
    prepared : sequence of str
        Texts already passed through :func:`model_text`.
    near : bool, default True
        Also join near duplicates (MinHash LSH on word 5-shingles).
    threshold : float, default 0.8
        Jaccard similarity at or above which two texts are near duplicates.
    num_perm : int, default 128
        MinHash permutations.
    seed : int, default 42
        MinHash seed; the result is deterministic for a given seed.

    Returns
    -------
    Clusters
        Cluster id per position (0, 1, 2… by first appearance).
    """
    if not 0.0 < threshold <= 1.0:
        raise InputError(f"threshold must be in (0, 1], got {threshold}.")
    if num_perm < 16:
        raise InputError(f"num_perm must be at least 16, got {num_perm}.")
    first: dict[str, int] = {}
    parent = list(range(len(prepared)))
    for pos, text in enumerate(prepared):
        parent[pos] = first.setdefault(text, pos)
    reps = list(first.values())

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    if near and len(reps) > 1:
        for a, b in _near_pairs([prepared[r] for r in reps], threshold, num_perm, seed):
            ra, rb = root(reps[a]), root(reps[b])
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    numbering: dict[int, int] = {}
    ids = [numbering.setdefault(root(pos), len(numbering)) for pos in range(len(prepared))]
    return Clusters(ids=ids, exact_groups=len(reps))


def _near_pairs(
    texts: list[str], threshold: float, num_perm: int, seed: int
) -> list[tuple[int, int]]:
    from datasketch import MinHash, MinHashLSH

    hashed = [_shingle_hashes(t) for t in texts]
    indexed = [i for i, h in enumerate(hashed) if h]
    # datasketch's own sha1_hash32 of each shingle, computed in C (the same signatures)
    hashes = MinHash.bulk([hashed[i] for i in indexed], num_perm=num_perm, seed=seed, hashfunc=int)
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm, weights=_LSH_WEIGHTS)
    for i, mh in zip(indexed, hashes, strict=True):
        lsh.insert(i, mh)
    sets: dict[int, set[bytes]] = {}  # the shingles of candidates only, for the exact check

    def shingle_set(i: int) -> set[bytes]:
        if i not in sets:
            sets[i] = shingles(texts[i])
        return sets[i]

    pairs: list[tuple[int, int]] = []
    for i, mh in zip(indexed, hashes, strict=True):
        for j in sorted(lsh.query(mh)):
            if j > i and jaccard(shingle_set(i), shingle_set(j)) >= threshold:
                pairs.append((i, j))
    return pairs


def _shingle_hashes(prepared: str) -> list[int]:
    """datasketch's ``sha1_hash32`` of each word shingle of ``prepared`` (repeats allowed)."""
    if _ngrams is not None:
        fast = _ngrams.shingle_sha1_32(prepared, SHINGLE_WORDS)
        if fast is None:  # not in the prepared form: hash its shingle set
            fast = _ngrams.sha1_32(list(shingles(prepared)))
        return memoryview(fast).cast("I").tolist()
    from datasketch.hashfunc import sha1_hash32

    return [sha1_hash32(s) for s in shingles(prepared)]


def deduplicate(
    frame: pd.DataFrame,
    *,
    near: bool = True,
    threshold: float = 0.8,
    num_perm: int = 128,
    seed: int = 42,
) -> DedupResult:
    """Drop exact and near duplicates, keeping the first row of each cluster.

    Parameters
    ----------
    frame : pandas.DataFrame
        Needs a ``text`` column; ``title`` and ``label`` are used when present.
    near : bool, default True
        Also drop near duplicates (Jaccard of word 5-shingles ≥ ``threshold``).
    threshold : float, default 0.8
        Near-duplicate Jaccard threshold.
    num_perm : int, default 128
        MinHash permutations.
    seed : int, default 42
        MinHash seed.

    Returns
    -------
    DedupResult

    Examples
    --------
    >>> frame = pd.DataFrame({"text": ["The cat sat.", "the CAT sat!", "A dog ran."]})
    >>> result = deduplicate(frame)
    >>> result.exact_dropped, result.cluster.tolist()
    (1, [0, 0, 1])
    """
    clusters = find_clusters(
        model_texts(frame), near=near, threshold=threshold, num_perm=num_perm, seed=seed
    )
    ids = clusters.ids
    keep: list[int] = []
    for pos, cid in enumerate(ids):
        if cid == len(keep):  # ids are numbered by first appearance
            keep.append(pos)
    conflicting = 0
    if "label" in frame.columns:
        found: dict[int, set[str]] = {}
        for cid, label in zip(ids, frame["label"].tolist(), strict=True):
            found.setdefault(cid, set()).add(str(label))
        conflicting = sum(1 for labels in found.values() if {FAKE, RELIABLE} <= labels)
    kept = frame.iloc[keep]
    n = len(frame)
    return DedupResult(
        frame=kept,
        exact_dropped=n - clusters.exact_groups,
        near_dropped=clusters.exact_groups - clusters.count,
        cluster=pd.Series(ids, index=frame.index, name="cluster", dtype="int64"),
        conflicting_labels=conflicting,
    )
