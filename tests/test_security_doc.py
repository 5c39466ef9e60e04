"""SECURITY.md names the tests that prove its promises: every named test must exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_promise_names_tests_that_exist() -> None:
    text = (ROOT / "SECURITY.md").read_text(encoding="utf-8")
    promises = text.split("## What is promised", 1)[1].split("## What is not promised", 1)[0]
    rows = [line for line in promises.splitlines() if line.startswith("| **")]
    assert len(rows) >= 20
    for row in rows:
        assert "tests/" in row, f"a promise without its test: {row[:80]}"
    files = set(re.findall(r"`(tests/[\w/]+\.py)", text))
    assert files and all((ROOT / f).is_file() for f in files), sorted(
        f for f in files if not (ROOT / f).is_file()
    )
    sources = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").rglob("*.py"))
    named = set(re.findall(r"::(test_\w+)", text))
    assert named
    missing = sorted(n for n in named if f"def {n}(" not in sources)
    assert missing == []
