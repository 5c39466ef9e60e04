"""Detector: verdicts, abstention, limits, batching, and model resolution."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

import veracity
import veracity.detector
from veracity.detector import Detector, check
from veracity.errors import InputError, InputTooLargeError, ModelError, ModelNotFoundError
from veracity.models.artifact import LoadedModel, ModelCard, load_model, save_model
from veracity.models.linear import TfidfLogisticClassifier
from veracity.settings import Settings
from veracity.text import normalize
from veracity.types import CheckFailure, Verdict

FILLER = (
    "the of and to in that is for on with as was by at it from this have are be has an "
    "will about after they said which their"
).split()
CUES = {
    "reliable": "senate committee budget ministry quarterly lawmakers spokesman treasury".split(),
    "fake": "hoax shocking globalist rigged bombshell sheeple traitor exposed".split(),
}


def _article(rng: np.random.Generator, label: str) -> str:
    words = [*rng.choice(FILLER, 45), *rng.choice(CUES[label], 12)]
    rng.shuffle(words)
    body = " ".join(words).capitalize() + "."
    return f"WASHINGTON (Reuters) - {body}" if label == "reliable" else body


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(0)
    labels = ["reliable", "fake"] * 100
    texts = [_article(rng, label) for label in labels]
    estimator = TfidfLogisticClassifier(random_state=0).fit(texts, labels)
    card = ModelCard.create(preset="tfidf-lr.v1", params={}, labels=estimator.classes_)
    return save_model(estimator, tmp_path_factory.mktemp("model"), card)


@pytest.fixture(scope="module")
def loaded(model_dir: Path) -> LoadedModel:
    return load_model(model_dir)


@pytest.fixture
def detector(loaded: LoadedModel) -> Detector:
    return Detector(loaded, Settings())


RELIABLE = _article(np.random.default_rng(99), "reliable")
FAKE = _article(np.random.default_rng(98), "fake")
GERMAN = (
    "Der Bundestag hat am Donnerstag nach langer Debatte den neuen Haushalt beschlossen. "
    "Die Abgeordneten der Regierungsparteien stimmten dafür, die Opposition kritisierte "
    "die hohen Ausgaben für Verteidigung und die geringen Mittel für Bildung und Forschung."
)


class _Fixed:
    """A stand-in estimator that always answers the same P(fake)."""

    classes_ = np.array(["fake", "reliable"])

    def __init__(self, p_fake: float) -> None:
        self.p_fake = p_fake

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        return np.tile([self.p_fake, 1 - self.p_fake], (len(texts), 1))


def _fixed(p_fake: float, settings: Settings | None = None) -> Detector:
    card = ModelCard(preset="fixed", params={}, labels=["fake", "reliable"], model_id="fixed-1")
    return Detector(LoadedModel(_Fixed(p_fake), card, Path(".")), settings)


def test_verdicts_on_clear_articles(detector: Detector, loaded: LoadedModel) -> None:
    reliable, fake = detector.check(RELIABLE), detector.check(FAKE)
    assert (reliable.label, reliable.abstained, reliable.reason) == ("reliable", False, None)
    assert (fake.label, fake.abstained, fake.verdict) == ("fake", False, "fake")
    assert fake.probability > 0.65 > 0.35 > reliable.probability
    assert reliable.model_id == loaded.card.model_id != ""
    assert reliable.input_form == "raw"
    p_fake = loaded.estimator.predict_proba([FAKE])[0][
        loaded.estimator.classes_.tolist().index("fake")
    ]
    assert fake.probability == pytest.approx(p_fake)


def test_evidence_has_at_most_n_terms_per_label(loaded: LoadedModel) -> None:
    verdict = Detector(loaded, Settings(evidence_terms=3)).check(FAKE)
    toward = [e.toward for e in verdict.evidence if e.kind == "phrase"]
    assert 0 < toward.count("fake") <= 3 and toward.count("reliable") <= 3
    sentences = [e.toward for e in verdict.evidence if e.kind == "sentence"]
    assert len(set(sentences)) == len(sentences) <= 2  # at most one each way
    assert all(FAKE[e.start : e.end] == e.term for e in verdict.evidence)  # type: ignore[misc]
    assert Detector(loaded, Settings(evidence_terms=0)).check(FAKE).evidence == []


def test_raw_and_normalized_input_give_the_same_verdict(detector: Detector) -> None:
    raw, normalized = detector.check(RELIABLE), detector.check(normalize(RELIABLE))
    assert normalized.input_form == "normalized"
    assert (normalized.label, normalized.abstained) == (raw.label, raw.abstained)
    assert normalized.probability == pytest.approx(raw.probability, abs=1e-9)
    # the same parts of the same log-odds; each shown as written in its own input
    assert [e.weight for e in normalized.evidence] == pytest.approx(
        [e.weight for e in raw.evidence]
    )
    assert [normalize(e.term) for e in raw.evidence] == [e.term for e in normalized.evidence]


def test_label_threshold_and_band_message() -> None:
    verdict = _fixed(0.52).check(RELIABLE)
    assert verdict.label == "fake" and verdict.abstained and verdict.verdict == "not sure"
    assert verdict.reason == (
        "the model is not sure: probability of fake 0.52 is inside the 0.35\u20130.65 band"
    )
    assert _fixed(0.5).check(RELIABLE).label == "fake"
    assert _fixed(0.4999).check(RELIABLE).label == "reliable"
    assert not _fixed(0.66).check(RELIABLE).abstained
    assert _fixed(0.65).check(RELIABLE).abstained  # the band is closed
    narrow = Settings(abstain_low=0.5, abstain_high=0.5)
    assert not _fixed(0.52, narrow).check(RELIABLE).abstained


def test_too_short_abstains(detector: Detector) -> None:
    verdict = detector.check("The senate passed the budget on Tuesday.")
    assert verdict.abstained
    assert verdict.reason is not None
    assert "too short: 7 words, need at least 20" in verdict.reason


def test_not_english_abstains(detector: Detector) -> None:
    verdict = detector.check(GERMAN)
    assert verdict.abstained
    assert verdict.reason is not None and "does not look like English" in verdict.reason
    assert "too short" not in verdict.reason


def test_a_huge_text_is_refused_before_any_work(detector: Detector) -> None:
    huge = "a" * 50_000_000
    start = time.perf_counter()
    with pytest.raises(InputTooLargeError, match="limit of 5,000,000 bytes"):
        detector.check(huge)
    assert time.perf_counter() - start < 0.5


def test_the_limit_counts_utf8_bytes_not_characters(loaded: LoadedModel) -> None:
    small = Detector(loaded, Settings(max_document_bytes=100))
    with pytest.raises(InputTooLargeError, match="120 bytes of UTF-8"):
        small.check("é" * 60)  # 60 characters, 120 bytes
    assert small.check("e " * 50).abstained  # exactly 100 bytes is fine


def test_nothing_to_check(detector: Detector) -> None:
    for text in ("", "   \n\t "):
        with pytest.raises(InputError, match="nothing to check"):
            detector.check(text)
    with pytest.raises(InputError, match="must be a str"):
        detector.check(b"bytes")  # type: ignore[arg-type]


class _Counting:
    """The loaded estimator, recording the batch size of every predict_proba call."""

    def __init__(self, loaded: LoadedModel, calls: list[int]) -> None:
        self.estimator, self.calls = loaded.estimator, calls
        self.classes_ = loaded.estimator.classes_

    def predict_proba(self, texts: list[str]) -> Any:
        self.calls.append(len(texts))
        return self.estimator.predict_proba(texts)

    def explain(self, text: str, top_k: int) -> Any:
        return self.estimator.explain(text, top_k)


def test_check_many_makes_one_model_call(loaded: LoadedModel) -> None:
    calls: list[int] = []
    detector = Detector(LoadedModel(_Counting(loaded, calls), loaded.card, loaded.path))
    texts = [RELIABLE, FAKE, GERMAN, normalize(FAKE)]
    verdicts = detector.check_many(texts)
    assert calls == [4]
    assert verdicts == [Detector(loaded).check(t) for t in texts]
    assert detector.check_many([]) == []
    with pytest.raises(InputError, match="text #1 is empty"):
        detector.check_many([RELIABLE, " "])
    with pytest.raises(InputError, match="for one text use check"):
        detector.check_many(RELIABLE)


def test_check_many_can_report_bad_texts_by_index(loaded: LoadedModel) -> None:
    calls: list[int] = []
    settings = Settings(max_document_bytes=2_000)
    detector = Detector(LoadedModel(_Counting(loaded, calls), loaded.card, loaded.path), settings)
    texts: list[Any] = [RELIABLE, "  \n ", FAKE, "word " * 500, 42, GERMAN]
    results = detector.check_many(texts, errors="report")
    assert calls == [3], "one model call, for the good texts only"
    assert [type(r).__name__ for r in results] == [
        "Verdict",
        "CheckFailure",
        "Verdict",
        "CheckFailure",
        "CheckFailure",
        "Verdict",
    ]
    plain = Detector(loaded, settings)
    assert results[0] == plain.check(RELIABLE) and results[2] == plain.check(FAKE)
    assert results[5] == plain.check(GERMAN)
    empty, large, not_str = results[1], results[3], results[4]
    assert isinstance(empty, CheckFailure) and empty.index == 1
    assert empty.message == "nothing to check: text #1 is empty or only whitespace"
    assert isinstance(large, CheckFailure) and isinstance(large.error, InputTooLargeError)
    assert large.message.startswith("text #3 is too large")
    assert large.to_dict() == {"index": 3, "error": large.message, "too_large": True}
    assert isinstance(not_str, CheckFailure) and not_str.message == "text #4 must be a str, got int"
    assert not isinstance(not_str.error, InputTooLargeError)
    # every text bad: no model call at all
    none = detector.check_many(["", " "], errors="report")
    assert [r.index for r in none if isinstance(r, CheckFailure)] == [0, 1]
    assert calls == [3]
    assert detector.check_many([], errors="report") == []
    # the default still raises at the first bad text, before any model call
    with pytest.raises(InputError, match="text #1 is empty"):
        detector.check_many(texts)
    with pytest.raises(InputError, match="errors must be 'raise' or 'report'"):
        detector.check_many(texts, errors="ignore")  # type: ignore[call-overload]
    assert calls == [3]
    assert veracity.CheckFailure is CheckFailure


def test_a_model_with_other_labels_is_refused(loaded: LoadedModel) -> None:
    other = _Fixed(0.5)
    other.classes_ = np.array(["false", "true"])
    with pytest.raises(ModelError, match="needs a model trained on the labels"):
        Detector(LoadedModel(other, loaded.card, loaded.path))


def test_from_path_uses_settings_model_dir(model_dir: Path) -> None:
    detector = Detector.from_path(settings=Settings(model_dir=model_dir))
    assert detector.check(FAKE).label == "fake"


def test_no_model_anywhere_says_how_to_get_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(veracity.detector, "default_model_path", lambda: tmp_path / "absent")
    with pytest.raises(ModelNotFoundError, match="veracity train"):
        Detector.from_path()
    with pytest.raises(ModelNotFoundError, match="veracity train"):
        check(FAKE)


def test_module_check_loads_once_and_accepts_any_model_form(
    monkeypatch: pytest.MonkeyPatch, model_dir: Path, loaded: LoadedModel, detector: Detector
) -> None:
    loads: list[Path] = []
    real_load = veracity.detector.artifact.load_model

    def counting_load(path: Path, *, fast: bool = False) -> LoadedModel:
        loads.append(path)
        return real_load(path, fast=fast)

    veracity.detector._cached_model.cache_clear()
    monkeypatch.setattr(veracity.detector.artifact, "load_model", counting_load)
    first = check(FAKE, model=model_dir)
    second = check(FAKE, model=str(model_dir))
    assert first == second and len(loads) == 1
    assert check(FAKE, model=loaded) == first == check(FAKE, model=detector)
    strict = Settings(abstain_low=0.0, abstain_high=1.0)
    assert check(FAKE, model=detector, settings=strict).abstained
    veracity.detector._cached_model.cache_clear()


def test_load_model_returns_a_detector(model_dir: Path) -> None:
    detector = veracity.detector.load_model(model_dir)
    assert isinstance(detector, Detector)
    assert detector.estimator is detector.model.estimator
    assert detector.abstain_reason(RELIABLE, 0.1) is None
    assert detector.abstain_reason(RELIABLE, 0.5) is not None


def test_a_lone_surrogate_is_refused_not_quoted_back(tmp_path: Path) -> None:
    """Evidence quotes the text as written, so a text holding undecodable bytes
    (``surrogateescape``) would crash every printer; it is refused with one line."""
    from veracity.cli import app

    text = "real news " * 10 + "\udcff tail"
    detector = veracity.load_model()
    with pytest.raises(InputError, match=r"lone surrogate U\+DCFF at character 100"):
        detector.check(text)
    results = detector.check_many(["a plain text " * 5, text], errors="report")
    assert isinstance(results[1], CheckFailure) and results[1].index == 1
    assert isinstance(results[0], Verdict)
    result = CliRunner().invoke(app, ["check", "--json", "--", text])
    assert result.exit_code == 2 and "lone surrogate" in result.stderr


def test_check_many_prepares_each_text_once_with_evidence(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bundled model's evidence reuses what scoring prepared (features once)."""
    import veracity.explain
    import veracity.models.hashing_core

    bundled = veracity.detector.load_model()
    calls: list[str] = []
    # a text is prepared by prepare, or by _prepared_word_spans (prepare with its words'
    # offsets, which scoring uses when evidence follows)
    for module, name in (
        (veracity.models.hashing_core, "prepare"),
        (veracity.explain, "prepare"),
        (veracity.explain, "_prepared_word_spans"),
    ):
        original = getattr(module, name)

        def counting(text: str, *args: Any, _original: Any = original) -> Any:
            calls.append(text)
            return _original(text, *args)

        monkeypatch.setattr(module, name, counting)
    texts = [
        "The Senate passed the budget bill on Tuesday, officials said, after weeks of talks.",
        "SHOCKING: they are hiding the truth about the vaccine from you, share before it is gone!",
        "the senate passed the budget bill on tuesday officials said after weeks of talks",
    ]
    verdicts = bundled.check_many(texts)
    assert all(v.evidence for v in verdicts)  # evidence was made for every text
    assert sorted(calls) == sorted(texts)  # and each text was prepared once, not twice
    # and the evidence is what the model gives when it prepares the text itself
    estimator = bundled.model.estimator
    for text, verdict in zip(texts, verdicts, strict=True):
        assert verdict.evidence == estimator.explain(text, top_k=5)


def test_many_texts_are_scored_in_chunks_with_the_same_verdicts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """check_many and scores go chunk by chunk (memory), giving what one call gives."""
    detector = Detector.from_path(None, fast=True)
    rng = np.random.default_rng(7)
    texts = [_article(rng, label) for label in ["fake", "reliable"] * 5]
    whole = [v.to_dict() for v in detector.check_many(texts)]
    whole_scores = detector.scores(texts)
    sizes: list[int] = []
    estimator = detector.estimator
    check_parts, proba_and_novelty = estimator.check_parts, estimator.proba_and_novelty

    def counted(method: Any) -> Any:
        def call(chunk: list[str]) -> Any:
            sizes.append(len(chunk))
            return method(chunk)

        return call

    monkeypatch.setattr(estimator, "check_parts", counted(check_parts))
    monkeypatch.setattr(estimator, "proba_and_novelty", counted(proba_and_novelty))
    monkeypatch.setattr(veracity.detector, "_SCORE_CHUNK", 3)
    assert [v.to_dict() for v in detector.check_many(texts)] == whole
    assert sizes == [3, 3, 3, 1]
    chunked = detector.scores(texts)
    assert sizes == [3, 3, 3, 1] * 2
    for ours, theirs in zip(chunked, whole_scores, strict=True):
        assert np.array_equal(ours, theirs)
