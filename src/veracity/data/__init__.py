"""Datasets: loaders per dataset family, a generic file loader, deduplication, splits, leaks.

Every loader returns a :class:`Dataset` whose ``frame`` has the columns ``id``,
``title``, ``text`` and ``label`` (``"fake"``/``"reliable"``) plus the extra
columns its source has. Bad files raise :class:`veracity.errors.DataFormatError`
with a message naming the file and what to fix.

Examples
--------
>>> from veracity.data import load_dataset, split_dataset  # doctest: +SKIP
>>> liar = load_dataset("liar:train")  # doctest: +SKIP
>>> split = split_dataset(liar.frame, strategy="group", group_col="speaker")  # doctest: +SKIP
"""

from veracity.data.dataset import Dataset, SourceFile
from veracity.data.dedup import DedupResult, deduplicate
from veracity.data.leaks import drop_leaks
from veracity.data.registry import available_datasets, datasets_root, load_dataset
from veracity.data.splits import SplitResult, split_dataset

__all__ = [
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
