"""The bundled model read as arrays (veracity.models.fast) checks exactly as the estimator.

``load_model(fast=True)`` must give the same probabilities, novelty, bands and evidence
as the skops-loaded estimator, bit for bit, on texts of every dataset (raw and in the
seed's normalized form); must refuse what the full load refuses; and must hand anything
it does not know back to skops.
"""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from real_texts import DATASET_NAMES, real_texts
from veracity.detector import Detector, default_model_path
from veracity.errors import ModelIntegrityError
from veracity.models.artifact import MODEL_FILE, load_model
from veracity.models.fast import FastOffDomainModel, read_fast
from veracity.models.offdomain import OffDomainHashingClassifier
from veracity.settings import Settings
from veracity.text import normalize

BUNDLED = default_model_path()
ROWS_PER_DATASET = 40


@pytest.fixture(scope="module")
def full() -> OffDomainHashingClassifier:
    estimator = load_model(BUNDLED).estimator
    assert isinstance(estimator, OffDomainHashingClassifier)
    return estimator


@pytest.fixture(scope="module")
def fast() -> FastOffDomainModel:
    estimator = load_model(BUNDLED, fast=True).estimator
    assert isinstance(estimator, FastOffDomainModel)
    return estimator


def _dataset_texts() -> list[str]:
    """Rows of every dataset, and a third of them in the seed's normalized form."""
    texts = [t for name in DATASET_NAMES for t in real_texts(name, ROWS_PER_DATASET)]
    return texts + [normalize(t) for t in texts[::3]]


def test_fast_model_scores_every_dataset_as_the_estimator(
    full: OffDomainHashingClassifier, fast: FastOffDomainModel
) -> None:
    texts = _dataset_texts()
    p_fast, u_fast, parts_fast = fast.check_parts(texts)
    p_full, u_full, parts_full = full.check_parts(texts)
    assert np.array_equal(p_fast, p_full)
    assert np.array_equal(u_fast, u_full)
    assert np.array_equal(fast.abstain_halfwidth(u_fast), full.abstain_halfwidth(u_full))
    assert np.array_equal(fast.predict_proba(texts[:20]), full.predict_proba(texts[:20]))
    assert fast.predict(texts[:20]).tolist() == full.predict(texts[:20]).tolist()
    # the probabilities are not all alike: the comparison means something
    assert p_full[:, 1].min() < 0.2 and p_full[:, 1].max() > 0.8
    for text, a, b in zip(texts[::4], parts_fast[::4], parts_full[::4], strict=True):
        assert fast.explain(text, 5, parts=a) == full.explain(text, 5, parts=b)
        ours, theirs = fast.attribution(text), full.attribution(text)
        assert (ours.text, ours.target, ours.base, ours.rest, ours.signals) == (
            theirs.text, theirs.target, theirs.base, theirs.rest, theirs.signals
        )  # fmt: skip
        assert np.array_equal(ours.spans, theirs.spans)
        assert np.array_equal(ours.weights, theirs.weights)


def test_fast_detector_gives_the_same_verdicts() -> None:
    settings = Settings()
    texts = [
        "WASHINGTON (Reuters) - The Senate passed the budget bill on Tuesday, officials said.",
        "Pope Francis endorsed Trump, a Vatican spokesman said on Tuesday.",
        "SHOCKING!!! What THEY don't want you to know about the vaccine. Share before deleted!",
        "the senate passed the budget bill on tuesday officials said",
    ]
    slow = Detector.from_path(BUNDLED, settings)
    quick = Detector.from_path(BUNDLED, settings, fast=True)
    assert isinstance(quick.estimator, FastOffDomainModel)
    assert [v.to_dict() for v in quick.check_many(texts)] == [
        v.to_dict() for v in slow.check_many(texts)
    ]


def _rewrite(data: bytes, edit: Any) -> bytes:
    """``data`` (a skops zip) with ``edit(schema, members)`` applied."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    schema = json.loads(members["schema.json"])
    edit(schema, members)
    members["schema.json"] = json.dumps(schema).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue()


def _attrs(schema: dict[str, Any], *path: str) -> dict[str, Any]:
    node = schema
    for name in path:
        node = node["content"]["content"][name]
    return node["content"]["content"]  # type: ignore[no-any-return]


def _object_array(schema: dict[str, Any], members: dict[str, bytes]) -> None:
    buffer = io.BytesIO()
    np.save(buffer, np.array(["fake", None], dtype=object), allow_pickle=True)
    members[_attrs(schema)["classes_"]["file"]] = buffer.getvalue()


EDITS = {
    "another skops protocol": lambda s, m: s.update(protocol=99),
    "another class": lambda s, m: s.update(__class__="HashingSGDClassifier"),
    "accents stripped": lambda s, m: _attrs(s, "word_vectorizer_")["strip_accents"].update(
        content='"ascii"'
    ),
    "a signed hasher": lambda s, m: _attrs(s, "char_vectorizer_")["alternate_sign"].update(
        content="true"
    ),
    "a hasher that is not the parameters'": lambda s, m: _attrs(s, "word_vectorizer_")[
        "ngram_range"
    ]["content"][1].update(content="3"),
    "a pickled array": _object_array,
    "an unknown node": lambda s, m: _attrs(s)["calibrator_"].update(__loader__="FunctionNode"),
    "a missing attribute": lambda s, m: _attrs(s).pop("seen_words_"),
    # a node the reader would not even read: the file still goes to skops (which refuses it)
    "a function where a parameter was": lambda s, m: _attrs(s).update(
        random_state={
            "__class__": "system",
            "__module__": "os",
            "__loader__": "FunctionNode",
            "content": {"module_path": "os", "function": "system"},
        }
    ),
    "an unknown class in a parameter": lambda s, m: _attrs(s, "sgd_")["loss"].update(
        __loader__="ObjectNode", __module__="collections", __class__="OrderedDict"
    ),
}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_what_the_reader_does_not_know_goes_to_skops(edit: str) -> None:
    data = (BUNDLED / MODEL_FILE).read_bytes()
    assert isinstance(read_fast(data), FastOffDomainModel)
    assert read_fast(_rewrite(data, EDITS[edit])) is None


def test_not_a_zip_is_not_read() -> None:
    assert read_fast(b"not a zip at all") is None


def test_a_modified_model_is_refused_before_it_is_read(tmp_path: Path) -> None:
    copy = shutil.copytree(BUNDLED, tmp_path / "model")
    data = bytearray((copy / MODEL_FILE).read_bytes())
    data[-100] ^= 0xFF
    (copy / MODEL_FILE).write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError, match="modified after it was saved"):
        load_model(copy, fast=True)


def test_other_presets_load_through_skops(tmp_path: Path) -> None:
    from veracity.models import make_model
    from veracity.models.artifact import ModelCard, save_model

    texts = ["the senate passed the bill"] * 5 + ["shocking secret cure"] * 5
    labels = ["reliable"] * 5 + ["fake"] * 5
    model = make_model("hashing-sgd.v1", cv=2, random_state=0).fit(texts, labels)
    card = ModelCard.create(preset="hashing-sgd.v1", params={}, labels=model.classes_)
    path = save_model(model, tmp_path / "v1", card)
    loaded = load_model(path, fast=True).estimator
    assert type(loaded).__name__ == "HashingSGDClassifier"
