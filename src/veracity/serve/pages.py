"""The web page: paste text or give a URL, read the verdict with evidence, give feedback.

Every form is a plain HTML POST answered with a redirect (post/redirect/get), so the
page works without JavaScript; ``static/app.js`` only adds small comforts. Every POST
form carries a CSRF token (:mod:`veracity.serve.csrf`); a missing or wrong one gets a
403 page.

Also here: the API reference at ``/docs`` (the app's OpenAPI document rendered by
:mod:`veracity.serve.apidocs`, no script and nothing from another site) and the favicon.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from veracity.errors import InputError, VeracityError
from veracity.serve import apidocs
from veracity.serve.api import check_and_store
from veracity.serve.auth import address_retry_after
from veracity.serve.csrf import FIELD, csrf_token, csrf_valid, set_csrf_cookie
from veracity.serve.problems import status_for
from veracity.serve.reputation import SOURCE, lookup
from veracity.serve.state import Service, get_service, get_session
from veracity.store import repository
from veracity.store.models import Check
from veracity.types import SCOPE, format_probability

__all__ = ["highlight", "not_sure_bands", "router", "static_path", "templates"]

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
STATIC = Path(__file__).with_name("static")


@pass_context
def static_path(context: Any, name: str) -> str:
    """Root-relative path of a static file, for templates: ``{{ static_path('app.js') }}``.

    Never an absolute URL: those are built from the request's ``Host`` header, which the
    client chooses (``Host: evil.example`` would load the page's script from there).
    """
    request: Request = context["request"]
    return request.url_for("static", path=name).path


@pass_context
def csrf_field(context: Any, form: str) -> Markup:
    """The hidden CSRF token field of ``form``, for templates: ``{{ csrf_field('check') }}``."""
    token = csrf_token(context["request"], form)
    return Markup(f'<input type="hidden" name="{FIELD}" value="{escape(token)}">')


templates.env.globals["static_path"] = static_path
templates.env.globals["csrf_field"] = csrf_field
templates.env.globals["scope"] = SCOPE
templates.env.globals["prose"] = apidocs.prose
templates.env.filters["percent"] = format_probability

EXPLAIN_NOT_SURE = (
    "veracity is not sure about this text, so it gives no verdict. This happens when the "
    "text is too short, does not look like English, or the model's probability is close "
    "to the middle. Treat the probability below as a weak hint at most, and check the "
    "story with other sources."
)


def _mark(toward: Any, weight: Any, inner: str, count: Any = 1) -> str:
    side = "fake" if toward == "fake" else "reliable"
    times = f", {int(count)} times in the text" if isinstance(count, int) and count > 1 else ""
    title = f"points toward {side} (weight {float(weight):+.3f}{times})"
    return f'<mark class="toward-{side}" title="{escape(title)}">{inner}</mark>'


def _located(text: str, e: dict[str, Any]) -> tuple[int, int] | None:
    """The evidence's ``(start, end)`` when it has offsets that hold its term exactly."""
    start, end = e.get("start"), e.get("end")
    if not isinstance(start, int) or not isinstance(end, int) or not 0 <= start < end:
        return None
    return (start, end) if text[start:end] == e.get("term") else None


def highlight(text: str, evidence: Sequence[dict[str, Any]]) -> Markup:
    """``text`` HTML-escaped, each evidence phrase wrapped in ``<mark>``.

    Evidence with offsets (``start``/``end``, what veracity gives since phrases are
    spans of the text) marks exactly that span; a sentence is wrapped in
    ``<span class="sentence toward-…">`` around its phrases. Evidence stored without
    offsets is matched case-insensitively on word boundaries (spaces inside a
    multi-word term match any run of whitespace). Each mark gets the class
    ``toward-fake`` or ``toward-reliable`` and a title giving its weight.
    """
    located = [(_located(text, e), e) for e in evidence]
    if any(where is not None for where, _ in located):
        return _highlight_spans(text, [(w, e) for w, e in located if w is not None])
    terms = {
        str(e["term"]).lower(): e
        for e in evidence
        if str(e.get("term", "")).strip() and e.get("kind", "phrase") == "phrase"
    }
    if not terms:
        return escape(text)
    alternatives = sorted(terms, key=len, reverse=True)
    pattern = re.compile(
        r"(?<!\w)("
        + "|".join(r"\s+".join(map(re.escape, t.split())) for t in alternatives)
        + r")(?!\w)",
        re.IGNORECASE,
    )
    parts: list[str] = []
    last = 0
    for match in pattern.finditer(text):
        found = terms.get(" ".join(match.group(0).lower().split()))
        if found is None:
            continue
        parts.append(str(escape(text[last : match.start()])))
        parts.append(_mark(found["toward"], found["weight"], str(escape(match.group(0)))))
        last = match.end()
    parts.append(str(escape(text[last:])))
    return Markup("".join(parts))


def _highlight_spans(text: str, located: list[tuple[tuple[int, int], dict[str, Any]]]) -> Markup:
    """Marks at exact offsets: phrases (disjoint) inside sentences (disjoint)."""
    phrases = sorted((w, e) for w, e in located if e.get("kind", "phrase") == "phrase")
    kept: list[tuple[tuple[int, int], dict[str, Any]]] = []
    for where, e in phrases:  # never overlap two marks
        if not kept or where[0] >= kept[-1][0][1]:
            kept.append((where, e))
    sentences: list[tuple[tuple[int, int], dict[str, Any]]] = []
    for (s, t), e in sorted((w, e) for w, e in located if e.get("kind") == "sentence"):
        crossing = any(a < s < b or a < t < b for (a, b), _ in kept)
        if not crossing and (not sentences or s >= sentences[-1][0][1]):
            sentences.append(((s, t), e))
    # (offset, order, html, end): a sentence closes before anything opens at the same
    # offset, and opens before a mark; a mark is written whole (it holds its text)
    events: list[tuple[int, int, str, int]] = []
    for (s, t), e in sentences:
        side = "fake" if e.get("toward") == "fake" else "reliable"
        title = f"the sentence that pushed most toward {side} (weight {float(e['weight']):+.3f})"
        events.append((s, 1, f'<span class="sentence toward-{side}" title="{escape(title)}">', s))
        events.append((t, 0, "</span>", t))
    for (s, t), e in kept:
        html = _mark(e.get("toward"), e.get("weight", 0.0), str(escape(text[s:t])), e.get("count"))
        events.append((s, 2, html, t))
    events.sort(key=lambda ev: (ev[0], ev[1]))
    parts: list[str] = []
    last = 0
    for offset, _, html, end in events:
        parts.append(str(escape(text[last:offset])))
        parts.append(html)
        last = end
    parts.append(str(escape(text[last:])))
    return Markup("".join(parts))


ServiceDep = Annotated[Service, Depends(get_service)]
SessionDep = Annotated[Session, Depends(get_session)]
CsrfField = Annotated[str, Form(alias=FIELD)]


def _page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
    """Render template ``name``, with the CSRF cookie if its forms made a new one."""
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    set_csrf_cookie(request, response)
    return response


def _forbidden(request: Request) -> Response:
    return _page(
        request,
        "error.html",
        {
            "title": "Form expired",
            "detail": "This form could not be accepted: it is out of date, or it was sent "
            "from another website. Go back, reload the page and send the form again.",
        },
        status_code=403,
    )


def _form(
    service: Service, text: str = "", url: str = "", error: str | None = None
) -> dict[str, Any]:
    """The index page's context: the limit, what was typed (unless huge) and any error."""
    return {
        "limit": service.settings.serve_max_document_bytes,
        "text": text if len(text) < 200_000 else "",
        "url": url if len(url) <= 2048 else "",
        "error": error,
    }


@router.get("/", response_class=HTMLResponse)
def index(request: Request, service: ServiceDep) -> Response:
    """The form to paste an article into, or to give its URL."""
    return _page(request, "index.html", _form(service))


@router.post("/check", response_class=HTMLResponse)
async def check_form(
    request: Request,
    service: ServiceDep,
    session: SessionDep,
    text: Annotated[str, Form()] = "",
    url: Annotated[str, Form()] = "",
    token: CsrfField = "",
) -> Response:
    """Check the pasted text, or the article at ``url``; store it and redirect to its result.

    A URL is fetched under the same SSRF guard as ``POST /v1/check``; a refused or failed
    fetch shows the form again with the reason (422, or 413 when the page is too large).
    A missing or wrong CSRF token gets 403; a client address over its allowance
    (``VERACITY_RATE_LIMIT_PER_ADDRESS_PER_MINUTE``) gets the form back with 429 and
    ``Retry-After``, before any work.
    """
    if not csrf_valid(request, "check", token):
        return _forbidden(request)
    retry_after = await address_retry_after(request)
    if retry_after:
        per_minute = service.settings.rate_limit_per_address_per_minute
        busy = (
            f"Too many checks from your address: at most {per_minute} a minute. "
            f"Wait {retry_after} seconds, then send the form again."
        )
        response = _page(request, "index.html", _form(service, text, url, busy), 429)
        response.headers["Retry-After"] = str(retry_after)
        return response
    url = url.strip()
    try:
        if text.strip() and url:
            raise InputError("Give either the text of an article or its URL, not both.")
        if url:
            if len(url) > 2048:
                raise InputError("That URL is longer than 2,048 characters.")
            page = await service.fetch_page(url)  # own thread, stopped at the deadline
            ((check, _),) = await service.run_check(
                check_and_store, service, session, [page.text], page.final_url
            )
        elif text.strip():
            ((check, _),) = await service.run_check(check_and_store, service, session, [text])
        else:
            raise InputError("Paste the text of an article, or give its URL, to check.")
    except InputError as exc:
        return _page(request, "index.html", _form(service, text, url, str(exc)), status_for(exc))
    return RedirectResponse(f"/checks/{check.id}", status_code=303)


def _not_found(request: Request, check_id: int) -> Response:
    return _page(
        request,
        "error.html",
        {"title": "Not found", "detail": f"There is no check number {check_id}."},
        status_code=404,
    )


def not_sure_bands(service: Service, check: Check) -> list[dict[str, Any]]:
    """The "not sure" bands on P(fake) that the detector applied to ``check``'s text.

    Always the settings' band (``abstain_low`` to ``abstain_high``). When the model had
    a band of its own (``halfwidth`` around 0.5, wider for texts unlike its training
    texts), that band too, as stored with the check. A check stored before migration
    0004 has no stored half-width: if the serving model made it, the text is scored
    again (:meth:`veracity.detector.Detector.scores`); otherwise only the settings'
    band is drawn.
    """
    settings = service.settings
    bands: list[dict[str, Any]] = [
        {"kind": "settings", "low": settings.abstain_low, "high": settings.abstain_high}
    ]
    half = check.band_halfwidth
    if half is None:
        try:
            detector = service.detector
            if detector.model_id != check.model_id:
                return bands
            _, _, halfwidth = detector.scores([check.text])
        except VeracityError:
            return bands
        half = None if halfwidth is None else float(halfwidth[0])
    if half is not None and half > 0:
        bands.append({"kind": "model", "low": max(0.0, 0.5 - half), "high": min(1.0, 0.5 + half)})
    return bands


@router.get("/checks/{check_id}", response_class=HTMLResponse)
def result(
    request: Request,
    check_id: int,
    service: ServiceDep,
    session: SessionDep,
    thanks: bool = False,
) -> Response:
    """The verdict of one check, its evidence highlighted in the text, and feedback buttons."""
    check = repository.get_check(session, check_id)
    if check is None:
        return _not_found(request, check_id)
    settings = service.settings
    return _page(
        request,
        "result.html",
        {
            "check": check,
            "marked": highlight(check.text, check.evidence),
            "explain_not_sure": EXPLAIN_NOT_SURE,
            "low": settings.abstain_low,
            "high": settings.abstain_high,
            "bands": not_sure_bands(service, check),
            "thanks": thanks,
            "reputation": lookup(check.url) if check.url else None,
            "reputation_source": SOURCE,
        },
    )


@router.post("/checks/{check_id}/feedback", response_class=HTMLResponse)
def feedback_form(
    request: Request,
    check_id: int,
    session: SessionDep,
    agree: Annotated[str, Form(pattern="^(yes|no)$")],
    token: CsrfField = "",
) -> Response:
    """Record agree/disagree from the result page, then show the page again."""
    if not csrf_valid(request, "feedback", token):
        return _forbidden(request)
    if repository.add_feedback(session, check_id, agree == "yes") is None:
        return _not_found(request, check_id)
    return RedirectResponse(f"/checks/{check_id}?thanks=true", status_code=303)


@router.get("/history", response_class=HTMLResponse)
def history(
    request: Request,
    session: SessionDep,
    page: Annotated[int, Query(ge=1)] = 1,
    label: str = "",
) -> Response:
    """Past checks, newest first, filterable by verdict."""
    kwargs: dict[str, Any] = {}
    if label in ("reliable", "fake"):
        kwargs = {"label": label, "abstained": False}
    elif label == "not sure":
        kwargs = {"abstained": True}
    else:
        label = ""
    result = repository.list_checks(session, page=page, per_page=20, **kwargs)
    return _page(request, "history.html", {"page": result, "label": label})


def _fmt(value: Any) -> str | None:
    """A metric's value (and its interval, when it has one) as text; None if not a number."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return f"{value:.3f}" if isinstance(value, float) else f"{value:,}"
    if isinstance(value, dict) and isinstance(value.get("value"), int | float):
        low = value.get("low", value.get("ci_low"))
        high = value.get("high", value.get("ci_high"))
        ci = f" [{low:.3f}, {high:.3f}]" if low is not None and high is not None else ""
        return f"{value['value']:.3f}{ci}"
    return None


def _abstention(metrics: dict[str, Any]) -> str:
    """The abstention rate of one evaluation, or "not measured".

    An evaluation scored without the detector's verdicts (as ``veracity train`` scores
    its test sets) records ``abstained: 0`` and ``accuracy_answered: null``: that 0 is
    not a measurement. Abstention was measured when some text was abstained on or the
    accuracy on the answered texts is known.
    """
    count = metrics.get("abstained")
    answered = metrics.get("accuracy_answered")
    if isinstance(count, bool) or not isinstance(count, int):
        return "not measured"
    if count == 0 and answered is None:
        return "not measured"
    n = metrics.get("n")
    if isinstance(n, int) and not isinstance(n, bool) and n > 0:
        return f"{count / n:.1%} ({count:,} of {n:,})"
    return f"{count:,} texts"


def _metric_rows(metrics: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(dataset, metric, "value [low, high]") rows from a card's free-form metrics.

    ``abstained`` and ``accuracy_answered`` become an "abstention rate" row, which says
    "not measured" where abstention was not measured (see :func:`_abstention`).
    """
    rows: list[tuple[str, str, str]] = []

    def add(data: str, values: dict[str, Any]) -> list[tuple[str, Any]]:
        nested = []
        for key, value in values.items():
            if key in ("abstained", "accuracy_answered"):
                continue
            shown = _fmt(value)
            if shown is not None:
                rows.append((data, key, shown))
            elif isinstance(value, dict):
                nested.append((key, value))
        if "abstained" in values or "accuracy_answered" in values:
            rows.append((data, "abstention rate", _abstention(values)))
            answered = _fmt(values.get("accuracy_answered"))
            if answered is not None:
                rows.append((data, "accuracy when answered", answered))
        return nested

    for key, value in add("", metrics):
        add(key, value)
    return rows


@router.get("/model", response_class=HTMLResponse)
def model_page(request: Request, service: ServiceDep) -> Response:
    """The model card: what the model is, what it learned from, how well it does."""
    card = service.detector.model.card.to_dict()
    return _page(request, "model.html", {"card": card, "metrics": _metric_rows(card["metrics"])})


@router.get("/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> Response:
    """The API reference: every route, its parameters, bodies and answers; no script."""
    spec = request.app.openapi()
    return _page(
        request,
        "docs.html",
        {
            "info": spec.get("info", {}),
            "openapi_version": spec.get("openapi", ""),
            "openapi_url": request.app.openapi_url,
            "operations": apidocs.operations(spec),
            "schemas": apidocs.schemas(spec),
            "security": apidocs.security_schemes(spec),
        },
    )


@router.get("/favicon.ico")
def favicon() -> Response:
    """The icon browsers ask for at this fixed path (pages link ``/static/favicon.svg``)."""
    return FileResponse(
        STATIC / "favicon.ico",
        media_type="image/x-icon",
        headers={"Cache-Control": "public, max-age=86400"},
    )
