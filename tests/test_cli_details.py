"""Details of the command line (#14): --version, flags shown as flags, clear input errors."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from veracity import __version__
from veracity.cli import app

runner = CliRunner()


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every command and group of the CLI with its path (``("keys", "list")``)."""
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from _commands(sub, (*path, name))


def test_version_option_prints_what_the_version_command_prints() -> None:
    option = runner.invoke(app, ["--version"])
    command = runner.invoke(app, ["version"])
    assert option.exit_code == 0 and command.exit_code == 0
    assert option.stdout == command.stdout == f"{__version__}\n"


def test_version_option_loads_no_model_and_no_heavy_library() -> None:
    code = (
        "import sys\n"
        "from veracity.cli import main\n"
        "sys.argv = ['veracity', '--version']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "heavy = [m for m in ('sklearn', 'skops', 'veracity.detector') if m in sys.modules]\n"
        "print('heavy:', heavy)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.splitlines() == [__version__, "heavy: []"], result.stdout


def test_every_boolean_option_is_a_flag() -> None:
    root = typer.main.get_command(app)
    seen = 0
    for path, command in _commands(root):
        for param in command.params:
            descriptor = getattr(param, "type_descriptor", None)
            if getattr(descriptor, "annotation", None) is bool:
                seen += 1
                assert param.is_flag, f"veracity {' '.join(path)} {param.opts}: not a flag"
    assert seen >= 10, "the walk found too few boolean options"


def test_no_help_shows_a_flag_as_taking_a_value() -> None:
    root = typer.main.get_command(app)
    flags = 0
    for path, _command in _commands(root):
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0, (path, result.output)
        for line in result.stdout.splitlines():
            assert "<bool>" not in line and "BOOLEAN" not in line, (path, line)
            if "--help " in line or "--json " in line:
                flags += 1
                words = line.strip("│ ").split()
                assert words[1] != "<bool>" and not words[1].startswith("<"), (path, line)
        assert "--help" in result.stdout
    assert flags >= 20


def test_check_file_that_is_a_directory(tmp_path: Path) -> None:
    result = runner.invoke(app, ["check", "--file", str(tmp_path)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert f"{tmp_path} is a directory" in lines[0] and "Traceback" not in result.output


def test_over_size_error_points_to_batch(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_bytes(b"word " * 300)
    env = {"VERACITY_MAX_DOCUMENT_BYTES": "1000"}
    for args, given in (
        (["check", "--file", str(big)], None),
        (["check", "-"], big.read_bytes()),
    ):
        result = runner.invoke(app, args, input=given, env=env)
        assert result.exit_code == 2, result.output
        message = " ".join(result.stderr.split())
        assert message.startswith("error:") and "1,000 bytes" in message
        assert "`veracity batch --input FILE --output DIR`" in message
        assert "evaluate" not in message


def test_read_only_commands_make_no_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`keys list` and `feedback export` in a new folder leave no empty database behind."""
    db = tmp_path / "veracity.db"
    env = {"VERACITY_DATABASE_URL": f"sqlite:///{db}"}
    listed = runner.invoke(app, ["keys", "list"], env=env)
    assert listed.exit_code == 0, listed.output
    said = " ".join(listed.stdout.split())
    assert said.startswith("no API keys: there is no database at") and str(db) in said
    for args in (
        ["feedback", "export", str(tmp_path / "out.csv")],
        ["keys", "revoke", "ci-bot"],
        ["keys", "create", "ci-bot"],
    ):
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 2, (args, result.output)
        message = result.stderr.strip()
        assert (
            message.startswith("error: there is no database at") and len(message.splitlines()) == 1
        ), message
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    # the relative default (sqlite:///veracity.db) is the current folder's file
    here = tmp_path / "new"
    here.mkdir()
    monkeypatch.chdir(here)
    assert runner.invoke(app, ["keys", "list"]).exit_code == 0
    assert not (here / "veracity.db").exists()
    # once made, keys list reads it
    assert runner.invoke(app, ["db", "upgrade"], env=env).exit_code == 0
    assert "no API keys; make one" in runner.invoke(app, ["keys", "list"], env=env).stdout
