"""The web page without JavaScript: form posts, result, highlights, feedback, history, model."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
from fastapi.testclient import TestClient

from veracity.serve.fetch import fetch_text
from veracity.serve.pages import highlight

Csrf = Callable[..., dict[str, str]]


def test_highlight_marks_words_case_insensitively_on_word_boundaries() -> None:
    evidence = [
        {"term": "said", "weight": -0.7, "toward": "reliable"},
        {"term": "hoax", "weight": 0.4, "toward": "fake"},
        {"term": "white house", "weight": -0.2, "toward": "reliable"},
    ]
    out = str(highlight("SAID <b>Hoax</b>, saidx unsaid said. The White\n House", evidence))
    assert out.count("<mark") == 4
    assert (
        '<mark class="toward-reliable" title="points toward reliable (weight -0.700)">SAID' in out
    )
    assert re.search(r'<mark class="toward-fake" title="[^"]*\+0\.400\)">Hoax</mark>', out)
    assert "&lt;b&gt;" in out  # the original text is escaped, never trusted
    assert "saidx" in out and "unsaid" in out and "<mark>saidx" not in out
    assert ">White\n House</mark>" in out


def test_highlight_marks_exactly_the_spans_evidence_gives() -> None:
    text = "Said <b>the hoax</b>. Hoax again, said the Senate."
    hoax = text.index("hoax")
    sentence = text.index("Hoax again")
    evidence = [
        {"term": "hoax", "weight": 0.4, "toward": "fake", "kind": "phrase",
         "start": hoax, "end": hoax + 4, "count": 2},
        {"term": "Senate", "weight": -0.3, "toward": "reliable", "kind": "phrase",
         "start": text.index("Senate"), "end": text.index("Senate") + 6, "count": 1},
        {"term": "Hoax again, said the Senate.", "weight": -0.1, "toward": "reliable",
         "kind": "sentence", "start": sentence, "end": len(text), "count": 1},
        {"term": "exclamation marks: 4", "weight": 0.2, "toward": "fake", "kind": "signal",
         "start": None, "end": None, "count": 1},
    ]  # fmt: skip
    out = str(highlight(text, evidence))
    # only the span given is marked (not the second "Hoax", not "Said"); text escaped
    assert out.count("<mark") == 2
    assert re.search(r'<mark class="toward-fake" title="[^"]*2 times[^"]*">hoax</mark>', out)
    assert '<span class="sentence toward-reliable"' in out
    assert out.index('<span class="sentence') < out.index(">Senate</mark>") < out.index("</span>")
    assert "&lt;b&gt;the " in out
    assert re.sub(r"<[^>]+>", "", out) == str(highlight(text, []))  # nothing added or lost
    # offsets that do not hold the term (a changed text) fall back to matching words
    moved = [dict(evidence[0], start=0, end=4)]
    assert str(highlight(text, moved)).count("<mark") == 2


def test_highlight_without_evidence_only_escapes() -> None:
    assert str(highlight("a <script>", [])) == "a &lt;script&gt;"


def test_index_has_an_accessible_form(client: TestClient) -> None:
    html = client.get("/").text
    assert '<html lang="en">' in html
    assert '<label for="text">' in html and 'id="text" name="text"' in html
    assert '<form method="post" action="/check"' in html
    assert "<h1>" in html


def test_form_post_without_js_shows_the_verdict_with_highlights(
    client: TestClient, csrf: Csrf, article: str
) -> None:
    r = client.post("/check", data={**csrf(), "text": article}, follow_redirects=False)
    assert r.status_code == 303
    location = r.headers["location"]
    assert re.fullmatch(r"/checks/\d+", location)
    html = client.get(location).text
    assert 'data-testid="verdict">reliable<' in html
    assert 'id="gauge"' in html and "Probability that this text is fake" in html
    # a whole percent, never a false 0% / 100%; and what veracity judges, in the footer
    assert re.search(r'data-testid="probability">(&lt;1%|&gt;99%|[1-9][0-9]?%)<', html)
    assert "cannot tell whether the facts in it are true" in html
    article_html = html.split('<div class="article">')[1]
    assert re.search(r'<mark class="toward-(fake|reliable)" title="points toward', article_html)
    assert 'name="agree" value="yes"' in html and 'name="agree" value="no"' in html


def test_not_sure_is_explained(client: TestClient, csrf: Csrf) -> None:
    html = client.post("/check", data={**csrf(), "text": "The moon is made of cheese."}).text
    assert "not sure" in html
    assert "Why “not sure”?" in html and "too short" in html


def test_empty_and_too_large_texts_re_render_the_form(client: TestClient, csrf: Csrf) -> None:
    r = client.post("/check", data={**csrf(), "text": "   "})
    assert r.status_code == 422
    assert 'role="alert"' in r.text and "Paste the text" in r.text
    r = client.post("/check", data={**csrf(), "text": "a" * 1_000_001})
    assert r.status_code == 413 and "1,000,000 bytes" in r.text
    assert client.get("/v1/checks").json()["total"] == 0


def test_feedback_buttons_record_and_show_in_history(
    client: TestClient, csrf: Csrf, article: str
) -> None:
    location = client.post(
        "/check", data={**csrf(), "text": article}, follow_redirects=False
    ).headers["location"]
    check_id = int(location.rsplit("/", 1)[1])
    token = csrf(location)
    r = client.post(f"{location}/feedback", data={"agree": "yes", **token}, follow_redirects=False)
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert "your feedback was saved" in page and "1 agree" in page
    assert client.get(f"/v1/checks/{check_id}").json()["feedback"][0]["agree"] is True
    history = client.get("/history").text
    assert f'href="/checks/{check_id}"' in history and ">agree<" in history
    assert client.post(f"{location}/feedback", data={"agree": "maybe", **token}).status_code == 422
    assert client.post("/checks/999/feedback", data={"agree": "yes", **token}).status_code == 404


def test_history_filters_by_verdict(client: TestClient, csrf: Csrf, article: str) -> None:
    client.post("/check", data={**csrf(), "text": article})
    client.post("/check", data={**csrf(), "text": "Too short to judge."})
    everything = client.get("/history").text
    assert "2 checks." in everything
    reliable = client.get("/history", params={"label": "reliable"}).text
    assert "1 check." in reliable and "Too short" not in reliable
    unsure = client.get("/history", params={"label": "not sure"}).text
    assert "1 check." in unsure and "Too short to judge" in unsure
    assert "2 checks." in client.get("/history", params={"label": "bogus"}).text


def test_empty_history(client: TestClient) -> None:
    assert "No checks yet" in client.get("/history").text


def test_model_page_shows_card_metrics(client: TestClient) -> None:
    html = client.get("/model").text
    assert "<h1>The model</h1>" in html
    assert "roc_auc" in html or "accuracy" in html
    assert re.search(r"\d\.\d{3} \[\d\.\d{3}, \d\.\d{3}\]", html)


def test_unknown_check_page_is_404_html(client: TestClient) -> None:
    r = client.get("/checks/999")
    assert r.status_code == 404 and "There is no check number 999" in r.text
    assert r.headers["content-type"].startswith("text/html")


def test_static_files(client: TestClient) -> None:
    assert client.get("/static/style.css").status_code == 200
    assert "addEventListener" in client.get("/static/app.js").text


PUBLIC = "93.184.216.34"
ARTICLE_HTML = (
    "<html><head><title>Budget</title></head><body><nav>Home | World</nav><article>"
    "<h1>Economy grows</h1>"
    + "<p>The Senate committee said on Friday that the budget report from the agency "
    "showed the economy grew two percent, officials said, adding that the minister would "
    "present the figures to lawmakers next week in the capital.</p>"
    * 4
    + "</article><footer>Copyright</footer></body></html>"
)


def _fetch_through_mock(client: TestClient) -> list[str]:
    """Make the app fetch with the real guarded fetcher over a mock network (no sockets)."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, text=ARTICLE_HTML, headers={"content-type": "text/html"})

    mock = httpx.MockTransport(handler)
    service = client.app.state.service  # type: ignore[attr-defined]
    service.fetch = lambda url: fetch_text(url, resolver=lambda h, p: [PUBLIC], transport=mock)
    return seen


def test_index_has_a_labelled_url_field(client: TestClient) -> None:
    html = client.get("/").text
    assert '<label for="url">Article URL</label>' in html
    assert re.search(r'<input type="url" id="url" name="url"[^>]*aria-describedby="url-hint"', html)
    assert "<textarea" in html and "required" not in html.split("<textarea")[1].split(">")[0]


def test_url_form_fetches_checks_and_shows_the_site_reputation(
    client: TestClient, csrf: Csrf
) -> None:
    seen = _fetch_through_mock(client)
    r = client.post(
        "/check",
        data={**csrf(), "text": "", "url": " https://www.abcnews.com.co/story "},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    assert seen == ["https://www.abcnews.com.co/story"]
    html = client.get(r.headers["location"]).text
    text = re.sub(r"<[^>]+>", "", html)  # evidence highlights wrap single words in <mark>
    assert 'data-testid="verdict">' in html and "Senate committee" in text
    box = html.split('data-testid="source-reputation"')[1].split("</section>")[0]
    assert "About the website (not this article)" in box
    assert "abcnews.com.co" in box and "fake" in box
    assert "does not\n    use it" in box and "OpenSources 2017 (LGPL-3.0)" in box


def test_unlisted_site_says_so_and_text_checks_have_no_site_box(
    client: TestClient, csrf: Csrf, article: str
) -> None:
    _fetch_through_mock(client)
    location = client.post(
        "/check", data={**csrf(), "url": "https://news.example/story"}, follow_redirects=False
    ).headers["location"]
    assert "not on the OpenSources list" in client.get(location).text
    location = client.post(
        "/check", data={**csrf(), "text": article}, follow_redirects=False
    ).headers["location"]
    assert 'data-testid="source-reputation"' not in client.get(location).text


def test_refused_url_shows_the_reason_on_the_form(client: TestClient, csrf: Csrf) -> None:
    r = client.post("/check", data={**csrf(), "url": "http://127.0.0.1:8000/admin"})
    assert r.status_code == 422
    assert 'role="alert"' in r.text and "not a public internet address" in r.text
    assert 'value="http://127.0.0.1:8000/admin"' in r.text
    r = client.post("/check", data={**csrf(), "url": "ftp://example.com/a"})
    assert r.status_code == 422 and "only http and https" in r.text
    r = client.post("/check", data={**csrf(), "url": "https://news.example/", "text": "some text"})
    assert r.status_code == 422 and "not both" in r.text
    assert client.get("/v1/checks").json()["total"] == 0


def test_fetch_failure_shows_the_reason_on_the_form(client: TestClient, csrf: Csrf) -> None:
    mock = httpx.MockTransport(lambda request: httpx.Response(404))
    service = client.app.state.service  # type: ignore[attr-defined]
    service.fetch = lambda url: fetch_text(url, resolver=lambda h, p: [PUBLIC], transport=mock)
    r = client.post("/check", data={**csrf(), "url": "https://news.example/gone"})
    assert r.status_code == 422 and "answered HTTP 404" in r.text


def test_a_forged_host_header_never_reaches_a_page(
    client: TestClient, csrf: Csrf, article: str
) -> None:
    """Links to the static files were absolute URLs built from the Host header."""
    evil = {"host": "evil.example"}
    posted = client.post(
        "/check", data={**csrf(), "text": article}, headers=evil, follow_redirects=False
    )
    assert posted.status_code == 303 and "evil" not in posted.headers["location"]
    paths = ("/", "/history", "/model", posted.headers["location"], "/checks/999", "/docs")
    pages = [client.get(path, headers=evil) for path in paths]
    form_error = client.post("/check", data={**csrf(), "text": ""}, headers=evil)
    pages.append(form_error)
    for page in pages:
        assert page.headers["content-type"].startswith("text/html")
        assert "evil.example" not in page.text, page.url
        links = re.findall(r'(?:src|href|action)="([^"]*)"', page.text)
        assert links and all(re.match(r"[/?#]|$", link) for link in links), links
        assert not any(link.startswith("//") for link in links), links
    html = pages[0].text
    assert '<link rel="stylesheet" href="/static/style.css">' in html
    assert '<script src="/static/app.js" defer></script>' in html
