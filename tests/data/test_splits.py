"""Splits: no duplicate or near-duplicate cluster on both sides, stratified, grouped, seeded."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest

from veracity.data import SplitResult, deduplicate, load_dataset, split_dataset
from veracity.data.dedup import jaccard, model_texts, shingles
from veracity.errors import InputError
from veracity.settings import Settings


def _assert_no_pair_crosses(result: SplitResult, threshold: float = 0.8) -> None:
    """Recompute from scratch, comparing every train text with every test text."""
    train = model_texts(result.train)
    test = model_texts(result.test)
    assert not set(train) & set(test), "a prepared text is on both sides"
    train_sets = [shingles(t) for t in train]
    for t in test:
        s = shingles(t)
        worst = max((jaccard(s, other) for other in train_sets), default=0.0)
        assert worst < threshold, f"near duplicate across sides (Jaccard {worst:.2f})"


def _assert_no_cluster_crosses(result: SplitResult) -> None:
    """Recompute the clusters (LSH) on train + test: none may have members on both sides."""
    both = pd.concat([result.train.assign(_side="train"), result.test.assign(_side="test")])
    clusters = deduplicate(both.reset_index(drop=True)).cluster
    sides = both["_side"].reset_index(drop=True).groupby(clusters).nunique()
    assert (sides == 1).all()


@pytest.fixture
def leaky(corpus: Callable[..., pd.DataFrame], edit: Callable[..., str]) -> pd.DataFrame:
    """200 articles (30% fake) plus 20 exact copies and 20 near copies scattered among them."""
    base = corpus(200)
    base["label"] = ["fake" if i % 10 < 3 else "reliable" for i in range(200)]
    exact = base.iloc[0:200:10].assign(id=lambda f: f["id"] + "-copy")
    near = base.iloc[5:200:10].copy()
    near["id"] = near["id"] + "-near"
    near["text"] = [edit(t, 3) for t in near["text"]]
    return pd.concat([base, exact, near], ignore_index=True).sample(frac=1.0, random_state=1)


def test_duplicates_never_cross_and_are_counted(leaky: pd.DataFrame) -> None:
    result = split_dataset(leaky, test_size=0.25, seed=3)
    assert result.duplicates_dropped == 40
    assert result.report["exact_dropped"] == 20
    assert result.report["near_dropped"] == 20
    assert result.report["clusters"] == 200
    assert len(result.train) + len(result.test) == 200
    assert len(result.test) == 50
    assert not set(result.train.index) & set(result.test.index)
    _assert_no_pair_crosses(result)
    _assert_no_cluster_crosses(result)


def test_stratification_keeps_label_shares(leaky: pd.DataFrame) -> None:
    result = split_dataset(leaky, test_size=0.2, seed=7)
    share = 60 / 200
    for side in (result.train, result.test):
        assert abs((side["label"] == "fake").mean() - share) <= 0.02
    report = result.report
    assert report["train_fake"] + report["test_fake"] == 60
    assert report["test_fake"] == 12 and report["test_reliable"] == 28
    assert report["test_fraction"] == 0.2


def test_same_seed_same_split_other_seed_other_split(leaky: pd.DataFrame) -> None:
    first = split_dataset(leaky, seed=11)
    again = split_dataset(leaky, seed=11)
    other = split_dataset(leaky, seed=12)
    assert first.test["id"].tolist() == again.test["id"].tolist()
    assert first.train["id"].tolist() == again.train["id"].tolist()
    assert first.report == again.report
    assert first.test["id"].tolist() != other.test["id"].tolist()


def test_rows_keep_their_original_order_and_index(leaky: pd.DataFrame) -> None:
    result = split_dataset(leaky)
    for side in (result.train, result.test):
        positions = leaky.index.get_indexer(side.index).tolist()
        assert positions == sorted(positions)
        assert side.equals(leaky.loc[side.index])


def test_group_strategy_keeps_groups_whole(corpus: Callable[..., pd.DataFrame]) -> None:
    frame = corpus(300)
    frame["source"] = [f"site{i % 23}" for i in range(300)]
    result = split_dataset(frame, strategy="group", group_col="source", test_size=0.2, seed=5)
    train_groups = set(result.train["source"])
    test_groups = set(result.test["source"])
    assert not train_groups & test_groups
    assert train_groups | test_groups == set(frame["source"])
    assert result.report["train_groups"] == len(train_groups)
    assert result.report["test_groups"] == len(test_groups)
    assert 0.1 <= result.report["test_fraction"] <= 0.3
    again = split_dataset(frame, strategy="group", group_col="source", test_size=0.2, seed=5)
    assert again.test["id"].tolist() == result.test["id"].tolist()


def test_unlabelled_frames_split_too(corpus: Callable[..., pd.DataFrame]) -> None:
    frame = corpus(50).assign(label="")
    result = split_dataset(frame, test_size=0.2)
    assert len(result.test) == 10
    assert "test_fake" not in result.report
    frame["g"] = [i % 10 for i in range(50)]
    grouped = split_dataset(frame, strategy="group", group_col="g", test_size=0.2)
    assert not set(grouped.train["g"]) & set(grouped.test["g"])


def test_bad_arguments(corpus: Callable[..., pd.DataFrame]) -> None:
    frame = corpus(20)
    with pytest.raises(InputError, match="test_size"):
        split_dataset(frame, test_size=1.0)
    with pytest.raises(InputError, match="group_col"):
        split_dataset(frame, strategy="group")
    with pytest.raises(InputError, match="group_col"):
        split_dataset(frame, strategy="group", group_col="nope")
    with pytest.raises(InputError, match="strategy"):
        split_dataset(frame, strategy="temporal")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="cannot split"):
        split_dataset(frame.iloc[:3].assign(label=["fake", "reliable", "reliable"]))
    with pytest.raises(InputError, match="cannot split"):
        split_dataset(frame.assign(g="one"), strategy="group", group_col="g")


def test_real_fakenewsamt_pairs_stay_together(real_settings: Settings) -> None:
    frame = load_dataset("fakenewsamt", settings=real_settings).frame
    # biz01.legit.txt and biz01.fake.txt are two versions of one story: one group
    frame["pair"] = frame["id"].str.replace(r"\.(legit|fake)\.txt$", "", regex=True)
    assert frame["pair"].nunique() == 240
    result = split_dataset(frame, strategy="group", group_col="pair", seed=42)
    assert not set(result.train["pair"]) & set(result.test["pair"])
    assert result.report["test_fraction"] == pytest.approx(0.2, abs=0.03)
    for side in (result.train, result.test):
        assert abs((side["label"] == "fake").mean() - 0.5) <= 0.03
    _assert_no_pair_crosses(result)


def test_real_liar_train_duplicates_are_dropped(real_settings: Settings) -> None:
    frame = load_dataset("liar:train", settings=real_settings).frame
    result = split_dataset(frame, seed=42)
    # MANIFEST: 17 duplicate statements within train; prepared text merges a few more
    assert 17 <= result.duplicates_dropped <= 200
    print(f"\nliar:train split report: {result.report}")
    assert result.report["train_rows"] + result.report["test_rows"] == 10269 - (
        result.duplicates_dropped
    )
    overall = (frame["label"] == "fake").mean()
    for side in (result.train, result.test):
        assert abs((side["label"] == "fake").mean() - overall) <= 0.02
    _assert_no_cluster_crosses(result)
