"""Cut input files into partitions and read one partition, rejecting bad rows with a reason."""

from __future__ import annotations

import csv
import glob
import hashlib
import io
import json
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from veracity.data._io import cell_to_str, check_file, gunzip_chunks, gzip_limit
from veracity.data.generic import ID_NAMES, LABEL_NAMES, TEXT_NAMES, TITLE_NAMES, file_format
from veracity.errors import DataFormatError, InputError
from veracity.settings import Settings

__all__ = [
    "DEFAULT_PARTITION_ROWS",
    "Columns",
    "Partition",
    "expand_inputs",
    "plan_partitions",
    "read_partition",
]

#: Rows per partition unless told otherwise: ~30-60 MB of news text in memory per task.
DEFAULT_PARTITION_ROWS = 10_000
_CSV_FIELD_LIMIT = 2**31 - 1


@dataclass(frozen=True)
class Columns:
    """Which columns hold what; None = detect among common names, ``""`` = none.

    The same conventions as :func:`veracity.data.generic.load_file`.
    """

    text_col: str | None = None
    title_col: str | None = None
    id_col: str | None = None
    label_col: str | None = ""
    positive: str | None = None


@dataclass(frozen=True)
class Partition:
    """One unit of work: rows ``[first_row, first_row + n_rows)`` of one file.

    ``start``/``stop`` are byte offsets for text formats and row numbers inside row
    group ``group`` for Parquet. ``text``, ``title``, ``id`` and ``label`` are the
    resolved column names (``""`` when absent).
    """

    index: int
    source: str
    read_path: str
    fmt: str
    start: int
    stop: int
    first_row: int
    n_rows: int
    header: tuple[str, ...] = ()
    group: int = -1
    text: str = ""
    title: str = ""
    id: str = ""
    label: str = ""
    id_prefix: str = ""


# -- inputs and planning ----------------------------------------------------------------


def expand_inputs(inputs: Sequence[str]) -> list[Path]:
    """Paths and glob patterns → existing files, in order, each once.

    Raises
    ------
    InputError
        Nothing given, or a path or pattern matches no file.
    """
    if not inputs:
        raise InputError("no input given: pass --input PATH_OR_GLOB at least once")
    files: list[Path] = []
    for item in inputs:
        if glob.has_magic(item):
            matches = sorted(Path(p) for p in glob.glob(item, recursive=True) if Path(p).is_file())
            if not matches:
                raise InputError(f"no file matches {item!r}; check the pattern")
            files.extend(matches)
        else:
            files.append(Path(item))
    unique = list(dict.fromkeys(p.expanduser().absolute() for p in files))
    return unique


def _resolve(
    names: Sequence[str], given: str | None, candidates: tuple[str, ...], role: str, where: str
) -> str:
    """The column for ``role`` (``""`` when switched off or absent)."""
    if given == "":
        return ""
    if given is not None:
        if given in names:
            return given
        folded = [c for c in names if c.strip().lower() == given.strip().lower()]
        if len(folded) == 1:
            return folded[0]
        raise DataFormatError(
            f"{where}: has no column {given!r} (given as --{role}-col); columns found: "
            f"{', '.join(repr(c) for c in names)}. Pass one of them."
        )
    lowered = {c.strip().lower(): c for c in reversed(names)}
    return next((lowered[c] for c in candidates if c in lowered), "")


class _Lines:
    """Lines of a binary file, decoded with ``surrogateescape``; ``pos`` = bytes consumed."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle
        self.pos = 0

    def __iter__(self) -> Iterator[str]:
        for line in self.handle:
            self.pos += len(line)
            yield line.decode("utf-8", "surrogateescape")


def _stage_gzip(
    path: Path, staging: Path, settings: Settings, claim: Callable[[Path], None]
) -> Path:
    """Decompress ``path`` into ``staging`` (streaming, at most :func:`gzip_limit` bytes).

    ``claim(target)`` is called before anything is written, with the file to be made.

    Raises
    ------
    InputTooLargeError
        The file decompresses to more than the limit.
    DataFormatError
        The gzip data is damaged or truncated.
    """
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:16]
    target = staging / f"{digest}-{path.name.removesuffix('.gz')}"
    if target.is_file():
        return target
    claim(target)
    staging.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(path, "rb") as src, open(tmp, "wb") as dst:
            for chunk in gunzip_chunks(path, src, gzip_limit(settings)):
                dst.write(chunk)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, target)
    return target


def _plan_text(
    path: Path, read: Path, fmt: str, rows: int
) -> tuple[tuple[str, ...], list[tuple[int, int, int, int]]]:
    """Header and ``(start, stop, first_row, n_rows)`` byte ranges of a text file."""
    ranges: list[tuple[int, int, int, int]] = []
    with open(read, "rb") as handle:
        lines = _Lines(handle)
        if fmt == "jsonl":
            header: tuple[str, ...] = ()
            start, count, row = 0, 0, 0
            for line in lines:
                if not line.strip():
                    continue
                if row == 0 and count == 0 and line.lstrip().startswith("["):
                    raise DataFormatError(
                        f"{path}: is a JSON array, which cannot be split into partitions; "
                        "convert it to JSON Lines (one object per line)."
                    )
                if not header:
                    header = _json_keys(line)
                count += 1
                if count == rows:
                    ranges.append((start, lines.pos, row + 1, count))
                    start, row, count = lines.pos, row + count, 0
            if count:
                ranges.append((start, lines.pos, row + 1, count))
            return header, ranges
        _allow_long_fields()
        reader = csv.reader(lines, delimiter="\t" if fmt == "tsv" else ",")
        try:
            header = tuple(c.removeprefix("\ufeff") for c in next(reader))
        except StopIteration:
            raise DataFormatError(
                f"{path}: the file is empty; it needs a header and rows."
            ) from None
        except csv.Error as exc:
            raise DataFormatError(f"{path}: cannot be parsed as CSV ({exc}).") from exc
        start, count, row = lines.pos, 0, 0
        try:
            for _ in reader:
                count += 1
                if count == rows:
                    ranges.append((start, lines.pos, row + 1, count))
                    start, row, count = lines.pos, row + count, 0
        except csv.Error as exc:
            raise DataFormatError(
                f"{path}: cannot be parsed as CSV after row {row + count} ({exc}); "
                "check the quoting."
            ) from exc
        if count:
            ranges.append((start, lines.pos, row + 1, count))
    return header, ranges


def _json_keys(line: str) -> tuple[str, ...]:
    try:
        item = json.loads(line)
    except ValueError:
        return ()
    return tuple(str(k) for k in item) if isinstance(item, dict) else ()


def plan_partitions(
    inputs: Sequence[str],
    *,
    columns: Columns,
    partition_rows: int,
    settings: Settings,
    staging: Path,
    claim: Callable[[Path], None] | None = None,
) -> list[Partition]:
    """Cut the input files into partitions of at most ``partition_rows`` rows.

    Gzip inputs are decompressed into ``staging``; ``claim(path)`` is called with each
    file before it is written there (the scorer records it as its own).

    Raises
    ------
    InputError
        No input, a pattern without matches, a bad ``partition_rows``.
    DataFormatError
        A file that is missing, of unknown type, unparseable, a damaged gzip, or without
        a text column.
    InputTooLargeError
        A file over ``max_file_bytes``, or a gzip file expanding past :func:`gzip_limit`.
    """
    if partition_rows < 1:
        raise InputError(f"--partition-rows must be at least 1, got {partition_rows}")
    files = expand_inputs(inputs)
    multi = len(files) > 1
    parts: list[Partition] = []
    for path in files:
        fmt = file_format(check_file(path, settings))
        where = str(path)
        groups: list[tuple[int, int, int, int, int]] = []  # (group, start, stop, first, n)
        read = path
        if fmt == "parquet":
            names, groups = _plan_parquet(path, partition_rows)
            header: tuple[str, ...] = names
            ranges: list[tuple[int, int, int, int]] = []
        else:
            with open(path, "rb") as handle:
                gzipped = handle.read(2) == b"\x1f\x8b"
            if gzipped:
                read = _stage_gzip(path, staging, settings, claim or (lambda _path: None))
            header, ranges = _plan_text(path, read, fmt, partition_rows)
        text = _resolve(header, columns.text_col or None, TEXT_NAMES, "text", where)
        if not text:
            raise DataFormatError(
                f"{where}: no text column found (looked for {', '.join(TEXT_NAMES)}); columns "
                f"found: {', '.join(repr(c) for c in header)}. Name it with --text-col."
            )
        title = _resolve(header, columns.title_col, TITLE_NAMES, "title", where)
        ident = _resolve(header, columns.id_col, ID_NAMES, "id", where)
        label = _resolve(header, columns.label_col, LABEL_NAMES, "label", where)
        base = Partition(
            index=0,
            source=where,
            read_path=str(read),
            fmt=fmt,
            start=0,
            stop=0,
            first_row=0,
            n_rows=0,
            header=header,
            text=text,
            title="" if title == text else title,
            id=ident,
            label=label,
            id_prefix=f"{path.name}:" if multi and not ident else "",
        )
        spans = groups or [(-1, *r) for r in ranges]
        for group, start, stop, first, n in spans:
            parts.append(
                replace(
                    base,
                    index=len(parts),
                    start=start,
                    stop=stop,
                    first_row=first,
                    n_rows=n,
                    group=group,
                )
            )
    return parts


def _plan_parquet(
    path: Path, rows: int
) -> tuple[tuple[str, ...], list[tuple[int, int, int, int, int]]]:
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(path).metadata
    except Exception as exc:  # ArrowInvalid, OSError: not our business which
        raise DataFormatError(f"{path}: cannot be read as Parquet ({exc}).") from exc
    names = tuple(meta.schema.to_arrow_schema().names)
    out = []
    first = 1
    for group in range(meta.num_row_groups):
        n_group = meta.row_group(group).num_rows
        for start in range(0, n_group, rows):
            n = min(rows, n_group - start)
            out.append((group, start, start + n, first, n))
            first += n
    return names, out


# -- reading one partition ----------------------------------------------------------------


def _records(part: Partition) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
    """``(row, record, problem)`` for each row of the partition (record None on a problem)."""
    if part.fmt == "parquet":
        import pyarrow.parquet as pq

        wanted = [c for c in (part.text, part.title, part.id, part.label) if c]
        try:
            table = pq.ParquetFile(part.read_path).read_row_group(part.group, columns=wanted)
        except Exception as exc:  # ArrowInvalid, OSError: a damaged file either way
            raise DataFormatError(
                f"{part.source}: row group {part.group} cannot be read ({exc}); "
                "the file may be damaged."
            ) from exc
        table = table.slice(part.start, part.stop - part.start)
        data = {name: table.column(name).to_pylist() for name in wanted}
        for i in range(table.num_rows):
            yield part.first_row + i, {name: data[name][i] for name in wanted}, ""
        return
    with open(part.read_path, "rb") as handle:
        handle.seek(part.start)
        raw = handle.read(part.stop - part.start)
    if part.fmt == "jsonl":
        row = part.first_row
        for line in raw.split(b"\n"):
            if not line.strip():
                continue
            problem = ""
            try:
                decoded = line.decode("utf-8")
            except UnicodeDecodeError as exc:
                problem = f"undecodable bytes: not UTF-8 (byte 0x{line[exc.start]:02x})"
                decoded = line.decode("utf-8", "replace")  # still find the id if we can
            try:
                item = json.loads(decoded)
            except ValueError as exc:
                yield row, None, problem or f"malformed record: not JSON ({exc})"
            else:
                if isinstance(item, dict):
                    yield row, item, problem
                else:
                    kind = type(item).__name__
                    yield row, None, problem or f"malformed record: a JSON {kind}, not an object"
            row += 1
        return
    text = raw.decode("utf-8", "surrogateescape")
    _allow_long_fields()
    reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t" if part.fmt == "tsv" else ",")
    width = len(part.header)
    for offset, cells in enumerate(reader):
        row = part.first_row + offset
        if len(cells) != width:
            yield row, None, f"malformed record: {len(cells)} fields, the header has {width}"
        elif any(_has_surrogate(c) for c in cells):
            # the record, with bad bytes as U+FFFD, so the reject still carries its id
            fixed = [c.encode("utf-8", "surrogateescape").decode("utf-8", "replace") for c in cells]
            yield row, dict(zip(part.header, fixed, strict=True)), "undecodable bytes: not UTF-8"
        else:
            yield row, dict(zip(part.header, cells, strict=True)), ""


def _allow_long_fields() -> None:
    """Let the csv module read any cell: an oversize article is rejected by size, not fatal.

    The limit is process-wide; raising it only ever accepts more.
    """
    if csv.field_size_limit() < _CSV_FIELD_LIMIT:
        csv.field_size_limit(_CSV_FIELD_LIMIT)


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _cell(value: Any) -> tuple[str, str]:
    """The text of a cell and a problem (``""`` if none); bytes must be UTF-8."""
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8"), ""
        except UnicodeDecodeError:
            return "", "undecodable bytes: not UTF-8"
    return cell_to_str(value), ""


def read_partition(part: Partition, settings: Settings) -> pd.DataFrame:
    """One partition as a frame: ``partition, source, row, id, doc, label, reason``.

    ``doc`` is the model input (``title + "\\n\\n" + text``, or ``text`` when the title
    is blank, as :meth:`veracity.data.Dataset.texts`); ``reason`` is ``""`` for a good
    row, else why the row is rejected. ``label`` is the raw label cell (``""`` without
    a label column).
    """
    limit = settings.max_document_bytes
    rows: dict[str, list[Any]] = {k: [] for k in ("row", "id", "doc", "label", "reason")}
    for row, record, problem in _records(part):
        ident, doc, label = part.id_prefix + str(row), "", ""
        if record is not None:
            if part.id:
                ident, id_problem = _cell(record.get(part.id))
                problem = problem or id_problem or ("" if ident.strip() else "missing id")
                ident = ident or f"{part.id_prefix}{row}"
            raw_text = record.get(part.text)
            text, text_problem = _cell(raw_text)
            title, title_problem = _cell(record.get(part.title)) if part.title else ("", "")
            label = _cell(record.get(part.label))[0] if part.label else ""
            doc = f"{title}\n\n{text}" if title.strip() else text
            if raw_text is None and not title.strip():
                problem = problem or "missing text"
            problem = problem or text_problem or title_problem
            if not problem and not doc.strip():
                problem = "empty text"
            if not problem and len(doc) * 4 > limit:
                size = len(doc.encode("utf-8"))
                if size > limit:
                    problem = f"too large: {size:,} bytes is over max_document_bytes ({limit:,})"
        rows["row"].append(row)
        rows["id"].append(ident)
        rows["doc"].append(doc if not problem else "")
        rows["label"].append(label)
        rows["reason"].append(problem)
    frame = pd.DataFrame(rows)
    frame.insert(0, "source", part.source)
    frame.insert(0, "partition", part.index)
    return frame.astype({"partition": "int64", "row": "int64"})
