"""Evidence a person can use: spans of the text as written, in calibrated log-odds that add up."""

from __future__ import annotations

import os
import random
import re
import string
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from veracity.explain import (
    _TOKEN,
    MAX_ATTRIBUTED_CHARS,
    MAX_PHRASE_WORDS,
    MAX_WORD_CHARS,
    Attribution,
    _phrases,
    _phrases_compiled,
    _phrases_python,
    _prepared_word_spans,
    _runs,
    _tokens_of,
    align,
    is_function_word,
    rank_evidence,
)
from veracity.models._charcache import MAX_CACHE_BYTES, WordRows
from veracity.models.hashing import HashingSGDClassifier
from veracity.models.linear import TfidfLogisticClassifier
from veracity.text import normalize, prepare
from veracity.text._compiled import ngrams
from veracity.types import Evidence

FILLER = "the of and to in that is for on with as was by at it from this have are be".split()
FAKE_CUES = ["hoax", "hoaxers", "shocking", "globalist", "rigged"]
RELIABLE_CUES = ["senate", "ministry", "quarterly", "lawmakers", "spokesman"]

ROOT = Path(__file__).resolve().parents[1]
_SHARED = [ROOT.parent / "shared"]
if os.environ.get("VERACITY_DATASETS_DIR"):
    _SHARED.append(Path(os.environ["VERACITY_DATASETS_DIR"]).parent)
SEED = next((p / "seed" / "seed_article.txt" for p in _SHARED if (p / "seed").is_dir()), None)
BUNDLED = ROOT / "src" / "veracity" / "resources" / "default_model"
# P(fake) of the seed article by the bundled model before evidence changed (it must not).
SEED_P_FAKE = {"hashing-sgd.v2-fd575c2fd5a7": 0.3350824964384844}


def _corpus(seed: int, n: int, noise: float = 0.0) -> tuple[list[str], list[str]]:
    """Texts of filler and cue words; ``noise``: the share of labels flipped."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for label, cues in (("fake", FAKE_CUES), ("reliable", RELIABLE_CUES)):
        for _ in range(n):
            words = [*rng.choice(FILLER, 30), *rng.choice(cues, 6)]
            rng.shuffle(words)
            texts.append(" ".join(words))
            flip = rng.random() < noise
            labels.append(("reliable" if label == "fake" else "fake") if flip else label)
    return texts, labels


def _logit_fake(model: object, text: str) -> float:
    classes = list(model.classes_)  # type: ignore[attr-defined]
    p = float(model.predict_proba([text])[0, classes.index("fake")])  # type: ignore[attr-defined]
    p = min(max(p, 1e-12), 1 - 1e-12)  # as the calibrated log-odds of evidence are clipped
    return float(np.log(p) - np.log1p(-p))


@pytest.fixture(scope="module")
def model() -> TfidfLogisticClassifier:
    return TfidfLogisticClassifier(random_state=0).fit(*_corpus(0, 60))


@pytest.fixture(scope="module")
def hashed() -> HashingSGDClassifier:
    return HashingSGDClassifier(
        n_word_features=2**14, n_char_features=2**14, cv=3, random_state=0
    ).fit(*_corpus(0, 40))


@pytest.fixture(scope="module")
def bundled() -> object:
    from veracity.models.artifact import load_model

    if not (BUNDLED / "model.skops").exists():
        pytest.skip("the bundled model is not installed")
    return load_model(BUNDLED)


TEXT = (
    "WASHINGTON (Reuters) - The Senate and the lawmakers said it was a hoax, "
    "a shocking hoax, from the spokesman of the Ministry. Die Höhe is rigged!"
)


def _check_shown(text: str, evidence: list[Evidence], top_k: int) -> None:
    """What every piece of evidence must be, whatever the model and the text."""
    for e in evidence:
        assert (e.weight > 0) == (e.toward == "fake")
        if e.kind == "signal":
            continue
        assert e.start is not None and e.end is not None
        assert text[e.start : e.end] == e.term  # the text as written, at its offsets
    phrases = [e for e in evidence if e.kind == "phrase"]
    for e in phrases:
        words = align(e.term).tokens
        assert 1 <= len(words) <= MAX_PHRASE_WORDS
        assert not is_function_word(e.term)  # at least one content word
    for side in ("fake", "reliable"):
        assert len([e for e in phrases if e.toward == side]) <= top_k
        assert len([e for e in evidence if e.kind == "sentence" and e.toward == side]) <= 1


# -- function words and alignment -------------------------------------------------------


def test_function_words_are_the_ones_a_reader_cannot_use() -> None:
    for word in ("the", "is", "said", "on", "Of", "don't", "U", "s", "told"):
        assert is_function_word(word), word
    for word in ("Senate", "hoax", "bill", "Höhe", "trump's", "California"):
        assert not is_function_word(word), word


def test_alignment_gives_prepared_words_back_to_the_words_they_came_from() -> None:
    a = align("Die Höhe is big, Reuters says. Trump's U.S. plan")
    assert a.prepared == prepare(a.text)
    assert a.words == ["die", "h", "he", "is", "big", "says", "trump", "s", "u", "s", "plan"]
    shown = [a.text[s:e] for s, e in a.tokens]
    assert shown == ["Die", "Höhe", "is", "big", "says", "Trump's", "U", "S", "plan"]
    # "h" and "he" (the model's view of "Höhe") both belong to "Höhe"
    assert a.word_token[1] == a.word_token[2] == 1
    assert "Reuters" not in shown  # scrubbed: the model never saw it


_PIECES = st.sampled_from(
    [
        "WASHINGTON (Reuters) - ",
        "Reuters",
        "Featured image via Getty Images",
        " http://t.co/x ",
        "@handle",
        "Höhe",
        "İstanbul",
        "ﬁnance",
        "Read more: Daily Caller",
        "\n",
        ". ",
        "ß",
        "'s",
        "afp",
    ]
)
_TEXTS = st.lists(st.one_of(st.text(max_size=12), _PIECES), max_size=12).map("".join)


@settings(max_examples=300, deadline=None)
@given(_TEXTS)
def test_alignment_mirrors_prepare_on_any_text(text: str) -> None:
    found = _prepared_word_spans(text)
    assert found is not None and found[0] == prepare(text)
    a = align(text)
    for i, word in enumerate(a.words):
        s, e = a.tokens[a.word_token[i]]
        # the word is the ASCII letters of a piece of the original word it is credited to
        assert word in prepare(a.text[s:e]).split() or word in a.text[s:e].lower()


# -- weights add up to the calibrated log-odds ----------------------------------------------


@pytest.mark.parametrize("calibration", ["sigmoid", "isotonic", "temperature"])
def test_linear_parts_add_up_to_the_calibrated_log_odds(calibration: str) -> None:
    fitted = TfidfLogisticClassifier(calibration=calibration, random_state=0).fit(
        *_corpus(3, 60, noise=0.3)
    )
    for text in (TEXT, "the senate said so", "a shocking hoax by the globalist hoaxers"):
        parts = fitted.attribution(text)
        assert (parts.target, parts.other) == ("fake", "reliable")
        assert parts.rest == pytest.approx(0.0, abs=1e-9)
        assert parts.total == pytest.approx(_logit_fake(fitted, text), abs=1e-6)


def test_hashing_parts_add_up_to_the_calibrated_log_odds(hashed: HashingSGDClassifier) -> None:
    for text in (TEXT, "the senate said so", "A shocking HOAX by the globalist hoaxers!"):
        parts = hashed.attribution(text)
        assert parts.total == pytest.approx(_logit_fake(hashed, text), abs=1e-6)


@pytest.mark.parametrize("preset", ["tfidf", "hashing"])
def test_models_reading_the_raw_text_add_up_too(preset: str) -> None:
    fitted = (
        TfidfLogisticClassifier(preprocess=False, random_state=0)
        if preset == "tfidf"
        else HashingSGDClassifier(
            preprocess=False, cv=3, n_word_features=2**14, n_char_features=2**14, random_state=0
        )
    ).fit(*_corpus(0, 40, noise=0.2))
    parts = fitted.attribution(TEXT)
    assert parts.rest == pytest.approx(0.0, abs=1e-9)  # every token's n-grams found a word
    assert parts.total == pytest.approx(_logit_fake(fitted, TEXT), abs=1e-6)
    evidence = fitted.explain(TEXT)
    assert evidence and all(TEXT[e.start : e.end] == e.term for e in evidence)  # type: ignore[misc]


def test_char_ngrams_give_weight_to_unseen_words(model: TfidfLogisticClassifier) -> None:
    # "hoaxing" never occurs in training, so it has no word feature; its char n-grams
    # (shared with "hoax", "hoaxers") still count, and are credited to the word.
    assert "hoaxing" not in model.word_vectorizer_.vocabulary_
    text = "The hoaxing of the people"
    parts = model.attribution(text)
    weight = dict((text[s:e], w) for (s, e), w in zip(parts.spans, parts.weights, strict=True))
    assert weight["hoaxing"] > 0


def test_evidence_is_phrases_as_written_then_sentences(model: TfidfLogisticClassifier) -> None:
    evidence = model.explain(TEXT, top_k=3)
    _check_shown(TEXT, evidence, 3)
    phrases = [e for e in evidence if e.kind == "phrase"]
    weights = [abs(e.weight) for e in phrases]
    assert weights == sorted(weights, reverse=True)
    fake = {e.term for e in phrases if e.toward == "fake"}
    reliable = {e.term for e in phrases if e.toward == "reliable"}
    assert fake & {"hoax", "shocking hoax", "shocking", "rigged"}
    assert reliable & {"Senate", "lawmakers", "spokesman", "Ministry", "Senate and the lawmakers"}
    assert "hoax" in fake or "shocking hoax" in fake
    hoax = next((e for e in phrases if e.term == "hoax"), None)
    if hoax is not None:  # the first "hoax" on its own ("shocking hoax" is another phrase)
        assert hoax.start == TEXT.index("hoax")
    sentences = [e for e in evidence if e.kind == "sentence"]
    assert sentences and evidence[-len(sentences) :] == sentences


def test_scrubbed_artefacts_are_never_evidence(model: TfidfLogisticClassifier) -> None:
    parts = model.attribution(TEXT)
    assert not any(TEXT[s:e] in {"Reuters", "WASHINGTON"} for s, e in parts.spans)


def test_top_k_bounds(model: TfidfLogisticClassifier) -> None:
    assert model.explain(TEXT, top_k=0) == []
    assert len([e for e in model.explain(TEXT, top_k=1) if e.kind == "phrase"]) == 2
    with pytest.raises(ValueError, match="top_k"):
        model.explain(TEXT, top_k=-1)


def test_more_than_two_classes_explain_the_predicted_one() -> None:
    texts, labels = _corpus(1, 30)
    sport = [
        " ".join(np.random.default_rng(i).choice([*FILLER, "goal", "striker", "league"], 30))
        for i in range(30)
    ]
    fitted = TfidfLogisticClassifier(random_state=0).fit(texts + sport, labels + ["sport"] * 30)
    text = "the striker and the league goal"
    parts = fitted.attribution(text)
    assert parts.target == "sport" and parts.other is None
    # raw units: the target logit minus the mean logit (linear_score sums float32 features)
    scores = fitted.linear_score([text])[0]
    k = fitted.classes_.tolist().index("sport")
    assert parts.total == pytest.approx(scores[k] - scores.mean(), abs=1e-5)
    evidence = fitted.explain(text, top_k=2)
    assert evidence and all(e.toward == "sport" and e.weight > 0 for e in evidence)


# -- ranking -------------------------------------------------------------------------------


def test_phrases_merge_neighbours_and_drop_lone_function_words() -> None:
    text = "The White House said on Friday that the plan is a hoax."
    words = [(m.start(), m.end()) for m in __import__("re").finditer(r"\w+", text)]
    w = {"The": -0.1, "White": -0.3, "House": -0.4, "said": -0.9, "on": 0.5, "Friday": -0.2,
         "that": 0.05, "the": 0.05, "plan": 0.02, "is": 0.6, "a": 0.01, "hoax": 0.7}  # fmt: skip
    parts = Attribution(
        text,
        "fake",
        "reliable",
        np.array(words),
        np.array([w[text[s:e]] for s, e in words]),
        base=0.0,
    )
    evidence = rank_evidence(parts, top_k=5)
    phrases = {e.term: e.weight for e in evidence if e.kind == "phrase"}
    # "The White House said" pushes one way: trimmed of "The" and "said" at its ends
    assert phrases["White House"] == pytest.approx(-0.7)
    assert "said" not in phrases and "on" not in phrases and "is" not in phrases
    assert phrases["hoax"] == pytest.approx(0.7 + 0.01 + 0.6) or "hoax" in " ".join(phrases)
    assert all(not is_function_word(t) for t in phrases)
    assert not [e for e in evidence if e.kind == "sentence"]  # one sentence: nothing to point at


def test_a_repeated_phrase_is_one_item_with_the_sum_of_its_weights() -> None:
    text = "Hoax! The senate knew. A HOAX, a hoax."
    spans = np.array([(m.start(), m.end()) for m in __import__("re").finditer(r"\w+", text)])
    weights = np.array([0.5, 0.0, -0.2, 0.0, 0.0, 0.4, 0.0, 0.3])
    parts = Attribution(text, "fake", "reliable", spans, weights, base=0.0)
    hoax = next(e for e in rank_evidence(parts) if e.term == "Hoax")
    assert (hoax.count, hoax.start, hoax.end) == (3, 0, 4)
    assert hoax.weight == pytest.approx(1.2)


def test_signals_are_ranked_with_phrases() -> None:
    parts = Attribution(
        "x",
        "fake",
        "reliable",
        np.zeros((0, 2), dtype=np.int64),
        np.zeros(0),
        0.0,
        signals={"words in capitals: 7": 0.4, "exclamation marks: 4": 0.9, "quotes: 2": -0.3},
    )
    evidence = rank_evidence(parts, top_k=1)
    assert [(e.term, e.kind, e.toward) for e in evidence] == [
        ("exclamation marks: 4", "signal", "fake"),
        ("quotes: 2", "signal", "reliable"),
    ]


# -- never a term that is not in the text ----------------------------------------------------


def test_hoehe_is_shown_as_hoehe_never_he(hashed: HashingSGDClassifier) -> None:
    text = "Die Höhe der Steuern ist ein Skandal, sagt er. He said it was a hoax."
    for fitted in (hashed,):
        evidence = fitted.explain(text, top_k=50)
        _check_shown(text, evidence, 50)
        for e in evidence:
            if e.kind == "phrase" and e.start is not None and e.start < text.index("der"):
                assert "Höhe" in e.term


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=_TEXTS)
def test_every_phrase_is_the_text_at_its_offsets(
    text: str, model: TfidfLogisticClassifier, hashed: HashingSGDClassifier
) -> None:
    for fitted in (model, hashed):
        parts = fitted.attribution(text)
        assert parts.total == pytest.approx(_logit_fake(fitted, text), abs=1e-6)
        _check_shown(text, fitted.explain(text, top_k=3), 3)


# -- the bundled model -----------------------------------------------------------------------


def test_seed_article_evidence_adds_up_and_reads_well(bundled: object) -> None:
    if SEED is None:
        pytest.skip("seed article not found")
    text = SEED.read_text(encoding="ascii")
    estimator = bundled.estimator  # type: ignore[attr-defined]
    card = bundled.card  # type: ignore[attr-defined]
    pinned = SEED_P_FAKE.get(card.model_id)
    p_fake = float(estimator.predict_proba([text])[0, 0])
    if pinned is not None:  # evidence code must not change a probability
        assert p_fake == pytest.approx(pinned, abs=1e-12)
    parts = estimator.attribution(text)
    assert parts.rest == 0.0
    assert parts.total == pytest.approx(_logit_fake(estimator, text), abs=1e-6)
    evidence = estimator.explain(text)
    _check_shown(text, evidence, 5)
    phrases = [e for e in evidence if e.kind == "phrase"]
    assert 6 <= len(phrases) <= 10
    assert not {"said", "the", "is", "on", "some", "also", "of the"} & {e.term for e in phrases}


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=_TEXTS)
def test_bundled_model_parts_add_up_on_any_text(text: str, bundled: object) -> None:
    estimator = bundled.estimator  # type: ignore[attr-defined]
    parts = estimator.attribution(text)
    assert parts.total == pytest.approx(_logit_fake(estimator, text), abs=1e-6)
    _check_shown(text, estimator.explain(text), 5)


# -- cost ---------------------------------------------------------------------------------------


def test_only_the_first_characters_are_attributed(hashed: HashingSGDClassifier) -> None:
    text = "The senate passed the bill. " * (MAX_ATTRIBUTED_CHARS // 20)
    parts = hashed.attribution(text)
    assert parts.total == pytest.approx(_logit_fake(hashed, text), abs=1e-6)
    assert parts.rest != 0.0  # the words past the cap still count, unattributed
    assert len(text) - int(parts.spans[:, 1].max()) > 20_000  # the tail has no evidence


def test_word_rows_stay_within_their_bytes() -> None:
    rows = WordRows(max_bytes=100_000)
    for i in range(2_000):
        rows.put(f"word{i}", (np.arange(20), np.ones(20)))
        assert rows.nbytes <= 100_000
    assert rows.get("word0") is None and rows.get("word1999") is not None  # oldest out
    rows.put("huge", (np.arange(10_000), np.ones(10_000)))  # over an eighth: not kept
    assert rows.get("huge") is None


def test_a_megabyte_of_one_token_or_unique_words_is_cheap(bundled: object) -> None:
    from veracity.detector import Detector
    from veracity.models.hashing_features import _WORD_CACHES

    detector = Detector(bundled)  # type: ignore[arg-type]
    rnd = random.Random(0)
    one_token = "".join(rnd.choice(string.ascii_letters) for _ in range(1_000_000))
    unique = " ".join(
        "".join(rnd.choice(string.ascii_lowercase) for _ in range(30)) for _ in range(32_000)
    )
    for text in (one_token, unique):
        detector.estimator.predict_proba([text])  # the verdict's own cost, not measured
        start = time.perf_counter()
        evidence = detector.estimator.explain(text)
        assert time.perf_counter() - start < 10.0
        _check_shown(text, evidence, 5)
        assert all(c.nbytes <= MAX_CACHE_BYTES for c in _WORD_CACHES.values())


def test_a_long_text_is_aligned_from_a_prefix_with_the_same_spans() -> None:
    from veracity.explain import MAX_ATTRIBUTED_CHARS, _head_word_spans, _prepared_word_spans
    from veracity.explain import _within as within
    from veracity.text import prepare

    paragraph = (
        "WASHINGTON (Reuters) - The Senate passed the budget on Tuesday, officials said. "
        "Photo by Chip Somodevilla/Getty Images. Höhe and naïve café owners cheered!\n\n"
    )
    text = paragraph * (5 * MAX_ATTRIBUTED_CHARS // len(paragraph))
    words = prepare(text).split()
    kept = within(words, MAX_ATTRIBUTED_CHARS)
    head = _head_word_spans(text, words, kept, MAX_ATTRIBUTED_CHARS)
    full = _prepared_word_spans(text, kept)
    assert head is not None and full is not None
    assert head == full[1] and len(head) == kept
    # a short text, or a prefix whose words differ from the text's, is tracked whole
    assert _head_word_spans(paragraph, prepare(paragraph).split(), 5, MAX_ATTRIBUTED_CHARS) is None
    assert _head_word_spans(text, ["other", *words[1:]], kept, MAX_ATTRIBUTED_CHARS) is None


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=".!?\u2026\"'\u201d\u2019)] \n\t\u2003ab", max_size=30))
def test_sentence_ends_are_where_the_look_behind_definition_puts_them(text: str) -> None:
    # _SENTENCE_END starts at the mark so the regex can skip ahead; its ends must be the
    # ends of the definition: after a mark, closing quotes or brackets, then whitespace.
    import re

    from veracity.explain import _SENTENCE_END

    definition = re.compile(r"(?<=[.!?\u2026])[\"'\u201d\u2019)\]]*\s+|\n\s*")
    assert [m.end() for m in _SENTENCE_END.finditer(text)] == [
        m.end() for m in definition.finditer(text)
    ]


def test_the_copied_stop_word_list_is_scikit_learns() -> None:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    from veracity.text.lang import SKLEARN_ENGLISH_STOP_WORDS

    assert SKLEARN_ENGLISH_STOP_WORDS == ENGLISH_STOP_WORDS


def _phrases_by_splitting(attribution: Attribution) -> list[tuple[int, int, float]]:
    """The definition: the strongest window of each run, then the same on either side
    (the implementation before phrases were chosen strongest-first)."""
    text, spans = attribution.text, attribution.spans.tolist()
    weights: list[float] = attribution.weights.tolist()
    function = [e - s > MAX_WORD_CHARS or is_function_word(text[s:e]) for s, e in spans]
    too_long = [e - s > MAX_WORD_CHARS for s, e in spans]
    runs = _runs(text, spans, weights)  # how runs are found did not change; choosing did
    out: list[tuple[int, int, float]] = []
    pending = [run[k : k + 30] for run in runs for k in range(0, len(run), 30)]
    while pending:
        run = pending.pop()
        best: tuple[float, int, int] | None = None
        for a in range(len(run)):
            if function[run[a]]:
                continue
            for b in range(a, min(a + MAX_PHRASE_WORDS, len(run))):
                if too_long[run[b]]:
                    break
                if function[run[b]]:
                    continue
                strength = abs(sum(weights[i] for i in run[a : b + 1]))
                if best is None or strength > best[0]:
                    best = (strength, a, b)
        if best is None:
            continue
        _, a, b = best
        piece = run[a : b + 1]
        out.append((spans[piece[0]][0], spans[piece[-1]][1], sum(weights[i] for i in piece)))
        pending += [part for part in (run[:a], run[b + 1 :]) if part]
    return sorted(out)


_WORDS = ["the", "said", "senate", "vaccine", "hoax", "of", "x" * 40, "Trump", "bill", "US"]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(_WORDS),
            st.sampled_from([" ", "-", " / ", ", ", ".", "  "]),
            st.sampled_from([0.0, 0.5, -0.5, 0.25, -0.25, 1.0, -1.0, 0.1, 0.2, -0.3]),
        ),
        max_size=80,
    )
)
def test_phrases_are_the_windows_of_the_splitting_definition(
    words: list[tuple[str, str, float]],
) -> None:
    attribution = _attribution_of(words)
    assert _phrases(attribution) == _phrases_by_splitting(attribution)


def _attribution_of(words: list[tuple[str, str, float]]) -> Attribution:
    text, spans = "", []
    for word, gap, _ in words:
        spans.append((len(text), len(text) + len(word)))
        text += word + gap
    return Attribution(
        text,
        "fake",
        "reliable",
        np.asarray(spans, dtype=np.int64).reshape(-1, 2),
        np.asarray([w for _, _, w in words], dtype=np.float64),
        base=0.0,
    )


_GAPS = [" ", "  ", "   ", "    ", "\t", " \t ", "-", " - ", "\u2013", " \u2014 ", "/", " & ", "&",
         ".", "..", ", ", "- ", " -", "\t-\t", "  -", "-  ", "\n", "", "\u2003", ": "]  # fmt: skip


@pytest.mark.skipif(ngrams is None, reason="extension not built")
@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([*_WORDS, "a" * 46, "Höhe", "don't", "U.S"]),
            st.sampled_from(_GAPS),
            st.floats(-2, 2, allow_nan=False).map(lambda w: round(w, 2)),
        ),
        max_size=120,
    )
)
def test_compiled_phrases_are_the_python_ones(words: list[tuple[str, str, float]]) -> None:
    """Every gap the join rule knows and does not, long words, zeros, runs over 30 words."""
    attribution = _attribution_of(words)
    assert sorted(_phrases_compiled(attribution)) == _phrases_python(attribution)


@pytest.mark.skipif(ngrams is None, reason="extension not built")
def test_compiled_phrases_are_the_python_ones_on_real_texts() -> None:
    from real_texts import DATASET_NAMES, real_texts
    from veracity.detector import Detector, default_model_path

    estimator = Detector.from_path(default_model_path(), fast=True).estimator
    checked = 0
    for name in DATASET_NAMES:
        for text in real_texts(name, 40):
            attribution = estimator.attribution(text)
            assert sorted(_phrases_compiled(attribution)) == _phrases_python(attribution), text
            checked += 1
    assert checked == 40 * len(DATASET_NAMES)


def _sentences_by_loop(attribution: Attribution) -> list[tuple[int, int, float]]:
    """The definition: walk the words, a new unit at each sentence end or every 40 words."""
    from veracity.explain import _SENTENCE_END, MAX_SENTENCE_WORDS

    text, spans, weights = attribution.text, attribution.spans, attribution.weights
    if not len(spans):
        return []
    ends = [m.end() for m in _SENTENCE_END.finditer(text)] + [len(text) + 1]
    units: list[list[int]] = [[]]
    e = 0
    for i, (start, _) in enumerate(spans.tolist()):
        moved = False
        while start >= ends[e]:
            e += 1
            moved = True
        if (moved and units[-1]) or len(units[-1]) >= MAX_SENTENCE_WORDS:
            units.append([])
        units[-1].append(i)
    if len(units) < 2:
        return []
    firsts = [u[0] for u in units]
    sums = np.add.reduceat(np.asarray(weights, dtype=np.float64), firsts)
    return [
        (int(spans[u[0]][0]), int(spans[u[-1]][1]), float(w))
        for u, w in zip(units, sums.tolist(), strict=True)
    ]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["the", "Senate", "hoax", "x"]),
            st.sampled_from([" ", ". ", "! ", "\n", '?" ', " ", " ", ", "]),
            st.floats(-1, 1, allow_nan=False),
        ),
        max_size=120,
    )
)
def test_sentences_are_the_units_of_the_loop_definition(
    words: list[tuple[str, str, float]],
) -> None:
    from veracity.explain import _sentences

    attribution = _attribution_of(words)
    assert _sentences(attribution) == _sentences_by_loop(attribution)


def test_sentences_are_the_loops_on_real_texts() -> None:
    from real_texts import DATASET_NAMES, real_texts
    from veracity.detector import Detector, default_model_path
    from veracity.explain import _sentences

    estimator = Detector.from_path(default_model_path(), fast=True).estimator
    for name in DATASET_NAMES:
        for text in real_texts(name, 30):
            # normalized, a text is one sentence: passages of 40 words
            for form in (text, normalize(text)):
                attribution = estimator.attribution(form)
                assert _sentences(attribution) == _sentences_by_loop(attribution), form


def _tokens_by_search(text: str, spans: list[tuple[int, int]]) -> list[int]:
    """The definition of each span's original word: search back, then the token regex."""
    tokens: list[tuple[int, int]] = []
    index: list[int] = []
    for start, end in spans:
        if start < 0:
            index.append(-1)
            continue
        if tokens and tokens[-1][0] <= start and end <= tokens[-1][1]:
            index.append(len(tokens) - 1)
            continue
        lo = start
        while lo > 0 and (text[lo - 1].isalnum() or text[lo - 1] in "_'\u2019"):
            lo -= 1
        found = (start, end)
        for m in _TOKEN.finditer(text, lo, max(end, lo) + 1):
            if m.start() <= start and end <= m.end():
                found = m.span()
                break
        if tokens and found[0] < tokens[-1][1]:
            last = tokens.pop()
            found = (last[0], max(last[1], end))
        tokens.append(found)
        index.append(len(tokens) - 1)
    return index + [x for t in tokens for x in t]


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="abZ'\u2019_1é -.\n", max_size=60))
def test_original_words_are_the_ones_the_search_finds(text: str) -> None:
    found = _prepared_word_spans(text)
    spans = found[1] if found is not None else []
    spans += [(m.start(), m.end()) for m in re.finditer(r"[A-Za-z]+", text)][:3]
    spans.sort()
    index, tokens = _tokens_of(text, spans)
    assert index.tolist() + tokens.ravel().tolist() == _tokens_by_search(text, spans)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="abZ'\u2019_1é -.\n\t", max_size=40), st.data())
def test_ascii_words_are_where_the_regex_says(text: str, data: st.DataObject) -> None:
    from veracity.explain import _ASCII_WORD, _ascii_words

    bound = st.integers(-1, len(text) + 1)
    spans = data.draw(st.lists(st.tuples(bound, bound), max_size=8))
    spans = [(s, e) for s, e in spans if e <= len(text)]
    expected = []
    for start, end in spans:
        m = _ASCII_WORD.match(text, start) if 0 <= start < end else None
        expected.append(m is not None and m.end() == end)
    found = _ascii_words(text, np.asarray(spans, dtype=np.int64).reshape(-1, 2)).tolist()
    # True only where the regex says so (a non-ASCII neighbour is left to the search);
    # among ASCII characters, exactly where it says so
    assert all(e for f, e in zip(found, expected, strict=True) if f)
    if text.isascii():
        assert found == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["a", "ab", "the", "x", "senate", "i", "zz"]), max_size=40))
def test_tokens_of_normalized_words_are_the_analyzers(words: list[str]) -> None:
    from sklearn.feature_extraction.text import HashingVectorizer

    from veracity.explain import _DEFAULT_TOKENS, ngram_tokens

    alignment = align(" ".join(words), preprocess=False)
    vectorizer = HashingVectorizer()
    assert vectorizer.token_pattern == _DEFAULT_TOKENS  # the pattern the shortcut is for
    tokens, owner = ngram_tokens(alignment, vectorizer)
    analyzer = vectorizer.build_analyzer()
    assert tokens == [t for w in words for t in analyzer(w)]
    assert owner.tolist() == [i for i, w in enumerate(words) for _ in analyzer(w)]


def test_prepare_with_spans_is_prepare_and_the_alignments_spans() -> None:
    """Scoring prepares a text once with its words' offsets; the alignment built from them
    is the one align finds by itself, and the string is prepare's."""
    from real_texts import DATASET_NAMES, real_texts
    from veracity.explain import prepare_with_spans

    for name in DATASET_NAMES:
        for text in real_texts(name, 25):
            for form in (text, normalize(text)):
                prepared, spans = prepare_with_spans(form)
                assert prepared == prepare(form)
                assert spans is not None and len(spans) == len(prepared.split())
                given, found = align(form, prepared=prepared, spans=spans), align(form)
                assert given.words == found.words and given.attributed == found.attributed
                assert np.array_equal(given.word_token, found.word_token)
                assert np.array_equal(given.tokens, found.tokens)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="abZ'\u2019_1é -.\n(Reuters)", max_size=80))
def test_prepare_with_spans_gives_prepares_string_for_any_text(text: str) -> None:
    from veracity.explain import prepare_with_spans

    prepared, spans = prepare_with_spans(text)
    assert prepared == prepare(text)
    if spans is not None:
        assert len(spans) == len(prepared.split())
