"""Reviewing a postmortem on its page: reviewers named when it is sent to review, each
reviewer's verdict and comment, the forms only a reviewer other than the last editor sees,
publishing offered only once the rules allow it, and the due date. Forms are posted as a
browser posts them; what was stored is checked through the JSON API. Each test runs on
SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from application.tokens import Scope, TokenStore
from tests.api.helpers import declare, nothing_stored, ok
from tests.web.incident_page_support import block

if TYPE_CHECKING:
    from tests.web.conftest import WebUser

SECTIONS = {
    "summary": "Checkout failed for 40 minutes.",
    "root_cause": "The payments pool ran dry after deploy 4812.",
    "resolution": "Rolled back deploy 4812.",
}


@pytest.fixture
def people(tokens: TokenStore, sign_in: Callable[..., WebUser]) -> dict[str, WebUser]:
    """Browsers signed in as alice (who writes), bob and carol: read-write tokens each."""
    browsers = {}
    for name in ("alice", "bob", "carol"):
        token = f"il_web-{name}-token"
        tokens.create(name, {Scope.READ, Scope.WRITE}, token)
        browsers[name] = sign_in(token)
    return browsers


def page_of(incident_id: str) -> str:
    return f"/ui/incidents/{incident_id}/postmortem"


def done(response: Response, incident_id: str, anchor: str = "workflow") -> None:
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"{page_of(incident_id)}#{anchor}"


def refused(response: Response, form: str, message: str) -> None:
    assert response.status_code == 422, response.text
    found = re.search(
        rf'<p class="error" role="alert" data-form-error="{form}">([^<]*)</p>', response.text
    )
    assert found is not None, f"no refusal shown for {form}"
    assert message in unescape(found.group(1)), found.group(1)


def written_by(api: TestClient, alice: WebUser) -> str:
    """A resolved incident whose postmortem alice wrote through the page's forms."""
    incident_id = declare(api)
    ok(api.post(f"/incidents/{incident_id}/status", json={"status": "resolved"}))
    for section, text in SECTIONS.items():
        edit = alice.post(f"{page_of(incident_id)}/sections/{section}", {"text": text})
        done(edit, incident_id, f"section-{section}")
    return incident_id


def document(api: TestClient, incident_id: str) -> dict[str, Any]:
    return ok(api.get(f"/incidents/{incident_id}/postmortem"))


def reviewer_item(html: str, name: str) -> str:
    return block(html, f'<li class="reviewer" data-reviewer="{name}"')


def test_a_section_edit_records_the_viewer_as_its_editor(
    api: TestClient, people: dict[str, WebUser]
) -> None:
    incident_id = written_by(api, people["alice"])
    events = ok(api.get("/events", params={"stream": incident_id, "limit": "100"}))["events"]
    edits = [e["data"] for e in events if e["type"] == "postmortem.section_edited"]
    assert [(e["section"], e["editor"]) for e in edits] == [(s, "alice") for s in SECTIONS]


def test_review_names_its_reviewers_and_each_of_them_is_offered_a_verdict(
    api: TestClient, people: dict[str, WebUser]
) -> None:
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    incident_id = written_by(api, alice)
    page = page_of(incident_id)
    form = block(alice.get(page).text, '<form method="post" action="' + page + '/review"')
    assert 'name="reviewers"' in form

    done(alice.post(f"{page}/review", {"reviewers": " bob, carol ,bob "}), incident_id)

    assert document(api, incident_id)["reviewers"] == ["bob", "carol"]
    for reviewer in (bob, carol):
        html = reviewer.get(page).text
        assert 'id="approve-form"' in html
        assert 'id="request-changes-form"' in html
        assert 'id="publish-form"' not in html
        missing = block(html, '<p class="missing" id="publish-missing"')
        assert "needs an approval from a reviewer other than its last editor" in missing
    html = alice.get(page).text  # the author, not named: sees the review, gives no verdict
    assert 'id="approve-form"' not in html
    assert 'id="request-changes-form"' not in html
    for name in ("bob", "carol"):
        item = reviewer_item(html, name)
        assert 'data-verdict="waiting"' in item
        assert ">waiting</span>" in item


def test_changes_asked_for_block_publishing_until_the_reviewer_approves(
    api: TestClient, people: dict[str, WebUser]
) -> None:
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    incident_id = written_by(api, alice)
    page = page_of(incident_id)
    done(alice.post(f"{page}/review", {"reviewers": "bob, carol"}), incident_id)

    with nothing_stored(api):
        refused(
            bob.post(f"{page}/request-changes", {"comment": "  "}),
            "request-changes",
            "Say what should change",
        )
    done(bob.post(f"{page}/request-changes", {"comment": "Name the deploy's owner."}), incident_id)
    done(carol.post(f"{page}/approve", {"comment": ""}), incident_id)

    html = alice.get(page).text
    bob_item = reviewer_item(html, "bob")
    assert 'data-verdict="changes_requested"' in bob_item
    assert "Name the deploy&#39;s owner." in bob_item
    assert 'data-verdict="approved"' in reviewer_item(html, "carol")
    assert "bob asked for changes to revision 1" in block(html, '<p class="missing"')
    assert 'id="publish-form"' not in html
    with nothing_stored(api):
        refused(alice.post(f"{page}/publish"), "publish", "bob asked for changes")

    done(bob.post(f"{page}/approve", {"comment": "Good now."}), incident_id)
    html = alice.get(page).text
    assert "Good now." in reviewer_item(html, "bob")
    assert 'id="publish-missing"' not in html
    assert 'id="publish-form"' in html
    assert 'id="approve-form"' not in bob.get(page).text  # he approved this text already
    done(alice.post(f"{page}/publish"), incident_id)
    assert document(api, incident_id)["status"] == "published"


def test_the_author_of_the_latest_edit_cannot_approve_it(
    api: TestClient, people: dict[str, WebUser]
) -> None:
    alice, carol = people["alice"], people["carol"]
    incident_id = written_by(api, alice)
    page = page_of(incident_id)
    with nothing_stored(api):
        refused(
            alice.post(f"{page}/review", {"reviewers": "alice"}),
            "review",
            "alice wrote the latest edit",
        )
    done(alice.post(f"{page}/review", {"reviewers": "alice, bob"}), incident_id)

    html = alice.get(page).text
    assert 'id="approve-form"' not in html
    assert "another reviewer approves it" in block(html, '<p class="help" id="own-edit"')
    with nothing_stored(api):
        refused(alice.post(f"{page}/approve"), "approve", "cannot approve their own edit")
        refused(carol.post(f"{page}/approve"), "approve", "carol is not a reviewer of revision 1")
        assert 'id="approve-form"' not in carol.get(page).text


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Reviewers: name at least one reviewer"),
        (" , ,", "Reviewers: name at least one reviewer"),
        ("x" * 201, "Reviewers can be at most 200 characters long"),
    ],
)
def test_a_review_without_a_valid_reviewer_is_refused(
    api: TestClient, people: dict[str, WebUser], typed: str, message: str
) -> None:
    incident_id = written_by(api, people["alice"])
    with nothing_stored(api):
        answer = people["alice"].post(f"{page_of(incident_id)}/review", {"reviewers": typed})
    refused(answer, "review", message)
    assert f'value="{typed.strip()}"' in block(
        answer.text, '<form method="post" action="' + page_of(incident_id) + '/review"'
    )
    assert document(api, incident_id)["status"] == "draft"


def test_the_due_date_follows_resolution_and_can_be_set_and_cleared(
    api: TestClient, people: dict[str, WebUser]
) -> None:
    alice = people["alice"]
    incident_id = declare(api)
    page = page_of(incident_id)
    html = alice.get(page).text
    assert 'id="pm-due"' not in html
    assert "Due 5 business days after the incident is resolved" in block(html, '<p id="due-state"')

    ok(api.post(f"/incidents/{incident_id}/status", json={"status": "resolved"}))
    default = ok(api.get(f"/incidents/{incident_id}"))["postmortem_due_date"]
    html = alice.get(page).text
    assert f'<time datetime="{default}">' in block(html, '<span id="pm-due"')
    state = block(html, '<p id="due-state"')
    assert "5 business days after the incident was resolved" in state
    assert "overdue" not in state
    assert 'id="due-date-clear-form"' not in html

    done(alice.post(f"{page}/due-date", {"due_date": "2020-01-02"}), incident_id, "due")
    summary = ok(api.get(f"/incidents/{incident_id}"))
    assert (summary["postmortem_due_date"], summary["postmortem_overdue"]) == ("2020-01-02", True)
    html = alice.get(page).text
    assert 'class="badge overdue-mark">overdue</span>' in block(html, '<span id="pm-due"')
    assert "a date set for this postmortem" in block(html, '<p id="due-state"')
    with nothing_stored(api):
        refused(
            alice.post(f"{page}/due-date", {"due_date": "soon"}),
            "due-date",
            "Due on: “soon” is not a date",
        )
        refused(
            alice.post(f"{page}/due-date", {"due_date": "2020-01-02"}),
            "due-date",
            "already has this due date",
        )

    done(alice.post(f"{page}/due-date", {"due_date": ""}), incident_id, "due")
    assert ok(api.get(f"/incidents/{incident_id}"))["postmortem_due_date"] == default


def test_once_published_the_postmortem_is_no_longer_shown_as_due(
    api: TestClient, people: dict[str, WebUser]
) -> None:
    alice, bob = people["alice"], people["bob"]
    incident_id = written_by(api, alice)
    page = page_of(incident_id)
    done(alice.post(f"{page}/due-date", {"due_date": "2020-01-02"}), incident_id, "due")
    done(alice.post(f"{page}/review", {"reviewers": "bob"}), incident_id)
    in_review = alice.get(page).text
    assert "2020-01-02" in block(in_review, '<span id="pm-due"')
    assert "overdue" in block(in_review, '<span id="pm-due"')

    done(bob.post(f"{page}/approve", {"comment": ""}), incident_id)
    done(alice.post(f"{page}/publish"), incident_id)
    published = alice.get(page).text
    done(alice.post(f"{page}/sections/impact", {"text": "More"}), incident_id, "section-impact")
    revision_two = alice.get(page).text  # a draft again, of a postmortem published already
    assert "Revision 2" in revision_two
    for html in (published, revision_two):
        assert 'id="pm-due"' not in html
        assert 'id="due"' not in html
        assert "overdue" not in html


def test_a_read_token_sees_the_verdicts_and_no_review_form(
    api: TestClient, people: dict[str, WebUser], reader: WebUser
) -> None:
    alice, bob = people["alice"], people["bob"]
    incident_id = written_by(api, alice)
    page = page_of(incident_id)
    done(alice.post(f"{page}/review", {"reviewers": "bob, rita"}), incident_id)
    done(bob.post(f"{page}/request-changes", {"comment": "<b>Which</b> pool?"}), incident_id)

    html = reader.get(page).text
    assert "&lt;b&gt;Which&lt;/b&gt; pool?" in reviewer_item(html, "bob")
    assert "<b>Which" not in html
    for form in ("approve-form", "request-changes-form", "publish-form", "due-date-form"):
        assert f'id="{form}"' not in html
    with nothing_stored(api):
        assert reader.post(f"{page}/approve").status_code == 403
        assert reader.post(f"{page}/due-date", {"due_date": "2030-01-01"}).status_code == 403
