"""Dataset names → loaders, the datasets folder, and loading by name or path.

``load_dataset("liar:test")`` finds ``liar/test.tsv.gz`` under :func:`datasets_root`;
``load_dataset("some/folder")`` recognises the ISOT Kaggle layout, the common
``data.csv.gz`` layout and the LIAR / CONSTRAINT / ISOT-sample folders;
``load_dataset("file.csv")`` uses the generic loader.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from veracity.data.articles import find_articles_file, load_articles
from veracity.data.covid import COVID_SPLITS, find_covid_file, load_covid
from veracity.data.dataset import Dataset
from veracity.data.generic import load_file
from veracity.data.isot import find_kaggle_files, load_isot_kaggle, load_isot_sample
from veracity.data.liar import LIAR_SPLITS, find_liar_file, load_liar
from veracity.errors import DataFormatError, InputError
from veracity.settings import Settings

__all__ = ["NAMES", "available_datasets", "datasets_root", "load_dataset"]

_ISOT_FILE = "isot_sample.csv.gz"


@dataclass(frozen=True)
class _Entry:
    """How to find and load one named dataset inside the datasets folder."""

    splits: tuple[str, ...]
    present: Callable[[Path], bool]
    load: Callable[[Path, str | None, Settings, str], Dataset]


def _load_isot(folder: Path, split: str | None, settings: Settings, name: str) -> Dataset:
    return load_isot_sample(folder / _ISOT_FILE, settings=settings, name=name)


def _load_articles(folder: Path, split: str | None, settings: Settings, name: str) -> Dataset:
    return load_articles(folder, settings=settings, name=name)


def _load_liar(folder: Path, split: str | None, settings: Settings, name: str) -> Dataset:
    return load_liar(
        folder, settings=settings, splits=(split,) if split else LIAR_SPLITS, name=name
    )


def _load_covid(folder: Path, split: str | None, settings: Settings, name: str) -> Dataset:
    splits = (split,) if split else COVID_SPLITS
    return load_covid(folder, settings=settings, splits=splits, name=name)


def _has_articles(folder: Path) -> bool:
    return find_articles_file(folder) is not None


def _has_liar(folder: Path) -> bool:
    return all(find_liar_file(folder, s) for s in LIAR_SPLITS)


def _has_covid(folder: Path) -> bool:
    return all(find_covid_file(folder, s) for s in COVID_SPLITS)


_ENTRIES: Mapping[str, _Entry] = {
    "isot_sample": _Entry((), lambda d: (d / _ISOT_FILE).is_file(), _load_isot),
    "fakenewsamt": _Entry((), _has_articles, _load_articles),
    "celebrity": _Entry((), _has_articles, _load_articles),
    "random_political": _Entry((), _has_articles, _load_articles),
    # The three below also carry a ``site`` column (publisher / platform), which leaks
    # the label (their MANIFESTs); the common-layout loader never keeps it.
    "fakehealth_healthstory": _Entry((), _has_articles, _load_articles),
    "fakespeak_eng": _Entry((), _has_articles, _load_articles),
    "coaid_news": _Entry((), _has_articles, _load_articles),
    "liar": _Entry(LIAR_SPLITS, _has_liar, _load_liar),
    "covid_constraint": _Entry(COVID_SPLITS, _has_covid, _load_covid),
}

#: Every dataset name the registry knows (with ``NAME:SPLIT`` for those with splits).
NAMES: tuple[str, ...] = tuple(
    n for name, e in _ENTRIES.items() for n in (name, *(f"{name}:{s}" for s in e.splits))
)


def _as_path(name: str) -> Path:
    """``name`` as a path (``~`` expanded); DataFormatError when the OS cannot use it."""
    try:
        path = Path(name).expanduser()
        path.exists()  # raises for a name too long for the file system
    except (OSError, RuntimeError) as exc:  # RuntimeError: "~user" with no such user
        reason = getattr(exc, "strerror", None) or str(exc)
        shown = name if len(name) <= 100 else name[:100] + "…"
        raise DataFormatError(
            f"{shown!r} cannot be used as a file name ({reason}); give a dataset name "
            "or an existing path."
        ) from None
    return path


def _candidates(settings: Settings) -> list[Path]:
    if settings.datasets_dir is not None:
        return [Path(settings.datasets_dir).expanduser()]
    return [Path.cwd() / "shared" / "datasets", Path.cwd().parent / "shared" / "datasets"]


def datasets_root(settings: Settings | None = None) -> Path:
    """The folder holding the named datasets.

    ``settings.datasets_dir`` (``VERACITY_DATASETS_DIR``) if set; otherwise the
    first existing of ``./shared/datasets`` and ``../shared/datasets``.

    Raises
    ------
    DataFormatError
        No such folder exists; the message lists the places looked at.
    """
    settings = settings or Settings()
    candidates = _candidates(settings)
    for folder in candidates:
        if folder.is_dir():
            return folder.absolute()
    looked = ", ".join(str(p.absolute()) for p in candidates)
    if settings.datasets_dir is not None:
        raise DataFormatError(
            f"datasets folder {looked} (VERACITY_DATASETS_DIR) does not exist; "
            "fix the setting or unset it."
        )
    raise DataFormatError(
        f"no datasets folder found (looked in {looked}); set VERACITY_DATASETS_DIR to "
        "the folder holding isot_sample, liar, …, or give a file path instead of a name."
    )


def available_datasets(settings: Settings | None = None) -> list[str]:
    """Names of the datasets present on disk (``"liar"``, ``"liar:test"``…), sorted.

    Empty when there is no datasets folder.
    """
    settings = settings or Settings()
    try:
        root = datasets_root(settings)
    except DataFormatError:
        return []
    found: list[str] = []
    for name, entry in _ENTRIES.items():
        if entry.present(root / name):
            found += [name, *(f"{name}:{s}" for s in entry.splits)]
    return sorted(found)


def load_dataset(
    name_or_path: str,
    *,
    text_col: str | None = None,
    title_col: str | None = None,
    label_col: str | None = None,
    id_col: str | None = None,
    positive: str | None = None,
    label_map: Mapping[str, str] | None = None,
    settings: Settings | None = None,
) -> Dataset:
    """Load a dataset by name (``"isot_sample"``, ``"liar:test"``…) or by path.

    Parameters
    ----------
    name_or_path : str
        A name from :data:`NAMES`, or a path: a folder in the ISOT Kaggle layout
        (``True.csv`` + ``Fake.csv``), a folder with ``data.csv.gz`` (common layout),
        a LIAR / CONSTRAINT / ISOT-sample folder, or a CSV/TSV/JSONL/Parquet file.
    text_col, title_col, label_col, id_col : str, optional
        Column names for a file (see :func:`veracity.data.generic.load_file`).
    positive : str, optional
        For a file: the raw label value meaning fake (needed for 0/1 labels).
    label_map : mapping of str to str, optional
        For a file: raw label value → ``"fake"``/``"reliable"``.
    settings : Settings, optional
        Datasets folder and file size limit; ``Settings()`` if not given.

    Returns
    -------
    Dataset

    Raises
    ------
    DataFormatError
        Unknown name, missing datasets folder, or a bad file (the message says what to fix).
    InputTooLargeError
        A file is over ``settings.max_file_bytes``.
    InputError
        Column or label options given for a named dataset or a folder.

    Examples
    --------
    >>> ds = load_dataset("liar:test")  # doctest: +SKIP
    >>> len(ds.frame), ds.kind  # doctest: +SKIP
    (1283, 'claim')
    """
    settings = settings or Settings()
    options = {
        "text_col": text_col,
        "title_col": title_col,
        "label_col": label_col,
        "id_col": id_col,
        "positive": positive,
        "label_map": label_map,
    }
    given = sorted(k for k, v in options.items() if v is not None)
    given_path = _as_path(name_or_path)
    base, _, split = name_or_path.partition(":")
    entry = _ENTRIES.get(base)
    if entry is not None and not given_path.exists():
        _no_options(given, name_or_path)
        if split and split not in entry.splits:
            choices = ", ".join(f"{base}:{s}" for s in entry.splits) or f"only {base}"
            raise DataFormatError(f"{name_or_path!r}: unknown split; choose {choices}.")
        folder = datasets_root(settings) / base
        if not entry.present(folder):
            raise DataFormatError(
                f"dataset {base!r} is not in {folder.parent}: its files are missing from "
                f"{folder}. Available: {', '.join(available_datasets(settings)) or 'none'}."
            )
        return entry.load(folder, split or None, settings, name_or_path)
    path = given_path
    if path.is_dir():
        _no_options(given, name_or_path)
        return _load_folder(path.absolute(), settings)
    if not path.exists() and not path.suffix and "/" not in name_or_path:
        raise DataFormatError(
            f"{name_or_path!r} is neither a dataset name nor an existing path. "
            f"Names: {', '.join(NAMES)}; or give the path to a CSV/TSV/JSONL/Parquet file."
        )
    return load_file(
        path,
        text_col=text_col,
        title_col=title_col,
        label_col=label_col,
        id_col=id_col,
        positive=positive,
        label_map=label_map,
        settings=settings,
    )


def _no_options(given: list[str], what: str) -> None:
    if given:
        raise InputError(
            f"{', '.join(given)} only apply to a single data file, not to {what!r}, "
            "whose columns and labels are known; drop the option(s)."
        )


def _load_folder(folder: Path, settings: Settings) -> Dataset:
    if find_kaggle_files(folder) is not None:
        return load_isot_kaggle(folder, settings=settings)
    if _has_articles(folder):
        return load_articles(folder, settings=settings)
    if (folder / _ISOT_FILE).is_file():
        return load_isot_sample(folder / _ISOT_FILE, settings=settings, name=folder.name)
    if _has_liar(folder):
        return load_liar(folder, settings=settings, name=folder.name)
    if _has_covid(folder):
        return load_covid(folder, settings=settings, name=folder.name)
    raise DataFormatError(
        f"{folder}: is a folder without a known layout. veracity reads folders with "
        "True.csv + Fake.csv (ISOT Kaggle), data.csv.gz (id,title,text,label,source_dataset), "
        "isot_sample.csv.gz, train/valid/test.tsv(.gz) (LIAR) or train/valid/test.csv(.gz) "
        "(CONSTRAINT); for anything else give the path of the data file itself."
    )
