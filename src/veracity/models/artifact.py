"""Model artifacts: a directory with ``model.skops``, ``card.json`` and ``README.md``.

* ``model.skops`` — the fitted estimator, written with :func:`skops.io.dumps`
  (never pickle or joblib: loading a pickle runs arbitrary code).
* ``card.json`` — a :class:`ModelCard`: preset, parameters, labels, training data
  with sha256, metrics, ECE, library versions, date, seed and the sha256 of
  ``model.skops``.
* ``README.md`` — the same card for people.

:func:`load_model` trusts nothing it was not told to: the card must match the card
schema, the file's sha256 must match the card, the zip must stay within explicit
limits (entries, uncompressed size, compression ratio; see :mod:`veracity.models.verify`,
checked before anything is decompressed), and every type skops reports as untrusted must
be in :data:`ALLOWED_TYPES` (our estimators and the few scikit-learn internals they
hold). Anything else is a :class:`~veracity.errors.ModelIntegrityError`.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from veracity.errors import InputError, ModelError, ModelIntegrityError, ModelNotFoundError
from veracity.models import require_preset
from veracity.models.verify import (
    MAX_CARD_BYTES,
    RETRAIN_HINT,
    check_card,
    check_model_size,
    check_zip_limits,
)

__all__ = [
    "ALLOWED_TYPES",
    "CARD_FILE",
    "MODEL_FILE",
    "README_FILE",
    "LoadedModel",
    "ModelCard",
    "TrainingData",
    "library_versions",
    "load_card",
    "load_model",
    "render_readme",
    "save_model",
]

MODEL_FILE = "model.skops"
CARD_FILE = "card.json"
README_FILE = "README.md"
CARD_SCHEMA_VERSION = 1

#: Every type beyond builtins and numpy that veracity's presets hold, and nothing more.
ALLOWED_TYPES: frozenset[str] = frozenset(
    {
        # ours
        "veracity.models.linear.TfidfLogisticClassifier",
        "veracity.models.claims.ClaimsClassifier",
        "veracity.models.hashing.HashingSGDClassifier",
        "veracity.models.offdomain.OffDomainHashingClassifier",
        "veracity.models.ensemble.StackedEnsemble",
        # style.py keeps its LightGBM boosters as model strings: no lightgbm types here
        "veracity.models.style.StyleFeatures",
        "veracity.models.style.StyleLGBMClassifier",
        # embed.py saves no encoder weights, only the encoder's name and version
        "veracity.models.embed.MiniLMLogisticClassifier",
        # the scikit-learn estimators the presets hold (skops' blanket trust of every
        # scikit-learn estimator is switched off: see _import_skops_io)
        "sklearn.calibration.CalibratedClassifierCV",
        "sklearn.feature_extraction.text.CountVectorizer",
        "sklearn.feature_extraction.text.HashingVectorizer",
        "sklearn.feature_extraction.text.TfidfTransformer",
        "sklearn.feature_extraction.text.TfidfVectorizer",
        "sklearn.isotonic.IsotonicRegression",
        "sklearn.linear_model._logistic.LogisticRegression",
        "sklearn.linear_model._stochastic_gradient.SGDClassifier",
        "sklearn.preprocessing._data.StandardScaler",
        # held by CalibratedClassifierCV(ensemble=False) and its StratifiedKFold cv
        "sklearn.calibration._CalibratedClassifier",
        "sklearn.calibration._SigmoidCalibration",
        "sklearn.model_selection._split.StratifiedKFold",
    }
)

_RETRAIN_HINT = RETRAIN_HINT


@dataclass(frozen=True)
class TrainingData:
    """One dataset a model was trained on: its name, content sha256 and row count."""

    name: str
    sha256: str
    rows: int


@dataclass(frozen=True)
class ModelCard:
    """What a model is, what it was trained on and how well it did (``card.json``).

    ``model_id`` and ``model_sha256`` are filled in by :func:`save_model`;
    ``extra`` holds anything else worth recording (free-form JSON).
    ``metrics`` is free-form JSON: ``{"accuracy": 0.97}`` or, with a confidence
    interval, ``{"accuracy": {"value": 0.97, "ci_low": 0.96, "ci_high": 0.98}}``;
    a nested mapping per dataset (``{"liar": {"accuracy": …}}``) is fine too.
    """

    preset: str
    params: dict[str, Any]
    labels: list[str]
    training_data: list[TrainingData] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    ece: float | None = None
    versions: dict[str, str] = field(default_factory=dict)
    created: str = ""
    seed: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    model_id: str = ""
    model_sha256: str = ""
    schema_version: int = CARD_SCHEMA_VERSION

    @classmethod
    def create(
        cls,
        *,
        preset: str,
        params: Mapping[str, Any],
        labels: Iterable[Any],
        training_data: Iterable[TrainingData | Mapping[str, Any]] = (),
        rows: Mapping[str, int] | None = None,
        metrics: Mapping[str, Any] | None = None,
        ece: float | None = None,
        seed: int | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> ModelCard:
        """A new card, with library versions and the creation date (UTC) filled in.

        ``params`` are the preset's parameters as passed to
        :func:`veracity.models.make_model` (tuples become lists); ``training_data``
        items may be :class:`TrainingData` or ``{"name", "sha256", "rows"}`` dicts.
        """
        return cls(
            preset=preset,
            params=_jsonable(dict(params)),
            labels=[str(label) for label in labels],
            training_data=[_training_data(d) for d in training_data],
            rows={str(k): int(v) for k, v in (rows or {}).items()},
            metrics=_jsonable(dict(metrics or {})),
            ece=None if ece is None else float(ece),
            versions=library_versions(),
            created=datetime.now(UTC).isoformat(timespec="seconds"),
            seed=seed,
            extra=_jsonable(dict(extra or {})),
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with the dataclass's field names."""
        return asdict(self)

    def to_json(self) -> str:
        """The card as pretty-printed JSON (what ``card.json`` holds)."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelCard:
        """The card from a dict; ValueError when a field is missing, unknown or mistyped."""
        if not isinstance(data, Mapping):
            raise ValueError(f"a model card is a JSON object, got {type(data).__name__}")
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"unknown card fields: {', '.join(unknown)}")
        for required in ("preset", "params", "labels"):
            if required not in data:
                raise ValueError(f"the card has no {required!r}")
        values = dict(data)
        check_card(values)
        values["training_data"] = [_training_data(d) for d in values.get("training_data", [])]
        if values.get("schema_version", CARD_SCHEMA_VERSION) > CARD_SCHEMA_VERSION:
            raise ValueError(
                f"card schema version {values['schema_version']} is newer than this veracity "
                f"understands ({CARD_SCHEMA_VERSION}); upgrade veracity"
            )
        return cls(**values)

    @classmethod
    def from_json(cls, text: str) -> ModelCard:
        """The card from ``card.json`` text; ValueError when it is not a valid card."""
        return cls.from_dict(json.loads(text))


@dataclass(frozen=True)
class LoadedModel:
    """A verified artifact: the fitted ``estimator``, its ``card`` and its directory."""

    estimator: Any
    card: ModelCard
    path: Path


def _training_data(item: TrainingData | Mapping[str, Any]) -> TrainingData:
    if isinstance(item, TrainingData):
        return item
    return TrainingData(name=str(item["name"]), sha256=str(item["sha256"]), rows=int(item["rows"]))


def _jsonable(value: Any) -> Any:
    """``value`` with tuples as lists and numpy scalars as Python numbers (repr otherwise)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        try:
            return _jsonable(item())
        except (TypeError, ValueError):
            pass
    return repr(value)


def library_versions() -> dict[str, str]:
    """Versions of Python and of the libraries a model artifact depends on."""
    import numpy
    import sklearn
    import skops

    import veracity

    return {
        "python": platform.python_version(),
        "sklearn": sklearn.__version__,
        "numpy": numpy.__version__,
        "skops": skops.__version__,
        "veracity": veracity.__version__,
    }


def _atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so readers see the old file or the new one, never half."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _format_metric(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, Mapping) and "value" in value:
        text = _format_metric(value["value"])
        low = value.get("low", value.get("ci_low"))
        high = value.get("high", value.get("ci_high"))
        if low is not None and high is not None:
            text += f" ({_format_metric(low)}\u2013{_format_metric(high)})"
        return text
    return str(value)


def _metric_rows(metrics: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for name, value in metrics.items():
        if isinstance(value, Mapping) and "value" not in value:
            rows.extend(_metric_rows(value, f"{prefix}{name} / "))
        else:
            if name in ("n", "positive", "labels", "extra", "accuracy_answered") or value is None:
                continue  # bookkeeping, not a metric
            rows.append((f"{prefix}{name}", _format_metric(value)))
    return rows


def render_readme(card: ModelCard) -> str:
    """The human model card (``README.md``) for ``card``."""
    trained_on = ", ".join(f"{d.name} ({d.rows:,} rows)" for d in card.training_data)
    lines = [
        f"# Model card: {card.model_id or card.preset}",
        "",
        f"A veracity text classifier (preset `{card.preset}`) that labels a news article "
        f"as one of: {', '.join(f'`{label}`' for label in card.labels)}, with a calibrated "
        "probability and the words that pushed the verdict each way.",
        "",
        "| | |",
        "|---|---|",
        f"| model id | `{card.model_id}` |",
        f"| created (UTC) | {card.created} |",
        f"| seed | {card.seed} |",
        f"| sha256 of model.skops | `{card.model_sha256}` |",
        "",
        "## Training data",
        "",
    ]
    if card.training_data:
        lines += ["| dataset | rows | sha256 |", "|---|---|---|"]
        lines += [f"| {d.name} | {d.rows:,} | `{d.sha256}` |" for d in card.training_data]
    else:
        lines.append("Not recorded.")
    if card.rows:
        lines += ["", "Rows: " + ", ".join(f"{k} {v:,}" for k, v in card.rows.items()) + "."]
    lines += ["", "## Metrics", ""]
    metric_rows = _metric_rows(card.metrics)
    if card.ece is not None:
        metric_rows.append(("ECE (expected calibration error)", _format_metric(float(card.ece))))
    if metric_rows:
        lines += ["| metric | value (95% CI) |", "|---|---|"]
        lines += [f"| {name} | {value} |" for name, value in metric_rows]
    else:
        lines.append("No metrics recorded.")
    lines += [
        "",
        "## Intended use",
        "",
        "A first-pass signal for English news articles of at least a paragraph: which ones "
        "look like the unreliable articles in the training data. It is not a fact checker: "
        "it judges style and vocabulary, not whether claims are true. Use it to prioritise "
        "human review, not to decide on its own.",
        "",
        "## Limitations",
        "",
        f"- Trained on {trained_on or 'unrecorded data'}; it learns how those sources write. "
        "Numbers on other datasets are in the cross-dataset rows of the metrics above (when "
        "measured) and are usually much lower than in-dataset numbers.",
        "- Texts that are short, not English, or whose probability falls in the abstention "
        'band get the verdict "not sure".',
        "- Source artefacts (datelines, photo credits, URLs) are scrubbed before the model "
        "sees the text, but other source-specific habits can still act as shortcuts.",
        "",
        "## Parameters",
        "",
        f"Given to preset `{card.preset}` (everything else is the preset's own value):",
        "",
        "```json",
        json.dumps(card.params, indent=2),
        "```",
        "",
        "## Versions",
        "",
        ", ".join(f"{k} {v}" for k, v in card.versions.items()) or "Not recorded.",
        "",
    ]
    if card.extra:
        lines += ["## Notes", ""]
        lines += [f"- {key}: {json.dumps(value)}" for key, value in card.extra.items()]
        lines.append("")
    lines += [
        "Load with `veracity.models.artifact.load_model(path)`; it checks the sha256 above and "
        "the types inside `model.skops` before using it.",
        "",
    ]
    return "\n".join(lines)


def _import_skops_io() -> None:
    """Import ``skops.io`` without walking every scikit-learn module.

    On import, skops lists every scikit-learn estimator (``all_estimators``, which
    imports all of scikit-learn and, through its array-API shims, torch and Dask when
    installed: about 3 s of a cold ``veracity check``) only to trust them all by
    default. veracity never uses that default: :func:`load_model` trusts exactly the
    types it names (:data:`ALLOWED_TYPES`, scikit-learn's included), so the walk is
    replaced by an empty list while skops imports, and the heavy optional packages
    are hidden in case anything else reaches for them.
    """
    if "skops.io" in sys.modules:
        return
    import sklearn.utils

    from veracity._extras import hidden

    walk = sklearn.utils.all_estimators
    sklearn.utils.all_estimators = _no_estimators
    try:
        with hidden("torch", "dask", "distributed", "cupy", "jax", "pytest"):
            import skops.io  # noqa: F401
    finally:
        sklearn.utils.all_estimators = walk


def _no_estimators(type_filter: Any = None) -> list[tuple[str, type]]:
    """What skops' default trust sees in place of ``all_estimators``: nothing."""
    return []


def _untrusted_types(data: bytes, where: Path) -> list[str]:
    _import_skops_io()
    import skops.io

    try:
        return list(skops.io.get_untrusted_types(data=data))
    except Exception as exc:  # not a zip, truncated, bad schema: all mean "not our artifact"
        raise ModelIntegrityError(
            f"{where} is not a readable skops model ({type(exc).__name__}: {exc}). " + _RETRAIN_HINT
        ) from exc


def save_model(model: Any, directory: str | Path, card: ModelCard) -> Path:
    """Write ``model`` and ``card`` as an artifact directory; return the directory.

    Writes ``model.skops``, ``card.json`` (with ``model_sha256`` and ``model_id``
    set to ``f"{preset}-{sha256[:12]}"``) and ``README.md``, each atomically.
    Refuses a model that :func:`load_model` would refuse (untrusted types).

    Examples
    --------
    >>> from veracity.models import make_model
    >>> texts = ["the senate passed the bill"] * 5 + ["shocking secret cure"] * 5
    >>> labels = ["reliable"] * 5 + ["fake"] * 5
    >>> model = make_model("tfidf-lr.v1", min_df=1, cv=2, random_state=0).fit(texts, labels)
    >>> import tempfile
    >>> card = ModelCard.create(preset="tfidf-lr.v1", params={}, labels=model.classes_)
    >>> path = save_model(model, tempfile.mkdtemp(), card)
    >>> loaded = load_model(path)
    >>> loaded.card.labels
    ['fake', 'reliable']
    """
    _import_skops_io()
    import skops.io

    if not hasattr(model, "classes_"):
        raise InputError("the model is not fitted; call fit() before save_model()")
    labels = [str(c) for c in model.classes_]
    if card.labels and card.labels != labels:
        raise InputError(f"the card's labels {card.labels} differ from the model's {labels}")
    data = skops.io.dumps(model, compression=zipfile.ZIP_DEFLATED)
    check_zip_limits(data, Path(MODEL_FILE))  # never save what load_model refuses
    refused = sorted(set(_untrusted_types(data, Path(MODEL_FILE))) - ALLOWED_TYPES)
    if refused:
        raise ModelError(
            f"this model holds types that load_model will not trust: {', '.join(refused)}; "
            "only veracity's presets can be saved (add a reviewed type to ALLOWED_TYPES)"
        )
    sha = hashlib.sha256(data).hexdigest()
    card = replace(card, labels=labels, model_sha256=sha, model_id=f"{card.preset}-{sha[:12]}")
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    _atomic_write(path / MODEL_FILE, data)
    _atomic_write(path / CARD_FILE, card.to_json().encode("utf-8"))
    _atomic_write(path / README_FILE, render_readme(card).encode("utf-8"))
    return path


def _read_card(path: Path) -> ModelCard:
    """The card at ``path``, checked against the card schema; ModelIntegrityError if not."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_CARD_BYTES + 1)
        if len(raw) > MAX_CARD_BYTES:
            raise ValueError(f"it is over the limit of {MAX_CARD_BYTES:,} bytes for a card")
        return ModelCard.from_json(raw.decode("utf-8"))
    # JSONDecodeError, UnicodeDecodeError; RecursionError: a deeply nested (hostile) card
    except (ValueError, TypeError, KeyError, RecursionError) as exc:
        raise ModelIntegrityError(
            f"{path} is not a valid model card ({exc}). " + _RETRAIN_HINT
        ) from exc


def load_card(directory: str | Path) -> ModelCard:
    """Read the ``card.json`` of a model directory (without loading or verifying the model).

    Raises
    ------
    veracity.errors.ModelNotFoundError
        There is no ``card.json`` in ``directory``.
    veracity.errors.ModelIntegrityError
        The card is over :data:`MAX_CARD_BYTES` or does not match the card schema.
    """
    path = Path(directory) / CARD_FILE
    if not path.is_file():
        raise ModelNotFoundError(f"no model card at {path}; is {directory} a model directory?")
    return _read_card(path)


def load_model(directory: str | Path, *, fast: bool = False) -> LoadedModel:
    """Load and verify the artifact in ``directory``.

    With ``fast``, a ``hashing-sgd.v2`` model (the bundled default) is read as plain
    arrays by :func:`veracity.models.fast.read_fast` once its sha256 and zip limits are
    verified, without importing scikit-learn or skops: its ``estimator`` then checks
    texts exactly as the full estimator does, but cannot be trained further or saved.
    Any other artifact loads through skops as without ``fast``.

    Raises
    ------
    veracity.errors.ModelNotFoundError
        The directory, ``model.skops`` or ``card.json`` does not exist.
    veracity.errors.ModelIntegrityError
        The card is invalid, ``model.skops`` does not match the card's sha256, is over
        the zip limits (entries, uncompressed size, compression ratio), holds types
        outside :data:`ALLOWED_TYPES`, or cannot be read by skops.
    veracity.errors.MissingExtraError
        The model's preset needs an extra that is not installed (``style``, ``embed``).
    """
    path = Path(directory)
    if not path.is_dir():
        raise ModelNotFoundError(
            f"no model directory at {path}; give the directory of a saved model "
            "(train one with `veracity train`)"
        )
    model_path, card_path = path / MODEL_FILE, path / CARD_FILE
    for required in (model_path, card_path):
        if not required.is_file():
            raise ModelNotFoundError(
                f"{required} is missing, so {path} is not a complete veracity model. "
                + _RETRAIN_HINT
            )
    card = _read_card(card_path)
    require_preset(card.preset, card.params)  # a model of a preset whose extra is missing
    check_model_size(model_path.stat().st_size, model_path)  # before it is read into memory
    data = model_path.read_bytes()  # hash and load the same bytes
    digest = hashlib.sha256(data).hexdigest()
    if digest != card.model_sha256:
        raise ModelIntegrityError(
            f"{model_path} was modified after it was saved: its sha256 is {digest}, "
            f"but {CARD_FILE} records {card.model_sha256 or 'none'}. " + _RETRAIN_HINT
        )
    check_zip_limits(data, model_path)  # before skops unpacks anything
    if fast:
        from veracity.models.fast import FAST_PRESETS, read_fast

        arrays = read_fast(data) if card.preset in FAST_PRESETS else None
        if arrays is not None and [str(c) for c in arrays.classes_] == card.labels:
            return LoadedModel(estimator=arrays, card=card, path=path)
    _import_skops_io()
    import skops.io

    untrusted = _untrusted_types(data, model_path)
    refused = sorted(set(untrusted) - ALLOWED_TYPES)
    if refused:
        raise ModelIntegrityError(
            f"{model_path} contains types veracity does not trust: {', '.join(refused)}. "
            "It was not made by veracity's presets; load only models you trust. " + _RETRAIN_HINT
        )
    try:
        estimator = skops.io.loads(data, trusted=untrusted)
    except Exception as exc:  # any failure inside skops means a broken artifact
        raise ModelIntegrityError(
            f"{model_path} could not be loaded ({type(exc).__name__}: {exc}). " + _RETRAIN_HINT
        ) from exc
    classes = getattr(estimator, "classes_", None)
    if classes is None or not hasattr(estimator, "predict_proba"):
        raise ModelIntegrityError(
            f"{model_path} does not hold a fitted classifier. " + _RETRAIN_HINT
        )
    if [str(c) for c in classes] != card.labels:
        raise ModelIntegrityError(
            f"{card_path} lists labels {card.labels} but the model predicts "
            f"{[str(c) for c in classes]}. " + _RETRAIN_HINT
        )
    return LoadedModel(estimator=estimator, card=card, path=path)
