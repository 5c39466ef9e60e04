"""Generated labelled articles for tests that need several small datasets.

Each article mixes common words, words of its own label, a few of the other label's
and topic words of its dataset, so a model learns the label words and each dataset
still has a vocabulary of its own (what cross-dataset tests need).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

COMMON = "the of and to in that is for on with as was by at it from this have are be".split()
FAKE_WORDS = "shocking secret truth exposed hoax elite outrage insane bombshell rigged".split()
RELIABLE_WORDS = "senate committee budget official minister agency report percent economy".split()
#: Model settings that keep fits on generated corpora fast.
FAST_PARAMS = {"min_df": 1, "cv": 3, "char_ngram_range": (3, 4)}


def synthetic_frame(
    name: str,
    topic: Sequence[str],
    *,
    n_per_class: int,
    seed: int,
    own_words: int = 5,
    flip: float | None = 0.1,
    reliable_label: str = "reliable",
) -> pd.DataFrame:
    """``id,title,text,label`` rows, ``n_per_class`` of each label, seeded.

    ``flip`` is the share of labels flipped at random (None: no noise drawn at all);
    ``reliable_label`` names the reliable class (e.g. ``"real"`` for a raw file).
    """
    rng = np.random.default_rng(seed)
    rows = []
    for label, own, other in (
        (reliable_label, RELIABLE_WORDS, FAKE_WORDS),
        ("fake", FAKE_WORDS, RELIABLE_WORDS),
    ):
        for i in range(n_per_class):
            words = [
                *rng.choice(COMMON, 25),
                *rng.choice(own, own_words),
                *rng.choice(other, 2),
                *rng.choice(list(topic), 8),
            ]
            rng.shuffle(words)
            noisy = label
            if flip is not None and rng.random() < flip:
                noisy = "fake" if label == reliable_label else reliable_label
            rows.append(
                {"id": f"{name}-{label}-{i}", "title": "", "text": " ".join(words), "label": noisy}
            )
    return pd.DataFrame(rows)


def letters(n: int) -> str:
    """An integer spelled with the letters a-j for its digits (``12`` → ``"bc"``)."""
    return "".join("abcdefghij"[int(d)] for d in str(abs(n)))


def rows_as_text(X: np.ndarray) -> list[str]:
    """Numeric rows as words (``"fbvpc"`` = feature 1 in bin +2), for sklearn's checks.

    The text estimators take no 2-D input, so their contract is checked through
    test-only subclasses that turn each row into words and call the real fit/predict.
    """
    bins = np.floor(np.asarray(X, dtype=float) * 2).astype(int)
    return [
        " ".join(f"f{letters(j)}v{'n' if b < 0 else 'p'}{letters(b)}" for j, b in enumerate(row))
        for row in bins
    ]
