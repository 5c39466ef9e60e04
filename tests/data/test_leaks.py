"""Leak dropping: test rows that copy a training row (exactly or nearly) are dropped."""

from __future__ import annotations

import pandas as pd

from synthetic import COMMON, FAKE_WORDS, RELIABLE_WORDS
from veracity.data import drop_leaks


def test_drop_leaks_finds_exact_and_near_copies() -> None:
    words = [*COMMON, *FAKE_WORDS, *RELIABLE_WORDS]  # 39 distinct words
    base = " ".join(words)
    edited = " ".join([*words[:-1], "banana"])  # Jaccard of 5-shingles: 34/36
    train = pd.DataFrame({"title": ["A title", ""], "text": [base, "something else entirely"]})
    test = pd.DataFrame(
        {
            "title": ["a TITLE", "", "", ""],
            "text": [base, edited, "unrelated text here", " ".join(words[:10])],
        },
        index=[10, 11, 12, 13],
    )
    kept, dropped = drop_leaks(train, test)
    assert dropped == 2
    assert kept.index.tolist() == [12, 13]  # original index; a short excerpt is no duplicate
    empty, none = drop_leaks(train, test.iloc[:0])
    assert empty.empty and none == 0


def test_training_and_crossdata_drop_leaks_with_the_data_layer() -> None:
    from veracity import training
    from veracity.evaluate import crossdata

    assert training.drop_leaks is drop_leaks
    assert crossdata.drop_leaks is drop_leaks
