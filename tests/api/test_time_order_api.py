"""Lifecycle moments in time order, amendments that change something, a new note's id.

Each test runs on SQLite and PostgreSQL (tests/conftest.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.helpers import assert_problem, declare, nothing_stored, ok, use_clock
from tests.clocks import FakeClock

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
STARTED = T0 - timedelta(minutes=30)
BEFORE_START = STARTED - timedelta(minutes=1)


def minutes(n: float) -> str:
    return (T0 + timedelta(minutes=n)).isoformat()


@pytest.fixture
def clock(client: TestClient) -> FakeClock:
    clock = FakeClock(T0, step=timedelta(0))  # every command of a step at exactly that time
    use_clock(client, clock)
    return clock


def back_dated(client: TestClient) -> str:
    return declare(client, started_at=STARTED.isoformat(), detected_at=minutes(-20))


@pytest.mark.parametrize(
    ("path", "body", "detail"),
    [
        (
            "status",
            {"status": "identified", "occurred_at": BEFORE_START.isoformat()},
            f"status change to identified at {BEFORE_START.isoformat()}"
            f" is before started_at {STARTED.isoformat()}",
        ),
        (
            "status",
            {"status": "resolved", "occurred_at": BEFORE_START.isoformat()},
            f"resolved at {BEFORE_START.isoformat()} is before started_at {STARTED.isoformat()}",
        ),
        (
            "mitigate",
            {"occurred_at": BEFORE_START.isoformat()},
            f"mitigated at {BEFORE_START.isoformat()} is before started_at {STARTED.isoformat()}",
        ),
        (
            "acknowledge",
            {"occurred_at": BEFORE_START.isoformat()},
            f"acknowledged at {BEFORE_START.isoformat()} is before detection at {minutes(-20)}",
        ),
    ],
    ids=["status", "resolve", "mitigate", "acknowledge"],
)
def test_no_lifecycle_moment_precedes_the_start(
    client: TestClient, clock: FakeClock, path: str, body: dict[str, Any], detail: str
) -> None:
    incident_id = back_dated(client)
    with nothing_stored(client):
        assert_problem(client.post(f"/incidents/{incident_id}/{path}", json=body), 422, detail)


def test_a_note_may_be_back_dated_before_the_start(client: TestClient, clock: FakeClock) -> None:
    incident_id = back_dated(client)
    noted = ok(
        client.post(
            f"/incidents/{incident_id}/notes",
            json={"text": "Deploy 4812 started", "occurred_at": BEFORE_START.isoformat()},
        ),
        201,
    )
    entries = ok(client.get(f"/incidents/{incident_id}/timeline"))["entries"]
    assert entries[0]["id"] == noted["note_id"]
    assert entries[0]["occurred_at"] == BEFORE_START.isoformat().replace("+00:00", "Z")


def test_a_mitigation_never_comes_after_the_resolution(
    client: TestClient, clock: FakeClock
) -> None:
    incident_id = back_dated(client)
    ok(client.post(f"/incidents/{incident_id}/status", json={"status": "resolved"}))
    clock.now = T0 + timedelta(minutes=5)
    with nothing_stored(client):
        assert_problem(
            client.post(f"/incidents/{incident_id}/mitigate"),
            422,
            f"incident was resolved at {T0.isoformat()}; a mitigation now would come after"
            " the resolution: give occurred_at at or before it",
        )
        assert_problem(
            client.post(f"/incidents/{incident_id}/mitigate", json={"occurred_at": minutes(1)}),
            422,
            f"mitigated at {minutes(1)} is after resolved_at {T0.isoformat()}",
        )
    ok(client.post(f"/incidents/{incident_id}/mitigate", json={"occurred_at": minutes(-4)}))
    summary = ok(client.get(f"/incidents/{incident_id}"))
    assert summary["time_to_mitigate_seconds"] == 16 * 60
    assert summary["time_to_mitigate_seconds"] <= summary["time_to_resolve_seconds"]


def test_a_resolution_never_comes_before_the_mitigation(
    client: TestClient, clock: FakeClock
) -> None:
    incident_id = back_dated(client)
    ok(client.post(f"/incidents/{incident_id}/mitigate", json={"occurred_at": minutes(-5)}))
    with nothing_stored(client):
        assert_problem(
            client.post(
                f"/incidents/{incident_id}/status",
                json={"status": "resolved", "occurred_at": minutes(-6)},
            ),
            422,
            f"resolved at {minutes(-6)} is before mitigated_at {minutes(-5)}",
        )


def test_a_new_note_answers_with_its_id(client: TestClient, clock: FakeClock) -> None:
    incident_id = declare(client)
    response = client.post(f"/incidents/{incident_id}/notes", json={"text": "Paged payments"})
    body = ok(response, 201)
    assert set(body) == {"id", "note_id", "version", "position"}
    assert body["id"] == incident_id
    assert response.headers["Location"] == f"/incidents/{incident_id}/timeline/{body['note_id']}"
    entry = ok(client.get(f"/incidents/{incident_id}/timeline"))["entries"][-1]
    assert (entry["id"], entry["text"]) == (body["note_id"], "Paged payments")


def test_a_replayed_note_answers_with_the_same_id(client: TestClient, clock: FakeClock) -> None:
    incident_id = declare(client)
    headers = {"Idempotency-Key": "note-once"}
    first = ok(
        client.post(f"/incidents/{incident_id}/notes", json={"text": "x"}, headers=headers), 201
    )
    again = client.post(f"/incidents/{incident_id}/notes", json={"text": "x"}, headers=headers)
    assert ok(again, 201)["note_id"] == first["note_id"]


@pytest.mark.parametrize(
    ("body", "unchanged"),
    [
        ({"text": "Rolled back deploy 4812"}, "text"),
        ({"occurred_at": minutes(-3)}, "occurred_at"),
        ({"text": "Rolled back deploy 4812", "occurred_at": minutes(-3)}, "text and occurred_at"),
    ],
    ids=["text", "time", "both"],
)
def test_an_amendment_that_changes_nothing_is_refused(
    client: TestClient, clock: FakeClock, body: dict[str, Any], unchanged: str
) -> None:
    incident_id = declare(client)
    note_id = ok(
        client.post(
            f"/incidents/{incident_id}/notes",
            json={"text": "Rolled back deploy 4812", "occurred_at": minutes(-3)},
        ),
        201,
    )["note_id"]
    with nothing_stored(client):
        assert_problem(
            client.patch(f"/incidents/{incident_id}/timeline/{note_id}", json=body),
            422,
            f"the amendment changes nothing: note {note_id} already has this {unchanged}",
        )
