"""The postmortem through the API: write, review, publish, revise, read, and its history.

Each test runs on SQLite and PostgreSQL (tests/conftest.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from tests.api.helpers import (
    REVIEWER,
    assert_problem,
    declare,
    nothing_stored,
    ok,
    review_and_approve,
    use_clock,
)
from tests.clocks import FakeClock

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
MISSING = UUID("00000000-0000-4000-8000-00000000dead")

DRAFT = {
    "summary": "Checkout failed for 42 minutes after deploy 4812.",
    "impact": "30% of checkouts failed with HTTP 502.",
    "root_cause": "Deploy 4812 halved the payments connection pool.",
    "resolution": "Rolled back deploy 4812.",
}


@pytest.fixture
def clock(client: TestClient) -> FakeClock:
    clock = FakeClock(T0)
    use_clock(client, clock)
    return clock


def write(client: TestClient, incident_id: str, section: str, text: str) -> dict[str, Any]:
    url = f"/incidents/{incident_id}/postmortem/sections/{section}"
    return ok(client.put(url, json={"text": text}))


def resolved_incident(client: TestClient) -> str:
    incident_id = declare(client, started_at=(T0 - timedelta(hours=1)).isoformat())
    ok(client.post(f"/incidents/{incident_id}/status", json={"status": "resolved"}))
    return incident_id


def published(client: TestClient) -> str:
    """A resolved incident whose postmortem revision 1 is published with DRAFT."""
    incident_id = resolved_incident(client)
    for section, text in DRAFT.items():
        write(client, incident_id, section, text)
    review_and_approve(client, incident_id)
    ok(client.post(f"/incidents/{incident_id}/postmortem/publish"))
    return incident_id


def postmortem(client: TestClient, incident_id: str, **params: Any) -> dict[str, Any]:
    return ok(client.get(f"/incidents/{incident_id}/postmortem", params=params))


def test_write_review_and_publish(client: TestClient, clock: FakeClock) -> None:
    incident_id = resolved_incident(client)
    empty = postmortem(client, incident_id)
    assert (empty["revision"], empty["status"], empty["sections"]) == (1, "draft", {})

    # Written out of order; read back in the order a postmortem reads.
    for section in ("resolution", "summary", "root_cause", "impact"):
        result = write(client, incident_id, section, DRAFT[section])
        assert result["id"] == incident_id
    document = postmortem(client, incident_id)
    assert list(document["sections"]) == ["summary", "impact", "root_cause", "resolution"]
    assert document["sections"] == DRAFT
    assert document["title"] == "Checkout returns 502"
    assert document["incident"]["status"] == "resolved"

    clock.now = T0 + timedelta(hours=1)
    review_and_approve(client, incident_id)
    document = postmortem(client, incident_id)
    assert document["status"] == "in_review"
    assert datetime.fromisoformat(document["review_requested_at"]) == T0 + timedelta(hours=1)

    clock.now = T0 + timedelta(hours=2)
    ok(client.post(f"/incidents/{incident_id}/postmortem/publish"))
    document = postmortem(client, incident_id)
    assert (document["status"], document["published_revisions"]) == ("published", [1])
    assert datetime.fromisoformat(document["published_at"]) == T0 + timedelta(hours=2)
    assert document["published_by"] == "admin"
    summary = ok(client.get(f"/incidents/{incident_id}"))
    assert (summary["postmortem_status"], summary["postmortem_revision"]) == ("published", 1)
    kinds = [e["kind"] for e in ok(client.get(f"/incidents/{incident_id}/timeline"))["entries"]]
    assert kinds.count("postmortem_section_edited") == 4
    assert kinds[-3:] == [
        "postmortem_review_requested",
        "postmortem_approved",
        "postmortem_published",
    ]
    # The document's own timeline leaves out the bookkeeping of writing it.
    assert [e["kind"] for e in document["timeline"]] == ["started", "declared", "status_changed"]


def test_an_edit_after_publishing_opens_a_new_revision_and_keeps_the_published_text(
    client: TestClient, clock: FakeClock
) -> None:
    incident_id = published(client)
    write(client, incident_id, "root_cause", "A config push removed the pool limit.")
    write(client, incident_id, "impact", "")

    latest = postmortem(client, incident_id)
    assert (latest["revision"], latest["latest_revision"], latest["status"]) == (2, 2, "draft")
    assert latest["published_revisions"] == [1]
    assert latest["sections"] == {
        "summary": DRAFT["summary"],
        "root_cause": "A config push removed the pool limit.",
        "resolution": DRAFT["resolution"],
    }
    first = postmortem(client, incident_id, revision=1)
    assert (first["revision"], first["status"], first["sections"]) == (1, "published", DRAFT)
    summary = ok(client.get(f"/incidents/{incident_id}"))
    assert (summary["postmortem_status"], summary["postmortem_revision"]) == ("draft", 2)

    markdown = client.get(
        f"/incidents/{incident_id}/postmortem",
        params={"revision": 1},
        headers={"Accept": "text/markdown"},
    )
    assert markdown.status_code == 200
    assert DRAFT["root_cause"] in markdown.text
    assert "superseded by revision 2" in markdown.text
    assert "A config push" not in markdown.text

    for missing in (3, 99):
        assert_problem(
            client.get(f"/incidents/{incident_id}/postmortem", params={"revision": missing}),
            404,
            f"the postmortem of {incident_id} has no revision {missing}",
        )
    assert_problem(client.get(f"/incidents/{incident_id}/postmortem?revision=0"), 422)


def test_markdown_is_served_when_asked_for(client: TestClient, clock: FakeClock) -> None:
    incident_id = published(client)
    response = client.get(
        f"/incidents/{incident_id}/postmortem", headers={"Accept": "text/markdown"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/markdown; charset=utf-8"
    text = response.text
    assert text.startswith("# Postmortem: Checkout returns 502\n")
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings == [
        "## Issue Summary",
        "## Timeline",
        "## Root Cause and Resolution",
        "## Corrective and Preventative Measures",
    ]
    assert DRAFT["summary"] in text

    for accept, expected in (
        ("application/json", "application/json"),
        ("text/markdown;q=0.5, application/json", "application/json"),
        ("application/json;q=0.2, text/markdown", "text/markdown; charset=utf-8"),
        ("text/*", "text/markdown; charset=utf-8"),
        ("*/*", "application/json"),
    ):
        got = client.get(f"/incidents/{incident_id}/postmortem", headers={"Accept": accept})
        assert got.headers["content-type"] == expected, accept
    assert_problem(
        client.get(f"/incidents/{incident_id}/postmortem", headers={"Accept": "image/png"}),
        406,
        "the postmortem is served as application/json or text/markdown",
    )


def test_history_shows_every_change_with_before_after_and_actor(
    client: TestClient, clock: FakeClock
) -> None:
    incident_id = resolved_incident(client)
    edits = [
        ("summary", "First summary."),
        ("summary", "Better summary."),
        ("root_cause", "Pool."),
        ("resolution", "Rollback."),
    ]
    for section, text in edits:
        response = client.put(
            f"/incidents/{incident_id}/postmortem/sections/{section}",
            json={"text": text},
            headers={"X-Request-ID": f"req-{section}-{text[:5]}"},
        )
        ok(response)
    review_and_approve(client, incident_id)
    ok(client.post(f"/incidents/{incident_id}/postmortem/publish"))
    clock.now = T0 + timedelta(days=1)
    write(client, incident_id, "root_cause", "The pool limit was removed.")
    write(client, incident_id, "summary", "")

    history = ok(client.get(f"/incidents/{incident_id}/postmortem/history"))
    assert history["incident_id"] == incident_id
    changes = history["changes"]
    assert [(c["revision"], c["section"], c["before"], c["after"]) for c in changes] == [
        (1, "summary", None, "First summary."),
        (1, "summary", "First summary.", "Better summary."),
        (1, "root_cause", None, "Pool."),
        (1, "resolution", None, "Rollback."),
        (2, "root_cause", "Pool.", "The pool limit was removed."),
        (2, "summary", "Better summary.", None),
    ]
    assert {c["actor"] for c in changes} == {"admin"}
    assert changes[0]["request_id"] == "req-summary-First"
    assert [c["position"] for c in changes] == sorted(c["position"] for c in changes)
    edited = datetime.fromisoformat(changes[4]["occurred_at"])
    assert edited >= T0 + timedelta(days=1)
    assert datetime.fromisoformat(changes[4]["recorded_at"]) >= edited
    assert len({c["id"] for c in changes}) == len(changes)

    empty = resolved_incident(client)
    assert ok(client.get(f"/incidents/{empty}/postmortem/history"))["changes"] == []
    assert_problem(
        client.get(f"/incidents/{MISSING}/postmortem/history"),
        404,
        f"incident {MISSING} does not exist",
    )


def _in_review_with(client: TestClient, sections: dict[str, str], *, resolve: bool) -> str:
    incident_id = resolved_incident(client) if resolve else declare(client)
    for section, text in sections.items():
        write(client, incident_id, section, text)
    ok(client.post(f"/incidents/{incident_id}/postmortem/review", json={"reviewers": [REVIEWER]}))
    return incident_id


def test_workflow_rules_are_422_with_a_precise_detail_and_store_nothing(
    client: TestClient, clock: FakeClock
) -> None:
    empty = resolved_incident(client)
    draft = resolved_incident(client)
    write(client, draft, "summary", "Something.")
    partial = _in_review_with(client, {"summary": "Something."}, resolve=True)
    unresolved = _in_review_with(client, DRAFT, resolve=False)
    done = published(client)

    refusals = [
        (
            f"/incidents/{empty}/postmortem/review",
            "the postmortem is empty; write at least one section before review",
        ),
        (
            f"/incidents/{draft}/postmortem/publish",
            "the postmortem must be in review before it is published",
        ),
        (
            f"/incidents/{partial}/postmortem/publish",
            "cannot publish: section(s) root_cause, resolution are empty",
        ),
        (
            f"/incidents/{unresolved}/postmortem/publish",
            "cannot publish the postmortem of an incident that is investigating; resolve it first",
        ),
        (
            f"/incidents/{done}/postmortem/publish",
            "revision 1 of the postmortem is already published",
        ),
        (
            f"/incidents/{partial}/postmortem/review",
            "revision 1 of the postmortem is in_review; only a draft can be sent to review"
            " (edit a section to start a new revision)",
        ),
    ]
    for url, detail in refusals:
        body = {"reviewers": [REVIEWER]} if url.endswith("/review") else None
        with nothing_stored(client):
            assert_problem(client.post(url, json=body), 422, detail)
    with nothing_stored(client):
        assert_problem(
            client.put(
                f"/incidents/{done}/postmortem/sections/summary", json={"text": DRAFT["summary"]}
            ),
            422,
            "section summary already has exactly this text",
        )


@pytest.mark.parametrize(
    ("section", "body", "location"),
    [
        ("timeline", {"text": "x"}, ["path", "section"]),
        ("summary", {}, ["body", "text"]),
        ("summary", {"text": "x" * 50_001}, ["body", "text"]),
        ("summary", {"text": "x", "author": "me"}, ["body", "author"]),
    ],
)
def test_invalid_section_edits_are_422(
    client: TestClient, clock: FakeClock, section: str, body: dict[str, Any], location: list[Any]
) -> None:
    incident_id = resolved_incident(client)
    with nothing_stored(client):
        response = client.put(f"/incidents/{incident_id}/postmortem/sections/{section}", json=body)
        problem = assert_problem(response, 422)
    assert location in [error["location"] for error in problem["errors"]]


def test_an_unknown_incident_has_no_postmortem(client: TestClient) -> None:
    detail = f"incident {MISSING} does not exist"
    with nothing_stored(client):
        response = client.put(
            f"/incidents/{MISSING}/postmortem/sections/summary", json={"text": "x"}
        )
        assert_problem(response, 404, detail)
        review = {"reviewers": [REVIEWER]}
        assert_problem(
            client.post(f"/incidents/{MISSING}/postmortem/review", json=review), 404, detail
        )
        assert_problem(client.post(f"/incidents/{MISSING}/postmortem/publish"), 404, detail)
    assert_problem(client.get(f"/incidents/{MISSING}/postmortem"), 404, detail)
    assert_problem(
        client.get(f"/incidents/{MISSING}/postmortem", headers={"Accept": "text/markdown"}),
        404,
        detail,
    )


def test_a_postmortem_nobody_wrote_is_an_empty_draft(client: TestClient, clock: FakeClock) -> None:
    incident_id = declare(client)
    for params in ({}, {"revision": 1}):
        document = postmortem(client, incident_id, **params)
        assert document["revision"] == document["latest_revision"] == 1
        assert (document["status"], document["sections"]) == ("draft", {})
        assert document["published_revisions"] == []
    assert_problem(client.get(f"/incidents/{incident_id}/postmortem?revision=2"), 404)
    markdown = client.get(
        f"/incidents/{incident_id}/postmortem", headers={"Accept": "text/markdown"}
    ).text
    assert "**Revision 1** · draft" in markdown
    assert "_Not written yet._" in markdown
