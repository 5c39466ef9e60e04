"""The common article layout shared by fakenewsamt, celebrity and random_political.

Each dataset is a folder with ``data.csv.gz``: a UTF-8 CSV with columns
``id,title,text,label,source_dataset`` where ``label`` is ``real`` or ``fake``.
"""

from __future__ import annotations

from pathlib import Path

from veracity.data._io import parse_delimited, read_raw, require_columns
from veracity.data.dataset import Dataset, SourceFile, finalize_frame
from veracity.data.labels import map_labels
from veracity.settings import Settings
from veracity.types import FAKE, RELIABLE

__all__ = ["ARTICLE_COLUMNS", "ARTICLE_FILES", "find_articles_file", "load_articles"]

#: Columns of the common layout.
ARTICLE_COLUMNS: tuple[str, ...] = ("id", "title", "text", "label", "source_dataset")
#: File names the common layout may use inside its folder, in order of preference.
ARTICLE_FILES: tuple[str, ...] = ("data.csv.gz", "data.csv")

_LABELS = {"real": RELIABLE, "fake": FAKE}


def find_articles_file(directory: Path) -> Path | None:
    """The ``data.csv.gz`` (or ``data.csv``) in ``directory``, or None."""
    for name in ARTICLE_FILES:
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None


def load_articles(path: Path, *, settings: Settings, name: str | None = None) -> Dataset:
    """Load one dataset in the common layout.

    Parameters
    ----------
    path : Path
        The dataset folder (holding ``data.csv.gz``) or the CSV file itself.
    settings : Settings
        For the file size limit.
    name : str, optional
        The dataset's name; the folder name by default.

    Returns
    -------
    Dataset
        Kind ``"article"``, with the ``source_dataset`` column kept.

    Raises
    ------
    DataFormatError
        No data file, an unreadable file, a missing column or labels other than real/fake.
    """
    path = path.expanduser().absolute()
    file = (find_articles_file(path) or path / ARTICLE_FILES[0]) if path.is_dir() else path
    raw = read_raw(file, settings)
    frame = parse_delimited(raw)
    require_columns(
        raw.path,
        frame,
        ARTICLE_COLUMNS,
        "The common layout is id,title,text,label,source_dataset; "
        "for other layouts load the file by path with text_col=/label_col=.",
    )
    labels = map_labels(
        frame["label"].tolist(), where=str(raw.path), column="label", label_map=_LABELS
    )
    out = finalize_frame(
        {
            "id": frame["id"].tolist(),
            "title": frame["title"].tolist(),
            "text": frame["text"].tolist(),
            "label": labels,
            "source_dataset": frame["source_dataset"].tolist(),
        },
        where=str(raw.path),
    )
    dataset_name = name or (path.name if path.is_dir() else path.parent.name)
    return Dataset(dataset_name, out, [SourceFile(str(raw.path), raw.sha256, len(out))], "article")
