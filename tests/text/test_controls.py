"""Control characters: found, described and replaced; tab, newline and CR are text."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from veracity.text import find_control, replace_controls
from veracity.text.controls import describe_control

CONTROLS = [chr(c) for c in range(0x20) if chr(c) not in "\t\n\r"]


def test_every_c0_control_but_tab_newline_and_cr_is_found() -> None:
    for control in CONTROLS:
        assert find_control(f"ab{control}c") == 2, repr(control)
    assert find_control("tab\there\nnew\r\nline \x7f é \u2028") == -1
    assert describe_control("abc \x00 def", 4) == "the control character U+0000 at character 4"


@given(st.text())
def test_replacing_leaves_no_control_and_keeps_everything_else(text: str) -> None:
    replaced = replace_controls(text)
    assert find_control(replaced) == -1 and len(replaced) == len(text)
    assert [c for c in replaced if c != " "] == [c for c in text if c not in CONTROLS and c != " "]
