"""Spreadsheet-formula escaping (OWASP CSV injection): escaped cells never start a
formula, and unescaping gives back exactly the original cell."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from veracity.text import escape_formula, unescape_formula
from veracity.text.formulas import FORMULA_TRIGGERS


@pytest.mark.parametrize(
    ("cell", "escaped"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("'=1", "''=1"),
        ("'", "''"),
        ("plain", "plain"),
        ("a=1", "a=1"),
        ("", ""),
    ],
)
def test_escape(cell: str, escaped: str) -> None:
    assert escape_formula(cell) == escaped
    assert unescape_formula(escaped) == cell


@given(st.text(alphabet=st.sampled_from([*FORMULA_TRIGGERS, "'", "a", " ", "\n"])) | st.text())
def test_round_trip_and_never_a_formula(cell: str) -> None:
    escaped = escape_formula(cell)
    assert not escaped.startswith(FORMULA_TRIGGERS)
    assert unescape_formula(escaped) == cell
