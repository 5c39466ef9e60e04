"""Evidence from linear models: real contributions, aggregated to words, ordered."""

from __future__ import annotations

import numpy as np
import pytest

from veracity.explain import linear_evidence, term_contributions
from veracity.models.linear import TfidfLogisticClassifier
from veracity.types import Evidence

FILLER = "the of and to in that is for on with as was by at it from this have are be".split()
FAKE_CUES = ["hoax", "hoaxers", "shocking", "globalist", "rigged"]
RELIABLE_CUES = ["senate", "ministry", "quarterly", "lawmakers", "spokesman"]


def _corpus(seed: int, n: int) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for label, cues in (("fake", FAKE_CUES), ("reliable", RELIABLE_CUES)):
        for _ in range(n):
            words = [*rng.choice(FILLER, 30), *rng.choice(cues, 6)]
            rng.shuffle(words)
            texts.append(" ".join(words))
            labels.append(label)
    return texts, labels


@pytest.fixture(scope="module")
def model() -> TfidfLogisticClassifier:
    return TfidfLogisticClassifier(random_state=0).fit(*_corpus(0, 60))


TEXT = (
    "WASHINGTON (Reuters) - The senate and the lawmakers said it was a hoax, "
    "a shocking hoax, from the spokesman of the ministry."
)


def test_contributions_add_up_to_the_linear_score(model: TfidfLogisticClassifier) -> None:
    contributions = term_contributions(model, TEXT)
    assert contributions.target == "fake" and contributions.other == "reliable"
    # the model's score is the log-odds of classes_[1] == "reliable"; fake is its negative
    score = model.linear_score([TEXT])[0]
    assert contributions.total == pytest.approx(-score, abs=1e-6)
    toward_reliable = term_contributions(model, TEXT, target="reliable")
    assert toward_reliable.total == pytest.approx(score, abs=1e-6)


def test_char_ngrams_give_weight_to_unseen_words(model: TfidfLogisticClassifier) -> None:
    # "hoaxing" never occurs in training, so it has no word feature; its char n-grams
    # (shared with "hoax", "hoaxers") still count, and are reported under the word.
    assert "hoaxing" not in model.word_vectorizer_.vocabulary_
    contributions = term_contributions(model, "the hoaxing of the people")
    assert contributions.terms["hoaxing"] > 0


def test_evidence_is_ordered_and_split_by_label(model: TfidfLogisticClassifier) -> None:
    evidence = linear_evidence(model, TEXT, top_k=3)
    assert all(isinstance(e, Evidence) for e in evidence)
    weights = [abs(e.weight) for e in evidence]
    assert weights == sorted(weights, reverse=True)
    fake = [e for e in evidence if e.toward == "fake"]
    reliable = [e for e in evidence if e.toward == "reliable"]
    assert len(fake) == 3 and len(reliable) == 3
    assert all(e.weight > 0 for e in fake) and all(e.weight < 0 for e in reliable)
    assert fake[0].term in {"hoax", "shocking", "a shocking", "shocking hoax"}
    assert {e.term for e in reliable} & {"senate", "lawmakers", "spokesman", "ministry"}
    # the strongest terms overall are the strongest of all contributions
    everything = term_contributions(model, TEXT).terms
    strongest = max(everything.items(), key=lambda item: abs(item[1]))
    assert (evidence[0].term, evidence[0].weight) == strongest


def test_scrubbed_artefacts_are_never_evidence(model: TfidfLogisticClassifier) -> None:
    terms = term_contributions(model, TEXT).terms
    assert not any("reuters" in term or term == "washington" for term in terms)


def test_top_k_bounds(model: TfidfLogisticClassifier) -> None:
    assert linear_evidence(model, TEXT, top_k=0) == []
    assert len(linear_evidence(model, TEXT, top_k=100)) == len(
        [w for w in term_contributions(model, TEXT).terms.values() if w != 0]
    )
    with pytest.raises(ValueError, match="top_k"):
        linear_evidence(model, TEXT, top_k=-1)


def test_the_model_method_is_the_same(model: TfidfLogisticClassifier) -> None:
    assert model.explain(TEXT, top_k=4) == linear_evidence(model, TEXT, top_k=4)


def test_more_than_two_classes_explain_the_predicted_one() -> None:
    texts, labels = _corpus(1, 30)
    sport = [
        " ".join(np.random.default_rng(i).choice([*FILLER, "goal", "striker", "league"], 30))
        for i in range(30)
    ]
    model = TfidfLogisticClassifier(random_state=0).fit(texts + sport, labels + ["sport"] * 30)
    text = "the striker and the league goal"
    contributions = term_contributions(model, text)
    assert contributions.target == "sport" and contributions.other is None
    evidence = linear_evidence(model, text, top_k=2)
    assert len(evidence) == 2
    assert all(e.toward == "sport" and e.weight > 0 for e in evidence)
    # the score explained is the target logit minus the mean logit
    scores = model.linear_score([text])[0]
    k = model.classes_.tolist().index("sport")
    assert contributions.total == pytest.approx(scores[k] - scores.mean(), abs=1e-6)
