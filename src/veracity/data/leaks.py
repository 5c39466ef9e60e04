"""Leak dropping: test rows that are copies of training rows never count as a test.

A model tested on an article it was trained on (or on a lightly edited copy of it)
is not being tested. Training (``test_data``) and the cross-dataset matrix drop such
rows from what they test on, and count them, with :func:`drop_leaks`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from veracity.data.dedup import deduplicate

__all__ = ["drop_leaks"]


def drop_leaks(
    train: pd.DataFrame, test: pd.DataFrame, near_threshold: float = 0.8, seed: int = 42
) -> tuple[pd.DataFrame, int]:
    """Drop test rows that are exact or near duplicates of any training row.

    Both frames need a ``text`` column (``title`` is used when present). They are
    clustered together with :func:`veracity.data.deduplicate`; a test row whose
    cluster holds a training row is a leak.

    Parameters
    ----------
    train, test : pandas.DataFrame
        The training rows and the rows to test on.
    near_threshold : float, default 0.8
        Jaccard similarity of word 5-shingles at which rows count as near duplicates.
    seed : int, default 42
        MinHash seed.

    Returns
    -------
    tuple of (pandas.DataFrame, int)
        The test rows that are not leaks (original index and order) and how many were dropped.

    Examples
    --------
    >>> train = pd.DataFrame({"text": ["The cat sat on the mat today."]})
    >>> test = pd.DataFrame({"text": ["the CAT sat on the mat today!", "A dog ran home."]})
    >>> kept, dropped = drop_leaks(train, test)
    >>> kept["text"].tolist(), dropped
    (['A dog ran home.'], 1)
    """
    if len(test) == 0 or len(train) == 0:
        return test, 0
    both = pd.concat([train, test], ignore_index=True)
    clusters = deduplicate(both, threshold=near_threshold, seed=seed).cluster
    train_clusters = set(clusters.iloc[: len(train)].tolist())
    keep = np.array([c not in train_clusters for c in clusters.iloc[len(train) :]], dtype=bool)
    return test[keep], int((~keep).sum())
