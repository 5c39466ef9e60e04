"""The ``veracity`` command line: a thin face over the library.

Each command parses its options, calls the library and prints with rich. Errors
that veracity raises on purpose become one line on stderr and a non-zero exit
code; nothing prints a traceback. Exit codes (see :mod:`veracity.errors`):

* 0 — done;
* 2 — bad input: an argument, an option, a file, a ``VERACITY_*`` setting, a
  database that cannot be opened or migrated, or an optional extra that is not
  installed (the message says what to ``pip install``);
* 3 — the model cannot be used (missing, tampered, invalid card, over the zip limits);
* 4 — ``veracity serve`` cannot listen on its host and port (e.g. the port is in use);
* 130 — interrupted (Ctrl-C).
"""

from __future__ import annotations

from typing import Annotated

import typer

from veracity import __version__
from veracity.cli._common import app, out

# Importing the command modules registers their commands on ``app``, in this order
# (the order of ``veracity --help``).
# isort: off
from veracity.cli import core  # noqa: F401
from veracity.cli import analysis  # noqa: F401
from veracity.cli import robustness  # noqa: F401
from veracity.cli import service  # noqa: F401
from veracity.cli import batch  # noqa: F401
# isort: on

__all__ = ["app", "main"]


def _print_version(given: bool) -> None:
    """``veracity --version``: print what ``veracity version`` prints, then stop."""
    if given:
        version()
        raise typer.Exit()


@app.callback()
def _options(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print the veracity version and exit.",
            callback=_print_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """Options of ``veracity`` itself, before the command."""


@app.command()
def version() -> None:
    """Print the veracity version."""
    out.print(__version__, highlight=False)


def main() -> None:
    """Entry point of the ``veracity`` console script."""
    app()
