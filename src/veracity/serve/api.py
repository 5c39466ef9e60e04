"""The JSON API under ``/v1``: check, batch check, history, feedback, model card, health."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy.orm import Session

from veracity.errors import InputError, InputTooLargeError
from veracity.serve.problems import PROBLEM_JSON
from veracity.serve.reputation import lookup
from veracity.serve.state import Service, get_service, get_session
from veracity.store import repository
from veracity.store.models import Check
from veracity.text.controls import describe_control, find_control, replace_controls
from veracity.types import Verdict

__all__ = ["check_and_store", "router", "system_router"]

router = APIRouter(prefix="/v1", tags=["v1"])
system_router = APIRouter(tags=["health"])

_PROBLEM: dict[int | str, dict[str, Any]] = {
    code: {"description": desc, "content": {PROBLEM_JSON: {}}}
    for code, desc in (
        (404, "No such check"),
        (413, "Document or request too large"),
        (422, "Invalid request"),
    )
}


class _Body(BaseModel):
    """A JSON request body: unknown fields are refused with one error for all of them.

    (``extra="forbid"`` alone gives one error per unknown field: a body of 8 MB of
    keys made 600,000 errors and seconds of work before the 422.)
    """

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_unknown_fields(cls, data: Any) -> Any:
        if isinstance(data, dict):
            known = cls.model_fields  # a computed property: read it once
            unknown = [str(k) for k in data if k not in known]
            if unknown:
                shown = ", ".join(repr(k if len(k) <= 40 else k[:39] + "…") for k in unknown[:3])
                more = f" and {len(unknown) - 3:,} more" if len(unknown) > 3 else ""
                raise ValueError(f"unknown field {shown}{more}; the fields are {', '.join(known)}")
        return data


#: How a text field is described in the API schema.
_TEXT = (
    "The article text (raw or normalized); tab, newline and carriage return are its only "
    "allowed control characters."
)


class TextDocument(_Body):
    """One document given as text."""

    text: str = Field(min_length=1, description=_TEXT)


class CheckRequest(_Body):
    """One document to check: its ``text``, or a public ``url`` to fetch it from."""

    text: str | None = Field(default=None, min_length=1, description=_TEXT)
    url: str | None = Field(
        default=None,
        min_length=1,
        max_length=2048,
        description="An http(s) URL on the public internet; its article text is checked.",
    )

    @model_validator(mode="after")
    def _one_of_text_or_url(self) -> CheckRequest:
        if (self.text is None) == (self.url is None):
            raise ValueError("give exactly one of text or url")
        return self


class BatchRequest(_Body):
    """Many documents to check in one request."""

    documents: list[TextDocument] = Field(
        min_length=1, description="The documents (at most VERACITY_MAX_BATCH_DOCUMENTS)."
    )


class EvidenceOut(BaseModel):
    """A phrase, sentence or signal that pushed the verdict; ``weight`` > 0 pushes toward fake."""

    term: str = Field(description="As written in the text (text[start:end]), or a signal.")
    weight: float = Field(description="Its part of the calibrated log-odds of fake.")
    toward: Literal["reliable", "fake"]
    kind: Literal["phrase", "sentence", "signal"] = "phrase"
    start: int | None = Field(default=None, description="Offset of the term in the text.")
    end: int | None = Field(default=None, description="Offset just past the term.")
    count: int = Field(default=1, description="Times the phrase occurs in the text.")


class FeedbackOut(BaseModel):
    """A person's feedback on a check."""

    id: int
    agree: bool
    correct_label: Literal["reliable", "fake"] | None
    comment: str
    created_at: datetime


class ReputationOut(BaseModel):
    """What the OpenSources list (2017) says about the site a URL check came from."""

    domain: str = Field(description="The list entry that matched the site's domain.")
    tags: list[str] = Field(description="fake, bias, conspiracy, satire, reliable…")
    note: str
    source: str = Field(description="Where the tags come from, with its license.")


class CheckOut(BaseModel):
    """A stored check: the verdict fields plus its id and time."""

    id: int
    created_at: datetime
    verdict: Literal["reliable", "fake", "not sure"]
    label: Literal["reliable", "fake"]
    probability: float = Field(description="Calibrated probability that the text is fake.")
    abstained: bool
    reason: str | None
    evidence: list[EvidenceOut]
    input_form: Literal["raw", "normalized"] | None = None
    model_id: str
    band_halfwidth: float | None = Field(
        default=None,
        description=(
            'Half-width around 0.5 of the model\'s own "not sure" band for this text '
            "(wider for texts unlike its training texts); null when the model has none."
        ),
    )
    url: str | None = None
    source_reputation: ReputationOut | None = Field(
        default=None,
        description=(
            "For URL checks: what the OpenSources list (2017) says about the site, or null "
            "when the site is not listed. About the site, not the article; the verdict "
            "never uses it."
        ),
    )
    feedback: list[FeedbackOut] = []


class ChecksPage(BaseModel):
    """One page of checks, newest first."""

    items: list[CheckOut]
    total: int
    page: int
    per_page: int
    pages: int


class BatchOut(BaseModel):
    """The checks of a batch, in request order."""

    items: list[CheckOut]


class FeedbackRequest(_Body):
    """Agree or disagree with a verdict, optionally giving the correct label."""

    agree: bool
    correct_label: Literal["reliable", "fake"] | None = None
    comment: str = Field(
        default="",
        max_length=2000,
        description="Free text; no control characters but tab and newlines.",
    )

    @field_validator("comment")
    @classmethod
    def _no_control_characters(cls, comment: str) -> str:
        at = find_control(comment)
        if at >= 0:
            raise ValueError(f"the comment holds {describe_control(comment, at)}; remove it")
        return comment


def _out(check: Check, verdict: Verdict | None = None) -> CheckOut:
    """The API's view of ``check``; with its ``verdict``, of one just stored (no feedback yet)."""
    data = repository.check_to_dict(check, feedback=verdict is None)
    data.pop("text")
    data.pop("text_sha256")
    if verdict is not None:
        data["input_form"] = verdict.input_form
    reputation = lookup(check.url) if check.url else None
    data["source_reputation"] = reputation.to_dict() if reputation is not None else None
    return CheckOut.model_validate(data)


def _named(i: int, batch: bool) -> str:
    """How an error names a text: "the text" of a single check, "document #i" of a batch."""
    return f"document #{i}" if batch else "the text"


def _size_guard(service: Service, texts: list[str], batch: bool) -> None:
    settings = service.settings
    # the detector's own limit too, so its error (which names texts "text #i") never shows
    limit, variable = min(
        (settings.serve_max_document_bytes, "VERACITY_SERVE_MAX_DOCUMENT_BYTES"),
        (settings.max_document_bytes, "VERACITY_MAX_DOCUMENT_BYTES"),
    )
    for i, text in enumerate(texts):
        size = len(text.encode("utf-8", errors="surrogatepass"))
        if size > limit:
            raise InputTooLargeError(
                f"{_named(i, batch)} is {size:,} bytes; the service checks documents of at "
                f"most {limit:,} bytes ({variable}). Send a shorter excerpt."
            )


def _text_guard(texts: list[str], batch: bool, controls: bool) -> None:
    """An empty text, or (when ``controls``) one with control characters, is refused."""
    for i, text in enumerate(texts):
        if not text.strip():
            raise InputError(f"nothing to check: {_named(i, batch)} is empty or only whitespace")
        at = find_control(text) if controls else -1
        if at >= 0:
            raise InputError(
                f"{_named(i, batch)} holds {describe_control(text, at)}; a text may hold tab, "
                "newline and carriage return but no other control characters: remove them"
            )


def check_and_store(
    service: Service,
    session: Session,
    texts: list[str],
    url: str | None = None,
    *,
    batch: bool = False,
) -> list[tuple[Check, Verdict]]:
    """Check ``texts`` (size-limited first) and store their verdicts in one transaction.

    An error names a text "the text", or "document #i" when ``batch`` (its index in
    the request). An empty text is refused (:class:`InputError`, 422). Control
    characters other than tab, newline and carriage return are refused too in a
    client's text, so none is ever stored; in the text of a page fetched from ``url``
    they become spaces.
    """
    _size_guard(service, texts, batch)
    if url is not None:
        texts = [replace_controls(t) for t in texts]
    _text_guard(texts, batch, controls=url is None)
    verdicts = service.detector.check_many(texts)
    checks = repository.add_checks(session, list(zip(texts, verdicts, strict=True)), url=url)
    return list(zip(checks, verdicts, strict=True))


ServiceDep = Annotated[Service, Depends(get_service)]
SessionDep = Annotated[Session, Depends(get_session)]


def _over_batch_limit(count: int, limit: int) -> InputTooLargeError:
    return InputTooLargeError(
        f"{count:,} documents is over the limit of {limit:,} per batch "
        "(VERACITY_MAX_BATCH_DOCUMENTS); split them into several requests"
    )


async def _count_documents_first(request: Request, service: ServiceDep) -> None:
    """413 for a batch over ``max_batch_documents`` before any document is validated.

    FastAPI runs dependencies before it validates the body, and has already parsed
    the JSON (``request.json()`` returns that parse), so counting costs nothing;
    validating 600,000 documents first took seconds and answered with a 71 MB 422.
    """
    try:
        body = await request.json()
    except ValueError:  # not JSON (or not UTF-8): the body's validation answers 422
        return
    documents = body.get("documents") if isinstance(body, dict) else None
    limit = service.settings.max_batch_documents
    if isinstance(documents, list) and len(documents) > limit:
        raise _over_batch_limit(len(documents), limit)


@router.post("/check", response_model=CheckOut, responses=_PROBLEM)
async def post_check(body: CheckRequest, service: ServiceDep, session: SessionDep) -> CheckOut:
    """Check one document (its text, or the article at a public URL) and store the verdict.

    A URL is fetched under an SSRF guard: http(s) only, public addresses only (checked
    again on each of at most 5 redirects, and the connection made to the checked
    address), 10 s in all (VERACITY_FETCH_TIMEOUT_SECONDS), 5 MB. The answer then also
    carries ``source_reputation``: what the OpenSources list says about the site (a
    separate signal; the verdict is computed from the text alone).
    """
    text: str | None = body.text
    url: str | None = None
    if body.url is not None:
        page = await service.fetch_page(body.url)  # in its own thread, stopped at the deadline
        text, url = page.text, page.final_url
    assert text is not None
    return await service.run_check(_check_one, service, session, text, url)


def _check_one(service: Service, session: Session, text: str, url: str | None) -> CheckOut:
    ((check, verdict),) = check_and_store(service, session, [text], url=url)
    return _out(check, verdict)


@router.post(
    "/check/batch",
    response_model=BatchOut,
    responses=_PROBLEM,
    dependencies=[Depends(_count_documents_first)],
)
async def post_batch(body: BatchRequest, service: ServiceDep, session: SessionDep) -> BatchOut:
    """Check up to ``max_batch_documents`` documents in one model call; stores each.

    More documents than that is 413, answered before any document is validated.
    """
    texts = [d.text for d in body.documents]
    return await service.run_check(_check_batch, service, session, texts)


def _check_batch(service: Service, session: Session, texts: list[str]) -> BatchOut:
    checked = check_and_store(service, session, texts, batch=True)
    return BatchOut(items=[_out(c, v) for c, v in checked])


@router.get("/checks/{check_id}", response_model=CheckOut, responses=_PROBLEM)
def get_check(check_id: int, session: SessionDep) -> CheckOut:
    """One stored check with its feedback."""
    check = repository.get_check(session, check_id)
    if check is None:
        raise HTTPException(404, f"there is no check with id {check_id}")
    return _out(check)


@router.get("/checks", response_model=ChecksPage, responses=_PROBLEM)
def list_checks(
    session: SessionDep,
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=repository.MAX_PER_PAGE)] = 20,
    label: Literal["reliable", "fake"] | None = None,
    abstained: bool | None = None,
    q: Annotated[
        str | None,
        Query(
            max_length=200,
            description="Text contains, literally (no wildcards), ignoring case; "
            "a control character in it is 422.",
        ),
    ] = None,
) -> ChecksPage:
    """Stored checks, newest first, filtered by label, abstention or text."""
    result = repository.list_checks(session, page, per_page, label, abstained, q)
    return ChecksPage(
        items=[_out(c) for c in result.items],
        total=result.total,
        page=result.page,
        per_page=result.per_page,
        pages=result.pages,
    )


@router.post(
    "/checks/{check_id}/feedback",
    response_model=FeedbackOut,
    status_code=201,
    responses=_PROBLEM,
)
def post_feedback(check_id: int, body: FeedbackRequest, session: SessionDep) -> FeedbackOut:
    """Record whether a person agrees with a check (and the correct label if not)."""
    feedback = repository.add_feedback(
        session, check_id, body.agree, body.correct_label, body.comment
    )
    if feedback is None:
        raise HTTPException(404, f"there is no check with id {check_id}")
    return FeedbackOut.model_validate(feedback, from_attributes=True)


@router.get("/model")
def get_model(service: ServiceDep) -> dict[str, Any]:
    """The model card: preset, training data, metrics with confidence intervals."""
    card: dict[str, Any] = service.detector.model.card.to_dict()
    return card


@system_router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness: the process answers (on the event loop: no worker thread needed)."""
    return {"status": "ok"}


@system_router.get("/readyz", response_model=None)
def readyz(service: ServiceDep) -> dict[str, Any] | JSONResponse:
    """Readiness: the model loads and the database answers (503 otherwise)."""
    from veracity.errors import VeracityError

    model_ok, detail = True, ""
    try:
        _ = service.detector
    except VeracityError as exc:
        model_ok, detail = False, str(exc)
    database_ok = service.database_ok()
    body: dict[str, Any] = {"model": model_ok, "database": database_ok}
    if model_ok and database_ok:
        return {"status": "ready", **body}
    from veracity.serve.problems import problem

    return problem(503, detail or "the database does not answer", **body)
