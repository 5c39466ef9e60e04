"""Shortcut artefacts are removed from raw and from seed-form text, tested on real ISOT rows."""

from __future__ import annotations

import csv
import gzip
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from veracity.text import is_normalized, normalize, prepare, scrub
from veracity.text.scrub import NORMALIZED_PATTERNS, RAW_PATTERNS

ROOT = Path(__file__).resolve().parents[2]
ISOT = ROOT.parent / "shared" / "datasets" / "isot_sample" / "isot_sample.csv.gz"
SEED = ROOT.parent / "shared" / "seed" / "seed_article.txt"


@pytest.fixture(scope="module")
def isot_rows() -> list[dict[str, str]]:
    if not ISOT.exists():
        pytest.skip(f"ISOT sample not found at {ISOT}")
    csv.field_size_limit(1 << 30)
    with gzip.open(ISOT, "rt", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


# (artefact as it appears in raw ISOT rows, label of the rows that carry it)
ARTEFACTS = [
    (r"\(Reuters\)", "real"),
    (r"Featured image via", "fake"),
    (r"Getty Images", "fake"),
    (r"21st Century Wire", "fake"),
    (r"pic\.twitter\.com/\w+", "fake"),
    (r"https?://\S+", "fake"),
    (r"@realDonaldTrump", "fake"),
    (r"SUPPORT OUR WORK", "fake"),
    (r"Read more:[^\n]{0,60}\s*$", "fake"),
    (r"(?i)photo by[^\n.]{0,40}getty images", "fake"),
]


@pytest.mark.parametrize(("artefact", "label"), ARTEFACTS)
def test_artefact_removed_from_every_real_row(
    isot_rows: list[dict[str, str]], artefact: str, label: str
) -> None:
    rows = [
        r["text"]
        for r in isot_rows
        if r["label"] == label and re.search(artefact, r["text"], re.MULTILINE)
    ]
    assert len(rows) >= 10, f"expected real rows carrying {artefact!r}"
    left = [t for t in rows if re.search(artefact, scrub(t), re.IGNORECASE | re.MULTILINE)]
    assert left == [], f"{len(left)} of {len(rows)} rows keep {artefact!r}"


def test_no_reuters_token_survives_in_either_form(isot_rows: list[dict[str, str]]) -> None:
    real = [r["text"] for r in isot_rows if r["label"] == "real"][:500]
    for text in real:
        assert "reuters" not in scrub(text).lower()
        assert "reuters" not in scrub(normalize(text)).split()
        assert "reuters" not in prepare(text).split()


def test_dateline_removed_with_its_city() -> None:
    assert scrub("WASHINGTON (Reuters) - The Senate voted.") == "The Senate voted."
    assert scrub("SACRAMENTO, Calif. (Reuters) - The election") == "The election"
    assert scrub("BEIJING/SEOUL (Reuters) - North Korea") == "North Korea"
    assert prepare("washington  reuters    the senate voted ") == "the senate voted"


def test_trailing_boilerplate_only_at_the_end() -> None:
    text = "Read more about it in our report. The vote passed.\nRead more: Daily Caller"
    out = scrub(text)
    assert out.startswith("Read more about it in our report. The vote passed.")
    assert "Daily Caller" not in out


def test_credit_lines_and_handles() -> None:
    text = (
        "The president tweeted again @realDonaldTrump pic.twitter.com/AbC123 see "
        "https://t.co/xyz.\nPhoto by Chip Somodevilla/Getty Images.\n"
        "Featured image via Alex Wong/Getty Images"
    )
    out = scrub(text)
    for gone in ("@realDonaldTrump", "pic.twitter", "https://", "Getty", "Featured", "Somodevilla"):
        assert gone not in out
    assert out.startswith("The president tweeted again")


def test_seed_keeps_its_form_and_loses_reuters() -> None:
    if not SEED.exists():
        pytest.skip(f"seed not found at {SEED}")
    seed = SEED.read_text(encoding="ascii")
    out = scrub(seed)
    assert is_normalized(out)
    assert "reuters" not in out.split()
    assert "californians dreaming" in " ".join(out.split())
    assert prepare(seed).startswith("the election of republican businessman donald trump")


def test_raw_and_normalized_input_prepare_alike(isot_rows: list[dict[str, str]]) -> None:
    """URLs and @handles cannot be told apart once normalized; everything else must agree."""
    clean = [
        r["text"]
        for r in isot_rows
        if r["text"].strip() and not re.search(r"@|https?:|www\.|pic\.twitter|&\w+;", r["text"])
    ]
    same = sum(prepare(t) == prepare(normalize(t)) for t in clean)
    assert len(clean) > 4000
    assert same / len(clean) >= 0.97, f"only {same} of {len(clean)} agree"


def test_every_pattern_is_documented() -> None:
    for pattern in (*RAW_PATTERNS, *NORMALIZED_PATTERNS):
        assert pattern.name and len(pattern.doc) > 10


@given(st.text())
def test_scrub_never_crashes_and_keeps_seed_form(text: str) -> None:
    out = scrub(text)
    assert isinstance(out, str)
    norm = normalize(text)
    assert is_normalized(scrub(norm))
    assert is_normalized(prepare(text))
    assert "  " not in prepare(text)


# Boilerplate found by `veracity audit` on the health sets: (dataset, what must not survive
# `prepare` in any row, rows that carry it before scrubbing at least)
HEALTH_BOILERPLATE = [
    ("coaid_news", "statistics are based on publicly available", 400),
    ("coaid_news", "visit our coronavirus hub", 200),
    ("coaid_news", "what your doctor is reading on medscape", 200),
    ("fakehealth_healthstory", "healthday reporter", 150),
    ("fakehealth_healthstory", "healthday news", 150),
    ("fakehealth_healthstory", "en espa ol", 100),
]


@pytest.fixture(scope="module")
def health_texts() -> dict[str, list[str]]:
    """Title + text of every row of the two health sets (skips without the shared data)."""
    out = {}
    for name in ("coaid_news", "fakehealth_healthstory"):
        path = ROOT.parent / "shared" / "datasets" / name / "data.csv.gz"
        if not path.exists():
            pytest.skip(f"{name} not found at {path}")
        with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
            out[name] = [f"{r['title']}\n\n{r['text']}" for r in csv.DictReader(fh)]
    return out


@pytest.mark.parametrize(("name", "phrase", "at_least"), HEALTH_BOILERPLATE)
def test_health_site_boilerplate_is_removed_from_every_row(
    health_texts: dict[str, list[str]], name: str, phrase: str, at_least: int
) -> None:
    head = phrase.split()[0]
    carriers = [
        t
        for t in health_texts[name]
        if head in t.casefold() and phrase in " ".join(normalize(t).split())
    ]
    assert len(carriers) >= at_least
    survivors = [t[:80] for t in carriers if phrase in prepare(t)]
    assert survivors == []
    # the seed form of the same rows is scrubbed the same way
    assert not [t[:80] for t in carriers if phrase in prepare(normalize(t))]
