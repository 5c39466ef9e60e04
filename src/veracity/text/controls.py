"""Control characters: the C0 controls other than tab, newline and carriage return.

They are not text. A NUL in particular ends a string in C code: SQLite's ``LIKE``
stops reading its pattern there, and veracity's data loaders refuse files holding
one. The service refuses texts holding any of them (:func:`find_control`); text that
did not come from the client, and rows stored before, get them replaced
(:func:`replace_controls`).

>>> find_control("abc \\x00 def")
4
>>> replace_controls("abc\\x00def\\tok")
'abc def\\tok'
"""

from __future__ import annotations

import re

__all__ = ["CONTROL_CHARACTERS", "describe_control", "find_control", "replace_controls"]

#: U+0000 to U+001F except tab (U+0009), newline (U+000A) and carriage return (U+000D).
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def find_control(text: str) -> int:
    """The index of the first control character in ``text``, or -1 when it has none."""
    found = CONTROL_CHARACTERS.search(text)
    return -1 if found is None else found.start()


def describe_control(text: str, at: int) -> str:
    """``"the control character U+0000 at character 4"``, for error messages."""
    return f"the control character U+{ord(text[at]):04X} at character {at:,}"


def replace_controls(text: str, by: str = " ") -> str:
    """``text`` with every control character replaced by ``by`` (a space keeps words apart)."""
    return CONTROL_CHARACTERS.sub(by, text)
