"""Plain records and how a probability is shown to a person."""

from __future__ import annotations

import pytest

from veracity.types import SCOPE, format_probability


@pytest.mark.parametrize(
    ("p", "shown"),
    [
        (0.0, "<1%"),
        (0.0003, "<1%"),
        (0.0099, "<1%"),
        (0.01, "1%"),
        (0.014, "1%"),
        (0.5, "50%"),
        (0.734, "73%"),
        (0.99, "99%"),
        (0.9951, ">99%"),
        (0.9999, ">99%"),
        (1.0, ">99%"),
    ],
)
def test_probabilities_are_never_shown_as_certain(p: float, shown: str) -> None:
    assert format_probability(p) == shown


def test_scope_says_what_veracity_cannot_judge() -> None:
    assert "how a text is written" in SCOPE
    assert "whether the facts" in SCOPE and "cannot" in SCOPE


def test_readme_says_it_in_the_same_words() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert SCOPE in " ".join(readme.replace("**What it judges:** ", "").split())


def test_to_dict_is_asdict_with_the_verdict() -> None:
    """The hand-written to_dict methods give what dataclasses.asdict gives, key order too."""
    from dataclasses import asdict

    from veracity.types import Evidence, Verdict

    evidence = [
        Evidence("vaccine hoax", 0.75, "fake", "phrase", 3, 15, 2),
        Evidence("exclamation marks: 4", -0.5, "reliable", "signal"),
    ]
    for e in evidence:
        assert list(e.to_dict().items()) == list(asdict(e).items())
    verdict = Verdict("fake", 0.9, True, evidence, "why", "normalized", "m-1", 0.2)
    expected = {**asdict(verdict), "verdict": "not sure"}
    assert list(verdict.to_dict().items()) == list(expected.items())
