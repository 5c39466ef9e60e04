"""Small generated corpora and fitted models for the model tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from veracity.models.linear import TfidfLogisticClassifier

COMMON = (
    "the of and to in that is for on with as was by at it from this have are be has "
    "an will about after they said which their more than been would who also"
).split()
RELIABLE_WORDS = (
    "senate committee budget official statement minister agency report percent "
    "economy vote lawmakers court ruling spokesman quarter analysts treasury"
).split()
FAKE_WORDS = (
    "shocking secret truth exposed hoax elite globalist outrage insane bombshell "
    "destroy sheeple rigged scandal unbelievable wake traitor"
).split()


def make_articles(n_per_class: int, seed: int) -> tuple[list[str], list[str]]:
    """Raw "articles": reliable ones with a Reuters dateline, fake ones with a photo credit.

    Each has ~60 words: common English words, 15 words of its class and 3 of the
    other class (so the classes overlap a little).
    """
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for label, own, other in (
        ("reliable", RELIABLE_WORDS, FAKE_WORDS),
        ("fake", FAKE_WORDS, RELIABLE_WORDS),
    ):
        for _ in range(n_per_class):
            words = [
                *rng.choice(COMMON, 42),
                *rng.choice(own, 15),
                *rng.choice(other, 3),
            ]
            rng.shuffle(words)
            body = " ".join(words).capitalize() + "."
            if label == "reliable":
                texts.append(f"WASHINGTON (Reuters) - {body}")
            else:
                texts.append(f"{body}\nFeatured image via Getty Images")
            labels.append(label)
    return texts, labels


@pytest.fixture(scope="session")
def articles() -> tuple[list[str], list[str]]:
    """200 training articles (100 per class)."""
    return make_articles(100, seed=0)


@pytest.fixture(scope="session")
def held_out() -> tuple[list[str], list[str]]:
    """60 other articles from the same generator."""
    return make_articles(30, seed=1)


@pytest.fixture(scope="session")
def fitted(articles: tuple[list[str], list[str]]) -> TfidfLogisticClassifier:
    """``TfidfLogisticClassifier`` fitted on :func:`articles` (treat as read-only)."""
    texts, labels = articles
    return TfidfLogisticClassifier(random_state=0).fit(texts, labels)


@pytest.fixture(scope="session")
def article_maker() -> Callable[[int, int], tuple[list[str], list[str]]]:
    """:func:`make_articles` itself, for tests that need their own corpus."""
    return make_articles


@pytest.fixture(scope="session")
def isot_sample_csv() -> Path:
    """The ISOT sample CSV in ``shared/datasets`` (skips the test when it is absent)."""
    relative = Path("isot_sample") / "isot_sample.csv.gz"
    beside_repo = Path(__file__).resolve().parents[3] / "shared" / "datasets"
    for root in (Path("../shared/datasets"), beside_repo):
        if (root / relative).is_file():
            return root / relative
    pytest.skip("real datasets not found: ../shared/datasets/isot_sample is absent")
