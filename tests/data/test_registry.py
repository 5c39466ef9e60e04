"""Names, the datasets folder, dispatch by path, and the Dataset record."""

from __future__ import annotations

import gzip
import hashlib
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import veracity.data
from veracity.data import Dataset, SourceFile, available_datasets, datasets_root, load_dataset
from veracity.data.registry import NAMES
from veracity.errors import DataFormatError, InputError
from veracity.settings import Settings

ALL_NAMES = sorted(
    [
        "celebrity",
        "coaid_news",
        "covid_constraint",
        "covid_constraint:test",
        "covid_constraint:train",
        "covid_constraint:valid",
        "fakehealth_healthstory",
        "fakenewsamt",
        "fakespeak_eng",
        "isot_sample",
        "liar",
        "liar:test",
        "liar:train",
        "liar:valid",
        "random_political",
    ]
)


def test_public_names() -> None:
    assert sorted(veracity.data.__all__) == [
        "Dataset",
        "DedupResult",
        "SourceFile",
        "SplitResult",
        "available_datasets",
        "datasets_root",
        "deduplicate",
        "drop_leaks",
        "load_dataset",
        "split_dataset",
    ]
    assert sorted(NAMES) == ALL_NAMES


def test_import_does_no_work() -> None:
    code = (
        "import sys, veracity.data; "
        "print(sorted(m for m in ('datasketch', 'sklearn') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_root_from_settings(tmp_path: Path) -> None:
    assert datasets_root(Settings(datasets_dir=tmp_path)) == tmp_path.absolute()
    missing = tmp_path / "nowhere"
    with pytest.raises(DataFormatError, match=r"nowhere.*VERACITY_DATASETS_DIR.*does not exist"):
        datasets_root(Settings(datasets_dir=missing))


def test_root_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERACITY_DATASETS_DIR", str(tmp_path))
    assert datasets_root() == tmp_path.absolute()


def test_root_from_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    here = tmp_path / "shared" / "datasets"
    here.mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    assert datasets_root(Settings()) == here
    repo = tmp_path / "repo"
    repo.mkdir()
    monkeypatch.chdir(repo)  # ../shared/datasets, as seen from a checkout next to shared/
    assert datasets_root(Settings()).resolve() == here.resolve()


def test_no_root_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a").mkdir()
    monkeypatch.chdir(tmp_path / "a")
    with pytest.raises(DataFormatError) as info:
        datasets_root(Settings())
    message = str(info.value)
    assert str(tmp_path / "a" / "shared" / "datasets") in message
    assert str(tmp_path / "shared" / "datasets") in message
    assert "VERACITY_DATASETS_DIR" in message
    assert available_datasets(Settings()) == []


def test_real_available_datasets(real_settings: Settings) -> None:
    assert available_datasets(real_settings) == ALL_NAMES


def _common(folder: Path, rows: int = 2) -> None:
    folder.mkdir(parents=True)
    frame = pd.DataFrame(
        {
            "id": [f"i{n}" for n in range(rows)],
            "title": ["T"] * rows,
            "text": [f"text {n}" for n in range(rows)],
            "label": ["real", "fake"] * (rows // 2),
            "source_dataset": ["x"] * rows,
        }
    )
    with gzip.open(folder / "data.csv.gz", "wt", encoding="utf-8", newline="") as fh:
        frame.to_csv(fh, index=False)


def test_names_found_in_a_built_root(tmp_path: Path, settings: Settings) -> None:
    _common(tmp_path / "celebrity")
    (tmp_path / "liar").mkdir()
    (tmp_path / "liar" / "train.tsv").write_text("x\n", encoding="utf-8")  # incomplete: absent
    assert available_datasets(settings) == ["celebrity"]
    ds = load_dataset("celebrity", settings=settings)
    assert ds.name == "celebrity"
    assert ds.labels() == ["reliable", "fake"]
    with pytest.raises(DataFormatError, match=r"dataset 'liar' is not in .*Available: celebrity"):
        load_dataset("liar:test", settings=settings)


def test_unknown_name_lists_the_names(settings: Settings) -> None:
    with pytest.raises(DataFormatError, match=r"'isot' is neither a dataset name.*isot_sample"):
        load_dataset("isot", settings=settings)


def test_unknown_split(settings: Settings) -> None:
    with pytest.raises(DataFormatError, match=r"'liar:dev': unknown split; choose liar:train"):
        load_dataset("liar:dev", settings=settings)
    with pytest.raises(DataFormatError, match=r"'celebrity:test': unknown split"):
        load_dataset("celebrity:test", settings=settings)


def test_column_options_do_not_apply_to_names(settings: Settings) -> None:
    with pytest.raises(InputError, match=r"positive, text_col only apply to a single data file"):
        load_dataset("liar", text_col="statement", positive="1", settings=settings)


def test_folder_without_a_layout(tmp_path: Path, settings: Settings) -> None:
    (tmp_path / "stuff").mkdir()
    (tmp_path / "stuff" / "notes.txt").write_text("hello", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"stuff: is a folder without a known layout"):
        load_dataset(str(tmp_path / "stuff"), settings=settings)


def test_path_to_a_missing_file(tmp_path: Path, settings: Settings) -> None:
    with pytest.raises(DataFormatError, match=r"gone\.csv: no such file"):
        load_dataset(str(tmp_path / "gone.csv"), settings=settings)


def test_dataset_sha256_is_over_sorted_source_hashes(tmp_path: Path, settings: Settings) -> None:
    _common(tmp_path / "one")
    ds = load_dataset(str(tmp_path / "one"), settings=settings)
    on_disk = hashlib.sha256((tmp_path / "one" / "data.csv.gz").read_bytes()).hexdigest()
    assert ds.sources == [SourceFile(str(tmp_path / "one" / "data.csv.gz"), on_disk, 2)]
    assert ds.sha256 == hashlib.sha256(on_disk.encode()).hexdigest()
    frame = pd.DataFrame({"id": [], "title": [], "text": [], "label": []})
    a = Dataset("a", frame, [SourceFile("p", "b" * 64, 0), SourceFile("q", "a" * 64, 0)])
    b = Dataset("b", frame, [SourceFile("q", "a" * 64, 0), SourceFile("p", "b" * 64, 0)])
    assert a.sha256 == b.sha256 == hashlib.sha256(("a" * 64 + "\n" + "b" * 64).encode()).hexdigest()
    assert a.sha256 != ds.sha256


def test_real_source_hashes_match_the_files(real_settings: Settings) -> None:
    ds = load_dataset("liar", settings=real_settings)
    for source in ds.sources:
        assert source.sha256 == hashlib.sha256(Path(source.path).read_bytes()).hexdigest()
    assert len({s.sha256 for s in ds.sources}) == 3
    assert load_dataset("liar:test", settings=real_settings).sha256 != ds.sha256


def test_documents(tmp_path: Path, settings: Settings) -> None:
    _common(tmp_path / "docs")
    (doc, _) = load_dataset(str(tmp_path / "docs"), settings=settings).documents()
    assert (doc.id, doc.title, doc.text, doc.label) == ("i0", "T", "text 0", "reliable")
    assert doc.meta == {"source_dataset": "x"}
    assert doc.source == "docs"
