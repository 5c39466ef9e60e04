"""The service leaves its imports and its model out of the garbage collector's full passes.

A full pass walked ~90,000 long-lived objects: 30-50 ms in the middle of a check (in one
process, 500 ISOT articles checked one by one: slowest 48 ms; frozen, 8 ms).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from veracity.serve.app import create_app
from veracity.settings import Settings


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


@pytest.mark.usefixtures("unfrozen")
def test_startup_and_the_model_loading_freeze_what_exists(tmp_path: Path, article: str) -> None:
    assert gc.get_freeze_count() == 0
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'serve.db'}"))
    with TestClient(app) as client:
        at_startup = gc.get_freeze_count()
        assert at_startup > 10_000  # the imports: numpy, FastAPI, SQLAlchemy, ...
        assert client.post("/v1/check", json={"text": article}).status_code == 200
        # the model loads on the first check, and what it made is frozen too
        assert gc.get_freeze_count() > at_startup
