"""README.md and docs/ document every command, option, setting and route; CI runs README's command.

The checks read README.md and every page of docs/ together: a thing is documented when it
is in one of them. Links between them must resolve, README.md stays short, and the results
tables are what bench/render_docs.py renders from the committed result files.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import typer.main

from veracity.cli import app
from veracity.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
PAGES = sorted((ROOT / "docs").glob("*.md"))
DOCS = "\n".join([README, *(p.read_text(encoding="utf-8") for p in PAGES)])
#: README says what veracity is and points to docs/; the rest belongs in docs/.
README_MAX_BYTES = 8 * 1024


def _commands() -> dict[str, Any]:
    group = typer.main.get_command(app)
    commands: dict[str, Any] = dict(getattr(group, "commands", {}))
    assert len(commands) >= 4, "the CLI lost its commands"
    return commands


def test_the_docs_pages_exist() -> None:
    names = {p.name for p in PAGES}
    expected = {"user-guide.md", "api.md", "models.md", "evaluation.md", "operations.md"}
    assert expected | {"datasets.md"} <= names


def test_every_command_is_documented() -> None:
    for name in _commands():
        assert f"veracity {name}" in DOCS, f"`veracity {name}` is not in README.md or docs/"


def test_every_option_is_documented() -> None:
    for name, command in _commands().items():
        for param in command.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("--") and opt != "--help":
                    assert opt in DOCS, f"option {opt} of `veracity {name}` is not documented"


def test_every_setting_is_documented() -> None:
    for field in Settings.model_fields:
        var = f"VERACITY_{field.upper()}"
        assert var in DOCS, f"setting {var} is not in README.md or docs/"


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
        assert re.search(f"`[A-Z ]*{pattern}`", DOCS), f"route {path} is not documented"


# -- links ----------------------------------------------------------------------------------

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces → ``-``."""
    text = re.sub(r"<[^>]+>", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(markdown: str) -> set[str]:
    seen: dict[str, int] = {}
    anchors = set()
    for line in _prose(markdown).splitlines():
        match = re.match(r"#{1,6} (.+)", line)
        if match:
            slug = _slug(match.group(1))
            anchors.add(slug if slug not in seen else f"{slug}-{seen[slug]}")
            seen[slug] = seen.get(slug, 0) + 1
    return anchors


def _prose(markdown: str) -> str:
    """``markdown`` without its fenced code blocks (a link there is not a link)."""
    return re.sub(r"^```.*?^```", "", markdown, flags=re.S | re.M)


def _broken_links(path: Path) -> list[str]:
    broken = []
    for target in LINK.findall(_prose(path.read_text(encoding="utf-8"))):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto: …
            continue
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            broken.append(f"{target} (no file {file_part})")
        elif anchor and linked.suffix == ".md":
            if anchor not in _anchors(linked.read_text(encoding="utf-8")):
                broken.append(f"{target} (no heading #{anchor} in {linked.name})")
    return broken


@pytest.mark.parametrize(
    "path",
    [ROOT / "README.md", ROOT / "SECURITY.md", ROOT / "CHANGELOG.md", *PAGES],
    ids=lambda p: p.relative_to(ROOT).as_posix(),
)
def test_every_relative_link_resolves(path: Path) -> None:
    assert _broken_links(path) == []


def test_a_broken_link_or_anchor_is_found(tmp_path: Path) -> None:
    (tmp_path / "b.md").write_text("# Some `code` — here\n", encoding="utf-8")
    page = tmp_path / "a.md"
    page.write_text(
        "[ok](b.md#some-code--here) [gone](c.md) [bad](b.md#nowhere) [web](https://x.org)\n"
        "```\n[in code](nowhere.md)\n```\n",
        encoding="utf-8",
    )
    assert _broken_links(page) == [
        "c.md (no file c.md)",
        "b.md#nowhere (no heading #nowhere in b.md)",
    ]


def test_readme_stays_short() -> None:
    size = len(README.encode("utf-8"))
    assert size <= README_MAX_BYTES, f"README.md is {size} bytes; move detail to docs/"


# -- generated tables -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def render_docs() -> ModuleType:
    path = ROOT / "bench" / "render_docs.py"
    spec = importlib.util.spec_from_file_location("render_docs", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_tables_match_the_committed_results(render_docs: ModuleType) -> None:
    blocks = render_docs.render(ROOT)
    found: list[str] = []
    for path in render_docs.doc_files(ROOT):
        text = path.read_text(encoding="utf-8")
        found += render_docs.block_names(text)
        assert render_docs.apply(text, blocks) == text, (
            f"{path.relative_to(ROOT)} has a generated table that differs from the result "
            "files: run python bench/render_docs.py (never edit a generated table by hand)"
        )
    assert sorted(set(found)) == sorted(blocks), "a generated table is missing from the docs"


def test_a_hand_edited_table_is_caught(render_docs: ModuleType) -> None:
    blocks = render_docs.render(ROOT)
    models = (ROOT / "docs" / "models.md").read_text(encoding="utf-8")
    number = re.search(r"lodo-candidates.*?\| (0\.\d{3}) ", models, re.S)
    assert number, "docs/models.md lost its candidates table"
    edited = models.replace(number.group(1), "0.999", 1)
    assert render_docs.apply(edited, blocks) != edited
    assert render_docs.apply(edited, blocks) == models
