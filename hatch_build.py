"""Hatchling build hook: compile ``veracity.text._ngrams`` (C) next to its source.

The extension is scikit-learn's ``HashingVectorizer`` counting, in C, with identical
output (``src/veracity/text/_ngrams.c``). It is built in place, so an editable install uses
it too, and added to the wheel, which is then tagged for this platform. Without a C
compiler the build warns and goes on: veracity falls back to scikit-learn's own hashing
(slower, same numbers). With ``VERACITY_REQUIRE_COMPILED=1`` (CI) a failed build is an
error.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CompileNgrams(BuildHookInterface):  # type: ignore[misc]
    """Builds ``src/veracity/text/_ngrams*.so`` with setuptools' ``build_ext``."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Compile the extension; include it in the wheel (an editable install finds it)."""
        if self.target_name != "wheel":
            return
        root = Path(self.root)
        try:
            built = _compile(root)
        except Exception as exc:  # no compiler or headers: the pure-Python path works
            if os.environ.get("VERACITY_REQUIRE_COMPILED") == "1":
                raise
            print(
                f"warning: veracity.text._ngrams was not compiled ({exc}); veracity will use "
                "scikit-learn's slower hashing",
                file=sys.stderr,
            )
            return
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        if version != "editable":
            build_data["force_include"][str(built)] = f"veracity/text/{built.name}"


def _compile(root: Path) -> Path:
    from setuptools import Distribution, Extension
    from setuptools.command.build_ext import build_ext

    ext = Extension(
        "veracity.text._ngrams",
        sources=["src/veracity/text/_ngrams.c"],
        extra_compile_args=["-O3"] if os.name != "nt" else [],
    )
    dist = Distribution({"name": "veracity", "ext_modules": [ext], "package_dir": {"": "src"}})
    cmd = build_ext(dist)
    cmd.inplace = True
    cwd = os.getcwd()
    os.chdir(root)
    try:
        with tempfile.TemporaryDirectory() as scratch:  # no build/ left in the source tree
            cmd.build_temp = cmd.build_lib = scratch
            cmd.ensure_finalized()
            cmd.run()
            return root / cmd.get_ext_fullpath("veracity.text._ngrams")
    finally:
        os.chdir(cwd)
