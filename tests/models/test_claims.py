"""ClaimsClassifier (claims-lr.v1, claims-meta.v1): contract, metadata, leak-freedom, LIAR."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks
from sklearn.utils.validation import validate_data

from synthetic import letters, rows_as_text
from veracity.data import Dataset
from veracity.errors import InputError
from veracity.evaluate.run import predict_proba_batched
from veracity.models import make_model
from veracity.models.artifact import ModelCard, TrainingData, load_model, save_model
from veracity.models.claims import ClaimsClassifier, out_of_fold_prior
from veracity.training import train

WORDS = (
    "the tax plan would cut jobs in the state budget for schools and health care "
    "while the senator voted against the bill last year says more than half of all"
).split()


def make_claims(n_speakers: int, per_speaker: int, seed: int) -> tuple[pd.DataFrame, list[str]]:
    """Claims whose label depends only on the speaker; the words are random.

    Speaker ``s`` always says fake things when ``s`` is odd, reliable ones when even.
    Every row also carries credit_* columns that spell out the label (as LIAR's do,
    since they include the statement's own rating) for the leak tests.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_speakers):
        label = "fake" if s % 2 else "reliable"
        for _ in range(per_speaker):
            rows.append(
                {
                    "text": " ".join(rng.choice(WORDS, 12)).capitalize() + ".",
                    "speaker": f"speaker-{s}",
                    "party": str(rng.choice(["democrat", "republican"])),
                    "subject": "taxes,economy",
                    "context": "a campaign speech",
                    "credit_false": int(label == "fake"),
                    "label": label,
                }
            )
    frame = pd.DataFrame(rows)
    return frame.drop(columns="label"), frame["label"].tolist()


@pytest.fixture(scope="module")
def claims() -> tuple[pd.DataFrame, list[str]]:
    return make_claims(12, 12, seed=0)


@pytest.fixture(scope="module")
def new_claims() -> tuple[pd.DataFrame, list[str]]:
    """Other statements by the same speakers."""
    return make_claims(12, 5, seed=1)


@pytest.fixture(scope="module")
def meta_model(claims: tuple[pd.DataFrame, list[str]]) -> ClaimsClassifier:
    model: ClaimsClassifier = make_model("claims-meta.v1", random_state=0)
    return model.fit(*claims)


#: claims-meta.v1 as published (chosen on liar:valid). Never edit a value: make a .v2.
CLAIMS_META_V1 = {
    "metadata": ("speaker", "party", "state", "job", "subject", "context"),
    "word_ngram_range": (1, 2),
    "char_ngram_range": (2, 5),
    "max_word_features": 100_000,
    "max_char_features": 100_000,
    "min_df": 2,
    "meta_min_count": 2,
    "speaker_prior": True,
    "prior_smoothing": 10.0,
    "prior_folds": 5,
    "C": 0.3,
    "calibration": "sigmoid",
    "cv": 5,
    "preprocess": True,
    "random_state": None,
}


def test_presets_are_pinned() -> None:
    assert make_model("claims-meta.v1").get_params() == CLAIMS_META_V1
    text_only = {**CLAIMS_META_V1, "metadata": (), "speaker_prior": False}
    assert make_model("claims-lr.v1").get_params() == text_only
    assert make_model("claims-lr.v1").uses_metadata == ()


# --- scikit-learn's common checks ------------------------------------------------
#
# As in test_linear.py: the estimator reads text (and a frame), so the checks run on a
# test-only subclass that turns each numeric row into words, and its first column
# into a speaker, then calls the real fit / predict_proba with a DataFrame.


def _rows_as_claims(X: np.ndarray) -> pd.DataFrame:
    bins = np.floor(np.asarray(X, dtype=float) * 2).astype(int)
    words = rows_as_text(X)
    speakers = [f"s{'n' if row[0] < 0 else 'p'}{letters(row[0])}" for row in bins]
    return pd.DataFrame({"text": words, "speaker": speakers})


class NumbersAsClaims(ClaimsClassifier):
    """ClaimsClassifier seen through numeric 2-D input (for the checks only)."""

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True
        tags.input_tags.string = False
        return tags

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> NumbersAsClaims:
        X = validate_data(self, X, reset=True)
        super().fit(_rows_as_claims(X), y, sample_weight)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        X = validate_data(self, X, reset=False)
        return super().predict_proba(_rows_as_claims(X))


def _expected_failed_checks(estimator: Any) -> dict[str, str]:
    return {
        "check_sample_weight_equivalence_on_dense_data": (
            "by design, weights are not repeated rows: TF-IDF document frequencies and the "
            "speaker prior count repeated rows, and the folds come from the int `cv`"
        ),
    }


@parametrize_with_checks(
    [
        NumbersAsClaims(min_df=1, meta_min_count=1, cv=2, prior_folds=2, random_state=0),
        # text only; temperature sets multi_class=False, so multi-class must be refused
        NumbersAsClaims(metadata=(), min_df=1, cv=3, calibration="temperature", random_state=0),
    ],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_contract(estimator: Any, check: Callable[[Any], None]) -> None:
    check(estimator)


# --- metadata is used, and only leak-free metadata ----------------------------------


def test_meta_model_learns_the_speaker_the_text_model_cannot(
    claims: tuple[pd.DataFrame, list[str]],
    new_claims: tuple[pd.DataFrame, list[str]],
    meta_model: ClaimsClassifier,
) -> None:
    X, y = new_claims
    text_model = make_model("claims-lr.v1", random_state=0).fit(*claims)
    meta_accuracy = np.mean(meta_model.predict(X) == np.array(y))
    text_accuracy = np.mean(text_model.predict(X) == np.array(y))
    assert meta_accuracy > 0.95
    assert text_accuracy < 0.75  # the words are random: about chance
    assert text_model.meta_vectorizer_ is None and text_model.prior_speakers_ is None


def test_speaker_evidence_is_reported(meta_model: ClaimsClassifier) -> None:
    evidence = meta_model.explain(
        {"text": "The tax plan would cut jobs.", "speaker": "speaker-1"}, top_k=3
    )
    terms = {e.term: e for e in evidence}
    assert "speaker: speaker-1" in terms
    assert terms["speaker: speaker-1"].toward == "fake"
    assert terms["speaker: speaker-1"].weight > 0  # toward fake: positive log-odds of fake
    # a plain text has no metadata: only words come back
    assert all(":" not in e.term for e in meta_model.explain("The tax plan would cut jobs."))


def test_plain_texts_work_without_metadata(
    meta_model: ClaimsClassifier, new_claims: tuple[pd.DataFrame, list[str]]
) -> None:
    texts = new_claims[0]["text"].tolist()
    proba = meta_model.predict_proba(texts)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    # with no speaker, the same text gets the same probability whoever said it
    np.testing.assert_allclose(proba, meta_model.predict_proba(new_claims[0][["text"]]), atol=1e-12)


def test_out_of_fold_prior_never_sees_a_rows_own_label() -> None:
    rng = np.random.default_rng(0)
    keys = [f"s{i}" for i in rng.integers(0, 8, size=60)]
    onehot = np.eye(3)[rng.integers(0, 3, size=60)]
    a = 10.0

    def other_fold_counts(encoded: np.ndarray, prior: np.ndarray) -> np.ndarray:
        # invert log((S + a * prior) / (n + a) / prior): S, the key's label counts
        n = np.expm1(encoded[:, -1:])
        return np.exp(encoded[:, :3]) * prior * (n + a) - a * prior

    encoded = out_of_fold_prior(keys, onehot, folds=5, smoothing=a, random_state=0)
    before = other_fold_counts(encoded, onehot.mean(axis=0))
    assert before.sum() > 0  # speakers repeat across folds: there is something to leak
    for i in range(len(keys)):
        flipped = onehot.copy()
        flipped[i] = np.roll(flipped[i], 1)  # change only row i's label
        again = out_of_fold_prior(keys, flipped, folds=5, smoothing=a, random_state=0)
        after = other_fold_counts(again, flipped.mean(axis=0))
        # the label counts behind row i's encoding do not include row i's label
        np.testing.assert_allclose(after[i], before[i], atol=1e-9)
        assert again[i, -1] == encoded[i, -1]


def test_singleton_speakers_cannot_leak_their_label_into_the_model() -> None:
    # Every row has its own speaker and the same text: a prior computed in-sample would
    # spell out each row's label (training accuracy 1.0); out of fold it is constant.
    n = 80
    X = pd.DataFrame({"text": ["The budget went up."] * n, "speaker": [f"p{i}" for i in range(n)]})
    y = np.array(["fake", "reliable"] * (n // 2))
    model = ClaimsClassifier(random_state=0).fit(X, y)
    # predicting the training rows uses the full-data prior, which includes each label
    assert np.mean(model.predict(X) == y) <= 0.6


def test_credit_columns_are_ignored(
    claims: tuple[pd.DataFrame, list[str]], meta_model: ClaimsClassifier
) -> None:
    X, y = claims
    assert "credit_false" in X.columns  # it spells out the label...
    without = ClaimsClassifier(**meta_model.get_params()).fit(X.drop(columns="credit_false"), y)
    # ...and changes nothing: the fitted model never read it
    np.testing.assert_array_equal(without.predict_proba(X), meta_model.predict_proba(X))
    assert not any("credit" in name for name in meta_model.meta_vectorizer_.get_feature_names_out())
    assert "credit_false" not in meta_model.model_input(X.rename(columns={"text": "doc"})).columns


def test_credit_columns_are_refused_as_metadata(claims: tuple[pd.DataFrame, list[str]]) -> None:
    with pytest.raises(InputError, match=r"credit_false.*label leak"):
        ClaimsClassifier(metadata=("speaker", "credit_false")).fit(*claims)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"metadata": ("speakr",)}, "unknown metadata"),
        ({"metadata": "speaker"}, "tuple of column names"),
        ({"C": 0}, "C must be a positive"),
        ({"prior_folds": 1}, "prior_folds must be an int >= 2"),
        ({"calibration": "platt"}, "calibration must be one of"),
    ],
)
def test_bad_params_are_refused_in_fit(
    claims: tuple[pd.DataFrame, list[str]], params: dict[str, Any], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        ClaimsClassifier(**params).fit(*claims)


def test_a_frame_without_text_is_refused(meta_model: ClaimsClassifier) -> None:
    with pytest.raises(InputError, match="without a 'text' column"):
        meta_model.predict_proba(pd.DataFrame({"statement": ["x"]}))


# --- persistence and wiring ----------------------------------------------------------


def test_save_and_load_give_identical_probabilities(
    tmp_path: Path, meta_model: ClaimsClassifier, new_claims: tuple[pd.DataFrame, list[str]]
) -> None:
    card = ModelCard.create(
        preset="claims-meta.v1",
        params={"random_state": 0},
        labels=[str(c) for c in meta_model.classes_],
        training_data=[TrainingData(name="generated", sha256="ab" * 32, rows=144)],
        seed=0,
    )
    loaded = load_model(save_model(meta_model, tmp_path / "model", card)).estimator
    X = new_claims[0]
    np.testing.assert_array_equal(loaded.predict_proba(X), meta_model.predict_proba(X))
    texts = X["text"].tolist()
    np.testing.assert_array_equal(loaded.predict_proba(texts), meta_model.predict_proba(texts))
    assert loaded.explain(X.iloc[0].to_dict()) == meta_model.explain(X.iloc[0].to_dict())


def test_training_passes_metadata_to_models_that_use_it(
    claims: tuple[pd.DataFrame, list[str]], new_claims: tuple[pd.DataFrame, list[str]]
) -> None:
    def dataset(name: str, part: tuple[pd.DataFrame, list[str]]) -> Dataset:
        X, y = part
        frame = X.assign(id=[f"{name}-{i}" for i in range(len(X))], title="", label=y)
        return Dataset(name, frame, [], "claim")

    accuracy = {}
    for preset in ("claims-lr.v1", "claims-meta.v1"):
        result = train(
            [dataset("claims", claims)],
            preset=preset,
            test_data=[dataset("new", new_claims)],
        )
        accuracy[preset] = result.test_metrics["new"].accuracy.value
    assert accuracy["claims-meta.v1"] > 0.95 > 0.75 > accuracy["claims-lr.v1"]


def test_batched_scoring_slices_frames_by_rows(
    meta_model: ClaimsClassifier, new_claims: tuple[pd.DataFrame, list[str]]
) -> None:
    X = new_claims[0]
    np.testing.assert_allclose(
        predict_proba_batched(meta_model, X, batch_size=7), meta_model.predict_proba(X)
    )


# --- real data -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def liar_dir() -> Path:
    beside_repo = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "liar"
    for folder in (Path("../shared/datasets/liar"), beside_repo):
        if (folder / "train.tsv.gz").is_file() and (folder / "test.tsv.gz").is_file():
            return folder
    pytest.skip("real datasets not found: ../shared/datasets/liar is absent")


@pytest.mark.slow
def test_liar_six_way_metadata_beats_text_only(liar_dir: Path) -> None:
    from sklearn.metrics import f1_score

    from veracity.data.liar import load_liar
    from veracity.settings import Settings

    settings = Settings()
    train_set = load_liar(liar_dir, settings=settings, splits=("train",))
    test_set = load_liar(liar_dir, settings=settings, splits=("test",))
    truth = test_set.frame["label6"].to_numpy()
    accuracy, macro_f1 = {}, {}
    for preset in ("claims-lr.v1", "claims-meta.v1"):
        # cv=2 (3 regressions instead of 6) and 20,000 word and char features each (not
        # 100,000: the regression's cost grows with them) keep this test near a minute and a
        # half; at the presets' 100,000 it took four minutes on 2 cores. The floors are the
        # presets' (they hold with 20,000: 0.259 / 0.266, macro-F1 0.240 / 0.260).
        model = make_model(
            preset, cv=2, random_state=0, max_word_features=20_000, max_char_features=20_000
        )
        model.fit(
            model.model_input(train_set),
            train_set.frame["label6"].tolist(),
        )
        predicted = model.predict(model.model_input(test_set))
        accuracy[preset] = float(np.mean(predicted == truth))
        macro_f1[preset] = float(f1_score(truth, predicted, average="macro"))
    # README (seed 42, cv=5): accuracy 0.260 text only, 0.264 with metadata; macro-F1 0.231
    # and 0.260. Accuracy gains little on test (0.250 -> 0.292 on liar:valid), so the
    # floors are on accuracy and the margin on macro-F1.
    assert accuracy["claims-lr.v1"] > 0.235
    assert accuracy["claims-meta.v1"] > 0.245
    assert macro_f1["claims-meta.v1"] > macro_f1["claims-lr.v1"] + 0.015
