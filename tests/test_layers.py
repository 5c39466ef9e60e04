"""Imports flow downward only, as DESIGN.md draws them (checked on the source, with ast).

Every module of ``src/veracity`` belongs to one component; a component may import
itself and the components listed for it in :data:`ALLOWED`, nothing else. Every
import counts: at module level, inside functions and under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "veracity"

#: Module (first part after ``veracity``) → component.
COMPONENT = {
    "text": "text",
    "errors": "base",
    "types": "base",
    "settings": "base",
    "_extras": "base",  # which optional extra a feature needs (imports only errors)
    "data": "data",
    "models": "models",
    "explain": "models",  # per-prediction evidence of the linear models, used by them
    "detector": "detector",
    "training": "training",
    "evaluate": "evaluate",
    "batch": "batch",
    "store": "store",
    "serve": "serve",
    "cli": "cli",
}
_LOW = {"base", "text"}
#: Component → what it may import besides itself (DESIGN.md "Imports flow downward only").
ALLOWED: dict[str, set[str]] = {
    "text": set(),  # text imports nothing of veracity
    "base": set(),
    "data": {"base", "text"},
    "models": {"base", "text"},  # never serve, store, evaluate, cli (nor data)
    "detector": {"models", *_LOW},
    "training": {"models", "data", *_LOW},  # never evaluate
    "evaluate": {"detector", "training", "models", "data", *_LOW},
    "store": {*_LOW},  # knows nothing of HTTP
    "batch": {"evaluate", "detector", "training", "models", "data", *_LOW},
    "serve": {"store", "evaluate", "detector", "training", "models", "data", *_LOW},
    "cli": {"serve", "store", "batch", "evaluate", "detector", "training", "models", "data"} | _LOW,
}
#: (importer, imported module): allowed upward imports, each only inside a function.
LAZY_UPWARD = {
    # DESIGN.md: "batch/ ... (and out-of-core training used by training.py)": the one
    # training entry point runs the Dask engine, imported only when that engine runs.
    ("veracity.training", "veracity.batch.training"),
}
#: Upward imports not removed yet; the test fails when one of them is gone, so the
#: list only shrinks. ``training`` scores its held-out rows for the model card with
#: the evaluation metrics (bootstrap intervals), which live in ``evaluate``.
KNOWN_UPWARD = {
    ("veracity.training", "veracity.evaluate.metrics"),
    ("veracity.training", "veracity.evaluate.run"),
}
#: Pairs of modules that import each other, each lazily in one direction.
KNOWN_MUTUAL = {
    frozenset({"veracity", "veracity.models.artifact"}),  # the facade's lazy save_model
    frozenset({"veracity.models", "veracity.models.ensemble"}),  # a preset factory
    frozenset({"veracity.training", "veracity.batch.training"}),  # the Dask engine
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[str, int, bool]]:
    """``(imported veracity module, line, at module level)`` for every import in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    in_function: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            in_function |= {id(child) for child in ast.walk(node) if child is not node}
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}:{node.lineno}: relative import"
            module = node.module or ""
            # "from veracity.data import leaks" imports a module; "... import drop_leaks" not
            names = [
                f"{module}.{a.name}"
                if (SRC.parent / module.replace(".", "/") / a.name).exists()
                or (SRC.parent / f"{module.replace('.', '/')}/{a.name}.py").exists()
                else module
                for a in node.names
            ]
        found += [
            (name, node.lineno, id(node) not in in_function)
            for name in names
            if name == "veracity" or name.startswith("veracity.")
        ]
    return found


def _graph() -> dict[str, list[tuple[str, int, bool]]]:
    return {_module_name(p): _imports(p) for p in sorted(SRC.rglob("*.py"))}


GRAPH = _graph()


def _component(module: str) -> str | None:
    parts = module.split(".")
    return COMPONENT.get(parts[1]) if len(parts) > 1 else None


def test_every_module_has_a_component() -> None:
    unknown = sorted(m for m in GRAPH if m != "veracity" and _component(m) is None)
    assert not unknown, f"add these to COMPONENT (and DESIGN.md): {unknown}"


def _upward() -> list[tuple[str, str, int, bool]]:
    bad = []
    for module, imports in GRAPH.items():
        source = _component(module)
        if source is None:  # the veracity facade re-exports the public API lazily
            continue
        for target, line, top in imports:
            if target == "veracity":
                continue  # only for __version__, checked below
            dest = _component(target)
            if dest != source and dest not in ALLOWED[source]:
                bad.append((module, target, line, top))
    return bad


def test_imports_flow_downward_only() -> None:
    upward = [
        f"{module}:{line} imports {target}"
        for module, target, line, top in _upward()
        if not ((module, target) in LAZY_UPWARD and not top)
        and (module, target) not in KNOWN_UPWARD
    ]
    assert not upward, "imports that go up the layers of DESIGN.md:\n" + "\n".join(upward)


def test_known_upward_imports_only_shrink() -> None:
    still = {(module, target) for module, target, _, _ in _upward()}
    gone = KNOWN_UPWARD - still
    assert not gone, f"fixed: remove {sorted(gone)} from KNOWN_UPWARD"


def test_lazy_upward_imports_stay_inside_functions() -> None:
    for module, target, line, top in _upward():
        if (module, target) in LAZY_UPWARD:
            assert not top, f"{module}:{line} must import {target} inside the function using it"


def test_the_root_package_is_imported_only_for_its_version() -> None:
    for module, imports in GRAPH.items():
        for target, line, _ in imports:
            if target != "veracity" or module == "veracity":
                continue
            source = (SRC / Path(*module.split(".")[1:])).with_suffix(".py")
            if not source.exists():
                source = SRC / Path(*module.split(".")[1:]) / "__init__.py"
            text = source.read_text(encoding="utf-8").splitlines()[line - 1]
            assert "__version__" in text or text.strip() == "import veracity", (module, line)


def test_no_two_modules_import_each_other() -> None:
    edges = {(module, target) for module, imports in GRAPH.items() for target, _, _ in imports}
    mutual = {frozenset(e) for e in edges if e[0] != e[1] and (e[1], e[0]) in edges}
    assert mutual <= KNOWN_MUTUAL, sorted(map(sorted, mutual - KNOWN_MUTUAL))


@pytest.mark.parametrize(
    ("importer", "forbidden"),
    [
        ("veracity.evaluate.report_tables", "veracity.evaluate.report"),
        ("veracity.data", "veracity.evaluate"),
        ("veracity.models", "veracity.evaluate"),
        ("veracity.training", "veracity.evaluate.crossdata"),
        ("veracity.models", "veracity.serve"),
        ("veracity.models", "veracity.store"),
        ("veracity.models", "veracity.cli"),
    ],
)
def test_named_rules(importer: str, forbidden: str) -> None:
    """The rules the issue names, spelled out (any module under ``importer``)."""
    hits = [
        f"{module}:{line}"
        for module, imports in GRAPH.items()
        if module == importer or module.startswith(importer + ".")
        for target, line, _ in imports
        if target == forbidden or target.startswith(forbidden + ".")
    ]
    assert not hits, f"{forbidden} imported by {hits}"


def test_the_checker_sees_an_upward_import(tmp_path: Path) -> None:
    """The parser finds imports at every level (module, function, TYPE_CHECKING)."""
    path = tmp_path / "m.py"
    path.write_text(
        "from typing import TYPE_CHECKING\n"
        "import veracity.text\n"
        "if TYPE_CHECKING:\n    from veracity.evaluate.report import X\n"
        "def f():\n    from veracity.cli import nothing_here\n",
        encoding="utf-8",
    )
    found = {(name, top) for name, _, top in _imports(path)}
    assert found == {
        ("veracity.text", True),
        ("veracity.evaluate.report", True),
        ("veracity.cli", False),
    }
