"""Exact and near-duplicate detection on the prepared text."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest

from veracity.data import Dataset, DedupResult, deduplicate
from veracity.data.dedup import find_clusters, jaccard, model_texts, shingles
from veracity.errors import InputError


def test_exact_duplicates_on_prepared_text(corpus: Callable[..., pd.DataFrame]) -> None:
    frame = corpus(6)
    copy = frame.iloc[[2]].assign(id="copy", text=frame["text"].iloc[2].upper() + "!!")
    frame = pd.concat([frame, copy, frame.iloc[[4]].assign(id="again")], ignore_index=True)
    result = deduplicate(frame, near=False)
    assert result.exact_dropped == 2  # case and punctuation do not count
    assert result.near_dropped == 0
    assert result.frame["id"].tolist() == [f"a{i}" for i in range(6)]  # first kept, order kept
    assert result.cluster.tolist() == [0, 1, 2, 3, 4, 5, 2, 4]
    assert result.cluster.index.equals(frame.index)


def test_scrubbed_artefacts_do_not_hide_a_copy() -> None:
    frame = pd.DataFrame(
        {
            "title": ["", "", ""],
            "text": [
                "WASHINGTON (Reuters) - The Senate voted on the tax bill on Friday.",
                "The Senate voted on the tax bill on Friday. Featured image via Getty Images",
                "The House voted on the tax bill on Friday.",
            ],
        }
    )
    result = deduplicate(frame)
    assert result.cluster.tolist() == [0, 0, 1]
    assert result.exact_dropped == 1


def test_near_duplicates_found_distinct_not_merged(
    corpus: Callable[..., pd.DataFrame], edit: Callable[..., str]
) -> None:
    frame = corpus(40)
    variant = frame.iloc[[7]].assign(id="variant", text=edit(frame["text"].iloc[7], 3))
    frame = pd.concat([frame, variant], ignore_index=True)
    prepared = model_texts(frame)
    assert jaccard(shingles(prepared[7]), shingles(prepared[40])) >= 0.8
    result = deduplicate(frame)
    assert (result.exact_dropped, result.near_dropped) == (0, 1)
    assert result.cluster.iloc[40] == result.cluster.iloc[7]
    assert result.cluster.nunique() == 40  # the 40 unrelated articles stay apart
    assert "variant" not in result.frame["id"].tolist()
    assert result.conflicting_labels == 0


def test_heavily_edited_text_is_not_a_near_duplicate(
    corpus: Callable[..., pd.DataFrame], edit: Callable[..., str]
) -> None:
    frame = corpus(10)
    rewrite = frame.iloc[[3]].assign(id="rewrite", text=edit(frame["text"].iloc[3], 40))
    frame = pd.concat([frame, rewrite], ignore_index=True)
    result = deduplicate(frame)
    assert result.near_dropped == 0
    assert result.cluster.nunique() == 11


def test_threshold_controls_near_matches(
    corpus: Callable[..., pd.DataFrame], edit: Callable[..., str]
) -> None:
    frame = corpus(5)
    edited = edit(frame["text"].iloc[0], 3)
    frame = pd.concat([frame, frame.iloc[[0]].assign(id="e", text=edited)], ignore_index=True)
    prepared = model_texts(frame)
    similarity = jaccard(shingles(prepared[0]), shingles(prepared[5]))
    assert 0.85 < similarity < 0.95
    assert deduplicate(frame, threshold=similarity - 0.1).near_dropped == 1
    assert deduplicate(frame, threshold=similarity + 0.01).near_dropped == 0


def test_clusters_are_transitive_and_count_label_conflicts(
    corpus: Callable[..., pd.DataFrame], edit: Callable[..., str]
) -> None:
    frame = corpus(4)
    base = frame["text"].iloc[1]
    step1 = edit(base, 5, offset=0)
    step2 = edit(step1, 5, offset=30)  # other words: further from a1 than from s1
    extra = pd.DataFrame(
        {
            "id": ["s1", "s2"],
            "title": [frame["title"].iloc[1]] * 2,
            "text": [step1, step2],
            "label": ["fake", "reliable"],
        }
    )
    frame = pd.concat([frame, extra], ignore_index=True)
    prepared = model_texts(frame)
    assert jaccard(shingles(prepared[1]), shingles(prepared[4])) >= 0.8
    assert jaccard(shingles(prepared[4]), shingles(prepared[5])) >= 0.8
    assert jaccard(shingles(prepared[1]), shingles(prepared[5])) < 0.8  # joined only via s1
    result = deduplicate(frame)
    assert result.cluster.tolist() == [0, 1, 2, 3, 1, 1]
    assert result.near_dropped == 2
    # a1 is labelled fake and s2 reliable: one cluster holds both labels
    assert result.conflicting_labels == 1


def test_frame_without_title_or_label_and_odd_index() -> None:
    frame = pd.DataFrame(
        {"text": ["Same words here.", "other", "same words here"]}, index=[9, 5, 7]
    )
    result = deduplicate(frame)
    assert result.cluster.to_dict() == {9: 0, 5: 1, 7: 0}
    assert result.frame.index.tolist() == [9, 5]
    assert result.conflicting_labels == 0


def test_bad_arguments() -> None:
    with pytest.raises(InputError, match="'text' column"):
        deduplicate(pd.DataFrame({"body": ["x"]}))
    with pytest.raises(InputError, match="threshold"):
        find_clusters(["a"], threshold=0.0)


def test_shingles() -> None:
    assert shingles("") == set()
    assert shingles("one two") == {b"one two"}
    assert len(shingles("a b c d e f g")) == 3


def test_real_isot_sample_duplicates(isot: Dataset, isot_dedup: DedupResult) -> None:
    result = isot_dedup
    print(
        f"\nisot_sample dedup: exact {result.exact_dropped}, near {result.near_dropped}, "
        f"conflicting {result.conflicting_labels}, kept {len(result.frame)}"
    )
    # the same Reuters story appears with small edits (and under two subjects)
    assert 5 <= result.exact_dropped <= 100
    assert 1 <= result.near_dropped <= 200
    assert result.conflicting_labels == 0
    assert len(result.frame) == 6176 - result.exact_dropped - result.near_dropped
    assert len(result.cluster) == 6176
    # every row of a shared cluster is a copy or a near copy of another row of its cluster
    sizes = result.cluster.value_counts()
    shared = result.cluster[result.cluster.isin(sizes[sizes > 1].index)]
    assert len(shared) - len(sizes[sizes > 1]) == result.exact_dropped + result.near_dropped
    prepared = dict(zip(shared.index, model_texts(isot.frame.loc[shared.index]), strict=True))
    for row, cid in shared.items():
        others = [o for o in shared[shared == cid].index if o != row]
        best = max(
            1.0
            if prepared[o] == prepared[row]
            else jaccard(shingles(prepared[o]), shingles(prepared[row]))
            for o in others
        )
        assert best >= 0.8, (row, best)


def test_real_isot_sample_dedup_is_fast(timed_isot_dedup: tuple[DedupResult, float]) -> None:
    _, seconds = timed_isot_dedup
    print(f"\nisot_sample dedup of 6,176 rows: {seconds:.1f} CPU s")
    # LSH, not all 19M pairs: ~15 CPU s here, most of it in text.prepare (all pairs: minutes)
    assert seconds < 30
