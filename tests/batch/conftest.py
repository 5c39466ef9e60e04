"""One Dask LocalCluster and one small model for every batch test (cluster start-up is slow)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from batch_data import SMALL, TOPIC

from synthetic import synthetic_frame
from veracity.models import make_model
from veracity.models.artifact import ModelCard, save_model


@pytest.fixture(scope="session")
def scheduler() -> Iterator[str]:
    """Address of a LocalCluster of two single-thread worker processes, shared by the tests."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        silence_logs=logging.ERROR,
    ) as cluster:
        yield cluster.scheduler_address


@pytest.fixture(scope="session")
def corpus() -> pd.DataFrame:
    """``id,title,text,label`` rows, 60 of each label."""
    return synthetic_frame("batch", TOPIC, n_per_class=60, seed=7)


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A hashing-sgd.v1 model (small) trained on other generated articles, saved."""
    train = synthetic_frame("train", TOPIC, n_per_class=80, seed=1)
    model = make_model("hashing-sgd.v1", random_state=0, **SMALL)
    model.fit(train["text"].tolist(), train["label"].tolist())
    card = ModelCard.create(preset="hashing-sgd.v1", params=SMALL, labels=model.classes_)
    return save_model(model, tmp_path_factory.mktemp("model"), card)
