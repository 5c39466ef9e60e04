"""Safe reading of dataset files: size limits, gzip, binary and encoding checks.

Every loader in :mod:`veracity.data` reads its files through :func:`read_raw` and
the parsers below, so a bad file always ends in a :class:`~veracity.errors.DataFormatError`
(or :class:`~veracity.errors.InputTooLargeError`) that names the file and says what
to fix, never in a pandas or pyarrow traceback.

Every cell comes back as a ``str``: missing values become ``""`` (no ``NaN``),
numbers become their text (``1``, not ``1.0``, for whole floats).

Memory limits: a file is at most ``settings.max_file_bytes`` on disk; a gzip file may
expand to at most :func:`gzip_limit` bytes, checked chunk by chunk while it decompresses
(a gzip bomb is refused once it passes the limit, never read whole); and no cell may be
over ``settings.max_document_bytes`` (the limit ``check`` puts on one document), checked as
soon as the file is parsed, before any cell reaches text preparation or a model. So the
memory a loader needs is a small multiple of the file size, whatever the file holds.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import math
import re
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pandas as pd

from veracity.errors import DataFormatError, InputTooLargeError
from veracity.settings import Settings

__all__ = [
    "GZIP_EXPANSION_LIMIT",
    "RawFile",
    "cell_to_str",
    "check_file",
    "decode_text",
    "gunzip_chunks",
    "gzip_limit",
    "parse_delimited",
    "parse_json_records",
    "parse_parquet",
    "read_raw",
    "require_columns",
]

#: A gzip file may expand to at most this many times ``settings.max_file_bytes``
#: (and never past ``settings.max_decompressed_bytes``; see :func:`gzip_limit`).
GZIP_EXPANSION_LIMIT = 20

_GZIP_MAGIC = b"\x1f\x8b"
_ZIP_MAGIC = b"PK\x03\x04"
_PARQUET_MAGIC = b"PAR1"
_SNIFF_BYTES = 8192
_CHUNK = 1 << 20
_SURROGATE = re.compile("[\ud800-\udfff]")
_MAX_UTF8_BYTES_PER_CHAR = 4
_DEFAULT_CELL_LIMIT: int = Settings.model_fields["max_document_bytes"].default


@dataclass(frozen=True)
class RawFile:
    """The bytes of one dataset file, decompressed when it was gzip.

    Attributes
    ----------
    path : Path
        Absolute path of the file as read.
    sha256 : str
        SHA-256 of the bytes on disk (before decompression).
    content : bytes
        The file's bytes, decompressed if the file is gzip.
    max_cell_bytes : int
        Largest cell the parsers accept (bytes of UTF-8): ``settings.max_document_bytes``
        when made by :func:`read_raw`.
    """

    path: Path
    sha256: str
    content: bytes
    max_cell_bytes: int = _DEFAULT_CELL_LIMIT


def check_file(path: Path, settings: Settings) -> Path:
    """The absolute ``path`` after checking it exists, is a non-empty file under the limit.

    Raises
    ------
    DataFormatError
        The file is missing, a directory or empty.
    InputTooLargeError
        The file is over ``settings.max_file_bytes``.
    """
    try:
        path = path.expanduser().absolute()
        exists = path.exists()
    except (OSError, RuntimeError) as exc:  # name too long; "~user" with no such user
        reason = getattr(exc, "strerror", None) or str(exc)
        raise DataFormatError(
            f"{str(path)[:200]!r}: cannot be used as a file name ({reason})."
        ) from None
    if not exists:
        raise DataFormatError(f"{path}: no such file. Check the path (or the dataset name).")
    if not path.is_file():
        raise DataFormatError(
            f"{path}: is not a regular file; give a CSV, TSV, JSONL or Parquet file."
        )
    size = path.stat().st_size
    limit = settings.max_file_bytes
    if size > limit:
        raise InputTooLargeError(
            f"{path}: {size:,} bytes is over the limit of {limit:,} bytes "
            "(VERACITY_MAX_FILE_BYTES); raise the limit or split the file."
        )
    if size == 0:
        raise DataFormatError(f"{path}: the file is empty (0 bytes); it needs a header and rows.")
    return path


def read_raw(path: Path, settings: Settings) -> RawFile:
    """Read ``path`` after :func:`check_file`; gzip content is decompressed.

    Gzip is recognised by its magic bytes (whatever the file is called) and
    decompressed, up to :func:`gzip_limit` bytes. The parsers then hold every cell to
    ``settings.max_document_bytes``.

    Raises
    ------
    DataFormatError
        The file is missing, a directory, empty, or a broken gzip.
    InputTooLargeError
        The file (or what it decompresses to) is over the limit.
    """
    path = check_file(path, settings)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataFormatError(
            f"{path}: cannot be read ({exc.strerror}); check permissions."
        ) from exc
    digest = hashlib.sha256(data).hexdigest()
    if data.startswith(_GZIP_MAGIC):
        data = _gunzip(path, data, gzip_limit(settings))
        if not data:
            raise DataFormatError(f"{path}: decompresses to nothing; the file is empty.")
    elif path.suffix.lower() == ".gz":
        raise DataFormatError(
            f"{path}: is named .gz but is not gzip data; rename it or compress it with gzip."
        )
    return RawFile(
        path=path, sha256=digest, content=data, max_cell_bytes=settings.max_document_bytes
    )


def gzip_limit(settings: Settings) -> int:
    """Most bytes a gzip dataset file may decompress to.

    ``min(GZIP_EXPANSION_LIMIT * settings.max_file_bytes, settings.max_decompressed_bytes)``:
    by default 1 GiB (``max_decompressed_bytes``), not 20 x the 2 GB file limit.
    """
    return min(GZIP_EXPANSION_LIMIT * settings.max_file_bytes, settings.max_decompressed_bytes)


def gunzip_chunks(path: Path, stream: IO[bytes], limit: int) -> Iterator[bytes]:
    """The decompressed bytes of the gzip data in ``stream``, chunk by chunk.

    Stops as soon as more than ``limit`` bytes come out, so a gzip bomb costs at most
    ``limit`` bytes (plus one chunk) of work and memory.

    Raises
    ------
    InputTooLargeError
        The data decompresses to more than ``limit`` bytes.
    DataFormatError
        The gzip data is damaged or truncated (bad header, corrupt deflate data, CRC).
    """
    total = 0
    try:
        with gzip.GzipFile(fileobj=stream, mode="rb") as gz:
            while chunk := gz.read(_CHUNK):
                total += len(chunk)
                if total > limit:
                    raise InputTooLargeError(
                        f"{path}: decompresses to more than {limit:,} bytes, the limit for "
                        "gzip files (VERACITY_MAX_DECOMPRESSED_BYTES, at most "
                        f"{GZIP_EXPANSION_LIMIT} x VERACITY_MAX_FILE_BYTES); "
                        "raise the limit or split the file."
                    )
                yield chunk
    except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError
        raise DataFormatError(
            f"{path}: is a damaged or truncated gzip file ({exc}); download or compress it again."
        ) from exc


def _gunzip(path: Path, data: bytes, limit: int) -> bytes:
    chunks: list[bytes] = []
    try:
        chunks.extend(gunzip_chunks(path, io.BytesIO(data), limit))
        return b"".join(chunks)
    except MemoryError:
        chunks.clear()
        raise InputTooLargeError(
            f"{path}: there is not enough memory to decompress it; lower "
            "VERACITY_MAX_DECOMPRESSED_BYTES or split the file."
        ) from None


def decode_text(raw: RawFile) -> str:
    """Decode a text file as UTF-8 (a leading byte-order mark is dropped).

    Raises
    ------
    DataFormatError
        The content is binary (NUL bytes, a ZIP or Parquet signature) or is not UTF-8;
        the message gives the byte offset and line of the first bad byte.
    """
    data = raw.content
    if data.startswith(_ZIP_MAGIC):
        raise DataFormatError(
            f"{raw.path}: is a ZIP archive (or an Excel .xlsx file), not text; "
            "extract it or save it as CSV first."
        )
    if data.startswith(_PARQUET_MAGIC):
        raise DataFormatError(f"{raw.path}: is Parquet data; name the file *.parquet.")
    nul = data.find(b"\x00")
    if 0 <= nul < _SNIFF_BYTES:
        raise DataFormatError(
            f"{raw.path}: looks like a binary file (NUL byte at offset {nul}), "
            "not CSV/TSV/JSONL text; give a text file in UTF-8."
        )
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise DataFormatError(
            f"{raw.path}: contains a NUL byte at offset {nul} (line {line}); "
            "text files must not contain NUL characters: remove them."
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DataFormatError(
            f"{raw.path}: is not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset "
            f"{exc.start}, line {line}); re-encode the file as UTF-8, for example "
            "`iconv -f latin1 -t utf-8`."
        ) from exc
    return text.removeprefix("\ufeff")


def parse_delimited(
    raw: RawFile,
    *,
    sep: str = ",",
    header: bool = True,
    quotes: bool = True,
) -> pd.DataFrame:
    """Parse CSV or TSV text into a frame of ``str`` cells (empty cells are ``""``).

    Without a header row (``header=False``) the columns are named ``"0"``, ``"1"``, ….
    ``quotes=False`` reads ``"`` as an ordinary character (``csv.QUOTE_NONE``).

    Raises
    ------
    DataFormatError
        Empty, header only, undecodable, binary, or not parseable as delimited text.
    InputTooLargeError
        A cell is over ``raw.max_cell_bytes`` (the message names its row and column).
    """
    text = decode_text(raw)
    if not text.strip():
        raise DataFormatError(f"{raw.path}: the file is empty (only whitespace).")
    # When the first line ends in a bare LF, lines end in LF and a lone CR is cell
    # content (pandas' to_csv leaves such cells unquoted); otherwise let pandas
    # accept CRLF and CR line endings.
    first_lf = text.find("\n")
    lf_only = first_lf > 0 and text[first_lf - 1] != "\r"
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            lineterminator="\n" if lf_only else None,
            header="infer" if header else None,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            quoting=csv.QUOTE_MINIMAL if quotes else csv.QUOTE_NONE,
            engine="c",
        )
    except Exception as exc:  # pandas raises many types; never let them escape raw
        kind = "TSV" if sep == "\t" else "CSV"
        raise DataFormatError(
            f"{raw.path}: cannot be parsed as {kind} ({_first_line(exc)}); "
            "check the delimiter and quoting."
        ) from exc
    frame.columns = [str(c) for c in frame.columns]
    _require_rows(raw.path, frame)
    _check_cells(raw, frame, lambda index: f"row {index + 1}")
    return frame


def parse_json_records(raw: RawFile) -> pd.DataFrame:
    """Parse JSON Lines (one object per line), or a JSON array of objects.

    Values become ``str``: ``null`` is ``""``, booleans ``true``/``false``, nested
    objects and lists their JSON text. Keys missing on some lines give ``""``.

    Raises
    ------
    DataFormatError
        A line is not a JSON object (the message gives the line number), or there
        are no records.
    InputTooLargeError
        A value is over ``raw.max_cell_bytes`` (the message names its line and key).
    """
    text = decode_text(raw)
    records: list[dict[str, Any]] = []
    places: list[str] = []  # "line 3" or "item 3", per record
    if text.lstrip().startswith("["):
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataFormatError(
                f"{raw.path}: is not valid JSON (line {exc.lineno}: {exc.msg})."
            ) from exc
        except RecursionError:
            raise DataFormatError(_too_deep(raw.path, "the array")) from None
        for number, item in enumerate(loaded, start=1):
            records.append(_as_record(raw.path, item, f"item {number}"))
            places.append(f"item {number}")
    else:
        for number, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataFormatError(
                    f"{raw.path}: line {number} is not valid JSON ({exc.msg} at column "
                    f"{exc.colno}); each line must hold one JSON object."
                ) from exc
            except RecursionError:
                raise DataFormatError(_too_deep(raw.path, f"line {number}")) from None
            records.append(_as_record(raw.path, item, f"line {number}"))
            places.append(f"line {number}")
    if not records:
        raise DataFormatError(f"{raw.path}: holds no records; it needs one JSON object per line.")
    columns: dict[str, None] = {}
    for record in records:
        columns.update(dict.fromkeys(record))
    try:
        cells = {col: [_no_surrogates(cell_to_str(r.get(col))) for r in records] for col in columns}
    except RecursionError:  # a value nested too deeply to write back as JSON text
        raise DataFormatError(_too_deep(raw.path, "a value")) from None
    frame = pd.DataFrame(cells, dtype="str")
    _require_rows(raw.path, frame)
    _check_cells(raw, frame, places.__getitem__)
    return frame


def _too_deep(path: Path, where: str) -> str:
    return (
        f"{path}: {where} is nested too deeply to read as JSON; "
        "records must be flat objects of text and label."
    )


def _as_record(path: Path, item: object, where: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise DataFormatError(
            f"{path}: {where} is a JSON {type(item).__name__}, not an object; "
            'each record must look like {"text": "...", "label": "..."}.'
        )
    return {_no_surrogates(str(k)): v for k, v in item.items()}


def _no_surrogates(text: str) -> str:
    """``text`` with lone surrogates (JSON escapes such as ``\\udcff``) as U+FFFD.

    They are not valid Unicode text and cannot be stored or encoded as UTF-8.
    """
    if _SURROGATE.search(text) is None:
        return text
    return _SURROGATE.sub("\ufffd", text)


def parse_parquet(raw: RawFile) -> pd.DataFrame:
    """Read Parquet bytes into a frame of ``str`` cells.

    Raises
    ------
    DataFormatError
        The bytes are not a readable Parquet file or hold no rows.
    InputTooLargeError
        A cell is over ``raw.max_cell_bytes`` (the message names its row and column).
    """
    data = raw.content
    if not (data.startswith(_PARQUET_MAGIC) and data.endswith(_PARQUET_MAGIC)):
        raise DataFormatError(
            f"{raw.path}: is not a Parquet file (no PAR1 signature); "
            "check the file or give it its real extension (.csv, .jsonl)."
        )
    try:
        frame = pd.read_parquet(io.BytesIO(data), engine="pyarrow")
        # inside the try: damaged string data only fails when converted (ArrowException)
        cells = {
            str(col): [_no_surrogates(cell_to_str(v)) for v in frame[col].tolist()]
            for col in frame.columns
        }
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ...; wrap them all
        raise DataFormatError(
            f"{raw.path}: cannot be read as Parquet ({_first_line(exc)}); the file may be damaged."
        ) from exc
    out = pd.DataFrame(cells, dtype="str")
    _require_rows(raw.path, out)
    _check_cells(raw, out, lambda index: f"row {index + 1}")
    return out


def cell_to_str(value: object) -> str:
    """Text of one cell: ``None``/``NaN`` → ``""``, ``1.0`` → ``"1"``, ``True`` → ``"true"``."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, ensure_ascii=False, default=str)
    if value is pd.NA or value is pd.NaT:
        return ""
    tolist = getattr(value, "tolist", None)  # numpy scalars and arrays
    if callable(tolist):
        return cell_to_str(tolist())
    return str(value)


def require_columns(path: Path, frame: pd.DataFrame, needed: Sequence[str], hint: str) -> None:
    """Raise a :class:`DataFormatError` naming the missing columns and those found.

    ``hint`` ends the message: what the file should look like or which option to use.
    """
    have = [str(c) for c in frame.columns]
    missing = [c for c in needed if c not in have]
    if missing:
        raise DataFormatError(
            f"{path}: missing column(s) {', '.join(map(repr, missing))}; columns found: "
            f"{', '.join(map(repr, have))}. {hint}"
        )


def _require_rows(path: Path, frame: pd.DataFrame) -> None:
    if len(frame) == 0:
        columns = ", ".join(map(str, frame.columns)) or "none"
        raise DataFormatError(
            f"{path}: has no data rows (columns: {columns}); the file is empty apart "
            "from its header."
        )


def _utf8_size(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def _check_cells(raw: RawFile, frame: pd.DataFrame, place: Callable[[int], str]) -> None:
    """Raise :class:`InputTooLargeError` for the first row holding a cell over the limit.

    ``place(index)`` names the row at ``index`` in the file ("row 3", "line 5"). Cheap
    for ordinary data: a column whose longest cell has at most ``limit / 4`` characters
    cannot hold a cell over ``limit`` bytes of UTF-8, and is not looked at further.
    """
    limit = raw.max_cell_bytes
    found: tuple[int, str, str] | None = None  # (index, column, its measured size)
    for column in frame.columns:
        cells: list[str] = frame[column].tolist()
        if found is not None:
            cells = cells[: found[0]]  # only an earlier row can still be first
        if not cells or max(map(len, cells)) * _MAX_UTF8_BYTES_PER_CHAR <= limit:
            continue
        for index, cell in enumerate(cells):
            if len(cell) > limit:  # every character is at least one byte: no need to encode
                found = (index, str(column), f"{len(cell):,} characters")
                break
            if len(cell) * _MAX_UTF8_BYTES_PER_CHAR > limit and (size := _utf8_size(cell)) > limit:
                found = (index, str(column), f"{size:,} bytes")
                break
    if found is not None:
        index, column, measured = found
        raise InputTooLargeError(
            f"{raw.path}: {place(index)}, column {column!r}: a cell of {measured} is over the "
            f"limit of {limit:,} bytes for one document (VERACITY_MAX_DOCUMENT_BYTES); "
            "shorten or drop that row, or raise the limit."
        )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
