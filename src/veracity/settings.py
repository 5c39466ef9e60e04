"""The one settings object. Nothing else in veracity reads ``os.environ``.

Every field can be set with a ``VERACITY_<FIELD>`` environment variable
(e.g. ``VERACITY_ABSTAIN_LOW=0.3``); pass the object explicitly to the code that
needs it. A value outside what a field allows is a :class:`~veracity.errors.SettingsError`
whose one-line message names the variable and what it allows.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import annotated_types
import pydantic_settings
from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from veracity.errors import SettingsError

__all__ = ["Settings", "usable_cpus"]


def usable_cpus() -> int:
    """The CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


#: Settings whose values are never repeated in an error message (a URL may hold a password).
_SECRET = frozenset({"database_url"})


class Settings(BaseSettings):
    """Runtime configuration of veracity (environment prefix ``VERACITY_``)."""

    model_config = SettingsConfigDict(env_prefix="VERACITY_", extra="ignore")

    model_dir: Path | None = Field(
        default=None,
        description="Model artifact directory used when none is given; the bundled model if unset.",
    )
    datasets_dir: Path | None = Field(
        default=None,
        description="Folder holding the named datasets (isot_sample, liar, …); "
        "if unset, ./shared/datasets or ../shared/datasets, whichever exists.",
    )
    abstain_low: float = Field(
        default=0.35,
        ge=0.0,
        le=1.0,
        description="Lower edge of the 'not sure' band on the probability of fake.",
    )
    abstain_high: float = Field(
        default=0.65,
        ge=0.0,
        le=1.0,
        description="Upper edge of the 'not sure' band on the probability of fake.",
    )
    min_words: int = Field(
        default=20, ge=0, description="Texts with fewer words than this are 'not sure'."
    )
    min_english_ratio: float = Field(
        default=0.12,
        ge=0.0,
        le=1.0,
        description="Minimum share of common English function words for text to count as English.",
    )
    max_document_bytes: int = Field(
        default=5_000_000,
        gt=0,
        description="Largest single document accepted by check (bytes of UTF-8); also the "
        "largest cell the dataset loaders read for train and evaluate (a larger one is refused, "
        "naming its file and row) and the largest row batch scores (larger rows are rejected).",
    )
    max_file_bytes: int = Field(
        default=2_000_000_000,
        gt=0,
        description="Largest dataset file the loaders accept (bytes on disk).",
    )
    evidence_terms: int = Field(
        default=5,
        ge=0,
        le=100,
        description="Evidence phrases (1-3 words of the text) returned per direction, "
        "toward fake and toward reliable, besides the one sentence each way; 0 for none.",
    )
    seed: int = Field(
        default=42,
        ge=0,
        le=2**32 - 1,
        description="Random seed for training, splits and bootstrap.",
    )
    database_url: str = Field(
        default="sqlite:///veracity.db",
        description="SQLAlchemy URL of the database that stores checks and feedback "
        "(default: veracity.db in the current directory).",
    )
    max_request_bytes: int = Field(
        default=8_000_000,
        gt=0,
        description="Largest HTTP request body the service accepts (bytes); larger gets 413.",
    )
    serve_max_document_bytes: int = Field(
        default=1_000_000,
        gt=0,
        description="Largest single document the HTTP service checks (bytes of UTF-8); "
        "larger gets 413 before the model runs.",
    )
    max_batch_documents: int = Field(
        default=100,
        gt=0,
        description="Most documents accepted by one POST /v1/check/batch request.",
    )
    require_api_key: bool = Field(
        default=False,
        description="Require an API key (made with `veracity keys create`) on every /v1 route; "
        "/healthz, /readyz and the HTML pages stay open.",
    )
    rate_limit_per_minute: int = Field(
        default=60,
        ge=0,
        description="Requests each API key may make per minute when keys are required "
        "(0: unlimited); over it gets 429 with Retry-After.",
    )
    request_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        le=86_400,
        description="Seconds a request may take before the service answers 503; "
        "model work already running finishes in its thread.",
    )
    rate_limit_per_address_per_minute: int = Field(
        default=60,
        ge=0,
        description="Checks each client address may ask for per minute through the web "
        "page's form (0: unlimited; IPv6 counts per /64); over it gets 429 with Retry-After.",
    )

    max_decompressed_bytes: int = Field(
        default=1_073_741_824,
        gt=0,
        description="Most bytes a gzip dataset file may decompress to: 1 GiB by default "
        "(and never more than 20 x max_file_bytes). Checked while decompressing, so a gzip "
        "bomb is refused once it passes the limit; train and evaluate hold a file's text in "
        "memory a few times over, and 1 GiB keeps that well inside a 24 GB machine. Also caps "
        "what batch stages to disk per gzip input; raise it for larger gzipped corpora.",
    )

    fetch_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="Seconds a URL check may spend fetching the page, all in: DNS, connect, "
        "TLS, headers and body over every redirect; slower gets 422.",
    )
    max_concurrent_fetches: int = Field(
        default=8,
        gt=0,
        description="Most URL fetches the service runs at once, each in a thread of its own "
        "(outside the pool that serves other requests); more wait for a free slot.",
    )
    max_concurrent_checks: int = Field(
        default=0,
        ge=0,
        description="Most checks a service process runs through the model at once (0: one "
        "per CPU, shared among `serve --workers`); more wait for a free slot, and get 503 if "
        "none frees up within the time limit.",
    )

    def __init__(self, **values: Any) -> None:
        """Read the environment (and ``values``); SettingsError names a value not allowed."""
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise SettingsError(_describe(exc)) from exc
        except pydantic_settings.SettingsError as exc:  # a value that cannot even be parsed
            raise SettingsError(f"a VERACITY_* variable cannot be read: {exc}") from exc

    @model_validator(mode="after")
    def _band_is_ordered(self) -> Settings:
        if self.abstain_low > self.abstain_high:
            raise ValueError(
                f"VERACITY_ABSTAIN_LOW ({self.abstain_low:g}) must not exceed "
                f"VERACITY_ABSTAIN_HIGH ({self.abstain_high:g}): the 'not sure' band runs "
                "from low to high"
            )
        return self


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _allowed(name: str) -> str:
    """What field ``name`` accepts, in words: "a whole number from 0 to 100"."""
    field = Settings.model_fields[name]
    kinds: dict[Any, str] = {int: "a whole number", float: "a number", bool: "true or false"}
    kind = kinds.get(field.annotation, "text" if field.annotation is str else "a path")
    low = high = None
    low_open = high_open = False
    for rule in field.metadata:
        if isinstance(rule, annotated_types.Ge | annotated_types.Gt):
            low_open = isinstance(rule, annotated_types.Gt)
            low = _number(rule.gt if isinstance(rule, annotated_types.Gt) else rule.ge)
        elif isinstance(rule, annotated_types.Le | annotated_types.Lt):
            high_open = isinstance(rule, annotated_types.Lt)
            high = _number(rule.lt if isinstance(rule, annotated_types.Lt) else rule.le)
    if low is not None and high is not None and not (low_open or high_open):
        return f"{kind} from {low} to {high}"
    bounds = []
    if low is not None:
        bounds.append(f"above {low}" if low_open else f"at least {low}")
    if high is not None:
        bounds.append(f"below {high}" if high_open else f"at most {high}")
    return f"{kind}, {' and '.join(bounds)}" if bounds else kind


def _shown(value: Any) -> str:
    """``value`` quoted (if text) and cut to 40 characters: env values may be anything."""
    text = repr(value if isinstance(value, str) else str(value)[:80])
    return text[:40] + "…" if len(text) > 40 else text


def _describe(exc: ValidationError) -> str:
    """One line for every problem in ``exc``, each naming its VERACITY_* variable."""
    problems = []
    for error in exc.errors(include_url=False):
        loc = error.get("loc", ())
        name = loc[0] if loc else None
        if isinstance(name, str) and name in Settings.model_fields:
            value = "" if name in _SECRET else f"={_shown(error.get('input'))}"
            problems.append(f"VERACITY_{name.upper()}{value} is not allowed: use {_allowed(name)}")
        else:  # a rule between fields, e.g. the order of the abstention band
            problems.append(str(error.get("msg", "")).removeprefix("Value error, "))
    return "; ".join(problems)
