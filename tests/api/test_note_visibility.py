"""A note's visibility over HTTP: set when it is added, shown on its timeline entry.

Each test runs on SQLite and PostgreSQL (tests/conftest.py).
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from eventstore import EventStore

PROBLEM_JSON = "application/problem+json"


def declare(client: TestClient) -> str:
    response = client.post("/incidents", json={"title": "Checkout returns 502", "severity": "SEV2"})
    assert response.status_code == 201, response.text
    incident_id: str = response.json()["id"]
    return incident_id


def add_note(client: TestClient, incident_id: str, body: dict[str, Any]) -> str:
    response = client.post(f"/incidents/{incident_id}/notes", json=body)
    assert response.status_code == 201, response.text
    return response.headers["location"].rsplit("/", 1)[-1]


def note_details(client: TestClient, incident_id: str) -> dict[str, dict[str, Any]]:
    entries = client.get(f"/incidents/{incident_id}/timeline").json()["entries"]
    return {entry["id"]: entry["details"] for entry in entries if entry["kind"] == "note"}


def test_notes_are_internal_unless_made_public(client: TestClient, store: EventStore) -> None:
    incident_id = declare(client)

    internal = add_note(client, incident_id, {"text": "Paged the payments on-call"})
    public = add_note(
        client, incident_id, {"text": "Some customers cannot pay", "visibility": "public"}
    )

    assert note_details(client, incident_id) == {
        internal: {"visibility": "internal"},
        public: {"visibility": "public"},
    }
    stored = [r for r in store.read_all() if r.type == "timeline.note_added"]
    assert [(r.schema_version, r.data["visibility"]) for r in stored] == [
        (2, "internal"),
        (2, "public"),
    ]


def test_an_unknown_visibility_is_refused_and_nothing_is_stored(
    client: TestClient, store: EventStore
) -> None:
    incident_id = declare(client)
    head = store.head_position()

    response = client.post(
        f"/incidents/{incident_id}/notes", json={"text": "Hello", "visibility": "everyone"}
    )

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    problem = response.json()
    assert [error["location"] for error in problem["errors"]] == [["body", "visibility"]]
    assert problem["detail"] == "body.visibility: Input should be 'internal' or 'public'"
    assert store.head_position() == head
