"""CSV cells that a spreadsheet will not run as formulas, and reading them back exactly.

Excel, LibreOffice and Google Sheets run a cell starting with ``=``, ``+``, ``-``,
``@``, tab or carriage return as a formula (CSV injection): ``=HYPERLINK(...)`` in a
stored text becomes a link when the export is opened. Following OWASP's advice,
:func:`escape_formula` puts an apostrophe in front of such a cell. It also puts one
in front of a cell that already starts with an apostrophe, so that
:func:`unescape_formula` can undo exactly what was done: every escaped cell starts
with an apostrophe followed by a trigger or another apostrophe, and nothing else does.

>>> escape_formula('=HYPERLINK("http://x")')
'\\'=HYPERLINK("http://x")'
>>> unescape_formula(escape_formula("'quoted")) == "'quoted"
True
"""

from __future__ import annotations

__all__ = ["FORMULA_TRIGGERS", "escape_formula", "unescape_formula"]

#: First characters that make a spreadsheet read a cell as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_ESCAPE = "'"
_ESCAPED = (*FORMULA_TRIGGERS, _ESCAPE)


def escape_formula(cell: str) -> str:
    """``cell`` with an apostrophe in front when it starts with a trigger or an apostrophe."""
    return _ESCAPE + cell if cell.startswith(_ESCAPED) else cell


def unescape_formula(cell: str) -> str:
    """The cell :func:`escape_formula` was given (its leading apostrophe removed)."""
    if cell.startswith(_ESCAPE) and cell[1:].startswith(_ESCAPED):
        return cell[1:]
    return cell
