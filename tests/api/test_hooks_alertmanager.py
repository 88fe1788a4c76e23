"""POST /hooks/alertmanager and /hooks/grafana: captured payloads, dedupe, generations, auth."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from application.alert_ingestion import incident_id_for
from application.settings import Settings
from application.tokens import Scope, TokenStore
from tests.api.conftest import ADMIN_TOKEN
from tests.api.helpers import assert_problem, nothing_stored, ok
from tests.api.hooks_support import (
    captured,
    events_of,
    headers_of,
    ingest_token,
    kinds,
    only_incident,
    sender,
    store_of,
)

STARTS_AT = datetime(2026, 11, 27, 1, 57, 56, 45467, tzinfo=UTC)
ENDS_AT = datetime(2026, 11, 27, 1, 57, 57, tzinfo=UTC)
GROUP = 'alertmanager:webhook-plain:{}/{}:{alertname="HighErrorRate", service="payments-api"}'


@pytest.fixture
def am(client: TestClient) -> Iterator[TestClient]:
    """Alertmanager, with an ingest-only token as its bearer credentials."""
    with sender(client, f"Bearer {ingest_token(client)}") as am:
        yield am


def post(am: TestClient, body: dict[str, Any], path: str = "/hooks/alertmanager") -> Any:
    return am.post(path, json=body, headers=headers_of("alertmanager-0.25-firing"))


def alert(name: str, starts_at: datetime, status: str = "firing", **labels: str) -> dict[str, Any]:
    ends = "0001-01-01T00:00:00Z" if status == "firing" else datetime.now(UTC).isoformat()
    return {
        "status": status,
        "labels": {"alertname": name, **labels},
        "annotations": {},
        "startsAt": starts_at.isoformat(),
        "endsAt": ends,
        "generatorURL": "http://prometheus:9090/graph",
        "fingerprint": f"fp-{name}",
    }


def notification(*alerts: dict[str, Any], group_key: str = '{}:{team="db"}') -> dict[str, Any]:
    body = captured("alertmanager-0.25-firing")
    firing = any(a["status"] == "firing" for a in alerts)
    body.update(
        alerts=list(alerts),
        groupKey=group_key,
        status="firing" if firing else "resolved",
        commonLabels={},
        commonAnnotations={},
        groupLabels={},
    )
    return body


# --- the captured notifications ----------------------------------------------------------------


def test_a_firing_notification_declares_its_groups_incident(
    am: TestClient, client: TestClient
) -> None:
    answer = ok(post(am, captured("alertmanager-0.25-firing")))
    incident = only_incident(answer)

    assert UUID(incident["id"]) == incident_id_for(GROUP, 0)
    assert incident["unchanged"] is False
    assert incident["version"] == 2
    summary = ok(client.get(f"/incidents/{incident['id']}"))
    assert summary["title"] == "Error rate above 5% on payments-api"
    assert summary["severity"] == "SEV1"
    assert summary["services"] == ["payments-api"]
    assert summary["summary"] == "5xx ratio has been > 5% for 5 minutes"
    assert summary["declared_by"] == "alertmanager"
    assert summary["detected_at"] == summary["started_at"] == "2026-11-27T01:57:56.045467Z"
    assert summary["alerts"] == {"firing": 1, "resolved": 0}
    assert summary["source"] == "alertmanager"
    entries = ok(client.get(f"/incidents/{incident['id']}/timeline"))["entries"]
    fired = next(entry for entry in entries if entry["kind"] == "alert_fired")
    assert fired["occurred_at"] == "2026-11-27T01:57:56.045467Z"
    assert fired["recorded_at"] > fired["occurred_at"]
    assert fired["text"] == "Alert firing: HighErrorRate: Error rate above 5% on payments-api"
    assert fired["details"]["fingerprint"] == "43e5a0e0ea2e10f5"
    assert fired["details"]["labels"]["instance"] == "payments-01:8080"
    assert fired["details"]["generator_url"] == "http://127.0.0.1:19090/graph"
    metadata = events_of(client, incident["id"])[0].metadata
    assert (metadata["actor"], metadata["source"]) == ("alertmanager", "alertmanager")


def test_a_redelivered_notification_changes_nothing(am: TestClient, client: TestClient) -> None:
    first = only_incident(ok(post(am, captured("alertmanager-0.25-firing"))))

    with nothing_stored(client):
        again = only_incident(ok(post(am, captured("alertmanager-0.25-firing"))))

    assert again == {**first, "unchanged": True}


def test_the_resolved_notification_resolves_the_alert_at_its_end(
    am: TestClient, client: TestClient
) -> None:
    post(am, captured("alertmanager-0.25-firing"))
    incident = only_incident(ok(post(am, captured("alertmanager-0.25-resolved"))))

    entries = ok(client.get(f"/incidents/{incident['id']}/timeline"))["entries"]
    by_kind = {entry["kind"]: entry for entry in entries}
    assert by_kind["alert_resolved"]["occurred_at"] == "2026-11-27T01:57:57Z"
    assert by_kind["alerts_cleared"]["occurred_at"] == "2026-11-27T01:57:57Z"
    summary = ok(client.get(f"/incidents/{incident['id']}"))
    assert summary["alerts"] == {"firing": 0, "resolved": 1}
    assert summary["status"] == "investigating", "INCIDENTS_AUTO_RESOLVE is off by default"
    with nothing_stored(client):
        assert only_incident(ok(post(am, captured("alertmanager-0.25-resolved"))))["unchanged"]


def test_a_resolution_no_incident_knows_opens_nothing(am: TestClient, client: TestClient) -> None:
    with nothing_stored(client):
        assert ok(post(am, captured("alertmanager-0.25-resolved"))) == {"incidents": []}


def test_alerts_joining_the_group_later_are_added_to_its_incident(
    am: TestClient, client: TestClient
) -> None:
    start = datetime.now(UTC) - timedelta(minutes=10)
    first = only_incident(ok(post(am, notification(alert("A", start)))))
    later = notification(alert("A", start), alert("B", start + timedelta(minutes=2)))

    second = only_incident(ok(post(am, later)))

    assert second["id"] == first["id"]
    assert second["version"] == first["version"] + 1
    assert ok(client.get(f"/incidents/{first['id']}"))["alerts"] == {"firing": 2, "resolved": 0}


# --- generations: a group firing again after its incident ended ----------------------------------


@pytest.fixture
def auto_resolving(app_settings: Settings) -> Iterator[tuple[TestClient, TestClient]]:
    settings = app_settings.model_copy(update={"auto_resolve": True})
    with TestClient(create_app(settings)) as admin:
        admin.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        with sender(admin, f"Bearer {ingest_token(admin)}") as am:
            yield admin, am


def test_auto_resolve_and_a_new_linked_incident_when_the_group_fires_again(
    auto_resolving: tuple[TestClient, TestClient],
) -> None:
    client, am = auto_resolving
    start = datetime.now(UTC) - timedelta(minutes=30)
    group = 'alertmanager:webhook-plain:{}:{team="db"}'
    first = only_incident(ok(post(am, notification(alert("A", start)))))
    resolved = notification(alert("A", start, status="resolved"))
    ok(post(am, resolved))
    summary = ok(client.get(f"/incidents/{first['id']}"))
    assert summary["status"] == "resolved"
    assert kinds(client, first["id"])[-2:] == ["alerts_cleared", "status_changed"]

    again = start + timedelta(minutes=20)
    second = only_incident(ok(post(am, notification(alert("A", again)))))

    assert UUID(second["id"]) == incident_id_for(group, 1) != UUID(first["id"])
    summary = ok(client.get(f"/incidents/{second['id']}"))
    assert summary["previous_incident_id"] == first["id"]
    assert summary["detected_at"] == again.isoformat().replace("+00:00", "Z")
    assert "linked" in kinds(client, second["id"])
    with nothing_stored(client):  # a redelivery of either notification changes nothing
        ok(post(am, notification(alert("A", again))))
        ok(post(am, resolved))


def test_a_manually_resolved_incident_keeps_its_still_firing_alerts(
    am: TestClient, client: TestClient
) -> None:
    incident = only_incident(ok(post(am, captured("alertmanager-0.25-firing"))))
    ok(client.post(f"/incidents/{incident['id']}/status", json={"status": "resolved"}))

    with nothing_stored(client):  # the same alert, still firing: no new incident
        assert only_incident(ok(post(am, captured("alertmanager-0.25-firing"))))["unchanged"]
    # Its resolution is still recorded in the resolved incident, which stays resolved.
    ok(post(am, captured("alertmanager-0.25-resolved")))
    timeline = kinds(client, incident["id"])
    assert timeline.count("alert_resolved") == timeline.count("alerts_cleared") == 1
    summary = ok(client.get(f"/incidents/{incident['id']}"))
    assert (summary["status"], summary["alerts"]) == ("resolved", {"firing": 0, "resolved": 1})


# --- title, severity, services ----------------------------------------------------------------


def test_title_falls_back_to_the_alertname_and_severities_follow_the_map(
    am: TestClient, client: TestClient
) -> None:
    start = datetime.now(UTC) - timedelta(minutes=5)
    cases = [
        ({"severity": "warning", "service": "search"}, "SEV3", ["search"]),
        ({"severity": "INFO"}, "SEV4", []),
        ({}, "SEV3", []),
        ({"severity": "page-me"}, "SEV3", []),
        ({"severity": "SEV2"}, "SEV2", []),
    ]
    for number, (labels, severity, services) in enumerate(cases):
        body = notification(alert("DiskFull", start, **labels), group_key=f"{{}}:{number}")
        incident = only_incident(ok(post(am, body)))
        summary = ok(client.get(f"/incidents/{incident['id']}"))
        assert (summary["title"], summary["severity"], summary["services"]) == (
            "DiskFull",
            severity,
            services,
        ), labels


def test_the_most_severe_alert_sets_the_severity_when_they_differ(
    am: TestClient, client: TestClient
) -> None:
    start = datetime.now(UTC) - timedelta(minutes=5)
    body = notification(
        alert("A", start, severity="warning", service="api"),
        alert("B", start, severity="critical", service="db x,y"),
    )
    incident = only_incident(ok(post(am, body)))
    summary = ok(client.get(f"/incidents/{incident['id']}"))
    assert (summary["severity"], summary["services"]) == ("SEV1", ["api", "db-x-y"])


def test_the_severity_map_comes_from_the_settings(app_settings: Settings) -> None:
    settings = Settings(
        database_url=app_settings.database_url,
        admin_token=ADMIN_TOKEN,
        severity_map={"critical": "SEV2", "page": "SEV1", "none": "SEV5"},
    )
    with TestClient(create_app(settings)) as client:
        client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        start = datetime.now(UTC) - timedelta(minutes=5)
        for labels, severity in [
            ({"severity": "critical"}, "SEV2"),
            ({"severity": "page"}, "SEV1"),
            ({}, "SEV5"),
        ]:
            body = notification(alert("X", start, **labels), group_key=str(labels))
            incident = only_incident(ok(post(client, body)))
            assert ok(client.get(f"/incidents/{incident['id']}"))["severity"] == severity


# --- Grafana ------------------------------------------------------------------------------------


def grafana_notification() -> dict[str, Any]:
    body = captured("alertmanager-0.25-firing")
    body.update(
        version="1",
        orgId=1,
        title="[FIRING:1] HighErrorRate payments-api",
        state="alerting",
        message="**Firing**\n\nValue: A=0.07",
        receiver="grafana-default-email",
    )
    body["alerts"][0].update(
        dashboardURL="http://grafana:3000/d/abc",
        panelURL="http://grafana:3000/d/abc?viewPanel=2",
        silenceURL="http://grafana:3000/alerting/silence/new",
        values={"A": 0.07, "B": 1},
        valueString="[ var='A' value=0.07 ]",
    )
    return body


@pytest.mark.parametrize(
    ("field", "value"),
    [("orgId", False), ("orgId", "1"), ("truncatedAlerts", True), ("values", {"A": "0.07"})],
)
def test_grafanas_numbers_are_numbers_not_booleans_or_text(
    am: TestClient, client: TestClient, field: str, value: Any
) -> None:
    body = grafana_notification()
    target = body["alerts"][0] if field == "values" else body
    target[field] = value
    with nothing_stored(client):
        response = post(am, body, "/hooks/grafana")
    assert response.status_code == 422, response.text
    locations = [error["location"] for error in response.json()["errors"]]
    assert all(field in location for location in locations), locations


def test_grafana_notifications_keep_their_dashboard_links_and_values(
    am: TestClient, client: TestClient
) -> None:
    incident = only_incident(ok(post(am, grafana_notification(), "/hooks/grafana")))

    summary = ok(client.get(f"/incidents/{incident['id']}"))
    assert (summary["source"], summary["severity"]) == ("grafana", "SEV1")
    fired = next(
        e
        for e in ok(client.get(f"/incidents/{incident['id']}/timeline"))["entries"]
        if e["kind"] == "alert_fired"
    )
    assert fired["details"]["dashboard_url"] == "http://grafana:3000/d/abc"
    assert fired["details"]["panel_url"] == "http://grafana:3000/d/abc?viewPanel=2"
    assert fired["details"]["silence_url"] == "http://grafana:3000/alerting/silence/new"
    assert fired["details"]["details"]["values"] == {"A": 0.07, "B": 1.0}
    with nothing_stored(client):
        assert only_incident(ok(post(am, grafana_notification(), "/hooks/grafana")))["unchanged"]


def test_grafana_and_alertmanager_versions_are_not_interchangeable(
    am: TestClient, client: TestClient
) -> None:
    with nothing_stored(client):
        assert_problem(post(am, grafana_notification()), 422, "body.version: Input should be '4'")
        wrong = captured("alertmanager-0.25-firing")
        body = assert_problem(post(am, wrong, "/hooks/grafana"), 422)
        assert ["body", "version"] in [error["location"] for error in body["errors"]]
        assert ["body", "orgId"] in [error["location"] for error in body["errors"]]


# --- authentication -----------------------------------------------------------------------------


def basic(password: str, user: str = "alertmanager") -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_ingest_routes_take_an_ingest_token_as_bearer_or_basic_password(client: TestClient) -> None:
    token = ingest_token(client)
    body = captured("alertmanager-0.25-firing")
    with sender(client, basic(token, user="anything")) as grafana:
        ok(grafana.post("/hooks/alertmanager", json=body))
    with sender(client, f"Bearer {token}") as am:
        assert only_incident(ok(am.post("/hooks/alertmanager", json=body)))["unchanged"]


@pytest.mark.parametrize("path", ["/hooks/alertmanager", "/hooks/grafana"])
def test_ingest_routes_refuse_missing_invalid_and_unscoped_credentials(
    client: TestClient, path: str
) -> None:
    tokens: TokenStore = client.app.state.tokens  # type: ignore[attr-defined]
    writer = tokens.create("writer", {Scope.WRITE, Scope.READ})
    body = captured("alertmanager-0.25-firing")
    with nothing_stored(client):
        for authorization, status, detail in [
            (None, 401, "a bearer token is required"),
            ("Bearer il_nope", 401, "the bearer token is not valid"),
            (basic("il_nope"), 401, "the basic-auth password is not a valid token"),
            ("Basic !!!", 401, "a bearer token is required"),
            (f"Bearer {writer}", 403, "token 'writer' lacks the 'ingest' scope for this route"),
        ]:
            with sender(client, authorization) as anonymous:
                response = anonymous.post(path, json=body)
            assert_problem(response, status, detail)
            if status == 401:
                assert response.headers["www-authenticate"] == 'Bearer realm="incident-ledger"'
        with sender(client, None) as anonymous:  # authentication comes before the body
            response = anonymous.post(
                path, content=b'{"version": ', headers={"Content-Type": "application/json"}
            )
        assert_problem(response, 401, "a bearer token is required")


# --- bad input ------------------------------------------------------------------------------------


def test_bad_notifications_are_refused_precisely_and_store_nothing(
    am: TestClient, client: TestClient
) -> None:
    def without(path: list[Any]) -> dict[str, Any]:
        body = captured("alertmanager-0.25-firing")
        node: Any = body
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]
        return body

    wrong_types = captured("alertmanager-0.25-firing")
    wrong_types["alerts"][0]["labels"]["severity"] = 1
    wrong_types["alerts"][0]["startsAt"] = "yesterday"
    future = captured("alertmanager-0.25-firing")
    future["alerts"][0]["startsAt"] = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    with nothing_stored(client):
        assert_problem(
            am.post(
                "/hooks/alertmanager", content=b"{", headers={"Content-Type": "application/json"}
            ),
            400,
            "the body is not valid JSON: unexpected end of data: line 1 column 2 (char 1)",
        )
        assert_problem(
            am.post(
                "/hooks/alertmanager", content=b"", headers={"Content-Type": "application/json"}
            ),
            400,
            "the request has no body; send a JSON document",
        )
        assert_problem(am.post("/hooks/alertmanager", json=[1, 2]), 422)
        assert_problem(post(am, without(["groupKey"])), 422, "body.groupKey: Field required")
        assert_problem(
            post(am, without(["alerts", 0, "fingerprint"])),
            422,
            "body.alerts.0.fingerprint: Field required",
        )
        assert_problem(post(am, {**captured("alertmanager-0.25-firing"), "alerts": []}), 422)
        body = assert_problem(post(am, wrong_types), 422)
        assert [e["location"] for e in body["errors"]] == [
            ["body", "alerts", 0, "labels", "severity"],
            ["body", "alerts", 0, "startsAt"],
        ]
        assert "lies in the future" in assert_problem(post(am, future), 422)["detail"]
        assert_problem(
            am.post(
                "/hooks/alertmanager", content=b"version=4", headers={"Content-Type": "text/plain"}
            ),
            415,
        )
        huge = b'{"pad": "' + b"x" * (1024 * 1024) + b'"}'
        assert_problem(
            am.post(
                "/hooks/alertmanager", content=huge, headers={"Content-Type": "application/json"}
            ),
            413,
        )
    assert store_of(client).head_position() == 0
