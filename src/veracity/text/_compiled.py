"""The compiled n-gram hasher :mod:`veracity.text._ngrams`, or None where it was not built.

Installed without a C compiler, veracity falls back to scikit-learn's and datasketch's
hashing, and evidence to choosing phrases in Python, which give the same results more
slowly; the callers check for None.
"""

try:
    from veracity.text import _ngrams as ngrams
except ImportError:  # pragma: no cover - CI requires the extension
    ngrams = None  # type: ignore[assignment]

__all__ = ["ngrams"]
