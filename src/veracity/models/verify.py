"""What :func:`~veracity.models.artifact.load_model` checks before it trusts an artifact's bytes.

* the card (``card.json``, not covered by the sha256): at most :data:`MAX_CARD_BYTES`,
  every field of the right type, metrics numbers or null (or intervals and sections of
  them), JSON nested at most :data:`MAX_CARD_DEPTH` deep (:func:`check_card`);
* the zip (``model.skops``), from its central directory before anything is
  decompressed: at most :data:`MAX_MODEL_ENTRIES` entries,
  :data:`MAX_MODEL_UNCOMPRESSED_BYTES` unpacked (and on disk) and a compression ratio of
  :data:`MAX_MODEL_RATIO` to 1 per entry over 1 MiB (:func:`check_zip_limits`).

The bundled model is 5.5 MB on disk: 7 entries, 16.8 MB uncompressed (16,819,487 bytes),
ratio 3 (18 for its largest-ratio entry, the 41 KB schema); a ``tfidf-lr.v1`` model
trained on ``isot_sample`` is 10 entries and 3.6 MB uncompressed. The zip limits leave
them 30 times room; a zip bomb (a run of zeros deflates about 1,000 to 1, so 1.5 MB
unpacks to 1.5 GB) is refused without being unpacked.

Every refusal is a :class:`~veracity.errors.ModelIntegrityError` from ``load_model``.
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from veracity.errors import ModelIntegrityError

__all__ = [
    "MAX_CARD_BYTES",
    "MAX_CARD_DEPTH",
    "MAX_CENTRAL_DIRECTORY_BYTES",
    "MAX_MODEL_ENTRIES",
    "MAX_MODEL_RATIO",
    "MAX_MODEL_UNCOMPRESSED_BYTES",
    "RETRAIN_HINT",
    "check_card",
    "check_model_size",
    "check_zip_limits",
]

RETRAIN_HINT = "Re-download the model, or re-train it with `veracity train`."

#: Largest ``card.json`` read (bytes); the bundled card is 3.3 KB.
MAX_CARD_BYTES = 1_000_000
#: Deepest nesting of objects and lists in a card (the bundled card's is 4).
MAX_CARD_DEPTH = 12
#: Most entries (files) in ``model.skops``; skops writes one per array (bundled: 7).
MAX_MODEL_ENTRIES = 10_000
#: Most bytes ``model.skops`` may unpack to, and may take on disk (bundled: 16.8 MB).
MAX_MODEL_UNCOMPRESSED_BYTES = 512 * 2**20
#: Highest compression ratio of one entry over 1 MiB uncompressed. The bundled model's
#: is 3, but a hashing model trained on little data holds mostly-zero arrays that deflate
#: about 900 to 1, and deflate cannot pass about 1,032 to 1: this refuses forged sizes
#: and bzip2/LZMA bombs (veracity writes deflate); the size limit stops deflate bombs.
MAX_MODEL_RATIO = 1_100
#: Largest central directory read (bytes): it is parsed before the entries are counted.
MAX_CENTRAL_DIRECTORY_BYTES = 4 * 2**20
_RATIO_FROM_BYTES = 2**20


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _json_type(value: Any) -> str:
    names = {str: "text", bool: "true/false", dict: "an object", list: "a list"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _check_json(value: Any, where: str, depth: int = 0) -> None:
    """``value`` is plain JSON nested at most MAX_CARD_DEPTH deep."""
    if depth > MAX_CARD_DEPTH:
        raise ValueError(f"card field {where} is nested deeper than {MAX_CARD_DEPTH} levels")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"card field {where} has a key that is not text: {key!r}")
            _check_json(item, f"{where}.{key}", depth + 1)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_json(item, f"{where}[{i}]", depth + 1)
    elif not (value is None or isinstance(value, bool | int | float | str)):
        raise ValueError(f"card field {where} holds {_json_type(value)}, which is not JSON")


_INTERVAL_KEYS = frozenset({"value", "low", "high", "ci_low", "ci_high"})
#: Entries of a metrics section that are not metrics (from ``MetricReport.to_dict``).
_BOOKKEEPING = {
    "positive": lambda v: isinstance(v, str),
    "labels": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
    "confusion": lambda v: (
        isinstance(v, list)
        and all(isinstance(r, list) and all(_is_number(x) for x in r) for r in v)
    ),
    "extra": lambda v: isinstance(v, dict),
}


def _check_metrics(metrics: Mapping[str, Any], where: str, depth: int = 0) -> None:
    """Each metric is a number, null, an interval ``{value, low, high}`` or a section of them."""
    for key, value in metrics.items():
        at = f"{where}.{key}"
        if key in _BOOKKEEPING and _BOOKKEEPING[key](value):
            continue
        if value is None or _is_number(value):
            continue
        if isinstance(value, dict) and "value" in value:
            unknown = sorted(set(value) - _INTERVAL_KEYS)
            if unknown:
                raise ValueError(
                    f"card field {at} is an interval with unknown keys {unknown}; "
                    f"allowed: {', '.join(sorted(_INTERVAL_KEYS))}"
                )
            for bound, number in value.items():
                if not (number is None or _is_number(number)):
                    raise ValueError(
                        f"card field {at}.{bound} must be a number or null, "
                        f"not {_json_type(number)}"
                    )
        elif isinstance(value, dict) and depth < 2:
            _check_metrics(value, at, depth + 1)
        else:
            raise ValueError(
                f"card field {at} must be a number, null, an interval {{value, low, high}}"
                f"{' or an object of metrics' if depth < 2 else ''}, not {_json_type(value)}"
            )


def check_card(values: Mapping[str, Any]) -> None:
    """Check the type of every field of a card dict, nested ones included; ValueError if not."""
    for name, value in values.items():
        _check_json(value, name)

    def need(name: str, ok: Any, what: str) -> None:
        if name in values and not ok(values[name]):
            value = values[name]
            got = "" if isinstance(value, dict | list) else f", not {_json_type(value)}"
            raise ValueError(f"card field {name} must be {what}{got}")

    def text_map(v: Any) -> bool:
        return isinstance(v, dict) and all(isinstance(x, str) for x in v.values())

    def count_map(v: Any) -> bool:
        return isinstance(v, dict) and all(_is_number(x) and x >= 0 for x in v.values())

    need("preset", lambda v: isinstance(v, str) and v, "non-empty text")
    need("params", lambda v: isinstance(v, dict), "an object")
    need(
        "labels",
        lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
        "a list of text",
    )
    need("training_data", lambda v: isinstance(v, list), "a list")
    need("rows", count_map, "an object of counts")
    need("metrics", lambda v: isinstance(v, dict), "an object")
    need("ece", lambda v: v is None or _is_number(v), "a number or null")
    need("versions", text_map, "an object of text")
    need("created", lambda v: isinstance(v, str), "text")
    need(
        "seed",
        lambda v: v is None or (isinstance(v, int) and not isinstance(v, bool)),
        "a whole number or null",
    )
    need("extra", lambda v: isinstance(v, dict), "an object")
    need("model_id", lambda v: isinstance(v, str), "text")
    need("model_sha256", lambda v: isinstance(v, str), "text")
    need(
        "schema_version", lambda v: isinstance(v, int) and not isinstance(v, bool), "a whole number"
    )
    for i, item in enumerate(values.get("training_data", [])):
        if not (
            isinstance(item, dict)
            and set(item) == {"name", "sha256", "rows"}
            and isinstance(item["name"], str)
            and isinstance(item["sha256"], str)
            and isinstance(item["rows"], int)
            and not isinstance(item["rows"], bool)
            and item["rows"] >= 0
        ):
            raise ValueError(
                f"card field training_data[{i}] must be {{name: text, sha256: text, rows: a count}}"
            )
    _check_metrics(values.get("metrics", {}), "metrics")


def check_model_size(size: int, where: Path) -> None:
    """Refuse a ``model.skops`` over :data:`MAX_MODEL_UNCOMPRESSED_BYTES` on disk, unread."""
    if size > MAX_MODEL_UNCOMPRESSED_BYTES:
        raise ModelIntegrityError(
            f"{where} is {size:,} bytes, over the limit of "
            f"{MAX_MODEL_UNCOMPRESSED_BYTES / 2**20:g} MiB for a model. " + RETRAIN_HINT
        )


def _central_directory_size(data: bytes, where: Path) -> int:
    """The size of the zip's central directory, from the end record ``zipfile`` will use.

    ``zipfile`` parses the whole central directory before the entries can be counted,
    so its size is checked first. Like ``zipfile``, look for an end record without a
    comment in the last 22 bytes, else for the last one in the final 64 KiB.
    """
    end, size = b"PK\x05\x06", 22
    pos = len(data) - size
    if not (pos >= 0 and data[pos : pos + 4] == end and data[-2:] == b"\0\0"):
        pos = data.rfind(end, max(0, len(data) - size - 2**16))
    if pos < 0 or len(data) - pos < size:
        raise ModelIntegrityError(
            f"{where} is not a readable skops model (not a zip file). " + RETRAIN_HINT
        )
    if pos >= 20 and data[pos - 20 : pos - 16] == b"PK\x06\x07":
        raise ModelIntegrityError(
            f"{where} is a ZIP64 archive, which veracity never writes (a model fits in "
            f"{MAX_MODEL_UNCOMPRESSED_BYTES // 2**20} MiB). " + RETRAIN_HINT
        )
    cd_size: int = struct.unpack_from("<I", data, pos + 12)[0]
    return cd_size


def check_zip_limits(data: bytes, where: Path) -> None:
    """Refuse a ``model.skops`` whose zip could unpack to too much; nothing is decompressed.

    Reads only the central directory: the number of entries, each entry's declared
    uncompressed size (``zipfile`` never inflates an entry past it) and its compression
    ratio, against :data:`MAX_MODEL_ENTRIES`, :data:`MAX_MODEL_UNCOMPRESSED_BYTES` and
    :data:`MAX_MODEL_RATIO`.

    Raises
    ------
    veracity.errors.ModelIntegrityError
        The file is not a zip, or it is over one of the limits.
    """
    limit_mib = MAX_MODEL_UNCOMPRESSED_BYTES / 2**20
    check_model_size(len(data), where)
    if _central_directory_size(data, where) > MAX_CENTRAL_DIRECTORY_BYTES:
        raise ModelIntegrityError(
            f"{where} lists too many files for a model (its zip directory is over "
            f"{MAX_CENTRAL_DIRECTORY_BYTES:,} bytes). " + RETRAIN_HINT
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, NotImplementedError, ValueError, EOFError) as exc:
        raise ModelIntegrityError(
            f"{where} is not a readable skops model ({type(exc).__name__}: {exc}). " + RETRAIN_HINT
        ) from exc
    if len(entries) > MAX_MODEL_ENTRIES:
        raise ModelIntegrityError(
            f"{where} holds {len(entries):,} files, over the limit of {MAX_MODEL_ENTRIES:,} "
            "for a model. " + RETRAIN_HINT
        )
    total = sum(entry.file_size for entry in entries)
    if total > MAX_MODEL_UNCOMPRESSED_BYTES:
        raise ModelIntegrityError(
            f"{where} would unpack to {total:,} bytes, over the limit of {limit_mib:g} MiB "
            "for a model (a zip bomb?); it was not unpacked. " + RETRAIN_HINT
        )
    for entry in entries:
        ratio = entry.file_size / max(entry.compress_size, 1)
        if entry.file_size > _RATIO_FROM_BYTES and ratio > MAX_MODEL_RATIO:
            raise ModelIntegrityError(
                f"{where}: {entry.filename!r} is compressed {ratio:,.0f} to 1, over the "
                f"limit of {MAX_MODEL_RATIO} to 1 for a model (a zip bomb?); it was not "
                "unpacked. " + RETRAIN_HINT
            )
