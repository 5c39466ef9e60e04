"""Hypothesis strategies for hostile input: odd unicode, control characters, huge lines,
mixed encodings, CSV quoting tricks and deeply nested JSON."""

from __future__ import annotations

import csv
import gzip
import io
import json

from hypothesis import strategies as st

#: Every code point, lone surrogates and control characters included.
ANY_CHAR = st.characters(codec=None, exclude_categories=())

#: Pieces that trip parsers and scrubbing patterns.
TRICKY = st.sampled_from(
    [
        "\x00",
        "\r",
        "\n",
        "\r\n",
        "\u2028",
        "\u2029",
        "\x85",
        "\ufeff",
        "\u200b",
        "\u202e",
        "\x1b[31m",
        "\udcff",
        "\ud800",
        '"',
        '""',
        '"a,b"',
        "'",
        ",",
        ";",
        "\t",
        "\\",
        "\\N",
        "NaN",
        "null",
        "[",
        "[/]",
        "[/bold]",
        "[red]",
        "{",
        "}",
        "]",
        "WASHINGTON (Reuters) - ",
        "(Reuters)",
        "Featured image via Getty Images",
        "Photo by Chip Somodevilla/Getty Images",
        "21st Century Wire says",
        "SUPPORT OUR WORK",
        "Read more: ",
        "h/t ",
        "@realDonaldTrump",
        "http://t.co/x",
        "pic.twitter.com/abc",
        "www.",
        "é",
        "\U0001f600",
        "\u210c\U0001d522\U0001d529",  # fraktur "Hel"
        "\ufb01",  # the fi ligature
        "\u0130",  # dotted capital I (lower() grows it)
        "ß",
        "\u0301",
        "fake",
        "real",
        "reliable",
        "1",
        "0",
    ]
)

#: Text built from arbitrary characters and tricky pieces.
TEXT = st.lists(st.one_of(st.text(ANY_CHAR, max_size=20), TRICKY), max_size=30).map("".join)


@st.composite
def huge_text(draw: st.DrawFn) -> str:
    """One piece repeated into a long line (up to ~300,000 characters)."""
    piece = draw(st.one_of(TRICKY, st.text(ANY_CHAR, min_size=1, max_size=8)))
    times = draw(st.integers(1, 300_000 // max(1, len(piece))))
    return draw(TEXT) + piece * times + draw(TEXT)


ANY_TEXT = st.one_of(TEXT, TEXT, huge_text())

ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "cp1252", "utf-16", "utf-32"])


@st.composite
def encoded(draw: st.DrawFn, text: str) -> bytes:
    """``text`` in one encoding, or its halves in two (mixed encodings)."""
    first, second = draw(ENCODINGS), draw(ENCODINGS)
    cut = draw(st.integers(0, len(text)))
    return text[:cut].encode(first, errors="replace") + text[cut:].encode(second, errors="replace")


LABEL_WORDS = ["fake", "real", "reliable", "FAKE", "True", "false", "1", "0", "", " fake "]
LABELS = st.one_of(
    st.sampled_from(["fake", "real"]),
    st.sampled_from(LABEL_WORDS),
    st.sampled_from(LABEL_WORDS),
    TEXT,
)
WORDS = st.lists(st.sampled_from("the senate said a shocking secret , . é 1".split()), max_size=12)
CELL = st.one_of(
    WORDS.map(" ".join),
    WORDS.map(" ".join),
    TEXT,
    st.sampled_from(['"', '"x', 'x"y', '"a""b"', "a\nb", "a\rb", "=1+1"]),
)


@st.composite
def delimited(draw: st.DrawFn, columns: list[str] | None = None, sep: str = ",") -> str:
    """CSV/TSV text: a header (given, or fuzzed) and rows of fuzzed cells, quoted or not."""
    header = columns or draw(
        st.lists(st.one_of(st.sampled_from(["text", "title", "label", "id"]), TEXT), max_size=6)
    )
    width = max(1, len(header))
    lines = [sep.join(header)]
    for _ in range(draw(st.integers(0, 6))):
        cells = []
        for i in range(draw(st.integers(max(0, width - 1), width + 1))):
            name = header[i] if i < len(header) else ""
            cell = draw(LABELS if name in ("label", "label6") else CELL)
            style = draw(st.sampled_from(["plain", "plain", "quoted", "quoted", "half"]))
            if style == "quoted":
                cell = '"' + cell.replace('"', '""') + '"'
            elif style == "half":
                cell = '"' + cell
            cells.append(cell)
        lines.append(sep.join(cells))
    ending = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    return ending.join(lines) + draw(st.sampled_from(["", ending]))


RATINGS = ["pants-fire", "false", "barely-true", "half-true", "mostly-true", "true"]
#: Cell text without NUL (which makes any file binary) but with everything else.
CLEAN_TEXT = TEXT.map(lambda t: t.replace("\x00", ""))


@st.composite
def well_formed(draw: st.DrawFn, columns: list[str], sep: str = ",") -> str:
    """Delimited text written by the csv module: right width, hostile cell contents."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=sep, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    writer.writerow(columns)
    for _ in range(draw(st.integers(1, 5))):
        row = []
        for name in columns:
            if name == "label":
                cell = draw(st.sampled_from(["fake", "real", "fake", "real", "reliable", "x"]))
            elif name == "label6":
                cell = draw(st.sampled_from(RATINGS))
            elif name.startswith("credit_"):
                cell = draw(st.sampled_from(["0", "3", "12", "", "x"]))
            else:
                cell = draw(st.one_of(WORDS.map(" ".join), CLEAN_TEXT))
            row.append(cell)
        writer.writerow(row)
    return buffer.getvalue()


JSON_SCALAR = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), TEXT)


def nested(depth: int, leaf: object) -> object:
    value = leaf
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


@st.composite
def json_records(draw: st.DrawFn) -> str:
    """JSON Lines or a JSON array: objects with fuzzed keys and values, some nested deeply."""
    records: list[object] = []
    for _ in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from(["record", "record", "scalar", "deep"]))
        if kind == "scalar":
            records.append(draw(JSON_SCALAR))
            continue
        record = {
            draw(st.sampled_from(["text", "title", "label", "id"])): draw(JSON_SCALAR)
            for _ in range(draw(st.integers(0, 4)))
        }
        record["text"] = draw(st.one_of(TEXT, st.lists(TEXT, max_size=3)))
        record["label"] = draw(LABELS)
        if kind == "deep":
            record["extra"] = nested(draw(st.integers(1, 100_000)), draw(JSON_SCALAR))
        records.append(record)

    def dump(value: object) -> str:
        try:
            return json.dumps(value, ensure_ascii=draw(st.booleans()))
        except RecursionError:  # json.dumps itself cannot write it: hand-write the nesting
            depth = draw(st.integers(2_000, 100_000))
            return '{"text": "x", "label": "fake", "extra": ' + "[" * depth + "]" * depth + "}"

    if draw(st.booleans()):
        return "[" + ", ".join(dump(r) for r in records) + "]"
    text = "\n".join(dump(r) for r in records)
    if draw(st.booleans()):  # a hand-written, very deeply nested line
        depth = draw(st.integers(1, 200_000))
        text += "\n" + "[" * depth + "]" * depth
    return text + draw(st.sampled_from(["", "\n", "\n{", "\n}\n", "\nnot json"]))


@st.composite
def file_bytes(draw: st.DrawFn, text: st.SearchStrategy[str], gz: bool = False) -> bytes:
    """Bytes of a text file: mostly UTF-8, sometimes mixed encodings or random bytes;
    gzipped when ``gz`` (sometimes truncated), and now and then gzipped when not."""
    kind = draw(st.sampled_from(["utf-8"] * 6 + ["encoded", "binary"]))
    if kind == "binary":
        data = draw(st.binary(max_size=300))
    else:
        value = draw(text)
        data = value.encode("utf-8", errors="replace") if kind == "utf-8" else draw(encoded(value))
    if gz != (draw(st.integers(0, 9)) == 0):
        data = gzip.compress(data)
        if draw(st.integers(0, 4)) == 0:
            data = data[: draw(st.integers(0, len(data)))]
    return data
