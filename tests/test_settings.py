"""A VERACITY_* value that is not allowed is one line naming the variable, exit 2 (#13).

Before, pydantic's multi-line ValidationError escaped as a traceback with exit code 1.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from veracity.cli import app
from veracity.errors import InputError, SettingsError
from veracity.settings import Settings

runner = CliRunner()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "VERACITY_ABSTAIN_LOW",
            "abc",
            "VERACITY_ABSTAIN_LOW='abc' is not allowed: use a number from 0 to 1",
        ),
        (
            "VERACITY_EVIDENCE_TERMS",
            "1000",
            "VERACITY_EVIDENCE_TERMS='1000' is not allowed: use a whole number from 0 to 100",
        ),
        (
            "VERACITY_SEED",
            "-1",
            "VERACITY_SEED='-1' is not allowed: use a whole number from 0 to 4294967295",
        ),
        (
            "VERACITY_MAX_FILE_BYTES",
            "0",
            "VERACITY_MAX_FILE_BYTES='0' is not allowed: use a whole number, above 0",
        ),
        (
            "VERACITY_REQUEST_TIMEOUT_SECONDS",
            "inf",
            "VERACITY_REQUEST_TIMEOUT_SECONDS='inf' is not allowed: use a number, above 0 "
            "and at most 86400",
        ),
        (
            "VERACITY_REQUIRE_API_KEY",
            "maybe",
            "VERACITY_REQUIRE_API_KEY='maybe' is not allowed: use true or false",
        ),
    ],
)
def test_a_bad_value_names_the_variable_and_what_it_allows(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as info:
        Settings()
    assert str(info.value) == message
    assert isinstance(info.value, InputError) and info.value.exit_code == 2


def test_an_inverted_band_names_both_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERACITY_ABSTAIN_LOW", "0.9")
    with pytest.raises(SettingsError, match=r"^VERACITY_ABSTAIN_LOW \(0\.9\) must not exceed "):
        Settings()
    with pytest.raises(SettingsError, match=r"VERACITY_ABSTAIN_HIGH \(0\.2\)"):
        Settings(abstain_low=0.3, abstain_high=0.2)


def test_a_long_value_is_cut_and_every_problem_is_on_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VERACITY_MIN_WORDS", "9" * 5000 + "x")
    monkeypatch.setenv("VERACITY_ABSTAIN_HIGH", "high")
    with pytest.raises(SettingsError) as info:
        Settings()
    message = str(info.value)
    assert "\n" not in message and len(message) < 300
    assert "VERACITY_MIN_WORDS=" in message and "VERACITY_ABSTAIN_HIGH='high'" in message


def test_the_database_url_is_never_repeated(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SettingsError) as info:
        Settings(database_url=["postgresql://u:secret@h/db"])  # type: ignore[arg-type]
    assert "secret" not in str(info.value) and "VERACITY_DATABASE_URL is not" in str(info.value)


def test_values_at_the_edges_are_allowed() -> None:
    settings = Settings(abstain_low=0.5, abstain_high=0.5, seed=2**32 - 1, evidence_terms=100)
    assert settings.abstain_low == settings.abstain_high == 0.5
    assert Settings(seed=0).seed == 0


# -- every command ---------------------------------------------------------------------

#: Arguments that get each command past option parsing to the point it reads settings.
ARGS: dict[str, list[str]] = {
    "check": ["check", "some text to check"],
    "train": ["train", "--data", "{tmp}/data.csv", "--out", "{tmp}/model"],
    "evaluate": ["evaluate", "--data", "{tmp}/data.csv"],
    "report": ["report", "--data", "{tmp}/data.csv"],
    "audit": ["audit", "{tmp}/data.csv"],
    "robustness": ["robustness", "--data", "{tmp}/data.csv"],
    "serve": ["serve", "--port", "8765"],
    "batch": ["batch", "--input", "{tmp}/data.csv", "--output", "{tmp}/out"],
    "db upgrade": ["db", "upgrade"],
    "feedback export": ["feedback", "export", "{tmp}/feedback.csv"],
    "keys create": ["keys", "create", "ci"],
    "keys list": ["keys", "list"],
    "keys revoke": ["keys", "revoke", "ci"],
}


def _command_names() -> list[str]:
    names: list[str] = []

    def walk(group: object, prefix: list[str]) -> None:
        for name, command in getattr(group, "commands", {}).items():
            if hasattr(command, "commands"):
                walk(command, [*prefix, name])
            else:
                names.append(" ".join([*prefix, name]))

    walk(typer.main.get_command(app), [])
    return names


def test_every_command_that_reads_settings_is_covered() -> None:
    assert set(_command_names()) - {"version"} == set(ARGS)


@pytest.mark.parametrize("command", sorted(ARGS))
@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("VERACITY_ABSTAIN_LOW", "abc"),
        ("VERACITY_ABSTAIN_LOW", "0.9"),  # above VERACITY_ABSTAIN_HIGH (0.65)
        ("VERACITY_EVIDENCE_TERMS", "1000"),
    ],
)
def test_every_command_refuses_a_bad_setting_in_one_line_with_exit_2(
    command: str,
    name: str,
    value: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # nothing may be written where the tests run
    monkeypatch.setenv(name, value)
    monkeypatch.setenv("VERACITY_DATABASE_URL", f"sqlite:///{tmp_path / 'never.db'}")
    monkeypatch.setattr(
        "veracity.serve.server.run", lambda *a, **k: pytest.fail("serve started anyway")
    )
    args = [arg.replace("{tmp}", str(tmp_path)) for arg in ARGS[command]]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and name in lines[0]
    assert not (tmp_path / "never.db").exists()
