"""The output folder of ``veracity batch``: it only ever touches files it wrote itself.

A scoring run owns its output folder through a manifest, ``OUTPUT/.veracity-batch.json``,
which lists every file the run writes (``_plan.json``, ``part-NNNNN.parquet``,
``_rejects/part-NNNNN.parquet``, staged gzip inputs in ``_staging/``). A name is added to
the manifest *before* its file is written, so after any interruption every file in the
folder is either listed or a temporary file of a listed one (``.NAME.HEX.tmp``).

:meth:`OutputFolder.open` accepts only a folder that does not exist yet, an empty folder,
or a folder with a manifest that holds nothing but files it lists (and their temporary
files). It refuses a blank name, a file, a folder that holds (or is) an input, and any
folder with a file the manifest does not list, so a run can neither delete nor overwrite
a file it did not write: resuming, removing temporary files and redoing damaged parts
only touch listed names.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from veracity.errors import InputError

__all__ = ["MANIFEST", "OutputFolder"]

#: The manifest of a batch output folder (readers of ``OUTPUT`` skip names starting with ``.``).
MANIFEST = ".veracity-batch.json"
#: Subfolders a run writes into.
SUBFOLDERS = ("_rejects", "_staging")
_KIND = "veracity batch output"
_VERSION = 1
_TEMPORARY = re.compile(r"\.(?P<name>.+)\.[0-9a-f]+\.tmp")


def temporary_name(path: Path) -> Path:
    """A fresh temporary name beside ``path`` that :class:`OutputFolder` recognises."""
    return path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")


class OutputFolder:
    """A batch output folder and the files the manifest says veracity wrote in it.

    Use :meth:`open`, then :meth:`record` each file before writing it.
    """

    def __init__(self, root: Path, files: Iterable[str] = ()) -> None:
        self.root = root
        self.files: set[str] = set(files)

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def open(cls, output: str | Path, inputs: Sequence[Path]) -> OutputFolder:
        """Check that a run may write into ``output``; nothing is written yet.

        Raises
        ------
        InputError
            ``output`` is blank, a file, holds one of ``inputs``, or holds a file that
            its manifest does not list (or has no manifest and is not empty).
        """
        if not str(output).strip():
            raise InputError(
                "--output is empty; give the folder for the Parquet parts (e.g. scored.parquet)"
            )
        root = Path(output).expanduser().absolute()
        if root.exists() and not root.is_dir():
            raise InputError(
                f"--output {root} is a file; give a directory name (e.g. scored.parquet)"
            )
        real = root.resolve()
        for path in inputs:
            if path.resolve().is_relative_to(real):
                raise InputError(
                    f"--output {root} holds the input {path}; batch writes its parts there, so "
                    "give an output folder that holds no input (e.g. a new scored.parquet)"
                )
        folder = cls(root)
        if not root.exists():
            return folder
        manifest = root / MANIFEST
        if manifest.is_file():
            folder.files = _read_manifest(manifest)
        strangers = [p for p in folder._entries() if not folder.owns(p)]
        if strangers:
            shown = ", ".join(repr(p) for p in strangers[:3])
            more = f" and {len(strangers) - 3:,} more" if len(strangers) > 3 else ""
            whose = "its manifest does not list" if manifest.is_file() else "batch did not write"
            older = (
                f" (an output of veracity before {MANIFEST} existed: score again into a new one)"
                if not manifest.is_file() and (root / "_plan.json").is_file()
                else ""
            )
            raise InputError(
                f"--output {root} holds files {whose} ({shown}{more}); batch only writes into "
                f"a new or empty folder, or one it made before: give another --output{older}"
            )
        return folder

    def _entries(self) -> list[str]:
        """Paths (relative, ``/``-separated) of everything in the folder and its subfolders."""
        entries: list[str] = []
        for entry in sorted(self.root.iterdir()):
            if entry.name in SUBFOLDERS and entry.is_dir() and not entry.is_symlink():
                entries.extend(f"{entry.name}/{e.name}" for e in sorted(entry.iterdir()))
            elif entry.name != MANIFEST or not entry.is_file():
                entries.append(entry.name)
        return entries

    # -- ownership -----------------------------------------------------------------------

    def owns(self, name: str) -> bool:
        """Whether ``name`` (relative to the folder) is a listed file or a temporary of one."""
        if name in self.files or name == MANIFEST:
            return True
        folder, _, base = name.rpartition("/")
        match = _TEMPORARY.fullmatch(base)
        if match is None:
            return False
        listed = f"{folder}/{match['name']}" if folder else match["name"]
        return listed in self.files or listed == MANIFEST

    def relative(self, path: Path) -> str:
        """``path`` inside the folder as a manifest name (``_rejects/part-00001.parquet``)."""
        return path.relative_to(self.root).as_posix()

    def record(self, *paths: Path) -> None:
        """Add ``paths`` to the manifest (creating the folder and manifest if needed).

        Call it before the files are written: the manifest is what later runs trust.
        """
        names = {self.relative(p) for p in paths}
        if names <= self.files and (self.root / MANIFEST).is_file():
            return
        self.files |= names
        self._write()

    def forget(self, *paths: Path) -> None:
        """Delete the listed files among ``paths`` and unlist them (others are left alone)."""
        for path in paths:
            name = self.relative(path)
            if name not in self.files:
                continue
            path.unlink(missing_ok=True)
            self.files.discard(name)
        self._write()

    def remove_temporaries(self) -> list[str]:
        """Delete the temporary files an interrupted run left; return their names.

        Only temporary files of listed names are touched.
        """
        removed: list[str] = []
        if not self.root.is_dir():
            return removed
        for name in self._entries():
            base = name.rpartition("/")[2]
            path = self.root / name
            if name not in self.files and _TEMPORARY.fullmatch(base) and self.owns(name):
                if not path.is_file() or path.is_symlink():
                    continue
                path.unlink(missing_ok=True)
                removed.append(name)
        return removed

    def remove_empty_subfolder(self, name: str) -> None:
        """Remove subfolder ``name`` if it exists and is empty (it is left otherwise)."""
        try:
            (self.root / name).rmdir()
        except OSError:  # missing, or not empty
            pass

    def _write(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / MANIFEST
        data: dict[str, Any] = {"kind": _KIND, "version": _VERSION, "files": sorted(self.files)}
        tmp = temporary_name(path)
        try:
            tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


def _read_manifest(path: Path) -> set[str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(
            f"{path} cannot be read ({exc}); the folder's manifest is damaged: "
            "give another --output"
        ) from None
    files = data.get("files") if isinstance(data, dict) else None
    if (
        not isinstance(data, dict)
        or data.get("kind") != _KIND
        or not isinstance(files, list)
        or not all(isinstance(f, str) for f in files)
    ):
        raise InputError(f"{path} is not a veracity batch manifest; give another --output")
    bad = [f for f in files if f.startswith("/") or ".." in f.split("/")]
    if bad:
        raise InputError(
            f"{path} lists a file outside its folder ({bad[0]!r}); give another --output"
        )
    return set(files)
