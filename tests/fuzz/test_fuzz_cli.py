"""`veracity check` and `veracity evaluate` on hostile input: exit 0, 2 or 3, no traceback.

A small model is trained once (seconds) so each run loads quickly; the inputs are fuzzed
text arguments, fuzzed files for ``--file`` and fuzzed dataset files for ``--data``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from fuzz.strategies import ANY_TEXT, TEXT, delimited, file_bytes, json_records, well_formed
from synthetic import FAST_PARAMS, synthetic_frame
from veracity.cli import app
from veracity.models import make_model
from veracity.models.artifact import ModelCard, save_model

FUZZ = settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    frame = synthetic_frame("fuzz", ["market", "school"], n_per_class=20, seed=0, flip=None)
    model: Any = make_model("tfidf-lr.v1", random_state=0, **FAST_PARAMS)
    model.fit(frame["text"].tolist(), frame["label"].tolist())
    card = ModelCard.create(preset="tfidf-lr.v1", params=FAST_PARAMS, labels=model.classes_)
    return save_model(model, tmp_path_factory.mktemp("fuzz-model"), card)


def assert_clean_exit(result: Result, allowed: tuple[int, ...] = (0, 2)) -> None:
    """A documented exit code, and an error is one line on stderr, not a traceback."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert result.exit_code in allowed, (result.exit_code, result.output[-500:])
    assert "Traceback" not in result.output
    if result.exit_code != 0:
        assert result.stderr.startswith("error:"), result.stderr[:300]


@FUZZ
@given(text=ANY_TEXT, as_json=st.booleans())
def test_check_text_argument(model_dir: Path, text: str, as_json: bool) -> None:
    args = ["check", "--model", str(model_dir), *(["--json"] if as_json else []), "--", text]
    assert_clean_exit(CliRunner().invoke(app, args))


@FUZZ
@given(content=file_bytes(ANY_TEXT))
def test_check_file(model_dir: Path, content: bytes) -> None:
    with tempfile.TemporaryDirectory() as where:
        path = Path(where) / "article.txt"
        path.write_bytes(content)
        result = CliRunner().invoke(app, ["check", "--model", str(model_dir), "--file", str(path)])
    assert_clean_exit(result)


@settings(FUZZ, max_examples=15)  # two CLI runs per example, each with bootstrap intervals
@given(data=st.data(), suffix=st.sampled_from([".csv", ".tsv", ".jsonl", ".json", ".csv.gz"]))
def test_evaluate_and_robustness_on_a_fuzzed_file(
    model_dir: Path, data: st.DataObject, suffix: str
) -> None:
    sep = "\t" if suffix == ".tsv" else ","
    if suffix.startswith(".json"):
        text = json_records()
    else:
        text = st.one_of(delimited(sep=sep), well_formed(["id", "text", "label"], sep=sep))
    content = data.draw(file_bytes(text, gz=suffix.endswith(".gz")))
    extra = data.draw(
        st.sampled_from([[], ["--text-col", "text"], ["--positive", "1"], ["--label-col", "x"]])
    )
    with tempfile.TemporaryDirectory() as where:
        path = Path(where) / f"news{suffix}"
        path.write_bytes(content)
        base = ["--model", str(model_dir), "--data", str(path), *extra]
        assert_clean_exit(CliRunner().invoke(app, ["evaluate", *base, "--json"]))
        assert_clean_exit(CliRunner().invoke(app, ["robustness", *base, "--limit", "5"]))


@FUZZ
@given(name=TEXT)
def test_dataset_names_and_columns(model_dir: Path, name: str) -> None:
    """A fuzzed dataset name or column option is an input error (or, rarely, a real file)."""
    result = CliRunner().invoke(
        app, ["evaluate", "--model", str(model_dir), "--data", name, "--text-col", name]
    )
    assert_clean_exit(result)


# -- what the fuzzers found, kept as plain regression tests --------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["evaluate", "--data", "a" * 300 + ".csv"],  # OSError: file name too long
        ["evaluate", "--data", "~no-such-user-xyz/news.csv"],  # RuntimeError from expanduser
        ["check", "--file", "b" * 300],
        ["robustness", "--data", "~no-such-user-xyz/news.csv"],
    ],
)
def test_unusable_paths_exit_2(model_dir: Path, args: list[str]) -> None:
    result = CliRunner().invoke(app, [*args, "--model", str(model_dir)])
    assert_clean_exit(result, allowed=(2,))


def test_markup_in_an_error_message_is_printed_as_text(model_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "news.csv"
    path.write_text("text,label\nsome words,fake\n", encoding="utf-8")
    args = ["evaluate", "--model", str(model_dir), "--data", str(path), "--text-col", "[/bold]"]
    result = CliRunner().invoke(app, args)
    assert_clean_exit(result, allowed=(2,))
    assert "'[/bold]'" in result.stderr


def test_a_file_whose_rows_have_no_text_exits_2(model_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("id,text,label\n1,,fake\n2, ,real\n", encoding="utf-8")
    for command in ("evaluate", "robustness"):
        result = CliRunner().invoke(app, [command, "--model", str(model_dir), "-d", str(path)])
        assert_clean_exit(result, allowed=(2,))
        assert "none of its 2 rows has a title or a text" in result.stderr
