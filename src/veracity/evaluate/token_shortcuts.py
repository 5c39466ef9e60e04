"""Token shortcuts: words and phrases whose presence points to one class.

Step 1 of the shortcut audit (:func:`veracity.evaluate.audit.audit_dataset`, whose
docstring describes the rule). :func:`token_shortcuts` counts the terms of the raw
title and text per class, applies the presence test of
:mod:`veracity.evaluate.leak_stats`, folds terms that mark the same rows into the
strongest one, and checks whether each reported term survives
:func:`veracity.text.prepare`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from veracity.evaluate.leak_stats import presence_flags, presence_stats
from veracity.types import FAKE, RELIABLE

__all__ = [
    "BASELINE_TERMS",
    "CANDIDATES",
    "MAX_FEATURES",
    "RELATED_TERMS",
    "SURVIVAL_SAMPLE",
    "TOP_TERMS",
    "TokenShortcut",
    "token_shortcuts",
]

#: Terms reported (flagged first, then up to 5 of the strongest unflagged ones).
TOP_TERMS = 40
#: Strongest terms (flagged, and unflagged) grouped into families of the same artefact.
CANDIDATES = 400
#: Folded terms listed with each reported term.
RELATED_TERMS = 8
#: Most flagged terms given to the shortcut-only baseline.
BASELINE_TERMS = 200
#: Rows sampled per term to check whether it survives ``prepare``.
SURVIVAL_SAMPLE = 50
#: Cap on the vocabulary of each field (the most frequent terms are kept).
MAX_FEATURES = 50_000


@dataclass(frozen=True)
class TokenShortcut:
    """A word or phrase whose presence points to one class.

    Attributes
    ----------
    term : str
        Lower-cased word or 2-3-word phrase (``"featured image via"``).
    field : str
        ``"text"`` or ``"title"``.
    points_to : str
        The class it points to (``"fake"``/``"reliable"``).
    fake_rows, reliable_rows : int
        Rows of each class that contain it.
    purity : float
        Share of the rows containing it that are in ``points_to``.
    coverage : float
        Share of the ``points_to`` rows that contain it.
    separation : float
        ``coverage`` minus the share of the other class's rows that contain it
        (Youden's J of the rule "present → ``points_to``"; the ranking score).
    p_value : float
        One-sided hypergeometric p-value of the enrichment (before correction).
    flagged : bool
        Whether it passes the shortcut rule (see the module docstring).
    survives_prepare : float
        Share of sampled rows containing it that still contain it after
        :func:`veracity.text.prepare` (0.0: scrubbed or lost in normalization).
    related : list of str
        Weaker terms folded into this one because they mark the same rows
        (``washington reuters`` under ``reuters``), strongest first.
    """

    term: str
    field: str
    points_to: str
    fake_rows: int
    reliable_rows: int
    purity: float
    coverage: float
    separation: float
    p_value: float
    flagged: bool
    survives_prepare: float
    related: list[str] = dataclasses.field(default_factory=list)


def token_shortcuts(
    titles: Sequence[str], texts: Sequence[str], y: NDArray[np.int64], seed: int, min_df: int
) -> tuple[list[TokenShortcut], pd.DataFrame, int]:
    """Reported terms, 0/1 columns of the flagged ones (for the baseline), flagged count.

    Terms are words and 2-3-word phrases of the lower-cased raw ``texts`` (and
    ``titles`` when at least ``min_df`` rows have one) found in at least ``min_df``
    rows; see :mod:`veracity.evaluate.audit` for how they are judged.
    """
    from sklearn.feature_extraction.text import CountVectorizer

    fields: list[tuple[str, Sequence[str]]] = [("text", texts)]
    if sum(1 for t in titles if t.strip()) >= min_df:
        fields.append(("title", titles))
    found = []  # (field, docs, matrix, terms)
    for name, docs in fields:
        vectorizer = CountVectorizer(
            binary=True,
            ngram_range=(1, 3),
            min_df=min_df,
            max_features=MAX_FEATURES,
            dtype=np.int32,
        )
        try:
            matrix = vectorizer.fit_transform(docs).tocsr()
        except ValueError:  # no term in min_df documents
            continue
        found.append((name, docs, matrix, [str(t) for t in vectorizer.get_feature_names_out()]))
    empty = pd.DataFrame(index=pd.RangeIndex(len(y)))
    if not found:
        return [], empty, 0
    n_fake = int(y.sum())
    n_reliable = len(y) - n_fake
    is_fake = (y == 1).astype(np.int32)
    is_reliable = 1 - is_fake
    df_fake = np.concatenate([np.asarray(m.T @ is_fake).ravel() for _, _, m, _ in found])
    df_rel = np.concatenate([np.asarray(m.T @ is_reliable).ravel() for _, _, m, _ in found])
    where = [(f, j) for f, (_, _, _, terms) in enumerate(found) for j in range(len(terms))]
    stats = presence_stats(df_fake, df_rel, n_fake, n_reliable)
    flags = presence_flags(stats, len(where))
    words = np.array([len(found[f][3][j].split()) for f, j in where])
    order = np.lexsort((-words, -np.round(stats["separation"], 3)))
    flagged_rank = [int(i) for i in order if flags[i]][:CANDIDATES]
    other_rank = [int(i) for i in order if not flags[i]][:CANDIDATES]
    chosen = _families(flagged_rank, where, found)
    others = _families(other_rank, where, found)
    shown = chosen[:TOP_TERMS] + others[: max(0, min(5, TOP_TERMS - len(chosen)))]
    rng = np.random.default_rng(seed)
    cache: dict[tuple[int, int], str] = {}
    tokens = []
    for i, related in shown:
        f, j = where[i]
        name, docs, matrix, terms = found[f]
        rows = matrix[:, [j]].nonzero()[0]
        tokens.append(
            TokenShortcut(
                term=terms[j],
                field=name,
                points_to=FAKE if bool(stats["to_fake"][i]) else RELIABLE,
                fake_rows=int(df_fake[i]),
                reliable_rows=int(df_rel[i]),
                purity=round(float(stats["purity"][i]), 4),
                coverage=round(float(stats["coverage"][i]), 4),
                separation=round(float(stats["separation"][i]), 4),
                p_value=float(f"{float(stats['p_value'][i]):.3g}"),
                flagged=bool(flags[i]),
                survives_prepare=_survival(terms[j], f, docs, rows, rng, cache),
                related=related[:RELATED_TERMS],
            )
        )
    columns = {}
    for i, _ in chosen[:BASELINE_TERMS]:
        f, j = where[i]
        name, _, matrix, terms = found[f]
        columns[f"{name}: {terms[j]}"] = matrix[:, [j]].toarray().ravel().astype(np.float64)
    return tokens, pd.DataFrame(columns, index=empty.index), int(flags.sum())


def _families(
    ranked: Sequence[int],
    where: Sequence[tuple[int, int]],
    found: Sequence[tuple[str, Sequence[str], Any, list[str]]],
) -> list[tuple[int, list[str]]]:
    """Fold terms into a stronger term that marks the same rows; return (head, folded terms).

    Going down the ranking, a term joins the first kept term of its field that it
    contains as words (``washington reuters`` → ``reuters``: it never occurs without
    it) or whose rows it nearly shares (Jaccard ≥ 0.8: ``image`` and ``featured``
    → ``via``); otherwise it heads a new family.
    """
    by_field: dict[int, list[int]] = {}
    for i in ranked:
        by_field.setdefault(where[i][0], []).append(i)
    cooccur: dict[int, tuple[dict[int, int], NDArray[Any]]] = {}
    for f, members in by_field.items():
        matrix = found[f][2][:, [where[i][1] for i in members]]
        cooccur[f] = ({i: a for a, i in enumerate(members)}, (matrix.T @ matrix).toarray())
    heads: list[tuple[int, list[str]]] = []
    for i in ranked:
        f, j = where[i]
        term = found[f][3][j]
        local, counts = cooccur[f]
        a = local[i]
        for head, related in heads:
            g, m = where[head]
            if g != f:
                continue
            b = local[head]
            both = counts[a, b]
            jaccard = both / max(counts[a, a] + counts[b, b] - both, 1)
            if f" {found[g][3][m]} " in f" {term} " or jaccard >= 0.8:
                related.append(term)
                break
        else:
            heads.append((i, []))
    return heads


def _survival(
    term: str,
    field: int,
    docs: Sequence[str],
    rows: NDArray[Any],
    rng: np.random.Generator,
    cache: dict[tuple[int, int], str],
) -> float:
    """Share of sampled rows with ``term`` whose prepared field still contains it."""
    from veracity.text import normalize, prepare

    words = normalize(term).split()
    if not words or len(rows) == 0:
        return 0.0
    pattern = re.compile(r"(?:^| )" + re.escape(" ".join(words)) + r"(?: |$)")
    if len(rows) > SURVIVAL_SAMPLE:
        rows = rng.choice(rows, SURVIVAL_SAMPLE, replace=False)
    hits = 0
    for r in rows:
        key = (field, int(r))
        if key not in cache:
            cache[key] = prepare(docs[int(r)])
        hits += pattern.search(cache[key]) is not None
    return round(hits / len(rows), 4)
