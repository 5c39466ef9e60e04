"""Every CLI command, option and setting is documented in README.md; CI runs README's command."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer.main

from veracity.cli import app
from veracity.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands() -> dict[str, Any]:
    group = typer.main.get_command(app)
    commands: dict[str, Any] = dict(getattr(group, "commands", {}))
    assert len(commands) >= 4, "the CLI lost its commands"
    return commands


def test_every_command_is_documented() -> None:
    for name in _commands():
        assert f"veracity {name}" in README, f"`veracity {name}` is not in README.md"


def test_every_option_is_documented() -> None:
    for name, command in _commands().items():
        for param in command.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("--") and opt != "--help":
                    assert opt in README, f"option {opt} of `veracity {name}` is not in README.md"


def test_every_setting_is_documented() -> None:
    for field in Settings.model_fields:
        var = f"VERACITY_{field.upper()}"
        assert var in README, f"setting {var} is not in README.md"


def test_quick_start_is_two_commands_and_ci_runs_the_second() -> None:
    quick = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```(?:bash|sh)\n(.*?)```", quick, re.S)
    assert block, "no code block in the quick start"
    commands = [ln for ln in block.group(1).splitlines() if ln.strip() and not ln.startswith("#")]
    assert len(commands) == 2, commands
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "CI runs this exact line" in ci
    marker = block.group(1).split("CI runs this exact line", 1)[1]
    test_cmd = next(ln for ln in marker.splitlines() if re.match(r"^[a-z]", ln))
    assert test_cmd == commands[1]
    assert "pytest" in test_cmd


def test_every_http_route_is_documented(tmp_path: Path) -> None:
    from veracity.serve.app import create_app

    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'routes.db'}"))
    paths = [*sorted(app.openapi()["paths"]), "/history", "/model", "/docs"]
    assert "/v1/check" in paths
    for path in paths:
        pattern = re.escape(path).replace(r"\{", "{").replace(r"\}", "}")
        pattern = re.sub(r"\{[^}]+\}", r"\\{[^}]+\\}", pattern)
        assert re.search(f"`[A-Z ]*{pattern}`", README), f"route {path} is not in README.md"
