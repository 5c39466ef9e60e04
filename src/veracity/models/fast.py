"""A ``hashing-sgd.v2`` artifact read as plain arrays: checking without scikit-learn or skops.

Importing scikit-learn and skops is most of a cold ``veracity check`` (about 3 s of
3.5 s on a 2-core machine); the model itself is a few arrays and numbers. A skops
file is a zip holding ``schema.json``, the object tree (each node names its loader,
class and module; numbers and strings inline as JSON, arrays as ``.npy`` members).
:func:`read_fast` walks that tree for exactly the attributes checking needs and
returns a :class:`FastOffDomainModel`, which runs the estimator's own check-time code
(:class:`~veracity.models.hashing_core.OffDomainInference`): the same probabilities,
novelty, band and evidence, bit for bit (tested on every dataset).

Nothing is instantiated from the file: JSON is parsed and arrays are read with
``numpy.load(allow_pickle=False)``. Every node of the tree must be one of the few a
``hashing-sgd.v2`` model is made of (three classes: the estimator, its two hashers and its
SGD), read or not. Any node, class or configuration this reader does not know (another
preset, another skops protocol, a hasher the compiled code does not mirror) makes it
return None, and :func:`veracity.models.artifact.load_model` loads the file through skops
and its type checks as before. The sha256 and zip limits are checked before either reader
sees the bytes.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from veracity.models.hashing_core import OffDomainInference
from veracity.models.hashing_features import TOKEN_PATTERN, HasherSpec
from veracity.models.protocol import TextInput

__all__ = ["FAST_PRESETS", "FastOffDomainModel", "read_fast"]

#: Presets whose artifacts :func:`read_fast` can read.
FAST_PRESETS = frozenset({"hashing-sgd.v2"})
_SKOPS_PROTOCOL = 2
_TOP = ("veracity.models.offdomain", "OffDomainHashingClassifier")
_HASHER = ("sklearn.feature_extraction.text", "HashingVectorizer")
_SGD = ("sklearn.linear_model._stochastic_gradient", "SGDClassifier")


class _Unreadable(Exception):
    """The tree holds something this reader does not read (the skops path will)."""


class FastOffDomainModel(OffDomainInference, TextInput):
    """A fitted ``hashing-sgd.v2`` model as arrays, for checking only (no ``fit``).

    Has what the :class:`~veracity.detector.Detector` uses — ``classes_``,
    ``check_parts``, ``proba_and_novelty``, ``predict_proba``, ``abstain_halfwidth``,
    ``explain`` — computed by the same code as
    :class:`~veracity.models.offdomain.OffDomainHashingClassifier`. Made by
    :func:`read_fast`.
    """

    def __init__(
        self,
        *,
        word_vectorizer: HasherSpec,
        char_vectorizer: HasherSpec,
        preprocess: bool,
        novelty_buckets: int,
        classes: NDArray[Any],
        coef: NDArray[np.float64],
        intercept: NDArray[np.float64],
        calibration: NDArray[np.float64],
        calibrator: NDArray[np.float64],
        seen_words: NDArray[np.uint8],
        abstain_base: float,
        abstain_slope: float,
    ) -> None:
        self.word_vectorizer_ = word_vectorizer
        self.char_vectorizer_ = char_vectorizer
        self.word_ngram_range = word_vectorizer.ngram_range
        self.n_word_features = word_vectorizer.n_features
        self.preprocess = preprocess
        self.novelty_buckets = novelty_buckets
        self.classes_ = classes
        self._coef = coef
        self._intercept = intercept
        self.calibration_ = calibration
        self.calibrator_ = calibrator
        self.seen_words_ = seen_words
        self.abstain_base_ = abstain_base
        self.abstain_slope_ = abstain_slope

    def _linear(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        return self._coef, self._intercept

    def predict(self, X: Any) -> NDArray[Any]:
        """The most probable class of each text."""
        result: NDArray[Any] = self.classes_[np.argmax(self.predict_proba(X), axis=1)]
        return result


#: The nodes a ``hashing-sgd.v2`` tree is made of; any other node means "not one".
_LOADERS = frozenset(
    {"ObjectNode", "DictNode", "ListNode", "TupleNode", "JsonNode", "TypeNode", "NdArrayNode"}
)
_OBJECTS = frozenset({_TOP, _HASHER, _SGD})
_TYPE_MODULES = frozenset({"builtins", "numpy"})
#: SGDClassifier keeps its loss object (never used to predict); skops writes it as this node.
_LOSS = ("LossNode", "sklearn._loss._loss")


def _check_nodes(node: Any) -> None:
    """Every node of the tree is one this reader knows (iteratively: no recursion limit)."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
            continue
        if not isinstance(item, dict):
            continue
        if "__loader__" in item:
            loader, module = item.get("__loader__"), item.get("__module__")
            kind = (module, item.get("__class__"))
            known = (
                (loader, module) == _LOSS
                or (loader == "ObjectNode" and kind in _OBJECTS)
                or (loader == "TypeNode" and module in _TYPE_MODULES)
                or (loader == "NdArrayNode" and item.get("type") == "numpy")
                or (loader in _LOADERS - {"ObjectNode", "TypeNode", "NdArrayNode"})
            )
            if not known:
                raise _Unreadable(f"node {loader} of {module}.{item.get('__class__')}")
        stack.extend(item.values())


class _Tree:
    """The nodes of one skops file, decoded on demand (only those asked for)."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive

    def attributes(self, node: Any, kind: tuple[str, str]) -> Mapping[str, Any]:
        """The attribute nodes of an object node of class ``kind`` (module, name)."""
        if not isinstance(node, dict) or node.get("__loader__") != "ObjectNode":
            raise _Unreadable("not an object")
        if (node.get("__module__"), node.get("__class__")) != kind:
            raise _Unreadable(f"{node.get('__module__')}.{node.get('__class__')}")
        state = node.get("content")
        if not isinstance(state, dict) or state.get("__loader__") != "DictNode":
            raise _Unreadable("object state")
        attrs = state.get("content")
        if not isinstance(attrs, dict):
            raise _Unreadable("object state")
        return attrs

    def value(self, node: Any) -> Any:
        """A JSON, tuple, list, type or numpy-array node as a Python value."""
        if not isinstance(node, dict):
            raise _Unreadable("node")
        loader = node.get("__loader__")
        content = node.get("content")
        if loader == "JsonNode" and isinstance(content, str):
            return json.loads(content) if node.get("is_json") else content
        if loader in ("TupleNode", "ListNode") and isinstance(content, list):
            items = [self.value(item) for item in content]
            return tuple(items) if loader == "TupleNode" else items
        if loader == "TypeNode":
            return f"{node.get('__module__')}.{node.get('__class__')}"
        if loader == "NdArrayNode" and node.get("type") == "numpy":
            with self.archive.open(str(node.get("file"))) as handle:
                array = np.load(io.BytesIO(handle.read()), allow_pickle=False)
            if array.dtype.hasobject:  # pragma: no cover - allow_pickle=False refuses these
                raise _Unreadable("object array")
            return array
        raise _Unreadable(f"loader {loader}")


def _hasher(tree: _Tree, node: Any, analyzer: str) -> HasherSpec:
    """The hasher node as a :class:`HasherSpec`, if it is one the compiled code mirrors."""
    a = {k: tree.value(v) for k, v in tree.attributes(node, _HASHER).items()}
    mirrored = (
        a.get("input") == "content"
        and a.get("analyzer") == analyzer
        and (analyzer == "char_wb" or a.get("token_pattern") == TOKEN_PATTERN)
        and a.get("strip_accents") is None
        and a.get("preprocessor") is None
        and a.get("tokenizer") is None
        and a.get("stop_words") is None
        and a.get("alternate_sign") is False
        and a.get("norm") is None
        and a.get("dtype") == "numpy.float64"
        and isinstance(a.get("lowercase"), bool)
        and isinstance(a.get("binary"), bool)
    )
    low, high = a.get("ngram_range", (0, 0))
    if not mirrored:
        raise _Unreadable(f"{analyzer} hasher configuration")
    return HasherSpec(
        analyzer, (int(low), int(high)), int(a["n_features"]), a["lowercase"], a["binary"]
    )


def _array(value: Any, dtype: str, shape: tuple[int, ...]) -> NDArray[Any]:
    if not isinstance(value, np.ndarray) or value.dtype != np.dtype(dtype):
        raise _Unreadable(f"array of {dtype}")
    if value.shape != shape:
        raise _Unreadable(f"array of shape {shape}, got {value.shape}")
    return value


def read_fast(data: bytes) -> FastOffDomainModel | None:
    """The ``hashing-sgd.v2`` model in the skops bytes ``data``, or None if it is not one.

    ``data`` must already be verified (sha256 against the card, zip limits).
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            with archive.open("schema.json") as handle:
                schema = json.loads(handle.read())
            tree = _Tree(archive)
            if not isinstance(schema, dict) or schema.get("protocol") != _SKOPS_PROTOCOL:
                raise _Unreadable("skops protocol")
            _check_nodes(schema)
            top = tree.attributes(schema, _TOP)

            def get(name: str) -> Any:
                return tree.value(top[name])

            words = _hasher(tree, top["word_vectorizer_"], "word")
            chars = _hasher(tree, top["char_vectorizer_"], "char_wb")
            sgd = tree.attributes(top["sgd_"], _SGD)
            n_features = words.n_features + chars.n_features
            classes = get("classes_")
            if not isinstance(classes, np.ndarray) or classes.dtype.kind != "U":
                raise _Unreadable("classes")
            buckets = int(get("novelty_buckets"))
            if (words.ngram_range, chars.ngram_range) != (
                tuple(get("word_ngram_range")),
                tuple(get("char_ngram_range")),
            ) or not isinstance(get("preprocess"), bool):
                raise _Unreadable("parameters")
            model = FastOffDomainModel(
                word_vectorizer=words,
                char_vectorizer=chars,
                preprocess=get("preprocess"),
                novelty_buckets=buckets,
                classes=_array(classes, str(classes.dtype), (2,)),
                coef=_array(tree.value(sgd["coef_"]), "float64", (1, n_features)),
                intercept=_array(tree.value(sgd["intercept_"]), "float64", (1,)),
                calibration=_array(get("calibration_"), "float64", (1, 2)),
                calibrator=_array(get("calibrator_"), "float64", (4,)),
                seen_words=_array(get("seen_words_"), "uint8", ((buckets + 7) // 8,)),
                abstain_base=float(get("abstain_base_")),
                abstain_slope=float(get("abstain_slope_")),
            )
    except (_Unreadable, KeyError, TypeError, ValueError, OSError, zipfile.BadZipFile):
        return None
    return model
