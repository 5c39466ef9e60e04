"""Where a benchmark result came from: the commit it ran at and whether the tree was clean."""

from __future__ import annotations

import subprocess
from typing import Any


def commit() -> dict[str, Any]:
    """``{"commit": HEAD's sha, "dirty": whether the work tree has changes}``."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], capture_output=True, text=True).stdout.strip()

    return {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain"))}
