"""``/metrics`` reports open incidents by severity and overdue action items."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from tests.api.helpers import declare, ok, use_clock
from tests.api.test_limits_and_metrics import scrape
from tests.clocks import FakeClock

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def open_incidents(client: TestClient) -> dict[str, float]:
    return {
        dict(labels)["severity"]: value
        for (name, labels), value in scrape(client).items()
        if name == "incidents_open"
    }


def overdue(client: TestClient) -> float:
    return scrape(client)[("incident_action_items_overdue", ())]


def add_item(client: TestClient, incident_id: str, due_in_days: int) -> str:
    body = {
        "title": "Alert on pool saturation",
        "kind": "corrective",
        "owner": "alice",
        "due_date": (T0.date() + timedelta(days=due_in_days)).isoformat(),
    }
    created = ok(client.post(f"/incidents/{incident_id}/action-items", json=body), 201)
    item_id: str = created["item_id"]
    return item_id


def test_open_incidents_are_counted_by_severity_and_leave_the_count_when_resolved(
    client: TestClient,
) -> None:
    assert open_incidents(client) == dict.fromkeys(["SEV1", "SEV2", "SEV3", "SEV4", "SEV5"], 0)
    first = declare(client, severity="SEV1")
    declare(client, severity="SEV1")
    third = declare(client, severity="SEV3")
    ok(client.post(f"/incidents/{third}/status", json={"status": "monitoring"}))
    assert open_incidents(client) == {"SEV1": 2, "SEV2": 0, "SEV3": 1, "SEV4": 0, "SEV5": 0}

    ok(client.post(f"/incidents/{first}/status", json={"status": "resolved"}))
    ok(client.post(f"/incidents/{third}/severity", json={"severity": "SEV2"}))
    assert open_incidents(client) == {"SEV1": 1, "SEV2": 1, "SEV3": 0, "SEV4": 0, "SEV5": 0}


def test_items_past_their_due_date_and_unfinished_are_overdue(client: TestClient) -> None:
    clock = FakeClock(T0)
    use_clock(client, clock)
    incident_id = declare(client)
    soon = add_item(client, incident_id, due_in_days=1)
    done = add_item(client, incident_id, due_in_days=1)
    add_item(client, incident_id, due_in_days=30)
    assert overdue(client) == 0

    clock.now = T0 + timedelta(days=3)
    item = f"/incidents/{incident_id}/action-items/{done}"
    ok(client.patch(item, json={"status": "done"}))
    assert overdue(client) == 1
    ok(
        client.patch(
            f"/incidents/{incident_id}/action-items/{soon}",
            json={"status": "wont_do", "reason": "replaced by a dashboard"},
        )
    )
    assert overdue(client) == 0
