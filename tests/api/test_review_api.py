"""Publishing needs a reviewer's approval, from someone other than the last editor (the
actor is the token's name). Each test runs on SQLite and PostgreSQL (tests/conftest.py)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.helpers import as_person, assert_problem, declare, nothing_stored, ok

SECTIONS = {"summary": "Checkout failed.", "root_cause": "Pool halved.", "resolution": "Rollback."}


def written_by(client: TestClient, author: TestClient) -> str:
    incident = declare(client)
    ok(client.post(f"/incidents/{incident}/status", json={"status": "resolved"}))
    for section, text in SECTIONS.items():
        ok(author.put(f"/incidents/{incident}/postmortem/sections/{section}", json={"text": text}))
    return incident


def test_the_author_cannot_approve_a_reviewer_must(client: TestClient) -> None:
    alice, bob = as_person(client, "alice"), as_person(client, "bob")
    incident = written_by(client, alice)
    url = f"/incidents/{incident}/postmortem"
    with nothing_stored(client):
        assert_problem(client.post(f"{url}/review", json={}), 422)
        assert_problem(
            client.post(f"{url}/review", json={"reviewers": ["alice"]}),
            422,
            "alice wrote the latest edit and cannot approve it; name another reviewer",
        )
    ok(alice.post(f"{url}/review", json={"reviewers": ["alice", "bob"]}))
    with nothing_stored(client):
        assert_problem(
            alice.post(f"{url}/approve"),
            422,
            "alice wrote the latest edit of revision 1 and cannot approve their own edit",
        )
        assert_problem(
            as_person(client, "mallory").post(f"{url}/approve"),
            422,
            "mallory is not a reviewer of revision 1 (reviewers: alice, bob)",
        )
        assert_problem(
            alice.post(f"{url}/publish"),
            422,
            "cannot publish: revision 1 needs an approval from a reviewer other than its last"
            " editor",
        )
    ok(bob.post(f"{url}/approve", json={"comment": "Clear."}))
    ok(alice.post(f"{url}/publish"))

    document = ok(client.get(url))
    assert document["status"] == "published"
    assert document["reviewers"] == ["alice", "bob"]
    assert document["verdicts"]["bob"]["verdict"] == "approved"
    assert document["verdicts"]["bob"]["comment"] == "Clear."
    history = ok(client.get(f"{url}/history"))
    steps = [(s["status"], s["actor"]) for s in history["status_changes"]]
    assert ("approved", "bob") in steps


def test_changes_requested_then_an_edit_needs_a_fresh_approval(client: TestClient) -> None:
    alice, bob = as_person(client, "alice"), as_person(client, "bob")
    incident = written_by(client, alice)
    url = f"/incidents/{incident}/postmortem"
    ok(alice.post(f"{url}/review", json={"reviewers": ["bob"]}))
    with nothing_stored(client):
        assert_problem(bob.post(f"{url}/request-changes", json={}), 422)
    ok(bob.post(f"{url}/request-changes", json={"comment": "Say why paging was late."}))
    with nothing_stored(client):
        assert_problem(
            alice.post(f"{url}/publish"),
            422,
            "cannot publish: bob asked for changes to revision 1",
        )
    ok(bob.post(f"{url}/approve"))
    # An edit after the approval clears it: the approval was of the earlier text.
    ok(alice.put(f"{url}/sections/impact", json={"text": "Paging was late: rule typo."}))
    assert ok(client.get(url))["verdicts"] == {}
    assert_problem(alice.post(f"{url}/publish"), 422)
    ok(bob.post(f"{url}/approve"))
    ok(alice.post(f"{url}/publish"))
    kinds = [e["kind"] for e in ok(client.get(f"/incidents/{incident}/timeline"))["entries"]]
    assert kinds[-6:] == [
        "postmortem_review_requested",
        "postmortem_changes_requested",
        "postmortem_approved",
        "postmortem_section_edited",
        "postmortem_approved",
        "postmortem_published",
    ]
