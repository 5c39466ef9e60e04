"""Fixtures for the data tests: the real datasets folder and small corpora built by code."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from veracity.data import Dataset, DedupResult, deduplicate, load_dataset
from veracity.settings import Settings


def _real_root() -> Path | None:
    """The datasets folder, found the way the code finds it (from the working directory)."""
    for folder in (Path.cwd() / "shared" / "datasets", Path.cwd().parent / "shared" / "datasets"):
        if folder.is_dir():
            return folder.absolute()
    return None


@pytest.fixture(scope="session")
def real_root() -> Path:
    """``../shared/datasets`` seen from the repository root; skips when absent."""
    root = _real_root()
    if root is None:
        pytest.skip("real datasets not found: run pytest from the repo root next to shared/")
    return root


@pytest.fixture(scope="session")
def real_settings(real_root: Path) -> Settings:
    """Settings pointing at the real datasets folder."""
    return Settings(datasets_dir=real_root)


@pytest.fixture(scope="session")
def isot(real_settings: Settings) -> Dataset:
    """The real isot_sample, loaded once per session."""
    return load_dataset("isot_sample", settings=real_settings)


@pytest.fixture(scope="session")
def timed_isot_dedup(isot: Dataset) -> tuple[DedupResult, float]:
    """Deduplication of the real isot_sample, computed once, and the CPU seconds it took.

    CPU time of this process (dedup is single-threaded), not wall time: another test
    worker or job on the machine does not count against it.
    """
    start = time.process_time()
    result = deduplicate(isot.frame)
    return result, time.process_time() - start


@pytest.fixture(scope="session")
def isot_dedup(timed_isot_dedup: tuple[DedupResult, float]) -> DedupResult:
    """Deduplication of the real isot_sample (default settings)."""
    return timed_isot_dedup[0]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Default settings with the datasets folder pointed at an empty temporary folder."""
    return Settings(datasets_dir=tmp_path)


_RNG = random.Random(12345)
_WORDS = [
    "".join(_RNG.choices("abcdefghijklmnopqrstuvwxyz", k=_RNG.randint(3, 9))) for _ in range(3000)
]


def make_article(seed: int, words: int = 300) -> str:
    """A random prose-like article; different seeds give unrelated texts."""
    rng = random.Random(seed)
    body = " ".join(rng.choice(_WORDS) for _ in range(words))
    return body.capitalize() + "."


def edit_words(text: str, changes: int, offset: int = 0) -> str:
    """``text`` with ``changes`` evenly spaced words replaced, starting at word ``offset``.

    Each replaced word changes the five 5-shingles that cover it, so a 300-word
    article with ``changes`` edits keeps a Jaccard similarity of about
    ``(296 - 5 * changes) / (296 + 5 * changes)`` to the original.
    """
    words = text.split()
    step = len(words) // changes
    for pos in range(offset % step, len(words), step)[:changes]:
        words[pos] = f"zzzedit{pos}"
    return " ".join(words)


@pytest.fixture
def article() -> Callable[..., str]:
    """Factory: ``article(seed, words=300)`` is a random article; seeds give unrelated texts."""
    return make_article


@pytest.fixture
def edit() -> Callable[..., str]:
    """Factory: ``edit(text, changes, offset=0)`` replaces ``changes`` spaced words."""
    return edit_words


@pytest.fixture
def corpus() -> Callable[..., pd.DataFrame]:
    """Factory of a frame of ``n`` unrelated articles with alternating labels."""

    def build(n: int = 100, start: int = 0) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "id": [f"a{i}" for i in range(start, start + n)],
                "title": [f"Headline number {i}" for i in range(start, start + n)],
                "text": [make_article(i) for i in range(start, start + n)],
                "label": ["fake" if i % 2 else "reliable" for i in range(start, start + n)],
            }
        )

    return build
