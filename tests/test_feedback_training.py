"""Feedback → training: `veracity feedback export`, then `veracity train --with-feedback`."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text as sql_text
from typer.testing import CliRunner

from veracity.cli import app
from veracity.errors import InputError
from veracity.settings import Settings
from veracity.store.migrate import make_engine, upgrade
from veracity.store.repository import add_check, add_feedback, sessions
from veracity.training import FEEDBACK, feedback_dataset
from veracity.types import Verdict

runner = CliRunner()
FAKE_WORDS = "shocking unbelievable secret exposed hiding share deleted outrage destroy".split()
REAL_WORDS = "committee said tuesday budget proposal reviewed month officials vote".split()
COMMON = "the a of to and in on for with that this it".split()


def _body(rng: random.Random, words: list[str]) -> str:
    return " ".join(rng.choice(words + COMMON) for _ in range(40))


def _tiny_csv(path: Path, n: int = 40) -> Path:
    rng = random.Random(0)
    rows = [
        {
            "body": _body(rng, FAKE_WORDS if i % 2 else REAL_WORDS),
            "class": "FAKE" if i % 2 else "REAL",
        }
        for i in range(n)
    ]
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A migrated SQLite file with three checks: two with usable feedback, one without."""
    url = f"sqlite:///{tmp_path / 'feedback.db'}"
    monkeypatch.setenv("VERACITY_DATABASE_URL", url)
    upgrade(url)
    rng = random.Random(1)
    engine = make_engine(url)
    with sessions(engine)() as session:
        wrong = add_check(
            session, _body(rng, FAKE_WORDS), Verdict("reliable", 0.2, False, model_id="m")
        )
        add_feedback(session, wrong.id, agree=False, correct_label="fake")
        right = add_check(
            session, _body(rng, REAL_WORDS), Verdict("reliable", 0.1, False, model_id="m")
        )
        add_feedback(session, right.id, agree=True)
        add_check(session, _body(rng, REAL_WORDS), Verdict("reliable", 0.1, False, model_id="m"))
    engine.dispose()
    return url


def test_export_then_train_with_feedback(database: str, tmp_path: Path) -> None:
    exported = tmp_path / "feedback.csv"
    result = runner.invoke(app, ["feedback", "export", str(exported)])
    assert result.exit_code == 0, result.output
    assert "wrote 2 rows" in result.output
    frame = pd.read_csv(exported, keep_default_na=False)
    assert list(frame.columns) == ["id", "title", "text", "label"]
    assert frame["label"].tolist() == ["fake", "reliable"]

    data = _tiny_csv(tmp_path / "tiny.csv")
    out_dir = tmp_path / "model"
    result = runner.invoke(
        app,
        [
            "train",
            "--data",
            str(data),
            "--text-col",
            "body",
            "--label-col",
            "class",
            "--with-feedback",
            str(exported),
            "--out",
            str(out_dir),
            "--test-size",
            "0.25",
        ],
    )
    assert result.exit_code == 0, result.output
    card = json.loads((out_dir / "card.json").read_text(encoding="utf-8"))
    sources = {d["name"]: d["rows"] for d in card["training_data"]}
    assert sources == {"tiny": 40, FEEDBACK: 2}
    assert card["rows"]["loaded"] == 42


def test_feedback_dataset_merges_files_last_export_wins(tmp_path: Path) -> None:
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    pd.DataFrame(
        {
            "id": ["check-1", "check-2"],
            "title": ["", ""],
            "text": ["one", "two"],
            "label": ["fake", "reliable"],
        }
    ).to_csv(first, index=False)
    pd.DataFrame(
        {
            "id": ["check-2", "check-3"],
            "title": ["", ""],
            "text": ["two", "three"],
            "label": ["fake", "fake"],
        }
    ).to_csv(second, index=False)
    ds = feedback_dataset([first, second], settings=Settings())
    assert ds.name == FEEDBACK and ds.labelled and len(ds.sources) == 2
    assert dict(zip(ds.frame["id"], ds.frame["label"], strict=True)) == {
        "check-1": "fake",
        "check-2": "fake",
        "check-3": "fake",
    }


def test_feedback_file_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="--with-feedback"):
        feedback_dataset([], settings=Settings())
    unlabelled = tmp_path / "x.csv"
    pd.DataFrame({"id": ["1"], "text": ["words"]}).to_csv(unlabelled, index=False)
    with pytest.raises(InputError, match="label"):
        feedback_dataset([unlabelled], settings=Settings())
    result = runner.invoke(
        app,
        [
            "train",
            "--data",
            str(unlabelled),
            "--with-feedback",
            str(tmp_path / "none.csv"),
            "--out",
            str(tmp_path / "m"),
        ],
    )
    assert result.exit_code == 2 and "none.csv" in result.output


def test_control_characters_and_formulas_survive_export_and_training(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """#13: a stored NUL made the export unreadable to `train --with-feedback`, and
    formula texts were written as formulas. Rows stored before the API refused
    control characters export with spaces instead; formulas are escaped in the CSV
    and read back by the training as the original text."""
    url = f"sqlite:///{tmp_path / 'feedback.db'}"
    monkeypatch.setenv("VERACITY_DATABASE_URL", url)
    upgrade(url)
    rng = random.Random(2)
    nul = f"{_body(rng, FAKE_WORDS)} \x00\x1b {_body(rng, FAKE_WORDS)}"
    formulas = [
        f'=HYPERLINK("http://x","click") {_body(rng, REAL_WORDS)}',
        f"+{_body(rng, FAKE_WORDS)}",
        f"-{_body(rng, REAL_WORDS)}",
        f"@{_body(rng, FAKE_WORDS)}",
        f"\t={_body(rng, REAL_WORDS)}",
        f"'={_body(rng, FAKE_WORDS)}",
        f"'{_body(rng, REAL_WORDS)}",
    ]
    engine = make_engine(url)
    with sessions(engine)() as session:
        for i, text in enumerate([nul.replace("\x00", "~"), *formulas]):
            check = add_check(session, text, Verdict("reliable", 0.2, False, model_id="m"))
            add_feedback(session, check.id, agree=bool(i % 2))
        # add_check now refuses a NUL; a row stored by an older version still holds one
        session.execute(sql_text("UPDATE checks SET text = :t WHERE id = 1"), {"t": nul})
        session.commit()
    engine.dispose()

    exported = tmp_path / "feedback.csv"
    result = runner.invoke(app, ["feedback", "export", str(exported)])
    assert result.exit_code == 0, result.output
    raw = exported.read_bytes()
    assert b"\x00" not in raw and b"\x1b" not in raw
    assert b'"\'=HYPERLINK(""http://x""' in raw  # escaped in the file

    loaded = feedback_dataset([exported], settings=Settings())
    assert loaded.frame["text"].tolist() == [
        nul.replace("\x00", " ").replace("\x1b", " "),
        *formulas,
    ]

    data = _tiny_csv(tmp_path / "tiny.csv")
    result = runner.invoke(
        app,
        [
            "train",
            "--data",
            str(data),
            "--text-col",
            "body",
            "--label-col",
            "class",
            "--with-feedback",
            str(exported),
            "--out",
            str(tmp_path / "model"),
            "--test-size",
            "0.25",
        ],
    )
    assert result.exit_code == 0, result.output
    card = json.loads((tmp_path / "model" / "card.json").read_text(encoding="utf-8"))
    assert {d["name"]: d["rows"] for d in card["training_data"]} == {"tiny": 40, FEEDBACK: 8}
