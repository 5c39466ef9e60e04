"""The OpenSources domain table: derivation, tag clean-up, lookups by URL or domain."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import pytest

from veracity.serve.reputation import (
    SOURCE,
    Reputation,
    build_table,
    load_table,
    lookup,
    normalize_domain,
    normalize_tag,
)

SHARED = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "credibility"
BUNDLED = Path(__file__).resolve().parents[2] / "src" / "veracity" / "resources" / "credibility"


@pytest.mark.parametrize(
    ("query", "domain", "tag"),
    [
        ("abcnews.com.co", "abcnews.com.co", "fake"),
        ("https://www.theonion.com/some-story", "theonion.com", "satire"),
        ("http://news.infowars.com/a?b=1", "infowars.com", "conspiracy"),
        ("https://WWW.Advocate.com/news", "advocate.com", "reliable"),
        ("https://www.cato.org/blog/post", "cato.org/blog", "reliable"),
    ],
)
def test_lookup_of_listed_sites(query: str, domain: str, tag: str) -> None:
    found = lookup(query)
    assert found is not None
    assert found.domain == domain and tag in found.tags
    assert found.source == SOURCE == "OpenSources 2017 (LGPL-3.0)"


@pytest.mark.parametrize(
    "query",
    [
        "https://www.example.org/story",
        "cato.org",
        "https://www.cato.org/research",
        "localhost",
        "",
        "http://[::1",
    ],
)
def test_unlisted_sites_and_garbage_are_none(query: str) -> None:
    assert lookup(query) is None


def test_the_most_specific_entry_wins_and_parents_match() -> None:
    table = {
        "example.com": Reputation("example.com", ("bias",), ""),
        "example.com/satire": Reputation("example.com/satire", ("satire",), ""),
        "deep.example.com": Reputation("deep.example.com", ("fake",), "n"),
    }
    assert lookup("https://a.b.example.com/x", table) == table["example.com"]
    assert lookup("https://example.com/Satire/1", table) == table["example.com/satire"]
    assert lookup("https://x.deep.example.com/", table) == table["deep.example.com"]
    assert lookup("https://example.net/", table) is None


def test_normalizers() -> None:
    assert [normalize_tag(t) for t in ("Fake", " fake news", "unrealiable", "satirical")] == [
        "fake",
        "fake",
        "unreliable",
        "satire",
    ]
    assert normalize_domain("https://www.Silver-Coin-Investor. com/") == "silver-coin-investor.com"
    assert normalize_domain("centerforsecuritypolicy.org/#articles") == (
        "centerforsecuritypolicy.org"
    )


def test_build_table_merges_and_cleans(tmp_path: Path) -> None:
    src = tmp_path / "sources.json.gz"
    keys = ("type", "2nd type", "3rd type", "Source Notes (things to know?)")
    data = {
        "Fake.com": dict(zip(keys, ("fake news", "Fake", "", " old  note "), strict=True)),
        "www.fake.com/": dict(zip(keys, ("satirical", "", "", ""), strict=True)),
        "ok.org": dict(zip(keys, ("reliable", "", "", ""), strict=True)),
    }
    src.write_bytes(gzip.compress(json.dumps(data).encode()))
    assert build_table(src, tmp_path / "out.csv") == 2
    rows = list(csv.DictReader((tmp_path / "out.csv").open(encoding="utf-8")))
    assert rows == [
        {"domain": "fake.com", "tags": "fake;satire", "note": "old note"},
        {"domain": "ok.org", "tags": "reliable", "note": ""},
    ]


def test_bundled_table_is_the_derived_snapshot(tmp_path: Path) -> None:
    table = load_table()
    assert len(table) == 824
    assert sum("reliable" in r.tags for r in table.values()) == 9
    tags = {t for r in table.values() for t in r.tags}
    assert not tags & {"fake news", "unrealiable", "satirical", "Fake", ""}
    assert "2fb428d0e132baae5ed8ab034d4eafbe9dc77cbb" in (BUNDLED / "ATTRIBUTION.md").read_text(
        encoding="utf-8"
    )
    source = SHARED / "sources.json.gz"
    if not source.is_file():
        pytest.skip(f"{source} is not here; cannot re-derive the bundled table")
    build_table(source, tmp_path / "again.csv")
    assert (tmp_path / "again.csv").read_bytes() == (BUNDLED / "opensources.csv").read_bytes()
