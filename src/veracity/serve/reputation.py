"""What the OpenSources list (2017) said about a website: a signal about the site only.

The reputation of the site an article came from is a separate signal. It is shown next to
the verdict and never changes it: the detector reads only the text. The list is the
OpenSources snapshot of April 2017 (LGPL-3.0, data "as is"; see
``veracity/resources/credibility/ATTRIBUTION.md``), mostly of low-credibility domains;
many of them no longer exist, and a domain that is not on the list is not vouched for.

The bundled table ``resources/credibility/opensources.csv`` is derived by
:func:`build_table` from the original ``sources.json``; regenerate it with::

    python -c "from veracity.serve.reputation import build_table; \\
        build_table('sources.json.gz', 'src/veracity/resources/credibility/opensources.csv')"

>>> lookup("https://www.example.org/news/1") is None  # doctest: +SKIP
True
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import httpx

__all__ = [
    "SOURCE",
    "TAG_FIXES",
    "Reputation",
    "build_table",
    "load_table",
    "lookup",
    "normalize_domain",
    "normalize_tag",
]

#: How the list is cited wherever a reputation is shown.
SOURCE = "OpenSources 2017 (LGPL-3.0)"

#: Spelling variants in the original list and the tag each one means.
TAG_FIXES: Mapping[str, str] = {
    "fake news": "fake",
    "unrealiable": "unreliable",
    "satirical": "satire",
}

_TYPE_KEYS = ("type", "2nd type", "3rd type")
_NOTE_KEY = "Source Notes (things to know?)"
_HEADER = ("domain", "tags", "note")


@dataclass(frozen=True)
class Reputation:
    """What the list says about a site.

    Attributes
    ----------
    domain : str
        The list entry that matched (the site's domain, a parent domain, or a
        ``domain/path`` entry).
    tags : tuple of str
        Normalised tags: ``fake``, ``bias``, ``conspiracy``, ``satire``, ``unreliable``,
        ``clickbait``, ``political``, ``junksci``, ``hate``, ``rumor``, ``reliable``…
    note : str
        The list's free-text note on the site (often empty).
    source : str
        Where this comes from: :data:`SOURCE`.
    """

    domain: str
    tags: tuple[str, ...]
    note: str
    source: str = SOURCE

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict (``tags`` as a list)."""
        return {
            "domain": self.domain,
            "tags": list(self.tags),
            "note": self.note,
            "source": self.source,
        }


def normalize_tag(tag: str) -> str:
    """``tag`` lower-cased, whitespace-collapsed, spelling variants fixed (``""`` stays ``""``).

    >>> normalize_tag(" Fake News ")
    'fake'
    """
    cleaned = " ".join(tag.lower().split())
    return TAG_FIXES.get(cleaned, cleaned)


def normalize_domain(entry: str) -> str:
    """A list entry or host as a lookup key: lower-case; no spaces, scheme, ``www.``, ``#…``.

    >>> normalize_domain("http://www.Silver-Coin-Investor. com/")
    'silver-coin-investor.com'
    """
    key = "".join(entry.lower().split())
    for prefix in ("https://", "http://"):
        key = key.removeprefix(prefix)
    key = key.split("#", 1)[0].split("?", 1)[0]
    return key.removeprefix("www.").strip("/").rstrip(".")


def build_table(src_path: str | Path, out_path: str | Path) -> int:
    """Derive the bundled CSV (``domain,tags,note``) from OpenSources' ``sources.json``.

    Parameters
    ----------
    src_path : str or Path
        ``sources.json`` of the OpenSources repository, or its gzip (``.gz``).
    out_path : str or Path
        The CSV to write: one row per normalised domain, sorted; ``tags`` are
        ``;``-separated in list order without repeats; entries that normalise to the same
        domain are merged.

    Returns
    -------
    int
        Rows written.
    """
    src = Path(src_path)
    raw = src.read_bytes()
    if src.suffix == ".gz":
        raw = gzip.decompress(raw)
    data = json.loads(raw.decode("utf-8"))
    merged: dict[str, tuple[list[str], list[str]]] = {}
    for entry, fields in data.items():
        domain = normalize_domain(str(entry))
        if not domain:
            continue
        tags, notes = merged.setdefault(domain, ([], []))
        for key in _TYPE_KEYS:
            tag = normalize_tag(str(fields.get(key) or ""))
            if tag and tag not in tags:
                tags.append(tag)
        note = " ".join(str(fields.get(_NOTE_KEY) or "").split())
        if note and note not in notes:
            notes.append(note)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(_HEADER)
        for domain in sorted(merged):
            tags, notes = merged[domain]
            writer.writerow([domain, ";".join(tags), " / ".join(notes)])
    return len(merged)


def _parse_table(text: str) -> dict[str, Reputation]:
    table: dict[str, Reputation] = {}
    for row in csv.DictReader(io.StringIO(text)):
        domain = row["domain"]
        tags = tuple(t for t in row["tags"].split(";") if t)
        table[domain] = Reputation(domain, tags, row["note"])
    return table


@cache
def load_table() -> Mapping[str, Reputation]:
    """The bundled table, domain → :class:`Reputation` (read once, on first use)."""
    path = resources.files("veracity") / "resources" / "credibility" / "opensources.csv"
    return _parse_table(path.read_text(encoding="utf-8"))


def _host_and_path(url_or_domain: str) -> tuple[str, list[str]]:
    value = url_or_domain.strip()
    if "://" not in value:
        value = "http://" + value
    try:
        url = httpx.URL(value)
    except (httpx.InvalidURL, TypeError):
        return "", []
    host = normalize_domain(url.host)
    segments = [s for s in url.path.lower().split("/") if s]
    return host, segments


def lookup(url_or_domain: str, table: Mapping[str, Reputation] | None = None) -> Reputation | None:
    """What the list says about the site of ``url_or_domain``, or None when it is not listed.

    ``www.`` is ignored, and a subdomain inherits its parent domain's entry
    (``news.example.com`` matches ``example.com``). Entries with a path
    (``cato.org/blog``) match only URLs under that path; the most specific entry wins.

    Parameters
    ----------
    url_or_domain : str
        A URL (``https://www.site.com/a``) or a bare domain (``site.com``).
    table : mapping, optional
        Domain → reputation; the bundled OpenSources table when omitted.

    Examples
    --------
    >>> lookup("https://www.theonion.com/some-story").tags  # doctest: +SKIP
    ('satire',)
    """
    entries = load_table() if table is None else table
    host, segments = _host_and_path(url_or_domain)
    labels = host.split(".")
    for start in range(len(labels) - 1):
        domain = ".".join(labels[start:])
        for depth in range(len(segments), 0, -1):
            found = entries.get(domain + "/" + "/".join(segments[:depth]))
            if found is not None:
                return found
        found = entries.get(domain)
        if found is not None:
            return found
    return None
