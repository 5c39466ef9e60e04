"""Map the label values found in a dataset file onto veracity's two labels.

Datasets spell their labels in many ways (``FAKE``/``REAL``, ``true``/``false``,
``0``/``1``…). :func:`map_labels` turns them into ``"fake"``/``"reliable"``
(:data:`veracity.types.LABELS`), in this order of precedence:

1. an explicit ``label_map`` (raw value → ``"fake"`` or ``"reliable"``);
2. ``positive``: the raw value that means *fake*, for two-valued columns (``0``/``1``);
3. the known vocabularies in :data:`VOCABULARY`, matched case-insensitively.

``0``/``1`` are never guessed: datasets disagree on which one means fake.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping

from veracity.errors import DataFormatError, InputError
from veracity.types import FAKE, RELIABLE, Label

__all__ = ["BINARY_CODES_HELP", "IS_FAKE_MAP", "VOCABULARY", "map_labels", "normalize_value"]

#: Known label words (lower-case) and the veracity label each one means.
VOCABULARY: Mapping[str, Label] = {
    "fake": FAKE,
    "real": RELIABLE,
    "true": RELIABLE,
    "false": FAKE,
    "reliable": RELIABLE,
    "unreliable": FAKE,
}

#: Default mapping for a column named ``is_fake``: its name says that true/1 means fake.
IS_FAKE_MAP: Mapping[str, Label] = {
    "1": FAKE,
    "true": FAKE,
    "yes": FAKE,
    "0": RELIABLE,
    "false": RELIABLE,
    "no": RELIABLE,
}

#: Why 0/1 labels need ``positive``; part of the error message.
BINARY_CODES_HELP = (
    "0/1 labels have no agreed meaning: the Kaggle 'fake-news' competition uses "
    "1 = unreliable, while WELFake's documentation says 0 = fake, 1 = real (and its "
    "published class counts suggest the file itself uses the opposite). Say which value "
    "means fake: positive='1' (--positive 1) or positive='0' (--positive 0)."
)

_WHOLE_NUMBER = re.compile(r"[+-]?\d+(?:\.0+)?")


def normalize_value(value: str) -> str:
    """Comparison key of a raw label: stripped, lower-case, ``1.0`` → ``1``."""
    key = value.strip().lower()
    if _WHOLE_NUMBER.fullmatch(key):
        return str(int(float(key)))
    return key


def map_labels(
    values: Iterable[str],
    *,
    where: str,
    column: str,
    label_map: Mapping[str, str] | None = None,
    positive: str | None = None,
) -> list[Label]:
    """Map raw label values onto ``"fake"``/``"reliable"``.

    Parameters
    ----------
    values : iterable of str
        The raw label cells, one per row.
    where : str
        The file (or dataset) the values come from, for error messages.
    column : str
        The label column's name, for error messages.
    label_map : mapping of str to str, optional
        Raw value → ``"fake"`` or ``"reliable"``; wins over everything else. Keys
        match exactly or, failing that, case-insensitively after stripping.
    positive : str, optional
        The raw value that means *fake* in a column with at most two distinct values
        (``"1"`` for ``is_fake``-style 0/1 columns); the other value means reliable.

    Returns
    -------
    list of str
        One of ``"fake"``/``"reliable"`` per value.

    Raises
    ------
    DataFormatError
        Values outside the mapping (up to five are listed), 0/1 without ``positive``,
        or ``positive`` that does not fit the column.
    InputError
        ``label_map`` maps onto something other than ``"fake"``/``"reliable"``.

    Examples
    --------
    >>> map_labels(["REAL", "fake"], where="x.csv", column="label")
    ['reliable', 'fake']
    >>> map_labels(["0", "1"], where="x.csv", column="label", positive="1")
    ['reliable', 'fake']
    """
    raw = list(values)
    keys = [normalize_value(v) for v in raw]
    distinct = set(keys)
    if label_map is not None:
        return _apply_map(raw, keys, where, column, _checked_map(label_map))
    if positive is not None:
        pos = normalize_value(positive)
        if len(distinct) > 2 or (len(distinct) == 2 and pos not in distinct):
            shown = ", ".join(repr(v) for v in sorted(distinct)[:5])
            raise DataFormatError(
                f"{where}: positive={positive!r} does not fit column {column!r}, whose "
                f"values are {shown}; positive must be one of two label values. "
                "Use label_map (--label-map) for other columns."
            )
        return [FAKE if k == pos else RELIABLE for k in keys]
    if distinct and distinct <= {"0", "1"}:
        raise DataFormatError(f"{where}: column {column!r} holds 0/1 labels. {BINARY_CODES_HELP}")
    return _apply_map(raw, keys, where, column, VOCABULARY)


def _checked_map(label_map: Mapping[str, str]) -> dict[str, Label]:
    checked: dict[str, Label] = {}
    for raw, target in label_map.items():
        label = target.strip().lower()
        if label == FAKE:
            checked[raw] = FAKE
        elif label == RELIABLE:
            checked[raw] = RELIABLE
        else:
            raise InputError(
                f"label_map maps {raw!r} to {target!r}; every value must map to "
                f"{FAKE!r} or {RELIABLE!r}."
            )
    return checked


def _apply_map(
    raw: list[str], keys: list[str], where: str, column: str, mapping: Mapping[str, Label]
) -> list[Label]:
    by_key = {normalize_value(k): v for k, v in mapping.items()}
    out: list[Label] = []
    unknown: Counter[str] = Counter()
    for value, key in zip(raw, keys, strict=True):
        label = mapping.get(value) or by_key.get(key)
        if label is None:
            unknown[value] += 1
        else:
            out.append(label)
    if unknown:
        shown = ", ".join(f"{v!r} ({n} rows)" for v, n in unknown.most_common(5))
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        known = ", ".join(sorted(mapping))
        raise DataFormatError(
            f"{where}: column {column!r} has unexpected label values: {shown}{more}. "
            f"Known values: {known}. Map them with label_map (--label-map VALUE=fake), "
            "give positive= (--positive) for a two-valued column, or clean the file."
        )
    return out
