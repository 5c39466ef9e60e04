"""`veracity.training.train`: the one training entry point, for the memory and Dask engines."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from synthetic import FAST_PARAMS, synthetic_frame
from veracity.data import Dataset, load_dataset
from veracity.errors import InputError
from veracity.training import train

TOPIC = "storm weather rain snow flood forecast cold wind".split()


def _csv(path: Path) -> Path:
    frame = synthetic_frame("t", TOPIC, n_per_class=30, seed=5)
    frame.rename(columns={"text": "body"}).to_csv(path, index=False)
    return path


def test_importing_training_does_not_import_dask() -> None:
    code = "import sys, veracity.training; print('dask' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_memory_engine_loads_names_and_paths_like_datasets(tmp_path: Path) -> None:
    path = _csv(tmp_path / "t.csv")
    by_path = train([str(path)], columns={"text_col": "body"}, params=FAST_PARAMS, seed=1)
    loaded = load_dataset(str(path), text_col="body")
    by_dataset = train([loaded], engine="memory", params=FAST_PARAMS, seed=1)
    assert by_path.card.training_data == by_dataset.card.training_data
    texts = loaded.texts()[:5]
    np.testing.assert_array_equal(
        by_path.estimator.predict_proba(texts), by_dataset.estimator.predict_proba(texts)
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"engine": "spark"}, "engine must be 'memory' or 'dask'"),
        ({"engine": "dask", "balance": True}, "balance cannot be used with engine='dask'"),
        ({"engine": "dask", "strategy": "group"}, "strategy cannot be used"),
        ({"engine": "dask", "target": "label6"}, "target cannot be used"),
    ],
)
def test_engine_options_are_checked(
    tmp_path: Path, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        train([str(_csv(tmp_path / "t.csv"))], **kwargs)


def test_dask_engine_reads_names_or_paths_not_loaded_datasets(tmp_path: Path) -> None:
    frame = synthetic_frame("t", TOPIC, n_per_class=5, seed=5)
    with pytest.raises(InputError, match=r"not loaded datasets \(mine\)"):
        train([Dataset("mine", frame, [], "article")], engine="dask")
