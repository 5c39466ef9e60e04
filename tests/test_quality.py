"""House style (ruff lint + format, mypy --strict) is enforced by CI's own steps, not pytest.

``.ci/run`` runs ``ruff check``, ``ruff format --check`` and ``mypy`` as separate, visible
steps before the test suite. These tests pin that, and that CI installs what it promises.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CI = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
COMMANDS = [
    line.strip() for line in CI.splitlines() if line.strip() and not line.strip().startswith("#")
]


def _index(command: str) -> int:
    """Position of the line that is exactly ``command`` (it must be there)."""
    assert command in COMMANDS, f".ci/run does not run {command!r}"
    return COMMANDS.index(command)


def test_ci_runs_lint_format_and_types_as_own_steps_before_the_tests() -> None:
    lint = _index("ruff check src tests bench hatch_build.py")
    fmt = _index("ruff format --check src tests bench hatch_build.py")
    types = _index("mypy")
    tests = _index('bash -c "$test_cmd"')
    assert max(lint, fmt, types) < tests


def test_ci_installs_cpu_torch_before_the_embed_extra() -> None:
    torch = _index("pip install -q torch==2.13.0")
    extras = _index('pip install -q -e ".[test,embed]"')
    assert torch < extras < _index("mypy")


def test_ci_starts_postgres_at_its_hook_before_the_test_command() -> None:
    hook = CI.index("# postgres: started here")
    start = CI.index("if [ -x .ci/start-postgres ]; then . .ci/start-postgres; fi")
    assert hook < start < CI.index('bash -c "$test_cmd"')
    assert re.search(r"need\+=\(postgresql\)", CI) and re.search(r"need\+=\(chromium\)", CI)


def test_pytest_no_longer_runs_ruff_or_mypy() -> None:
    for path in (ROOT / "tests").rglob("*.py"):
        if path.name == "test_quality.py":
            continue
        text = path.read_text(encoding="utf-8")
        assert '"ruff"' not in text and '"mypy"' not in text, path
