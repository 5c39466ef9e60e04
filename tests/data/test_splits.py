"""Splits: no duplicate or near-duplicate cluster on both sides, stratified, grouped, seeded."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest

from veracity.data import Dataset, SplitResult, deduplicate, load_dataset, split_dataset
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
        split_dataset(frame, strategy="bogus")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="date_col"):
        split_dataset(frame, strategy="temporal")
    with pytest.raises(InputError, match="cannot split"):
        split_dataset(frame.assign(date="May 1, 2017"), strategy="temporal")
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


def _dates(n: int, seed: int) -> list[str]:
    """``n`` dates in 2016-2017, written in ISOT's three forms (and a trailing space)."""
    import random

    rng = random.Random(seed)
    out = []
    for _ in range(n):
        day = pd.Timestamp("2016-01-01") + pd.Timedelta(days=rng.randrange(700))
        form = rng.choice(["%B %d, %Y ", "%b %d, %Y", "%d-%b-%y"])
        out.append(day.strftime(form).replace(" 0", " "))
    return out


def test_temporal_tests_on_the_latest_dates(leaky: pd.DataFrame) -> None:
    frame = leaky.assign(date=_dates(len(leaky), seed=4))
    frame.loc[frame.index[:5], "date"] = ["", "soon", "n/a", "   ", "2017-13-45"]
    result = split_dataset(frame, strategy="temporal", test_size=0.25, seed=3)
    train_dates, test_dates = (
        pd.to_datetime(side["date"].str.strip(), format="mixed")
        for side in (result.train, result.test)
    )
    assert test_dates.min() > train_dates.max()
    report = result.report
    assert report["undated_dropped"] == 5
    assert report["duplicates_dropped"] == 40
    assert report["train_rows"] + report["test_rows"] == 200 - 5
    assert 0.24 <= float(report["test_fraction"]) <= 0.3
    assert report["train_first"] == train_dates.min().date().isoformat()
    assert report["train_last"] == train_dates.max().date().isoformat()
    assert report["test_first"] == test_dates.min().date().isoformat()
    assert report["test_last"] == test_dates.max().date().isoformat()
    assert {"train_fake", "test_reliable"} <= set(report)
    _assert_no_pair_crosses(result)


def test_temporal_reads_isot_date_forms_alike(corpus: Callable[..., pd.DataFrame]) -> None:
    frame = corpus(6)
    frame["when"] = ["Dec 30, 2017", "30-Dec-17", "January 2, 2016 ", "Jan 3, 2016", "", "x"]
    result = split_dataset(frame, strategy="temporal", date_col="when", test_size=0.5)
    assert sorted(result.test["id"]) == ["a0", "a1"]  # both forms of the latest day
    assert sorted(result.train["id"]) == ["a2", "a3"]
    assert result.report["undated_dropped"] == 2
    assert (result.report["train_last"], result.report["test_first"]) == (
        "2016-01-03",
        "2017-12-30",
    )


def test_real_isot_temporal_split_reports_ranges(isot: Dataset) -> None:
    result = split_dataset(isot.frame, strategy="temporal", seed=42)
    report = result.report
    print(f"\nisot_sample temporal split report: {report}")
    assert report["undated_dropped"] == 0
    assert str(report["train_first"]) < str(report["train_last"]) < str(report["test_first"])
    assert str(report["test_first"]) <= str(report["test_last"]) <= "2018-12-31"
    assert report["test_fraction"] == pytest.approx(0.2, abs=0.02)
