"""Tampered artifacts are refused with ModelIntegrityError, and nothing inside them runs.

Complements ``test_artifact.py``: an attacker who can write the model directory may
change ``model.skops``, replace it with a pickle (and fix up the card's sha256 so the
hash check passes), or edit ``card.json``. Each case must end in
:class:`~veracity.errors.ModelIntegrityError` from the library, and exit code 3 with
one line on stderr (no traceback) from the CLI.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from veracity.cli import app
from veracity.detector import Detector
from veracity.errors import ModelIntegrityError
from veracity.models.artifact import CARD_FILE, MODEL_FILE, ModelCard, load_model, save_model
from veracity.models.linear import TfidfLogisticClassifier

ARTICLE = "The Senate committee said on Friday that the budget grew two percent. " * 3


class Payload:
    """Unpickling this creates ``marker``: proof that loading ran attacker code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Callable[..., Any], tuple[Any, ...]]:
        return (os.makedirs, (str(self.marker),))


@pytest.fixture
def saved(tmp_path: Path, fitted: TfidfLogisticClassifier) -> Path:
    card = ModelCard.create(preset="tfidf-lr.v1", params={}, labels=fitted.classes_)
    return save_model(fitted, tmp_path / "model", card)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _set_card(directory: Path, **changes: Any) -> None:
    card = json.loads((directory / CARD_FILE).read_text(encoding="utf-8"))
    card.update(changes)
    (directory / CARD_FILE).write_text(json.dumps(card), encoding="utf-8")


def _resign(directory: Path) -> None:
    """What an attacker who can write card.json does: record the new file's sha256."""
    _set_card(directory, model_sha256=_sha256(directory / MODEL_FILE))


def _refused(directory: Path, match: str) -> None:
    with pytest.raises(ModelIntegrityError, match=match):
        load_model(directory)
    with pytest.raises(ModelIntegrityError, match=match):  # checking's loader refuses it too
        load_model(directory, fast=True)
    with pytest.raises(ModelIntegrityError):
        Detector.from_path(directory)
    result = CliRunner().invoke(app, ["check", "--model", str(directory), ARTICLE])
    assert result.exit_code == 3, result.output
    assert "Traceback" not in result.output and "error:" in result.stderr


# -- a modified model file -----------------------------------------------------------


@pytest.mark.parametrize(
    "modify",
    [
        pytest.param(lambda b: b[:100] + bytes([b[100] ^ 1]) + b[101:], id="one-bit"),
        pytest.param(lambda b: b + b"\x00" * 16, id="appended-bytes"),
        pytest.param(lambda b: b[:-1], id="last-byte-cut"),
        pytest.param(lambda b: b"", id="emptied"),
    ],
)
def test_a_modified_model_file_is_refused(saved: Path, modify: Callable[[bytes], bytes]) -> None:
    path = saved / MODEL_FILE
    path.write_bytes(modify(path.read_bytes()))
    _refused(saved, "was modified after it was saved")


def test_an_edited_schema_pointing_at_os_system_is_refused_even_when_resigned(
    saved: Path,
) -> None:
    """Rewrite the skops schema so a node loads ``posix.system``; fix the card's hash."""
    path = saved / MODEL_FILE
    with zipfile.ZipFile(path) as old:
        members = {name: old.read(name) for name in old.namelist()}
    schema = members["schema.json"].decode("utf-8")
    evil = schema.replace(
        '"__class__": "TfidfLogisticClassifier",\n  "__module__": "veracity.models.linear"',
        '"__class__": "system",\n  "__module__": "posix"',
        1,
    )
    assert evil != schema
    members["schema.json"] = evil.encode("utf-8")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as new:
        for name, data in members.items():
            new.writestr(name, data)
    path.write_bytes(buffer.getvalue())
    _resign(saved)
    _refused(saved, r"posix\.system|not a readable skops model|could not be loaded")


# -- a pickle renamed to model.skops -------------------------------------------------


def test_a_pickle_renamed_to_model_skops_is_refused_and_never_unpickled(
    saved: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    (saved / MODEL_FILE).write_bytes(pickle.dumps(Payload(marker)))
    _resign(saved)  # the hash matches: only the format check stands in the way
    _refused(saved, "not a readable skops model")
    assert not marker.exists(), "loading the model ran code from the pickle"


def test_a_pickle_inside_a_zip_named_like_skops_is_refused(saved: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned-zip"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("schema.json", pickle.dumps(Payload(marker)))
    (saved / MODEL_FILE).write_bytes(buffer.getvalue())
    _resign(saved)
    _refused(saved, "not a readable skops model|could not be loaded")
    assert not marker.exists()


# -- a card that does not match ------------------------------------------------------


@pytest.mark.parametrize(
    "sha",
    [
        pytest.param("0" * 64, id="another-sha"),
        pytest.param("", id="empty"),
        pytest.param(None, id="upper-case"),
        pytest.param(" ", id="blank"),
    ],
)
def test_a_card_whose_hash_mismatches_is_refused(saved: Path, sha: str | None) -> None:
    if sha is None:  # the right digest, spelled differently: still not the recorded value
        sha = _sha256(saved / MODEL_FILE).upper()
    _set_card(saved, model_sha256=sha)
    _refused(saved, "was modified after it was saved")


def test_a_card_without_a_hash_is_refused(saved: Path) -> None:
    card = json.loads((saved / CARD_FILE).read_text(encoding="utf-8"))
    del card["model_sha256"]
    (saved / CARD_FILE).write_text(json.dumps(card), encoding="utf-8")
    _refused(saved, "records none")


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"\xff\xfe not utf-8", id="not-utf8"),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, id="deeply-nested"),
        pytest.param(b'{"preset": 1, "params": {}, "labels": []}', id="wrong-type"),
        pytest.param(b"[]", id="a-list"),
        pytest.param(b'{"preset": "x", "params": {}, "labels": [], "model_sha256": 5}', id="int"),
        pytest.param(
            b'{"preset": "x", "params": {}, "labels": [], "training_data": [{"name": 1}]}',
            id="bad-training-data",
        ),
        pytest.param(
            b'{"preset": "x", "params": {}, "labels": [], "schema_version": 99}', id="future"
        ),
    ],
)
def test_a_malformed_card_is_refused(saved: Path, content: bytes) -> None:
    (saved / CARD_FILE).write_bytes(content)
    _refused(saved, "not a valid model card")


def test_a_card_with_the_wrong_labels_is_refused_even_with_the_right_hash(saved: Path) -> None:
    _set_card(saved, labels=["reliable", "fake"])
    _refused(saved, "lists labels")


def test_a_scikit_learn_estimator_no_preset_uses_is_refused(saved: Path) -> None:
    """skops trusts every scikit-learn estimator by default; veracity only the ones it uses.

    A k-nearest-neighbours model keeps its whole training set and runs arbitrary
    metric code paths: nothing veracity saves holds one, so a file that does is
    foreign, even when its card is re-signed.
    """
    import skops.io
    from sklearn.neighbors import KNeighborsClassifier

    foreign = KNeighborsClassifier(n_neighbors=1).fit([[0.0], [1.0]], ["fake", "reliable"])
    (saved / MODEL_FILE).write_bytes(skops.io.dumps(foreign))
    _resign(saved)
    _refused(saved, "does not trust: sklearn.neighbors")


def test_the_untouched_artifact_still_loads(saved: Path) -> None:
    """The refusals above come from the tampering, not from a broken fixture."""
    assert load_model(saved).card.labels == ["fake", "reliable"]
    result = CliRunner().invoke(app, ["check", "--model", str(saved), ARTICLE])
    assert result.exit_code == 0, result.output
