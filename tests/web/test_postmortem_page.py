"""The postmortem page through a browser's eyes: forms posted as a browser posts them, the
changes checked through the JSON API. Each test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from application.tokens import Scope, TokenStore
from tests.api.helpers import declare, nothing_stored, ok

if TYPE_CHECKING:
    from tests.web.conftest import WebUser

WRITER_TOKEN = "il_web-alice-token"
REVIEWER_TOKEN = "il_web-bob-token"


@pytest.fixture
def alice(tokens: TokenStore, sign_in: Callable[..., WebUser]) -> WebUser:
    """A browser signed in with a read-write token named alice: the actor of her edits."""
    tokens.create("alice", {Scope.READ, Scope.WRITE}, WRITER_TOKEN)
    return sign_in(WRITER_TOKEN)


@pytest.fixture
def bob(tokens: TokenStore, sign_in: Callable[..., WebUser]) -> WebUser:
    """A browser signed in as bob, a read-write token: the reviewer who approves alice's text."""
    tokens.create("bob", {Scope.READ, Scope.WRITE}, REVIEWER_TOKEN)
    return sign_in(REVIEWER_TOKEN)


def page_of(incident_id: str) -> str:
    return f"/ui/incidents/{incident_id}/postmortem"


def edit(browser: WebUser, incident_id: str, section: str, text: str) -> Response:
    return browser.post(f"{page_of(incident_id)}/sections/{section}", {"text": text})


def saved(response: Response, incident_id: str, anchor: str) -> None:
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"{page_of(incident_id)}#{anchor}"


def block(html: str, opening: str) -> str:
    """The element that starts with ``opening``, up to the matching close of its tag."""
    start = html.index(opening)
    tag = opening[1:].split()[0]
    depth, at = 0, start
    for found in re.finditer(rf"<(/?){tag}\b", html[start:]):
        depth += -1 if found.group(1) else 1
        if depth == 0:
            at = start + found.start()
            break
    return html[start : html.index(">", at) + 1]


def history(api: TestClient, incident_id: str) -> dict[str, Any]:
    return ok(api.get(f"/incidents/{incident_id}/postmortem/history"))


def resolved(api: TestClient) -> str:
    incident_id = declare(api)
    ok(api.post(f"/incidents/{incident_id}/status", json={"status": "resolved"}))
    return incident_id


def published(api: TestClient, alice: WebUser, bob: WebUser) -> str:
    """A resolved incident whose revision 1 alice wrote, sent to bob's review, which he
    approved, and published."""
    incident_id = resolved(api)
    texts = {
        "summary": "Checkout failed for 40 minutes.",
        "root_cause": "The payments pool ran dry after deploy 4812.",
        "resolution": "Rolled back deploy 4812.",
    }
    for section, text in texts.items():
        saved(edit(alice, incident_id, section, text), incident_id, f"section-{section}")
    page = page_of(incident_id)
    saved(alice.post(f"{page}/review", {"reviewers": "bob"}), incident_id, "workflow")
    saved(bob.post(f"{page}/approve"), incident_id, "workflow")
    saved(alice.post(f"{page}/publish"), incident_id, "workflow")
    return incident_id


def test_two_edits_through_the_form_are_two_changes_by_the_signed_in_token(
    api: TestClient, alice: WebUser
) -> None:
    incident_id = declare(api)
    saved(edit(alice, incident_id, "summary", "First words."), incident_id, "section-summary")
    saved(
        edit(alice, incident_id, "summary", "First words.\r\nSecond line."),
        incident_id,
        "section-summary",
    )

    changes = history(api, incident_id)["changes"]
    assert [(c["section"], c["actor"], c["after"]) for c in changes] == [
        ("summary", "alice", "First words."),
        ("summary", "alice", "First words.\nSecond line."),  # CRLF from the form stored as LF
    ]
    page = alice.get(page_of(incident_id))
    assert page.status_code == 200
    form = block(
        page.text, '<form method="post" action="' + page_of(incident_id) + '/sections/summary"'
    )
    assert 'class="section-form" data-section="summary"' in form
    assert "First words.\nSecond line.</textarea>" in form
    summary_history = block(page.text, '<section id="history-summary"')
    assert summary_history.count('<li class="change">') == 2
    assert summary_history.count('<strong class="actor">alice</strong>') == 2
    assert "<ins>Second line.</ins>" in summary_history


def test_publish_then_edit_starts_revision_two_and_the_diff_shows_the_words(
    api: TestClient, alice: WebUser, bob: WebUser
) -> None:
    incident_id = published(api, alice, bob)
    page = alice.get(page_of(incident_id)).text
    assert 'class="badge pm-published">published</span>' in page
    assert 'id="review-form"' not in page
    assert 'id="publish-form"' not in page
    revisions = block(page, '<ol id="revisions"')
    assert f'href="{page_of(incident_id)}?revision=1"' in revisions

    new_cause = "The payments pool was exhausted after deploy 4812."
    saved(edit(alice, incident_id, "root_cause", new_cause), incident_id, "section-root_cause")
    document = ok(api.get(f"/incidents/{incident_id}/postmortem"))
    assert (document["revision"], document["status"]) == (2, "draft")
    assert document["published_revisions"] == [1]
    revisions = block(alice.get(page_of(incident_id)).text, '<ol id="revisions"')
    words = " ".join(re.sub(r"<[^>]+>", " ", revisions).split())
    assert re.search(r"UTC by alice · changes since$", words), words

    diff = alice.get(f"{page_of(incident_id)}/diff", **{"from": "1", "to": "2"})
    assert diff.status_code == 200
    cause = block(diff.text, '<section class="diff changed" data-section="root_cause"')
    assert "<del>ran dry</del>" in cause
    assert "<ins>was exhausted</ins>" in cause
    assert 'data-section="resolution"' in block(
        diff.text, '<section class="diff unchanged" data-section="resolution"'
    )
    first = alice.get(page_of(incident_id), revision="1").text
    assert "ran dry after deploy 4812" in first
    assert "superseded by" in first
    assert 'class="section-form"' not in first


def test_a_diff_between_two_times_compares_the_text_as_recorded_then(
    api: TestClient, alice: WebUser
) -> None:
    incident_id = declare(api)
    for text in ("Checkout failed.", "Checkout failed for everyone.", "Checkout mostly failed."):
        saved(edit(alice, incident_id, "impact", text), incident_id, "section-impact")
    first, second, _ = history(api, incident_id)["changes"]

    diff = alice.get(
        f"{page_of(incident_id)}/diff",
        **{"from": first["recorded_at"], "to": second["recorded_at"]},
    )
    assert diff.status_code == 200, diff.text
    impact = block(diff.text, '<section class="diff changed" data-section="impact"')
    assert "<ins> for everyone</ins>" in impact
    assert "mostly" not in impact
    before_declared = alice.get(f"{page_of(incident_id)}/diff", **{"from": "2001-01-01T00:00:00Z"})
    assert before_declared.status_code == 404
    assert "had not been declared" in before_declared.text


@pytest.mark.parametrize(
    ("reference", "status", "message"),
    [("yesterday", 422, "is neither a revision number"), ("7", 404, "has no revision 7")],
)
def test_a_diff_side_that_names_nothing_is_refused_on_the_page(
    api: TestClient, alice: WebUser, reference: str, status: int, message: str
) -> None:
    incident_id = declare(api)
    answer = alice.get(f"{page_of(incident_id)}/diff", **{"from": reference})
    assert answer.status_code == status
    assert 'data-form-error="diff"' in answer.text
    assert message in answer.text
    assert 'id="diff-form"' in answer.text


def test_markdown_in_a_section_comes_out_inert(api: TestClient, alice: WebUser) -> None:
    incident_id = declare(api)
    text = "<script>alert(1)</script>\n\n[x](javascript:alert(1)) and **bold**"
    saved(edit(alice, incident_id, "lessons_learned", text), incident_id, "section-lessons_learned")

    page = alice.get(page_of(incident_id)).text
    section = block(page, '<section class="pm-section" id="section-lessons_learned"')
    assert "<strong>bold</strong>" in section
    assert "<script>alert" not in page
    assert not re.search(r"href=[\"']?\s*javascript:", page, flags=re.I)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in section  # shown as text, in the editor too
    assert "&lt;script&gt;" in block(page, '<section id="history-lessons_learned"')


def test_refusals_are_shown_with_422_and_store_nothing(
    api: TestClient, alice: WebUser, bob: WebUser
) -> None:
    incident_id = published(api, alice, bob)
    with nothing_stored(api):
        twice = alice.post(f"{page_of(incident_id)}/publish")
        assert twice.status_code == 422
        assert re.search(
            r'<p class="error" role="alert" data-form-error="publish">[^<]*already published',
            twice.text,
        )
        empty = edit(alice, incident_id, "detection", "   ")
        assert empty.status_code == 422
        assert 'data-form-error="section-detection"' in empty.text
        assert "already has exactly this text" in empty.text
        assert empty.headers["HX-Push-Url"] == "false"  # the address stays the page's
        unknown = edit(alice, incident_id, "appendix", "Text.")
        assert unknown.status_code == 404
    draft = declare(api)
    with nothing_stored(api):
        early = alice.post(f"{page_of(draft)}/publish")
        assert early.status_code == 422
        assert "must be in review" in early.text
        review = alice.post(f"{page_of(draft)}/review", {"reviewers": "bob"})
        assert review.status_code == 422
        assert "The postmortem is empty" in review.text


def test_a_read_token_sees_the_document_and_no_forms(
    api: TestClient, alice: WebUser, reader: WebUser
) -> None:
    incident_id = resolved(api)
    saved(edit(alice, incident_id, "summary", "Something broke."), incident_id, "section-summary")
    page = reader.get(page_of(incident_id))
    assert page.status_code == 200
    assert "Something broke." in page.text
    for form in ('class="section-form"', 'id="review-form"', 'id="publish-form"'):
        assert form not in page.text
    with nothing_stored(api):
        assert edit(reader, incident_id, "summary", "Mine now.").status_code == 403


def test_a_post_without_the_csrf_value_is_403_and_stores_nothing(
    api: TestClient, alice: WebUser
) -> None:
    incident_id = declare(api)
    with nothing_stored(api):
        answer = alice.post(f"{page_of(incident_id)}/sections/summary", {"text": "Hi."}, csrf=False)
        assert answer.status_code == 403
        assert alice.post(f"{page_of(incident_id)}/review", csrf=False).status_code == 403


def test_unknown_incidents_and_revisions_are_404(api: TestClient, alice: WebUser) -> None:
    incident_id = declare(api)
    missing = "00000000-0000-4000-8000-00000000dead"
    assert alice.get(page_of(missing)).status_code == 404
    assert alice.get(page_of(incident_id), revision="3").status_code == 404
    assert alice.get(page_of(incident_id), revision="zero").status_code == 422
    empty = alice.get(page_of(incident_id)).text
    assert 'class="badge pm-draft">draft</span>' in empty
    assert empty.count('class="section-form"') == 6
