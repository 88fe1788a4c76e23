"""Labels, kind and relations through the API, and alert labels that label an incident.

Each test runs on SQLite and PostgreSQL (tests/conftest.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from fastapi.testclient import TestClient

from tests.api.helpers import assert_problem, declare, nothing_stored, ok
from tests.api.hooks_support import captured, headers_of, ingest_token, only_incident, sender

MISSING = UUID("00000000-0000-4000-8000-00000000dead")


def test_labels_are_set_filtered_on_and_removed(client: TestClient) -> None:
    payments = declare(client, labels={"team": "payments", "env": "prod"})
    search = declare(client, title="Search is slow")
    ok(client.post(f"/incidents/{search}/labels", json={"labels": {"team": "search"}}))

    assert ok(client.get(f"/incidents/{payments}"))["labels"] == {"env": "prod", "team": "payments"}
    found = ok(client.get("/incidents", params={"label": "team=payments"}))["items"]
    assert [item["id"] for item in found] == [payments]
    assert ok(client.get("/incidents", params={"label": "team=pay"}))["items"] == []

    ok(client.post(f"/incidents/{payments}/labels", json={"labels": {"team": "checkout"}}))
    ok(client.delete(f"/incidents/{payments}/labels/env"))
    assert ok(client.get(f"/incidents/{payments}"))["labels"] == {"team": "checkout"}
    kinds = [e["kind"] for e in ok(client.get(f"/incidents/{payments}/timeline"))["entries"]]
    assert kinds.count("labels_changed") == 3


def test_bad_labels_are_422_naming_the_field_and_store_nothing(client: TestClient) -> None:
    incident = declare(client)
    with nothing_stored(client):
        problem = assert_problem(
            client.post(f"/incidents/{incident}/labels", json={"labels": {"team": "a b"}}), 422
        )
        assert ["body", "labels", "team"] in [e["location"] for e in problem["errors"]]
        problem = assert_problem(
            client.post(f"/incidents/{incident}/labels", json={"labels": {"9x": "a"}}), 422
        )
        assert_problem(
            client.delete(f"/incidents/{incident}/labels/env"),
            422,
            "the incident has no label(s) env to remove",
        )
        assert_problem(client.get("/incidents", params={"label": "team"}), 422)
        assert_problem(
            client.post("/incidents", json={"title": "x", "severity": "SEV2", "kind": "party"}),
            422,
        )


def test_kind_is_declared_changed_and_filtered_on(client: TestClient) -> None:
    drill = declare(client, kind="drill")
    real = declare(client)
    assert ok(client.get(f"/incidents/{drill}"))["kind"] == "drill"
    assert ok(client.get(f"/incidents/{real}"))["kind"] == "incident"
    ok(client.post(f"/incidents/{real}/kind", json={"kind": "false_alarm"}))
    found = ok(client.get("/incidents", params={"kind": "false_alarm"}))["items"]
    assert [item["id"] for item in found] == [real]
    with nothing_stored(client):
        assert_problem(
            client.post(f"/incidents/{real}/kind", json={"kind": "false_alarm"}),
            422,
            "the incident is already of kind false_alarm",
        )


def test_a_relation_shows_on_both_incidents_and_can_be_withdrawn(client: TestClient) -> None:
    first = declare(client, title="Checkout returns 502")
    second = declare(client, title="Checkout 502s again")
    ok(
        client.post(
            f"/incidents/{second}/relations",
            json={"other_incident_id": first, "relation": "duplicate_of"},
        )
    )
    on_second = ok(client.get(f"/incidents/{second}"))["relations"]
    on_first = ok(client.get(f"/incidents/{first}"))["relations"]
    assert [(r["incident_id"], r["relation"], r["recorded_by_this"]) for r in on_second] == [
        (first, "duplicate_of", True)
    ]
    assert [(r["incident_id"], r["relation"], r["recorded_by_this"]) for r in on_first] == [
        (second, "duplicated_by", False)
    ]
    assert ok(client.get(f"/incidents/{first}/relations")) == on_first
    first_timeline = ok(client.get(f"/incidents/{first}/timeline"))["entries"]
    assert [e["text"] for e in first_timeline if e["kind"] == "related"] == [
        f"This incident has a duplicate: incident {second}"
    ]

    # Only the recording incident withdraws it; then it is gone from both.
    with nothing_stored(client):
        assert_problem(client.delete(f"/incidents/{first}/relations/{second}"), 404)
    ok(client.delete(f"/incidents/{second}/relations/{first}"))
    assert ok(client.get(f"/incidents/{first}"))["relations"] == []
    assert ok(client.get(f"/incidents/{second}"))["relations"] == []


def test_relations_to_nothing_or_to_itself_are_refused(client: TestClient) -> None:
    incident = declare(client)
    with nothing_stored(client):
        assert_problem(
            client.post(
                f"/incidents/{incident}/relations",
                json={"other_incident_id": str(MISSING), "relation": "related_to"},
            ),
            422,
            f"other_incident_id: incident {MISSING} does not exist",
        )
        assert_problem(
            client.post(
                f"/incidents/{incident}/relations",
                json={"other_incident_id": incident, "relation": "related_to"},
            ),
            422,
            "an incident cannot relate to itself",
        )
        assert_problem(
            client.post(
                f"/incidents/{incident}/relations",
                json={"other_incident_id": incident, "relation": "sibling_of"},
            ),
            422,
        )
    assert_problem(client.get(f"/incidents/{MISSING}/relations"), 404)


def test_alert_labels_named_in_the_setting_label_the_incident(client: TestClient) -> None:
    body = captured("alertmanager-0.25-firing")
    body["alerts"][0]["labels"].update(team="payments", env="prod", cluster="eu 1", rack="r7")
    with sender(client, f"Bearer {ingest_token(client)}") as am:
        answer = ok(
            am.post(
                "/hooks/alertmanager", json=body, headers=headers_of("alertmanager-0.25-firing")
            )
        )
    incident = only_incident(answer)["id"]
    # cluster's value is not a valid label value (a space): left out, the alert still lands;
    # rack is not named in INCIDENTS_ALERT_LABELS.
    assert ok(client.get(f"/incidents/{incident}"))["labels"] == {"env": "prod", "team": "payments"}
    entries = ok(client.get(f"/incidents/{incident}/timeline"))["entries"]
    labelled = [e for e in entries if e["kind"] == "labels_changed"]
    assert [e["details"]["source"] for e in labelled] == ["alert"]


def test_the_postmortem_due_date_follows_business_days_and_can_be_set(client: TestClient) -> None:
    # Resolved on Friday 2026-03-06: five business days later is Friday 2026-03-13.
    incident = declare(client, started_at="2026-03-06T09:00:00Z")
    ok(
        client.post(
            f"/incidents/{incident}/status",
            json={"status": "resolved", "occurred_at": "2026-03-06T10:00:00Z"},
        )
    )
    summary = ok(client.get(f"/incidents/{incident}"))
    assert summary["postmortem_due_date"] == "2026-03-13"
    today = datetime.now(UTC).date().isoformat()
    assert summary["postmortem_overdue"] is (today > "2026-03-13")
    overdue = ok(client.get("/postmortems", params={"overdue": "true"}))
    assert [item["incident_id"] for item in overdue["items"]] == [incident]
    assert overdue["items"][0]["due_date_is_default"] is True

    ok(client.put(f"/incidents/{incident}/postmortem/due-date", json={"due_date": "2999-01-01"}))
    assert ok(client.get("/postmortems", params={"overdue": "true"}))["items"] == []
    waiting = ok(client.get("/postmortems", params={"overdue": "false"}))["items"]
    assert [(i["due_date"], i["due_date_is_default"]) for i in waiting] == [("2999-01-01", False)]
    with nothing_stored(client):
        # A date only: not a Unix time, not a time of day that a time zone could move.
        for refused in ("soon", 1766016000, 0, "1766016000", "2026-01-01T00:00:00"):
            assert_problem(
                client.put(
                    f"/incidents/{incident}/postmortem/due-date", json={"due_date": refused}
                ),
                422,
            )
