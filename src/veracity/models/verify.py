"""What :func:`~veracity.models.artifact.load_model` checks before it trusts an artifact's bytes.

* the card (``card.json``, not covered by the sha256): at most :data:`MAX_CARD_BYTES`,
  every field of the right type, metrics numbers or null (or intervals and sections of
  them), JSON nested at most :data:`MAX_CARD_DEPTH` deep (:func:`check_card`).

A card that fails is a :class:`~veracity.errors.ModelIntegrityError` from ``load_model``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "MAX_CARD_BYTES",
    "MAX_CARD_DEPTH",
    "RETRAIN_HINT",
    "check_card",
]

RETRAIN_HINT = "Re-download the model, or re-train it with `veracity train`."

#: Largest ``card.json`` read (bytes); the bundled card is 3.3 KB.
MAX_CARD_BYTES = 1_000_000
#: Deepest nesting of objects and lists in a card (the bundled card's is 4).
MAX_CARD_DEPTH = 12


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
