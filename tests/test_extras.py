"""Optional extras: a command whose extra is missing says in one line what to install.

A missing package is simulated the way Python sees one: in a fresh interpreter, a
``sys.meta_path`` finder refuses the package's modules before anything imports them,
so ``import fastapi`` raises ModuleNotFoundError and ``importlib.util.find_spec``
finds nothing. Each command then runs for real (``veracity.cli.main``) in that
interpreter; the test reads its exit code and stderr.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from veracity._extras import EXTRAS, hidden, install_command, require
from veracity.errors import MissingExtraError, VeracityError

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT.parent / "shared" / "seed" / "seed_article.txt"

# argv[1]: JSON list of top-level packages to make unimportable (exactly what a missing
# package looks like to an import); then the CLI's argv[2:], or the Python of argv[2].
_BLOCKER = """
import json, sys
from importlib.abc import MetaPathFinder

BLOCKED = set(json.loads(sys.argv[1]))

class Missing(MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
        return None

sys.meta_path.insert(0, Missing())
"""
_BLOCKED_CLI = (
    _BLOCKER
    + """
sys.argv = ["veracity", *sys.argv[2:]]
from veracity.cli import main
main()
"""
)


def _python(code: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``code`` with ``args`` in a fresh interpreter in ``cwd``, without VERACITY_*."""
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env=_env(cwd),
    )


def _without(blocked: list[str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``veracity ARGS`` in a fresh interpreter in which ``blocked`` are not installed."""
    return _python(_BLOCKED_CLI, json.dumps(blocked), *args, cwd=cwd)


def _env(tmp: Path) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("VERACITY_")}
    env["VERACITY_DATABASE_URL"] = f"sqlite:///{tmp / 'veracity.db'}"
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    return env


@pytest.fixture(scope="module")
def labelled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small labelled CSV that train, batch and report accept."""
    path = tmp_path_factory.mktemp("extras") / "news.csv"
    rows = ["id,title,text,label"]
    fake = "shocking secret miracle cure doctors hate exposed hoax scandal outrage".split()
    real = "senate passed budget bill officials said committee vote tuesday report".split()
    for i in range(40):
        label, words = ("fake", fake) if i % 2 else ("reliable", real)
        text = " ".join(words[(i * k) % len(words)] for k in range(1, 9)) + f" item{i}"
        rows.append(f"{i},title {i} {words[i % len(words)]},{text},{label}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


TRAIN = ["train", "-d", "{data}", "-o", "m"]

# (extra, packages made missing, command) — every command that needs an extra.
CASES = [
    ("serve", ["fastapi"], ["serve", "--port", "8765"]),
    ("serve", ["trafilatura"], ["serve", "--port", "8765"]),
    ("serve", ["sqlalchemy"], ["db", "upgrade"]),
    ("serve", ["alembic"], ["keys", "list"]),
    ("serve", ["sqlalchemy"], ["feedback", "export", "out.csv"]),
    ("batch", ["dask", "distributed"], ["batch", "-i", "{data}", "--output", "scored"]),
    ("batch", ["distributed"], [*TRAIN, "--engine", "dask"]),
    ("report", ["matplotlib"], ["report", "-d", "{data}"]),
    ("style", ["lightgbm"], [*TRAIN, "--preset", "style-lgbm.v1"]),
    ("style", ["lightgbm"], [*TRAIN, "--preset", "stack-light.v1"]),
    ("embed", ["sentence_transformers"], [*TRAIN, "--preset", "minilm-lr.v1"]),
    ("embed", ["torch"], [*TRAIN, "--preset", "stack.v1"]),
]


@pytest.mark.parametrize(("extra", "blocked", "command"), CASES, ids=lambda v: str(v))
def test_missing_extra_is_one_line_and_exit_2(
    extra: str, blocked: list[str], command: list[str], labelled: Path, tmp_path: Path
) -> None:
    args = [part.replace("{data}", str(labelled)) for part in command]
    result = _without(blocked, *args, cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    assert f"needs the '{extra}' extra" in lines[0]
    assert install_command(extra) in lines[0]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "m").exists()  # failed before doing any work


def test_the_same_commands_run_when_the_extra_is_there(labelled: Path, tmp_path: Path) -> None:
    """The finder itself is harmless: blocking an unrelated package changes nothing."""
    args = ["train", "-d", str(labelled), "-o", "m", "--preset", "tfidf-lr.v1"]
    args += ["--param", "min_df=1", "--param", "cv=2"]
    result = _without(["lightgbm"], *args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "m" / "card.json").is_file()


# Python callers get the same typed exception (a VeracityError and an ImportError).
_BLOCKED_API = (
    _BLOCKER
    + """
from veracity.errors import MissingExtraError
TEXTS = [f"the senate passed the budget bill {i}" for i in range(6)]
TEXTS += [f"shocking secret miracle cure {i}" for i in range(6)]
LABELS = ["reliable"] * 6 + ["fake"] * 6
try:
    exec(sys.argv[2])
except MissingExtraError as exc:
    print(type(exc).__name__, isinstance(exc, ImportError), exc.exit_code, exc, sep="|")
"""
)

_MAKE = "from veracity.models import make_model; make_model"
API_CASES = [
    ("style", ["lightgbm"], f"{_MAKE}('style-lgbm.v1', cv=2).fit(TEXTS, LABELS)"),
    ("embed", ["torch"], f"{_MAKE}('minilm-lr.v1', cv=2).fit(TEXTS, LABELS)"),
    ("embed", ["torch"], f"{_MAKE}('stack.v1').fit(TEXTS, LABELS)"),
    ("serve", ["fastapi"], "import veracity.serve.app"),
    ("serve", ["sqlalchemy"], "import veracity.store.repository"),
    ("batch", ["dask"], "from veracity.batch import score_files; score_files(['x.csv'], 'o')"),
    ("report", ["matplotlib"], "from veracity.evaluate.report import build_report; build_report()"),
    (
        "style",
        ["lightgbm"],
        "import veracity; veracity.load_model(sys.argv[3])",
    ),
]


@pytest.fixture(scope="module")
def style_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled model's files under a card that names style-lgbm.v1."""
    import shutil

    from veracity.detector import default_model_path

    target = tmp_path_factory.mktemp("style-model") / "model"
    shutil.copytree(default_model_path(), target)
    card = json.loads((target / "card.json").read_text(encoding="utf-8"))
    card["preset"] = "style-lgbm.v1"
    (target / "card.json").write_text(json.dumps(card), encoding="utf-8")
    return target


@pytest.mark.parametrize(("extra", "blocked", "code"), API_CASES, ids=lambda v: str(v)[:40])
def test_python_callers_get_missing_extra_error(
    extra: str, blocked: list[str], code: str, style_model_dir: Path, tmp_path: Path
) -> None:
    result = _python(_BLOCKED_API, json.dumps(blocked), code, str(style_model_dir), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    name, is_import_error, exit_code, message = result.stdout.strip().split("|", 3)
    assert (name, is_import_error, exit_code) == ("MissingExtraError", "True", "2")
    assert f"needs the '{extra}' extra" in message and install_command(extra) in message


def test_require_names_the_extra_and_the_pip_command() -> None:
    with hidden("veracity_no_such_pkg"), pytest.raises(MissingExtraError) as info:
        require("serve", "veracity serve", modules=("veracity_no_such_pkg",))
    message = str(info.value)
    assert message == (
        "veracity serve needs the 'serve' extra, which is not installed (no module named "
        "'veracity_no_such_pkg'): pip install \"veracity[serve]\""
    )
    assert "\n" not in message
    assert isinstance(info.value, VeracityError) and isinstance(info.value, ImportError)
    assert info.value.exit_code == 2


def test_require_passes_when_installed() -> None:
    require("serve", "x", modules=("json",))  # no error


def test_every_extra_is_declared_in_pyproject() -> None:
    import tomllib

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = declared["optional-dependencies"]
    assert set(EXTRAS) <= set(extras)
    everything = "veracity[" + ",".join(EXTRAS) + "]"
    assert extras["all"] == [everything]
    deps = " ".join(declared["dependencies"]).lower()
    for heavy in ("fastapi", "uvicorn", "dask", "distributed", "matplotlib", "lightgbm", "torch"):
        assert heavy not in deps, f"{heavy} must be in an extra, not a core dependency"
    assert "scikit-learn>=1.6" in deps
    assert not any("==" in d for extra in extras.values() for d in extra if "torch" in d)


def test_hidden_leaves_imported_and_later_imports_alone() -> None:
    with hidden("json"):
        import json as again  # already imported: unaffected

        assert again is json
    import importlib.util

    assert importlib.util.find_spec("veracity_no_such_pkg") is None


# --- fast start ---------------------------------------------------------------------

#: What ``veracity check`` must not import: serving, Dask, plotting, LightGBM, the encoder.
NOT_FOR_CHECK = (
    "fastapi",
    "uvicorn",
    "starlette",
    "httpx",
    "sqlalchemy",
    "alembic",
    "jinja2",
    "trafilatura",
    "dask",
    "distributed",
    "matplotlib",
    "lightgbm",
    "torch",
    "sentence_transformers",
    "transformers",
    "pytest",
)

_RUN_THEN_LIST_MODULES = """
import json, sys
{run}
names = {{m.split(".")[0] for m in sys.modules}}
names |= {{".".join(m.split(".")[:2]) for m in sys.modules if m.startswith(("sklearn.", "scipy."))}}
sys.stderr.write("MODULES " + json.dumps(sorted(names)))
"""
_CHECK = """
sys.argv = ["veracity", "check", "--json", "--file", sys.argv[1]]
from veracity.cli import main
try:
    main()
except SystemExit as exc:
    assert not exc.code, exc.code
"""
#: The bundled model is read as arrays (veracity.models.fast): checking it needs none of these.
NOT_FOR_BUNDLED_CHECK = ("sklearn", "skops", "pandas", "scipy.stats", "scipy.optimize")

#: scikit-learn packages that only skops' walk over every estimator would import.
_ONLY_THE_ESTIMATOR_WALK = (
    "sklearn.gaussian_process",
    "sklearn.neural_network",
    "sklearn.semi_supervised",
    "sklearn.kernel_ridge",
    "sklearn.mixture",
)


def _modules_after(run: str, *args: str, cwd: Path) -> set[str]:
    result = _python(_RUN_THEN_LIST_MODULES.format(run=run), *args, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stderr.rsplit("MODULES ", 1)[1]))


def test_check_imports_nothing_it_does_not_use(tmp_path: Path) -> None:
    article = tmp_path / "article.txt"
    article.write_text(
        "WASHINGTON (Reuters) - The Senate passed the budget bill on Tuesday, "
        "officials said, after weeks of talks between the two parties.",
        encoding="utf-8",
    )
    run = _CHECK + "print(json.dumps({'fast': 'veracity.models.fast' in sys.modules}))\n"
    result = _python(_RUN_THEN_LIST_MODULES.format(run=run), str(article), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    printed, _, last = result.stdout.strip().rpartition("\n")
    verdict, used = json.loads(printed), json.loads(last)
    assert verdict["verdict"] in {"reliable", "fake", "not sure"}
    assert verdict["evidence"], "the check ran the model and explained it"
    assert used == {"fast": True}
    loaded = set(json.loads(result.stderr.rsplit("MODULES ", 1)[1]))
    unused = set(NOT_FOR_CHECK) | set(NOT_FOR_BUNDLED_CHECK)
    assert loaded.isdisjoint(unused), sorted(loaded & unused)


def test_loading_through_skops_does_not_walk_every_estimator(tmp_path: Path) -> None:
    run = (
        "from veracity.detector import default_model_path\n"
        "from veracity.models.artifact import load_model\n"
        "model = load_model(default_model_path())\n"
        "assert type(model.estimator).__name__ == 'OffDomainHashingClassifier'\n"
    )
    loaded = _modules_after(run, cwd=tmp_path)
    assert "skops" in loaded and "sklearn" in loaded  # it did go through skops
    assert loaded.isdisjoint(NOT_FOR_CHECK), sorted(loaded & set(NOT_FOR_CHECK))
    walked = loaded & set(_ONLY_THE_ESTIMATOR_WALK)
    assert not walked, f"loading the model walked every scikit-learn estimator: {sorted(walked)}"
