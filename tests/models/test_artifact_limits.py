"""What load_model checks before it trusts bytes: the card's schema, the zip's size (#13).

``card.json`` is not covered by the sha256 of ``model.skops``, so anyone who can write
the model directory can edit it: every field's type is checked on load (metrics are
numbers or null, or intervals and sections of them; nesting is bounded). ``model.skops``
is a zip: its entries, their uncompressed size and compression ratio are checked from
the central directory before skops unpacks anything, so a zip bomb (with a card
re-signed to match it) is refused in a few milliseconds and kilobytes. Every refusal
is a ModelIntegrityError (exit 3 from the CLI, one line, no traceback).
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
import tracemalloc
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from veracity.cli import app
from veracity.detector import default_model_path
from veracity.errors import ModelIntegrityError
from veracity.models import verify
from veracity.models.artifact import (
    CARD_FILE,
    MODEL_FILE,
    ModelCard,
    load_card,
    load_model,
    save_model,
)
from veracity.models.linear import TfidfLogisticClassifier
from veracity.models.verify import (
    MAX_CARD_BYTES,
    MAX_CARD_DEPTH,
    MAX_MODEL_ENTRIES,
    MAX_MODEL_UNCOMPRESSED_BYTES,
    check_zip_limits,
)

ARTICLE = "The Senate committee said on Friday that the budget grew two percent. " * 3
METRICS = {  # what training writes: MetricReport.to_dict() per held-out set
    "held-out": {
        "n": 60,
        "positive": "fake",
        "labels": ["reliable", "fake"],
        "accuracy": {"value": 0.9, "low": 0.85, "high": 0.95},
        "macro_f1": {"value": 0.9, "low": 0.85, "high": 0.95},
        "roc_auc": None,
        "ece": float("nan"),
        "brier": 0.08,
        "confusion": [[27, 3], [3, 27]],
        "abstained": 0,
        "accuracy_answered": None,
        "extra": {"dataset": "held-out", "model_id": "x"},
    }
}


@pytest.fixture
def saved(tmp_path: Path, fitted: TfidfLogisticClassifier) -> Path:
    card = ModelCard.create(
        preset="tfidf-lr.v1", params={}, labels=fitted.classes_, metrics=METRICS, ece=0.03
    )
    return save_model(fitted, tmp_path / "model", card)


def _edit_card(directory: Path, edit: Callable[[dict[str, Any]], object]) -> None:
    path = directory / CARD_FILE
    card = json.loads(path.read_text(encoding="utf-8"))
    edit(card)
    path.write_text(json.dumps(card), encoding="utf-8")


def _nested(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


BAD_CARDS: dict[str, tuple[Callable[[dict[str, Any]], object], str]] = {
    "metric-as-text": (
        lambda c: c.update(metrics={"accuracy": "high"}),
        "metrics.accuracy must be a number, null",
    ),
    "nested-metric-as-text": (
        lambda c: c["metrics"]["held-out"].update(accuracy="high"),
        "metrics.held-out.accuracy must be a number, null",
    ),
    "interval-bound-as-text": (
        lambda c: c["metrics"]["held-out"]["accuracy"].update(low="high"),
        "metrics.held-out.accuracy.low must be a number or null, not text",
    ),
    "interval-value-as-text": (
        lambda c: c["metrics"]["held-out"]["accuracy"].update(value="high"),
        "metrics.held-out.accuracy.value must be a number or null",
    ),
    "interval-with-unknown-key": (
        lambda c: c["metrics"]["held-out"]["accuracy"].update(note=1),
        "unknown keys ['note']",
    ),
    "metric-as-a-list": (
        lambda c: c["metrics"]["held-out"].update(brier=[0.1]),
        "metrics.held-out.brier must be",
    ),
    "metrics-nested-too-deep": (
        lambda c: c.update(metrics={"a": {"b": {"c": {"d": 0.5}}}}),
        "metrics.a.b.c must be",
    ),
    "ece-as-bool": (lambda c: c.update(ece=True), "ece must be a number or null"),
    "rows-as-text": (lambda c: c.update(rows={"train": "many"}), "rows must be"),
    "versions-as-numbers": (lambda c: c.update(versions={"sklearn": 1.5}), "versions must be"),
    "seed-as-text": (lambda c: c.update(seed="42"), "seed must be a whole number or null"),
    "labels-as-numbers": (lambda c: c.update(labels=[0, 1]), "labels must be a list of text"),
    "training-rows-as-text": (
        lambda c: c.update(training_data=[{"name": "a", "sha256": "b", "rows": "12"}]),
        "training_data[0] must be",
    ),
    "nested-too-deep": (
        lambda c: c.update(extra={"a": _nested(MAX_CARD_DEPTH + 5)}),
        f"nested deeper than {MAX_CARD_DEPTH} levels",
    ),
    "over-the-size-limit": (
        lambda c: c.update(extra={"padding": "x" * MAX_CARD_BYTES}),
        f"over the limit of {MAX_CARD_BYTES:,} bytes",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CARDS))
def test_a_card_with_a_mistyped_field_is_refused(saved: Path, case: str) -> None:
    edit, message = BAD_CARDS[case]
    _edit_card(saved, edit)
    with pytest.raises(ModelIntegrityError, match="is not a valid model card") as info:
        load_model(saved)
    assert message in str(info.value)
    with pytest.raises(ModelIntegrityError, match="is not a valid model card"):
        load_card(saved)
    result = CliRunner().invoke(app, ["check", "--model", str(saved), ARTICLE])
    assert result.exit_code == 3, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]


@pytest.mark.parametrize(
    "metrics",
    [
        pytest.param({"accuracy": 0.97}, id="flat"),
        pytest.param({"accuracy": {"value": 0.97, "ci_low": 0.9, "ci_high": 0.99}}, id="ci"),
        pytest.param({"liar": {"accuracy": 0.6}, "isot": {"roc_auc": None}}, id="per-dataset"),
        pytest.param({"cross": {"liar": {"accuracy": {"value": 0.6}}}}, id="two-sections"),
        pytest.param({}, id="none"),
    ],
)
def test_cards_veracity_writes_still_load(saved: Path, metrics: dict[str, Any]) -> None:
    _edit_card(saved, lambda c: c.update(metrics=metrics))
    assert load_model(saved).card.metrics == metrics


def test_the_training_metrics_and_the_bundled_card_pass(saved: Path) -> None:
    assert load_card(saved).metrics["held-out"]["confusion"] == [[27, 3], [3, 27]]
    bundled = load_card(default_model_path())
    assert bundled.metrics and bundled.model_sha256


# -- model.skops: zip limits ----------------------------------------------------------

MiB = 2**20


def _deflated_zeros(mib: int) -> tuple[bytes, int]:
    """A raw deflate stream of ``mib`` MiB of zeros and its CRC, never holding the zeros.

    After a full flush the compressor starts afresh, so each MiB compresses to the same
    bytes (about 1 KB): the stream is that block repeated, then the final block.
    """
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    zeros = bytes(MiB)
    block = packer.compress(zeros) + packer.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(mib):
        crc = zlib.crc32(zeros, crc)
    return block * mib + packer.flush(), crc


def _zip(entries: list[tuple[str, bytes, int, int]]) -> bytes:
    """A deflate zip of ``(name, compressed stream, crc, uncompressed size)`` entries."""
    body, directory = bytearray(), bytearray()
    for name, stream, crc, size in entries:
        raw, offset = name.encode("ascii"), len(body)
        sizes = (crc, len(stream), size, len(raw))
        body += struct.pack("<4s2B4HL2L2H", b"PK\x03\x04", 20, 0, 0, 8, 0, 0x21, *sizes, 0)
        body += raw + stream
        directory += struct.pack(
            "<4s4B4HL2L5H2L", b"PK\x01\x02", 20, 3, 20, 0, 0, 8, 0, 0x21, *sizes, 0, 0, 0, 0, 0,
            offset,
        )  # fmt: skip
        directory += raw
    n = len(entries)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, n, n, len(directory), len(body), 0)
    return bytes(body + directory + end)


def _install(directory: Path, data: bytes) -> None:
    """Replace model.skops and re-sign the card, as an attacker who can write both would."""
    (directory / MODEL_FILE).write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    _edit_card(directory, lambda c: c.update(model_sha256=digest))


def _never_unpacked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any use of skops on the model fail the test."""

    def unpacked(*args: Any, **kwargs: Any) -> None:
        pytest.fail("skops read the archive: the limits were checked too late")

    monkeypatch.setattr("skops.io.get_untrusted_types", unpacked)
    monkeypatch.setattr("skops.io.loads", unpacked)


def _refused_in_one_line(directory: Path, message: str) -> None:
    with pytest.raises(ModelIntegrityError, match=message):
        load_model(directory)
    result = CliRunner().invoke(app, ["check", "--model", str(directory), ARTICLE])
    assert result.exit_code == 3, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr


def test_a_zip_bomb_over_the_default_limit_is_refused_without_unpacking(
    saved: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """600 MiB of zeros in a 0.6 MB file; only its central directory is read."""
    stream, crc = _deflated_zeros(600)
    bomb = _zip([("schema.json", stream, crc, 600 * MiB)])
    assert len(bomb) < MiB and 600 * MiB > MAX_MODEL_UNCOMPRESSED_BYTES
    with zipfile.ZipFile(io.BytesIO(bomb)) as archive, archive.open("schema.json") as entry:
        assert entry.read(MiB) == bytes(MiB)  # a real bomb: it does inflate to zeros
    _install(saved, bomb)
    _never_unpacked(monkeypatch)
    tracemalloc.start()
    try:
        with pytest.raises(ModelIntegrityError, match="would unpack to 629,145,600 bytes"):
            load_model(saved)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * MiB, f"{peak:,} bytes allocated while refusing a {len(bomb):,}-byte bomb"
    _refused_in_one_line(saved, "over the limit of 512 MiB for a model")


def test_a_bomb_under_the_size_limit_is_refused_by_its_ratio(
    saved: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(verify, "MAX_MODEL_RATIO", 100)
    stream, crc = _deflated_zeros(4)  # about 1,000 to 1
    _install(saved, _zip([("schema.json", stream, crc, 4 * MiB)]))
    _never_unpacked(monkeypatch)
    _refused_in_one_line(saved, r"'schema\.json' is compressed 1,\d\d\d to 1, over the limit")


def test_a_forged_uncompressed_size_is_refused_by_its_ratio(
    saved: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under the size limit with the default limits: no deflate stream reaches 10,000:1."""
    stream, crc = _deflated_zeros(1)
    _install(saved, _zip([("schema.json", stream, crc, 100 * MiB)]))
    _never_unpacked(monkeypatch)
    _refused_in_one_line(saved, "to 1, over the limit of 1100 to 1")


def test_too_many_entries_are_refused(saved: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for i in range(MAX_MODEL_ENTRIES + 1):
            archive.writestr(f"{i}.npy", b"")
    _install(saved, buffer.getvalue())
    _never_unpacked(monkeypatch)
    _refused_in_one_line(saved, f"holds 10,001 files, over the limit of {MAX_MODEL_ENTRIES:,}")


def test_a_large_central_directory_is_refused_before_it_is_parsed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(verify, "MAX_CENTRAL_DIRECTORY_BYTES", 1_000)
    data = _zip([(f"{i:04}.npy", b"\x03\x00", 0, 0) for i in range(50)])

    def parsed(*args: Any, **kwargs: Any) -> None:
        pytest.fail("the central directory was parsed")

    monkeypatch.setattr(zipfile, "ZipFile", parsed)
    with pytest.raises(ModelIntegrityError, match="its zip directory is over 1,000 bytes"):
        check_zip_limits(data, Path(MODEL_FILE))


def test_a_zip64_archive_is_refused() -> None:
    """zipfile would take the central directory's size from a ZIP64 record: refuse those."""
    data = _zip([("schema.json", b"\x03\x00", 0, 0)])
    end = len(data) - 22
    cd_size, cd_offset = struct.unpack_from("<2L", data, end + 12)
    record = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, 1, 1, cd_size, cd_offset)
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, end, 1)
    zip64 = data[:end] + record + locator + data[end:]
    with zipfile.ZipFile(io.BytesIO(zip64)) as archive:
        assert archive.namelist() == ["schema.json"]  # a valid archive zipfile would read
    with pytest.raises(ModelIntegrityError, match="ZIP64"):
        check_zip_limits(zip64, Path(MODEL_FILE))


def test_save_model_refuses_what_load_model_would(
    tmp_path: Path, fitted: TfidfLogisticClassifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(verify, "MAX_MODEL_UNCOMPRESSED_BYTES", 1_000)
    card = ModelCard.create(preset="tfidf-lr.v1", params={}, labels=fitted.classes_)
    with pytest.raises(ModelIntegrityError, match="over the limit"):
        save_model(fitted, tmp_path / "model", card)
    assert not (tmp_path / "model" / MODEL_FILE).exists()


def test_the_bundled_model_is_well_within_the_limits() -> None:
    data = (default_model_path() / MODEL_FILE).read_bytes()
    check_zip_limits(data, Path(MODEL_FILE))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        entries = archive.infolist()
    unpacked = sum(entry.file_size for entry in entries)
    assert unpacked * 20 < MAX_MODEL_UNCOMPRESSED_BYTES  # 16.8 MB: 30 times room
    assert len(entries) * 100 < MAX_MODEL_ENTRIES
