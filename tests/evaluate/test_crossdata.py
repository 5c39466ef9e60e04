"""The cross-dataset matrix: pairwise and leave-one-out, leak removal, labels, subsampling."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from synthetic import FAST_PARAMS, synthetic_frame
from veracity.cli import app
from veracity.data import Dataset
from veracity.errors import InputError
from veracity.evaluate import run
from veracity.evaluate.crossdata import (
    CrossMatrix,
    cross_dataset_matrix,
    label_mapping,
    stratified_subsample,
)

TOPICS = {
    "alpha": "football match goal team league coach season player".split(),
    "beta": "movie actor film star studio premiere director award".split(),
    "gamma": "storm weather rain snow flood forecast cold wind".split(),
}
PARAMS: dict[str, Any] = dict(FAST_PARAMS)
N_BOOT = 50


def make_dataset(name: str, n_per_class: int = 30, seed: int = 0, flip: float = 0.1) -> Dataset:
    """Generated articles: label words shared by all datasets, topic words of their own."""
    frame = synthetic_frame(name, TOPICS[name], n_per_class=n_per_class, seed=seed, flip=flip)
    return Dataset(name, frame, [], "article")


@pytest.fixture(scope="module")
def datasets() -> list[Dataset]:
    return [make_dataset(name, seed=i) for i, name in enumerate(TOPICS)]


@pytest.fixture(scope="module")
def pairwise(datasets: list[Dataset]) -> CrossMatrix:
    return cross_dataset_matrix(datasets, params=PARAMS, n_boot=N_BOOT, seed=3)


def _finite_interval(interval: Any) -> bool:
    return interval.low <= interval.value <= interval.high and not math.isnan(interval.low)


def test_pairwise_has_every_train_test_pair(pairwise: CrossMatrix) -> None:
    names = ["alpha", "beta", "gamma"]
    assert pairwise.mode == "pairwise"
    assert pairwise.train_names == names and pairwise.test_names == names
    assert len(pairwise.cells) == 9
    for cell in pairwise.cells:
        assert cell.in_domain == (cell.train == cell.test)
        m = cell.metrics
        assert m is not None and m.roc_auc is not None
        for interval in (m.roc_auc, m.accuracy, m.macro_f1):
            assert _finite_interval(interval)
        assert 0 <= m.ece <= 1 and 0 <= m.brier <= 1
        assert sum(map(sum, m.confusion)) == m.n == cell.n
    # the diagonal is a 20% held-out split, off-diagonal cells the whole other dataset
    diagonal = pairwise.cell("alpha", "alpha")
    off = pairwise.cell("alpha", "beta")
    assert diagonal is not None and off is not None
    assert diagonal.n == 12 and diagonal.train_rows == 48
    assert off.n == 60 and off.train_rows == 48
    assert pairwise.cell("alpha", "nope") is None
    # the shared label words carry over: every model beats chance everywhere
    auc = pairwise.values("roc_auc")
    assert auc.shape == (3, 3) and (auc > 0.6).all()
    assert set(pairwise.fit_seconds) == set(names)


def test_to_dict_is_json_with_settings_and_label_semantics(pairwise: CrossMatrix) -> None:
    data = json.loads(json.dumps(pairwise.to_dict()))
    assert data["rows"] == data["columns"] == ["alpha", "beta", "gamma"]
    assert data["settings"] == {
        "seed": 3,
        "n_boot": N_BOOT,
        "near_threshold": 0.8,
        "test_size": 0.2,
        "max_rows_per_dataset": None,
    }
    assert data["params"]["random_state"] == 3  # the seed reaches the model
    assert data["params"]["char_ngram_range"] == [3, 4]
    cell = data["cells"][1]
    assert {"train", "test", "in_domain", "n", "leaks_dropped", "roc_auc", "accuracy"} <= set(cell)
    assert set(cell["roc_auc"]) == {"value", "low", "high"}
    mapping = data["data"]["alpha"]["label_mapping"]
    assert mapping["positive"] == "fake" and mapping["negative"] == "reliable"
    assert data["data"]["alpha"]["rows"] == 60


def test_same_seed_same_matrix(datasets: list[Dataset], pairwise: CrossMatrix) -> None:
    again = cross_dataset_matrix(datasets, params=PARAMS, n_boot=N_BOOT, seed=3)
    assert [c.to_dict() for c in again.cells] == [c.to_dict() for c in pairwise.cells]


def test_leave_one_out_trains_on_the_rest_and_drops_leaks(datasets: list[Dataset]) -> None:
    alpha, beta, gamma = datasets
    # beta also holds 5 exact and 5 lightly edited copies of alpha articles
    copies = alpha.frame.iloc[:10].copy()
    copies["id"] = [f"copy-{i}" for i in range(10)]
    copies.loc[copies.index[5:], "text"] = copies["text"].iloc[5:] + " indeed"
    leaky = Dataset("beta", pd.concat([beta.frame, copies], ignore_index=True), [], "article")
    matrix = cross_dataset_matrix(
        [alpha, leaky, gamma], params=PARAMS, mode="leave-one-out", n_boot=N_BOOT
    )
    assert matrix.train_names == ["all but alpha", "all but beta", "all but gamma"]
    assert [c.test for c in matrix.cells] == ["alpha", "beta", "gamma"]
    cell = matrix.cell("all but beta", "beta")
    assert cell is not None and cell.leaks_dropped == 10 and cell.n == 60
    assert cell.train_rows == 120
    # testing on alpha with a model that saw beta's copies of it drops them from alpha too
    on_alpha = matrix.cell("all but alpha", "alpha")
    assert on_alpha is not None and on_alpha.leaks_dropped == 10 and on_alpha.n == 50
    assert not any(c.in_domain for c in matrix.cells)
    assert matrix.settings["test_size"] is None
    auc = matrix.values()
    assert np.isnan(auc[0, 1]) and not np.isnan(auc[0, 0])


def test_pairwise_drops_copies_of_the_training_split() -> None:
    alpha, beta = make_dataset("alpha", seed=5), make_dataset("beta", seed=6)
    copies = alpha.frame.copy()
    copies["id"] = [f"copy-{i}" for i in range(len(copies))]
    leaky = Dataset("beta", pd.concat([beta.frame, copies], ignore_index=True), [], "article")
    matrix = cross_dataset_matrix([alpha, leaky], params=PARAMS, n_boot=N_BOOT)
    cell = matrix.cell("alpha", "beta")
    assert cell is not None
    # every copy of alpha's 48 training rows goes; copies of its 12 held-out rows stay
    assert cell.leaks_dropped == 48 and cell.n == 72


def test_stratified_subsample_keeps_shares_and_is_seeded() -> None:
    frame = pd.DataFrame(
        {"label": ["fake"] * 300 + ["reliable"] * 700, "text": map(str, range(1000))}
    )
    sample = stratified_subsample(frame, 100, seed=1)
    assert len(sample) == 100
    assert sample["label"].value_counts().to_dict() == {"reliable": 70, "fake": 30}
    assert sample.index.is_monotonic_increasing
    assert sample.index.tolist() == stratified_subsample(frame, 100, seed=1).index.tolist()
    assert sample.index.tolist() != stratified_subsample(frame, 100, seed=2).index.tolist()
    assert stratified_subsample(frame, None, seed=1) is frame
    assert stratified_subsample(frame, 5000, seed=1) is frame
    tiny = stratified_subsample(pd.DataFrame({"label": ["fake"] + ["reliable"] * 99}), 10, seed=0)
    assert len(tiny) == 10 and (tiny["label"] == "fake").sum() == 1
    with pytest.raises(InputError, match="at least 2"):
        stratified_subsample(frame, 1, seed=0)


def test_max_rows_per_dataset_subsamples_before_anything_else(datasets: list[Dataset]) -> None:
    matrix = cross_dataset_matrix(
        datasets[:2],
        params=PARAMS,
        n_boot=N_BOOT,
        max_rows_per_dataset=40,
        mode="leave-one-out",
    )
    assert matrix.data["alpha"]["rows_loaded"] == 60
    assert matrix.data["alpha"]["rows_sampled"] == 40
    assert matrix.settings["max_rows_per_dataset"] == 40
    assert [c.n for c in matrix.cells] == [40, 40]


def test_six_way_ratings_are_recorded_as_the_binary_mapping() -> None:
    ds = make_dataset("alpha")
    rng = np.random.default_rng(0)
    ds.frame["label6"] = [
        str(rng.choice(["pants-fire", "false", "barely-true"]))
        if label == "fake"
        else str(rng.choice(["half-true", "mostly-true", "true"]))
        for label in ds.frame["label"]
    ]
    mapping = label_mapping(ds)
    assert mapping["source_column"] == "label6"
    assert mapping["mapping"] == {
        "fake": ["barely-true", "false", "pants-fire"],
        "reliable": ["half-true", "mostly-true", "true"],
    }
    assert mapping["counts"]["fake"] + mapping["counts"]["reliable"] == 60


def _relabelled(name: str, labels: list[str], labelled: bool = True) -> Dataset:
    ds = make_dataset(name, n_per_class=2)
    frame = ds.frame.iloc[: len(labels)].copy()
    frame["label"] = labels
    frame.attrs["labelled"] = labelled
    return Dataset(name, frame, [], "article")


@pytest.mark.parametrize(
    ("sets", "kwargs", "match"),
    [
        (lambda: [make_dataset("alpha")], {}, "at least two datasets"),
        (lambda: [make_dataset("alpha"), make_dataset("alpha")], {}, "repeated: alpha"),
        (lambda: [make_dataset("alpha"), make_dataset("beta")], {"mode": "all"}, "mode must be"),
        (
            lambda: [make_dataset("alpha"), _relabelled("beta", ["pants-fire", "true"])],
            {},
            "binary 'fake'/'reliable'",
        ),
        (
            lambda: [make_dataset("alpha"), _relabelled("beta", ["", ""], labelled=False)],
            {},
            "has no labels",
        ),
        (
            lambda: [make_dataset("alpha"), make_dataset("beta")],
            {"params": {"bogus": 1}},
            "no parameter 'bogus'",
        ),
    ],
)
def test_bad_requests_fail_before_any_training(
    sets: Any, kwargs: dict[str, Any], match: str
) -> None:
    with pytest.raises(InputError, match=match):
        cross_dataset_matrix(sets(), **kwargs)


def test_progress_callbacks_are_called(datasets: list[Dataset]) -> None:
    stages: list[str] = []
    scored: list[int] = []
    cross_dataset_matrix(
        datasets[:2],
        params=PARAMS,
        n_boot=10,
        mode="leave-one-out",
        stage=stages.append,
        advance=scored.append,
    )
    assert stages[0] == "deduplicating alpha" and stages[-1] == "done"
    assert any(s.startswith("fitting tfidf-lr.v1 on all but alpha") for s in stages)
    assert sum(scored) == 120


# -- the command line: veracity evaluate --cross ------------------------------------------


def _csv_files(tmp_path: Path, names: tuple[str, ...] = ("alpha", "beta")) -> list[str]:
    paths = []
    for i, name in enumerate(names):
        frame = make_dataset(name, n_per_class=20, seed=10 + i, flip=0.0).frame
        frame["label"] = frame["label"].replace({"reliable": "real"})  # as many sources write it
        path = tmp_path / f"{name}.csv"
        frame.to_csv(path, index=False)
        paths.append(str(path))
    return paths


@pytest.fixture
def fewer_resamples(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI bootstraps 1,000 times per interval; 50 are plenty to test the plumbing."""
    real = run.evaluate_binary

    def quick(*args: Any, **kwargs: Any) -> Any:
        return real(*args, **{**kwargs, "n_boot": 50})

    monkeypatch.setattr(run, "evaluate_binary", quick)


def _invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.usefixtures("fewer_resamples")
def test_cli_cross_prints_json_and_a_matrix(tmp_path: Path) -> None:
    files = _csv_files(tmp_path)
    code, out, err = _invoke(
        "evaluate", "--cross", "--data", files[0], "--data", files[1], "--json"
    )
    assert code == 0, err
    data = json.loads(out)["cross"]
    assert data["mode"] == "pairwise" and data["rows"] == ["alpha", "beta"]
    assert len(data["cells"]) == 4
    assert data["data"]["alpha"]["label_mapping"]["counts"] == {"fake": 20, "reliable": 20}
    code, out, err = _invoke(
        "evaluate", "--leave-one-out", "--max-rows", "30", "--data", files[0], "--data", files[1]
    )
    assert code == 0, err
    assert "leave-one-out" in out and "all but alpha" in out and "AUC" in out
    assert "n=30" in out


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (("--cross", "--model", "somewhere"), "--model does not apply"),
        (("--cross", "--target", "label6"), "drop --target"),
        (("--max-rows", "50"), "--max-rows applies to --cross only"),
    ],
)
def test_cli_cross_refuses_options_that_do_not_apply(
    tmp_path: Path, extra: tuple[str, ...], match: str
) -> None:
    files = _csv_files(tmp_path)
    code, _, err = _invoke("evaluate", "--data", files[0], "--data", files[1], *extra)
    assert code == 2 and match in " ".join(err.split())
