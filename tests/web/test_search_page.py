"""The search page and the search box of every page: hits with their kind, incident, a
highlighted passage that carries no markup but <mark>, a link to where each lives and the
next page; queries, kinds and cursors it cannot use refused with 422 naming them. Each
test with a database runs on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from tests.api.helpers import declare, ok
from tests.web.incident_page_support import add_note, block
from web.search_reads import PAGE_SIZE, safe_snippet

if TYPE_CHECKING:
    from tests.web.conftest import WebUser

PAGE = "/ui/search"


def hits(html: str) -> list[str]:
    """Each hit's element, best first."""
    listing = block(html, '<ol class="hits" id="hits"')
    return re.findall(r'<li class="hit".*?</li>', listing, re.S)


def kind_of(hit: str) -> str:
    found = re.search(r'data-kind="(\w+)"', hit)
    assert found is not None
    return found.group(1)


def test_a_note_is_found_with_its_words_marked_and_a_link_to_it(
    api: TestClient, web: WebUser
) -> None:
    incident_id = declare(api, title="Checkout returns 502")
    add_note(api, incident_id, "The connection pool was exhausted after deploy 4812")
    entries = ok(api.get(f"/incidents/{incident_id}/timeline"))["entries"]
    note_id = next(e["id"] for e in entries if e["kind"] == "note")

    answer = web.get(PAGE, q="pool exhausted")
    assert answer.status_code == 200, answer.text
    [hit] = hits(answer.text)
    assert 'data-kind="note"' in hit
    assert '<span class="hit-kind kind-note">Note</span>' in hit
    written = next(e["occurred_at"] for e in entries if e["kind"] == "note")
    when = datetime.fromisoformat(written).strftime("%Y-%m-%d %H:%M:%S UTC")
    title = f"Checkout returns 502: note of {when}"  # the incident's title and the note's time
    assert (
        f'<a class="hit-title" href="/ui/incidents/{incident_id}#entry-{note_id}">{title}</a>'
        in hit
    )
    assert "<mark>pool</mark> was <mark>exhausted</mark>" in hit
    assert f'in <a href="/ui/incidents/{incident_id}">Checkout returns 502</a>' in hit
    assert 'value="pool exhausted"' in block(
        answer.text, '<form method="get" action="/ui/search" class="filters search-form"'
    )


def test_markup_in_a_document_is_shown_as_text(api: TestClient, web: WebUser) -> None:
    incident_id = declare(api)
    add_note(api, incident_id, 'Saw <img src=x onerror="alert(1)"> in the pool <b>logs</b>')
    html = web.get(PAGE, q="pool").text
    [hit] = hits(html)
    snippet = block(hit, '<p class="hit-snippet"')
    assert "<mark>pool</mark>" in snippet
    # PostgreSQL's headline drops what looks like a tag; SQLite's snippet keeps it, as text.
    inner = snippet.removeprefix('<p class="hit-snippet">').removesuffix("</p>")
    assert re.sub(r"</?mark>", "", inner).count("<") == 0
    if "img" in snippet:
        assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in snippet


def test_incidents_postmortems_and_action_items_link_to_their_pages(
    api: TestClient, web: WebUser
) -> None:
    incident_id = declare(api, title="Zeppelin checkout outage")
    section = f"/incidents/{incident_id}/postmortem/sections/root_cause"
    ok(api.put(section, json={"text": "The zeppelin cache expired at once."}))
    item = {
        "title": "Stagger zeppelin cache expiry",
        "kind": "preventative",
        "owner": "alice",
        "due_date": "2030-01-01",
    }
    item_id = ok(api.post(f"/incidents/{incident_id}/action-items", json=item), 201)["item_id"]

    html = web.get(PAGE, q="zeppelin").text
    by_kind = {kind_of(hit): hit for hit in hits(html)}
    assert set(by_kind) == {"incident", "postmortem", "action_item"}
    assert f'href="/ui/incidents/{incident_id}">Zeppelin checkout outage</a>' in by_kind["incident"]
    pm = f'href="/ui/incidents/{incident_id}/postmortem#section-root_cause">'
    assert pm + "Postmortem: Root cause (draft)</a>" in by_kind["postmortem"]
    board = f'href="/ui/action-items?incident={incident_id}#item-{item_id}">'
    assert board + "Stagger zeppelin cache expiry</a>" in by_kind["action_item"]

    only = web.get(PAGE, q="zeppelin", kind="postmortem").text
    assert [kind_of(hit) for hit in hits(only)] == ["postmortem"]
    assert '<option value="postmortem" selected>' in only


def test_results_come_a_page_at_a_time(api: TestClient, web: WebUser) -> None:
    incident_id = declare(api)
    for number in range(PAGE_SIZE + 3):
        add_note(api, incident_id, f"Marmalade check {number}")
    first = web.get(PAGE, q="marmalade", kind="note")
    assert len(hits(first.text)) == PAGE_SIZE
    assert f"Results 1\u2013{PAGE_SIZE}</p>" in block(first.text, '<p class="help page-range"')
    assert 'rel="first"' not in first.text
    link = re.search(r'<a class="button" href="([^"]+)" rel="next" id="next-page">', first.text)
    assert link is not None
    following = link.group(1).replace("&amp;", "&")
    assert following.startswith("/ui/search?q=marmalade&kind=note&cursor=")
    assert following.endswith(f"&start={PAGE_SIZE + 1}")
    second = web.client.get(following)
    assert second.status_code == 200
    assert len(hits(second.text)) == 3
    assert 'id="next-page"' not in second.text
    seen = set(hits(first.text)) | set(hits(second.text))
    assert len(seen) == PAGE_SIZE + 3, "no hit is shown twice"
    where = block(second.text, '<p class="help page-range"')
    assert f"Results {PAGE_SIZE + 1}\u2013{PAGE_SIZE + 3}" in where
    assert '<a href="/ui/search?q=marmalade&amp;kind=note" rel="first">First page</a>' in where
    assert f'<ol class="hits" id="hits" start="{PAGE_SIZE + 1}">' in second.text
    # Reached without its number (an old link), a page still leads back to the first.
    unnumbered = web.client.get(following.rsplit("&start=", 1)[0]).text
    assert "Results" not in block(unnumbered, '<p class="help page-range"')
    assert 'rel="first">First page</a>' in unnumbered


def test_no_query_shows_the_form_and_nothing_found_says_so(web: WebUser) -> None:
    empty = web.get(PAGE)
    assert empty.status_code == 200
    assert 'id="search-form"' in empty.text
    assert 'id="hits"' not in empty.text
    nothing = web.get(PAGE, q="xylophone", kind="note")
    assert nothing.status_code == 200
    assert "Nothing matches among notes." in nothing.text


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"q": "-pool"}, "q", "q has no word to look for"),
        ({"q": "p*"}, "q", "too short a prefix"),
        ({"q": "x" * 501}, "q", "q: a query has at most 500 characters"),
        ({"q": "pool\x07"}, "q", "q: "),
        ({"q": "pool", "kind": "ticket"}, "kind", "kind: 'ticket' is not one of incident"),
        ({"q": "pool", "cursor": "not-a-cursor"}, "cursor", "cursor: not a cursor of this list"),
    ],
)
def test_what_the_search_cannot_use_is_refused(
    web: WebUser, query: dict[str, str], field: str, message: str
) -> None:
    answer = web.get(PAGE, **query)
    assert answer.status_code == 422
    error = block(answer.text, f'<p class="error" role="alert" data-form-error="{field}"')
    assert str(escape(message)) in error
    assert 'id="search-form"' in answer.text


@pytest.mark.parametrize("path", ["/ui/incidents", "/ui/action-items", "/ui/insights"])
def test_every_page_has_the_search_box(reader: WebUser, path: str) -> None:
    html = reader.get(path).text
    box = block(html, '<form method="get" action="/ui/search" id="header-search"')
    assert '<input id="header-q" type="search" name="q"' in box
    assert "csrf_token" not in box


def test_the_search_page_has_one_search_box(reader: WebUser) -> None:
    html = reader.get(PAGE, q="pool").text
    assert 'id="header-search"' not in html
    assert html.count('name="q"') == 1


def test_a_postmortem_passage_is_shown_without_markdown(api: TestClient, web: WebUser) -> None:
    incident_id = declare(api)
    sections = {
        "root_cause": "The **connection pool** on `payments-api` ran dry; *retry* as the"
        " [runbook](https://runbooks.example/pool) says",
        "lessons_learned": "## Pool\n\n- Dashboards for pool use\n- Canary <b>checks</b> pool",
    }
    for section, text in sections.items():
        path = f"/incidents/{incident_id}/postmortem/sections/{section}"
        ok(api.put(path, json={"text": text}))
    found = hits(web.get(PAGE, q="pool", kind="postmortem").text)
    snippets = [block(hit, '<p class="hit-snippet"') for hit in found]
    assert len(snippets) == 2
    for snippet in snippets:
        words = re.sub(r"</?mark>", "", snippet)
        for syntax in ("**", "](", "[", "`", "## ", "- ", "*retry*"):
            assert syntax not in words, (syntax, snippet)
        assert "<mark>pool</mark>" in snippet.lower()
    text = " ".join(re.sub(r"</?mark>", "", s) for s in snippets)
    assert "pool on payments-api ran dry; retry as the" in text
    assert "• Dashboards for pool use" in text
    assert "<b>" not in text  # markup stays text (PostgreSQL's headline drops it)


def test_a_markdown_snippet_keeps_its_marks_and_escapes_the_rest() -> None:
    snippet = (
        "**<mark>Bold</mark>** and a [<mark>link</mark>](https://x.example/a) &lt;i&gt;"
        " `<mark>code</mark>` and [more](https…"
    )
    assert safe_snippet(snippet, markdown=True) == (
        "<mark>Bold</mark> and a <mark>link</mark> &lt;i&gt; <mark>code</mark> and more…"
    )
    assert safe_snippet("[a](https://x.example/<mark>pool</mark>) b", markdown=True) == "a b"
    assert safe_snippet("**<mark>Bold</mark>**") == "**<mark>Bold</mark>**"  # text kinds


def test_a_snippet_keeps_only_its_own_marks() -> None:
    snippet = "a <mark>b</mark> &lt;i&gt; <script>x</script> <mark><mark>c</mark> &amp;lt; <mark>d"
    assert safe_snippet(snippet) == (
        "a <mark>b</mark> &lt;i&gt; &lt;script&gt;x&lt;/script&gt; <mark>&lt;mark&gt;c</mark>"
        " &amp;lt; <mark>d</mark>"
    )


def test_a_query_matching_more_than_is_ranked_says_how_many_were(
    api: TestClient, web: WebUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    incident_id = declare(api, title="Checkout returns 502")
    for number in range(3):
        add_note(api, incident_id, f"pool step {number}")
    assert 'id="ranked-newest"' not in web.get(PAGE, q="pool").text

    monkeypatch.setattr("projections.search_queries.RANKED_AT_MOST", 2)
    html = web.get(PAGE, q="pool").text
    notice = block(html, '<p class="help" id="ranked-newest"')
    assert "More than 2 documents match: these are the best of the newest 2." in notice
    assert len(hits(html)) == 2
