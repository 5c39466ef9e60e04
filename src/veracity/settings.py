"""The one settings object. Nothing else in veracity reads ``os.environ``.

Every field can be set with a ``VERACITY_<FIELD>`` environment variable
(e.g. ``VERACITY_ABSTAIN_LOW=0.3``); pass the object explicitly to the code that
needs it.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


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
        description="Largest single document accepted by check (bytes of UTF-8).",
    )
    max_file_bytes: int = Field(
        default=2_000_000_000,
        gt=0,
        description="Largest dataset file the loaders accept (bytes on disk).",
    )
    evidence_terms: int = Field(
        default=10, ge=0, le=100, description="Evidence terms returned per label."
    )
    seed: int = Field(default=42, description="Random seed for training, splits and bootstrap.")
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
        description="Seconds a request may take before the service answers 503; "
        "model work already running finishes in its thread.",
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
        description="Most checks the service runs through the model at once (0: one per CPU); "
        "more wait for a free slot, and get 503 if none frees up within the time limit.",
    )

    @model_validator(mode="after")
    def _band_is_ordered(self) -> Settings:
        if self.abstain_low > self.abstain_high:
            raise ValueError(
                f"abstain_low ({self.abstain_low}) must not exceed "
                f"abstain_high ({self.abstain_high})"
            )
        return self
