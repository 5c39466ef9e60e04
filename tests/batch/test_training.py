"""Out-of-core training (`veracity train --engine dask`) learns as well as in-memory fit."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from batch_data import TOPIC
from typer.testing import CliRunner

from synthetic import synthetic_frame
from veracity.cli import app
from veracity.models import make_model
from veracity.training import train as train_model

runner = CliRunner()
SMALL = {"n_word_features": 2**16, "n_char_features": 2**16}


def test_dask_training_matches_in_memory_training(tmp_path: Path, scheduler: str) -> None:
    train = synthetic_frame("ooc", TOPIC, n_per_class=250, seed=11, own_words=4)
    test = synthetic_frame("ooc-test", TOPIC, n_per_class=150, seed=12, own_words=4, flip=None)
    train = pd.concat([train, train.iloc[:40].assign(id=lambda f: f["id"] + "-copy")])
    path = tmp_path / "train.jsonl"
    train.to_json(path, orient="records", lines=True)

    result = train_model(
        [str(path)],
        engine="dask",
        preset="hashing-sgd.v1",
        params=SMALL,
        test_size=0.2,
        epochs=5,
        partition_rows=100,
        seed=3,
        scheduler=scheduler,
    )
    report = result.report
    assert report["partitions"] == 6 and report["rows_loaded"] == 540
    assert 20 <= report["duplicates_dropped"] <= 40  # the 40 copies, less those held out
    held_out = result.test_metrics["held-out"]
    assert 70 <= held_out.n <= 150  # ~20% of the hash space
    assert result.card.extra["engine"] == "dask"

    # in memory, on as many rows as the Dask run trained on (it held out 20% for its test)
    memory = make_model("hashing-sgd.v1", random_state=3, **SMALL)
    subset = train.sample(frac=0.8, random_state=0)
    memory.fit(subset["text"].tolist(), subset["label"].tolist())
    y = np.array(test["label"])
    acc_dask = float(np.mean(result.estimator.predict(test["text"].tolist()) == y))
    acc_memory = float(np.mean(memory.predict(test["text"].tolist()) == y))
    assert acc_memory > 0.85
    assert abs(acc_dask - acc_memory) <= 0.03, (acc_dask, acc_memory)
    # calibrated on its held-out reservoir: confident where it is right
    proba = result.estimator.predict_proba(test["text"].tolist()).max(axis=1)
    assert 0.6 < proba.mean() < 0.999


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--engine", "spark"], "--engine must be memory or dask"),
        (["--engine", "dask", "--balance"], "--balance cannot be used with --engine dask"),
        (["--engine", "dask", "--preset", "tfidf-lr.v1"], "cannot learn out of core"),
    ],
)
def test_train_engine_errors(tmp_path: Path, extra: list[str], message: str) -> None:
    path = tmp_path / "t.csv"
    synthetic_frame("e", TOPIC, n_per_class=5, seed=0).to_csv(path, index=False)
    preset = [] if "--preset" in extra else ["--preset", "hashing-sgd.v1"]
    result = runner.invoke(
        app, ["train", "-d", str(path), "-o", str(tmp_path / "m"), *preset, *extra]
    )
    assert result.exit_code == 2, result.stdout
    assert message in result.stderr


def test_train_with_dask_refuses_a_corrupt_gzip_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "t.csv.gz"
    frame = synthetic_frame("e", TOPIC, n_per_class=50, seed=0)
    data = bytearray(gzip.compress(frame.to_csv(index=False).encode()))
    for i in range(12, 40):  # damage the deflate data: zlib.error when read
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))
    args = ["train", "-d", str(path), "-o", str(tmp_path / "m"), "--preset", "hashing-sgd.v1"]
    result = runner.invoke(app, [*args, "--engine", "dask"])
    assert result.exit_code == 2, (result.stdout, result.exception)
    err = result.stderr.strip()
    assert err.startswith("error:") and len(err.splitlines()) == 1
    assert "t.csv.gz: is a damaged or truncated gzip file" in err
