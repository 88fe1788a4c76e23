"""Issue-summary facts through the API: impact, root cause, resolution, mitigation, people, services.

Each test runs on SQLite and PostgreSQL (tests/conftest.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from tests.api.helpers import assert_problem, declare, nothing_stored, ok, use_clock
from tests.clocks import FakeClock

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
MISSING = UUID("00000000-0000-4000-8000-00000000dead")


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


@pytest.fixture
def clock(client: TestClient) -> FakeClock:
    clock = FakeClock(T0)
    use_clock(client, clock)
    return clock


def test_a_responder_records_the_facts_of_an_issue_summary(
    client: TestClient, clock: FakeClock
) -> None:
    incident_id = declare(
        client, started_at=minutes(-30).isoformat(), detected_at=minutes(-20).isoformat()
    )
    steps: list[tuple[str, str, dict[str, Any] | None]] = [
        ("POST", "impact", {"impact": "30% of checkouts failed"}),
        ("POST", "root-cause", {"root_cause": "Deploy 4812 halved the pool"}),
        ("POST", "roles", {"role": "incident_commander", "person": "alice"}),
        ("POST", "roles", {"role": "incident_commander", "person": "bob"}),
        ("POST", "roles", {"role": "scribe", "person": "carol"}),
        ("POST", "participants", {"person": "dan"}),
        ("POST", "participants", {"person": "erin"}),
        ("PUT", "services", {"services": ["checkout", "payments", "checkout"]}),
        ("POST", "mitigate", {"occurred_at": minutes(-5).isoformat()}),
        ("POST", "resolution", {"resolution": "Rolled back deploy 4812"}),
    ]
    version = 1
    for method, path, body in steps:
        result = ok(client.request(method, f"/incidents/{incident_id}/{path}", json=body))
        # A summary fact also seeds its postmortem section: two events, one command.
        version += 2 if path in ("impact", "root-cause", "resolution") else 1
        assert (result["id"], result["version"]) == (incident_id, version)

    summary = ok(client.get(f"/incidents/{incident_id}"))
    assert summary["impact"] == "30% of checkouts failed"
    assert summary["root_cause"] == "Deploy 4812 halved the pool"
    assert summary["resolution"] == "Rolled back deploy 4812"
    assert datetime.fromisoformat(summary["mitigated_at"]) == minutes(-5)
    assert summary["time_to_mitigate_seconds"] == 15 * 60  # mitigated - detected
    assert summary["roles"] == {"incident_commander": "bob", "scribe": "carol"}
    assert summary["participants"] == ["dan", "erin"]
    assert summary["services"] == ["checkout", "payments"]
    assert summary["version"] == version == 14

    entries = ok(client.get(f"/incidents/{incident_id}/timeline"))["entries"]
    described = {(entry["kind"], entry["text"]) for entry in entries}
    assert {
        ("impact_updated", "Impact updated: 30% of checkouts failed"),
        ("root_cause_updated", "Root cause updated: Deploy 4812 halved the pool"),
        ("role_assigned", "alice is now incident commander"),
        ("role_assigned", "bob is now incident commander (was alice)"),
        ("participant_added", "dan joined the response"),
        ("services_changed", "Affected services changed to checkout, payments"),
        ("mitigated", "Incident mitigated"),
        ("resolution_updated", "Resolution updated: Rolled back deploy 4812"),
    } <= described
    mitigated = next(entry for entry in entries if entry["kind"] == "mitigated")
    assert datetime.fromisoformat(mitigated["occurred_at"]) == minutes(-5)
    role = [entry for entry in entries if entry["kind"] == "role_assigned"][1]
    assert role["details"] == {"role": "incident_commander", "person": "bob", "previous": "alice"}
    assert role["actor"] == "admin"


def test_mitigate_without_a_body_means_now(client: TestClient, clock: FakeClock) -> None:
    incident_id = declare(client)
    clock.now = minutes(7)
    ok(client.post(f"/incidents/{incident_id}/mitigate"))
    summary = ok(client.get(f"/incidents/{incident_id}"))
    assert datetime.fromisoformat(summary["mitigated_at"]) == minutes(7)


def test_long_texts_are_kept_whole_and_shortened_on_the_timeline(
    client: TestClient, clock: FakeClock
) -> None:
    incident_id = declare(client)
    impact = "First line of the impact\n" + "x" * 500
    ok(client.post(f"/incidents/{incident_id}/impact", json={"impact": impact}))
    assert ok(client.get(f"/incidents/{incident_id}"))["impact"] == impact
    entries = ok(client.get(f"/incidents/{incident_id}/timeline"))["entries"]
    entry = next(entry for entry in entries if entry["kind"] == "impact_updated")
    assert entry["text"] == "Impact updated: First line of the impact …"
    assert entry["details"] == {"impact": impact}


REFUSALS: list[tuple[str, str, dict[str, Any] | None, str]] = [
    ("POST", "impact", {"impact": "Same"}, "impact already says exactly this"),
    ("POST", "mitigate", None, "incident was already mitigated at {mitigated_at}"),
    ("POST", "roles", {"role": "scribe", "person": "alice"}, "alice is already scribe"),
    ("POST", "participants", {"person": "dan"}, "dan is already a participant"),
    (
        "PUT",
        "services",
        {"services": ["checkout"]},
        "the incident already affects exactly these services",
    ),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "detail"),
    REFUSALS,
    ids=["impact", "mitigate", "role", "participant", "services"],
)
def test_a_repeated_fact_is_refused_and_nothing_is_stored(
    client: TestClient,
    clock: FakeClock,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    detail: str,
) -> None:
    incident_id = declare(client)
    for setup_path, setup in (
        ("impact", {"impact": "Same"}),
        ("mitigate", None),
        ("roles", {"role": "scribe", "person": "alice"}),
        ("participants", {"person": "dan"}),
    ):
        ok(client.post(f"/incidents/{incident_id}/{setup_path}", json=setup))
    mitigated_at = datetime.fromisoformat(
        ok(client.get(f"/incidents/{incident_id}"))["mitigated_at"]
    )
    with nothing_stored(client):
        response = client.request(method, f"/incidents/{incident_id}/{path}", json=body)
        assert_problem(response, 422, detail.format(mitigated_at=mitigated_at.isoformat()))


def test_mitigation_before_the_start_is_refused(client: TestClient, clock: FakeClock) -> None:
    incident_id = declare(client, started_at=minutes(-10).isoformat())
    with nothing_stored(client):
        response = client.post(
            f"/incidents/{incident_id}/mitigate", json={"occurred_at": minutes(-11).isoformat()}
        )
        assert_problem(
            response,
            422,
            "mitigated at 2026-03-02T09:49:00+00:00 is before started_at 2026-03-02T09:50:00+00:00",
        )


@pytest.mark.parametrize(
    ("method", "path", "body", "location"),
    [
        ("POST", "impact", {"impact": "   "}, ["body", "impact"]),
        ("POST", "root-cause", {}, ["body", "root_cause"]),
        ("POST", "roles", {"role": "hero", "person": "alice"}, ["body", "role"]),
        ("POST", "participants", {"person": ""}, ["body", "person"]),
        ("PUT", "services", {"services": ["check out"]}, ["body", "services", 0]),
        ("POST", "mitigate", {"occurred_at": "2026-03-02T10:00:00"}, ["body", "occurred_at"]),
        ("POST", "resolution", {"resolution": "Fixed", "by": "me"}, ["body", "by"]),
    ],
)
def test_invalid_bodies_are_refused_with_the_field_named(
    client: TestClient, method: str, path: str, body: dict[str, Any], location: list[Any]
) -> None:
    incident_id = declare(client)
    with nothing_stored(client):
        response = client.request(method, f"/incidents/{incident_id}/{path}", json=body)
        problem = assert_problem(response, 422)
    assert location in [error["location"] for error in problem["errors"]]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "impact", {"impact": "x"}),
        ("POST", "root-cause", {"root_cause": "x"}),
        ("POST", "resolution", {"resolution": "x"}),
        ("POST", "mitigate", None),
        ("POST", "roles", {"role": "scribe", "person": "x"}),
        ("POST", "participants", {"person": "x"}),
        ("PUT", "services", {"services": ["x"]}),
    ],
)
def test_facts_of_an_unknown_incident_are_404(
    client: TestClient, method: str, path: str, body: dict[str, Any] | None
) -> None:
    with nothing_stored(client):
        response = client.request(method, f"/incidents/{MISSING}/{path}", json=body)
        assert_problem(response, 404, f"incident {MISSING} does not exist")
