"""The metadata blocks of :class:`~veracity.models.claims.ClaimsClassifier`.

:func:`metadata_frame` builds the ``X`` of a metadata model (the text, plus the
metadata columns it uses; :meth:`ClaimsClassifier.model_input
<veracity.models.claims.ClaimsClassifier.model_input>` calls it). Two things are
computed from a claim's metadata (who said it, where, on what):

* **tokens**: each cell as lower-case ``column=value`` tokens ("a TV interview" in
  ``context`` → ``context=tv``, ``context=interview``; one ``subject=…`` per
  comma-separated subject), joined into one document per row for a one-hot
  vectorizer (:func:`metadata_documents`);
* the **speaker prior**: per class, the log-ratio of a key's smoothed share of that
  label to its overall share, plus ``log(1 + n)`` of its rows (:func:`prior_rows`
  from a :func:`count_table`), computed out-of-fold inside ``fit``
  (:func:`out_of_fold_prior`) so no training row sees its own label.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.model_selection import KFold

__all__ = [
    "count_table",
    "metadata_documents",
    "metadata_frame",
    "metadata_token",
    "metadata_tokens",
    "out_of_fold_prior",
    "prior_rows",
]

#: Columns split into several tokens: subjects on commas, the venue into words.
_MULTI = {"subject", "context"}
_MISSING = {"", "nan", "none", "<na>"}


def metadata_frame(texts: Sequence[str], frame: Any, columns: Sequence[str]) -> Any:
    """The ``X`` of a metadata model: ``texts`` in ``text``, then ``columns`` of ``frame``.

    Parameters
    ----------
    texts : sequence of str
        The model text of each row, in ``frame``'s order.
    frame : pandas.DataFrame or None
        The rows (a dataset frame, possibly with ``speaker``, ``party``… columns).
    columns : sequence of str
        The metadata columns the model reads; those ``frame`` lacks are left out.

    Returns
    -------
    list of str or pandas.DataFrame
        ``list(texts)`` when ``frame`` has none of ``columns``, else a frame with a
        ``text`` column and those columns (as str).

    Examples
    --------
    >>> frame = pd.DataFrame({"speaker": ["a"], "credit_false": [3]})
    >>> metadata_frame(["Taxes went up."], frame, ("speaker", "party")).columns.tolist()
    ['text', 'speaker']
    >>> metadata_frame(["Taxes went up."], frame, ())
    ['Taxes went up.']
    """
    present = [c for c in columns if frame is not None and c in frame.columns]
    if not present:
        return list(texts)
    out = pd.DataFrame({"text": list(texts)})
    for column in present:
        out[column] = frame[column].astype(str).to_numpy()
    return out


def metadata_token(value: Any) -> str:
    """A metadata cell as a lower-case, space-free token ("" when missing)."""
    text = str(value).strip().lower()
    return "" if text in _MISSING else re.sub(r"\s+", "_", text)


def metadata_tokens(column: str, value: Any) -> list[str]:
    """The ``column=value`` tokens of one metadata cell (several for subjects and venues)."""
    if column == "subject":
        parts = [metadata_token(p) for p in str(value).split(",")]
    elif column == "context":
        parts = re.findall(r"[a-z0-9]+", str(value).lower())
    else:
        parts = [metadata_token(value)]
    return [f"{column}={p}" for p in parts if p and p not in _MISSING]


def metadata_documents(meta: Mapping[str, list[str]], n: int) -> list[str]:
    """One space-joined string of metadata tokens per row."""
    docs: list[list[str]] = [[] for _ in range(n)]
    for column, values in meta.items():
        for i, value in enumerate(values):
            docs[i].extend(metadata_tokens(column, value))
    return [" ".join(tokens) for tokens in docs]


def prior_rows(
    keys: Sequence[str],
    table: Mapping[str, NDArray[np.float64]],
    prior: NDArray[np.float64],
    a: float,
) -> NDArray[np.float64]:
    """``[log((counts + a * prior) / (n + a) / prior), log(1 + n)]`` per key (unknown: n = 0).

    The first block is the log-ratio of the key's smoothed label distribution to the
    overall one: 0 for an unknown key, and in the units of a logistic regression's
    logits (a weight of 1 on class k's column is a Bayes update toward k).
    """
    zero = np.zeros_like(prior)
    counts = np.vstack([table.get(k, zero) if k else zero for k in keys])
    n = counts.sum(axis=1, keepdims=True)
    shares = (counts + a * prior) / (n + a)
    rows: NDArray[np.float64] = np.hstack([np.log(shares) - np.log(prior), np.log1p(n)])
    return rows


def count_table(keys: Sequence[str], onehot: NDArray[np.float64]) -> dict[str, NDArray[np.float64]]:
    """Summed label rows (``onehot``) per non-empty key."""
    table: dict[str, NDArray[np.float64]] = {}
    for key, row in zip(keys, onehot, strict=True):
        if key:
            table[key] = table.get(key, 0.0) + row
    return table


def out_of_fold_prior(
    keys: Sequence[str],
    onehot: Any,
    *,
    folds: int = 5,
    smoothing: float = 10.0,
    random_state: int | np.random.RandomState | None = None,
) -> NDArray[np.float64]:
    """Out-of-fold target encoding: each row's key described by the *other* folds' labels.

    Parameters
    ----------
    keys : sequence of str
        One key per row (a speaker); ``""`` means unknown.
    onehot : array-like of shape (n_rows, n_classes)
        The rows' labels, one-hot (or weighted).
    folds : int, default=5
        Rows are split into this many shuffled folds; a row's encoding is computed
        from the rows of the other folds only, so it never includes its own label.
    smoothing : float, default=10.0
        Pseudo-count of the overall label distribution (of all rows) mixed in.
    random_state : int, RandomState instance or None
        Seeds the fold shuffling.

    Returns
    -------
    ndarray of shape (n_rows, n_classes + 1)
        Per class, the log-ratio of the key's smoothed label share to the overall
        share (0 when the key has no rows in the other folds), then ``log(1 + n)``
        of its rows in the other folds.

    Examples
    --------
    A speaker seen once has nothing but their own label, so out of fold they get
    the overall distribution:

    >>> out_of_fold_prior(["a", "b"], [[1.0, 0.0], [0.0, 1.0]], folds=2, smoothing=1.0).tolist()
    [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    """
    y = np.asarray(onehot, dtype=np.float64)
    keys = list(keys)
    prior = y.mean(axis=0)
    out = np.zeros((len(keys), y.shape[1] + 1), dtype=np.float64)
    splitter = KFold(n_splits=folds, shuffle=True, random_state=random_state)
    for fit_rows, encode_rows in splitter.split(y):
        table = count_table([keys[i] for i in fit_rows], y[fit_rows])
        out[encode_rows] = prior_rows([keys[i] for i in encode_rows], table, prior, smoothing)
    return out
