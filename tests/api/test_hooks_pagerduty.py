"""POST /hooks/pagerduty/v2/enqueue: PagerDuty's semantics and answers, exactly; integrations."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from application.integrations import IntegrationKind, IntegrationStore
from application.settings import Settings
from application.tokens import Scope, TokenStore
from tests.api.conftest import ADMIN_TOKEN
from tests.api.helpers import assert_problem, nothing_stored, ok
from tests.api.hooks_support import (
    AM_ROUTING_KEY,
    ENQUEUE,
    PDPYRAS_ROUTING_KEY,
    captured,
    events_of,
    headers_of,
    integration,
    kinds,
    sender,
    store_of,
)

SUCCESS = {"status": "success", "message": "Event processed"}


@pytest.fixture
def pd(client: TestClient) -> Iterator[TestClient]:
    """A PagerDuty client: no Authorization header, the routing key is the credential."""
    integration(client, "pdpyras", service="storage", routing_key=PDPYRAS_ROUTING_KEY)
    integration(client, "am-pagerduty", service="payments", routing_key=AM_ROUTING_KEY)
    with sender(client, None) as pd:
        yield pd


def send(pd: TestClient, body: dict[str, Any], fixture: str = "pdpyras-5.4.1-trigger") -> Any:
    return pd.post(ENQUEUE, json=body, headers=headers_of(fixture))


def accepted(response: Any, dedup_key: str) -> None:
    assert response.status_code == 202, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {**SUCCESS, "dedup_key": dedup_key}


def invalid(response: Any, *errors: str) -> list[str]:
    assert response.status_code == 400, response.text
    body = response.json()
    assert set(body) == {"status", "message", "errors"}
    assert (body["status"], body["message"]) == ("invalid event", "Event object is invalid")
    if errors:
        assert body["errors"] == list(errors)
    found: list[str] = body["errors"]
    return found


def incidents(client: TestClient) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = ok(client.get("/incidents"))["items"]
    return items


# --- the captured clients --------------------------------------------------------------------------


def test_pdpyras_trigger_and_resolve(pd: TestClient, client: TestClient) -> None:
    accepted(send(pd, captured("pdpyras-5.4.1-trigger")), "pdpyras-disk-db-01")

    [summary] = incidents(client)
    assert summary["title"] == "Disk almost full on db-01"
    assert (summary["severity"], summary["services"]) == ("SEV1", ["payments-db"])
    assert (summary["source"], summary["declared_by"]) == ("pagerduty", "integration:pdpyras")
    entries = ok(client.get(f"/incidents/{summary['id']}/timeline"))["entries"]
    fired = next(entry for entry in entries if entry["kind"] == "alert_fired")
    assert fired["details"]["details"]["custom_details"] == {
        "service": "payments-db",
        "used_pct": 97,
    }
    assert fired["details"]["details"]["links"] == [
        {"href": "http://127.0.0.1:19090/graph", "text": "graph"}
    ]

    accepted(
        send(pd, captured("pdpyras-5.4.1-resolve"), "pdpyras-5.4.1-resolve"), "pdpyras-disk-db-01"
    )

    assert ok(client.get(f"/incidents/{summary['id']}"))["alerts"] == {"firing": 0, "resolved": 1}
    timeline = kinds(client, summary["id"])
    assert timeline.count("alert_resolved") == timeline.count("alerts_cleared") == 1


def test_alertmanagers_pagerduty_notifier_unmodified(pd: TestClient, client: TestClient) -> None:
    key = captured("alertmanager-0.25-pagerduty-trigger")["dedup_key"]
    fixture = "alertmanager-0.25-pagerduty-trigger"
    accepted(send(pd, captured(fixture), fixture), key)
    with nothing_stored(client):  # Alertmanager repeats the trigger every repeat_interval
        accepted(send(pd, captured(fixture), fixture), key)

    [summary] = incidents(client)
    assert summary["title"] == "[FIRING:1] HighErrorRate payments-api (payments-01:8080 critical)"
    assert (summary["severity"], summary["services"]) == ("SEV2", ["payments"])
    fixture = "alertmanager-0.25-pagerduty-resolve"
    accepted(send(pd, captured(fixture), fixture), key)
    assert ok(client.get(f"/incidents/{summary['id']}"))["alerts"] == {"firing": 0, "resolved": 1}


# --- dedup keys ----------------------------------------------------------------------------------


def trigger(summary: str = "Queue backlog above 10k", **fields: Any) -> dict[str, Any]:
    return {
        "routing_key": PDPYRAS_ROUTING_KEY,
        "event_action": "trigger",
        "payload": {"summary": summary, "source": "queue-01", "severity": "warning"},
        **fields,
    }


def action(name: str, dedup_key: str) -> dict[str, Any]:
    return {"routing_key": PDPYRAS_ROUTING_KEY, "event_action": name, "dedup_key": dedup_key}


def test_a_trigger_without_a_dedup_key_gets_a_new_one_each_time(
    pd: TestClient, client: TestClient
) -> None:
    keys = []
    for _ in range(2):
        response = send(pd, trigger())
        assert response.status_code == 202
        keys.append(response.json()["dedup_key"])
    assert len(set(keys)) == 2
    assert all(len(key) == 32 for key in keys)
    assert len(incidents(client)) == 2


def test_acknowledge_applies_to_the_open_alert_once(pd: TestClient, client: TestClient) -> None:
    accepted(send(pd, trigger(dedup_key="q-1")), "q-1")
    accepted(send(pd, action("acknowledge", "q-1")), "q-1")

    [summary] = incidents(client)
    assert summary["acknowledged_at"] is not None
    assert kinds(client, summary["id"]).count("alert_acknowledged") == 1
    with nothing_stored(client):
        accepted(send(pd, action("acknowledge", "q-1")), "q-1")
        accepted(send(pd, action("acknowledge", "unknown-key")), "unknown-key")
        accepted(send(pd, action("resolve", "unknown-key")), "unknown-key")


def test_after_a_resolve_the_same_key_opens_a_new_alert(pd: TestClient, client: TestClient) -> None:
    accepted(send(pd, trigger(dedup_key="q-2")), "q-2")
    accepted(send(pd, action("resolve", "q-2")), "q-2")
    with nothing_stored(client):  # acknowledge and resolve apply only while it is open
        accepted(send(pd, action("acknowledge", "q-2")), "q-2")
        accepted(send(pd, action("resolve", "q-2")), "q-2")

    accepted(send(pd, trigger(dedup_key="q-2")), "q-2")

    [summary] = incidents(client)
    assert summary["alerts"] == {"firing": 1, "resolved": 1}
    assert kinds(client, summary["id"]).count("alert_fired") == 2


@pytest.fixture
def auto_resolving(app_settings: Settings) -> Iterator[tuple[TestClient, TestClient]]:
    settings = app_settings.model_copy(update={"auto_resolve": True})
    with TestClient(create_app(settings)) as admin:
        admin.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        integration(admin, "pdpyras", routing_key=PDPYRAS_ROUTING_KEY)
        with sender(admin, None) as pd:
            yield admin, pd


def test_with_auto_resolve_a_trigger_after_resolve_opens_a_linked_incident(
    auto_resolving: tuple[TestClient, TestClient],
) -> None:
    client, pd = auto_resolving
    accepted(send(pd, trigger(dedup_key="q-3")), "q-3")
    accepted(send(pd, action("resolve", "q-3")), "q-3")
    [first] = incidents(client)
    assert first["status"] == "resolved"

    accepted(send(pd, trigger(dedup_key="q-3")), "q-3")

    second = next(item for item in incidents(client) if item["id"] != first["id"])
    assert second["previous_incident_id"] == first["id"]
    assert second["status"] == "investigating"


# --- refusals ------------------------------------------------------------------------------------


def test_invalid_events_get_pagerdutys_400_and_store_nothing(
    pd: TestClient, client: TestClient
) -> None:
    with nothing_stored(client):
        invalid(send(pd, {**trigger(), "routing_key": "0" * 32}), "Invalid routing key")
        invalid(send(pd, {**trigger(), "routing_key": ""}), "'routing_key' is missing or blank")
        body = trigger()
        del body["routing_key"]
        invalid(send(pd, body), "'routing_key' is missing or blank")
        invalid(
            pd.post(ENQUEUE, content=b"{", headers={"Content-Type": "application/json"}),
            "Event object is not valid JSON",
        )
        invalid(send(pd, [trigger()]), "Event object must be a JSON object")  # type: ignore[arg-type]
        invalid(send(pd, {**trigger(), "event_action": "escalate"}))
        invalid(
            send(pd, {**trigger(), "payload": None}), "'payload' is missing for a trigger event"
        )
        invalid(
            send(pd, {"routing_key": PDPYRAS_ROUTING_KEY, "event_action": "resolve"}),
            "'dedup_key' is missing for a resolve event",
        )
        invalid(send(pd, trigger(dedup_key="k" * 256)))
        errors = invalid(
            send(pd, {**trigger(), "payload": {"summary": " ", "source": "x", "severity": "bad"}})
        )
        assert [error.split("'")[1] for error in errors] == ["payload.summary", "payload.severity"]
        big = trigger(dedup_key="big")
        big["payload"]["custom_details"] = {"blob": "x" * (512 * 1024)}
        invalid(send(pd, big), "Event object is larger than 512 KB")
        in_future = trigger()
        in_future["payload"]["timestamp"] = "2999-01-01T00:00:00Z"
        [error] = invalid(send(pd, in_future))
        assert error == "'payload.timestamp' 2999-01-01T00:00:00+00:00 lies in the future"
        huge = trigger()
        huge["payload"]["custom_details"] = {"ids": [1, 18446744073709551616]}
        invalid(
            send(pd, huge),
            "'payload.custom_details.ids.1' an integer beyond 64 bits would not be stored"
            " exactly; send it as a string",
        )
    assert store_of(client).head_position() == 0


def test_the_largest_64_bit_integers_are_stored_exactly(pd: TestClient, client: TestClient) -> None:
    event = trigger(dedup_key="wide")
    details = {"unsigned": 2**64 - 1, "signed": -(2**63), "text": "12345678901234567890123"}
    event["payload"]["custom_details"] = details
    accepted(send(pd, event), "wide")
    [fired] = [e for e in ok(client.get("/events"))["events"] if e["type"] == "alert.fired"]
    assert fired["data"]["details"]["custom_details"] == details


@pytest.mark.parametrize(("action", "article"), [("acknowledge", "an"), ("resolve", "a")])
def test_a_missing_dedup_key_is_named_in_a_grammatical_sentence(
    pd: TestClient, client: TestClient, action: str, article: str
) -> None:
    with nothing_stored(client):
        invalid(
            send(pd, {"routing_key": PDPYRAS_ROUTING_KEY, "event_action": action}),
            f"'dedup_key' is missing for {article} {action} event",
        )


def test_a_future_timestamp_is_refused_under_pagerdutys_name_for_it(
    pd: TestClient, client: TestClient
) -> None:
    event = trigger(dedup_key="future")
    event["payload"]["timestamp"] = "2999-01-01T00:00:00.000+0000"
    with nothing_stored(client):
        [error] = invalid(send(pd, event))
    assert error == "'payload.timestamp' 2999-01-01T00:00:00+00:00 lies in the future"


def test_a_nul_is_refused_naming_the_field_with_its_capitals(
    pd: TestClient, client: TestClient
) -> None:
    event = trigger()
    event["payload"]["summary"] = "Disk\x00full"
    with nothing_stored(client):
        [error] = invalid(send(pd, event))
    assert error == "'payload.summary' NUL (U+0000) at character 5: text cannot hold it"


def test_the_routing_key_may_come_in_the_x_routing_key_header(
    pd: TestClient, client: TestClient
) -> None:
    body = trigger(dedup_key="hdr")
    del body["routing_key"]
    response = pd.post(ENQUEUE, json=body, headers={"X-Routing-Key": PDPYRAS_ROUTING_KEY})
    accepted(response, "hdr")


def test_a_revoked_integrations_key_is_invalid(pd: TestClient, client: TestClient) -> None:
    store: IntegrationStore = client.app.state.integrations  # type: ignore[attr-defined]
    assert store.revoke("pdpyras")
    with nothing_stored(client):
        invalid(send(pd, trigger()), "Invalid routing key")


def test_an_integration_revoked_through_the_api_stops_working(
    pd: TestClient, client: TestClient
) -> None:
    accepted(send(pd, trigger(dedup_key="before")), "before")
    assert client.delete("/integrations/pdpyras").status_code == 204
    with nothing_stored(client):
        invalid(send(pd, trigger(dedup_key="after")), "Invalid routing key")
    assert_problem(
        client.delete("/integrations/pdpyras"), 404, "no live integration is named 'pdpyras'"
    )
    revoked = [i for i in ok(client.get("/integrations")) if i["name"] == "pdpyras"]
    assert revoked[0]["revoked_at"] is not None
    ok(client.post("/integrations", json={"name": "team/prod", "kind": "generic"}), 201)
    assert client.delete("/integrations/team/prod").status_code == 204
    slashed = [i for i in ok(client.get("/integrations")) if i["name"] == "team/prod"]
    assert slashed[0]["revoked_at"] is not None


# --- the integrations API --------------------------------------------------------------------


def test_admins_create_and_list_integrations(client: TestClient) -> None:
    created = ok(
        client.post(
            "/integrations", json={"name": "prod-am", "kind": "pagerduty", "service": "api"}
        ),
        201,
    )
    assert len(created["routing_key"]) == 32
    assert created["secret"] is None
    generic = ok(client.post("/integrations", json={"name": "ci", "kind": "generic"}), 201)
    assert generic["routing_key"] is None
    assert len(generic["secret"]) >= 40
    listed = ok(client.get("/integrations"))
    assert [(i["name"], i["kind"], i["service"]) for i in listed] == [
        ("prod-am", "pagerduty", "api"),
        ("ci", "generic", None),
    ]
    assert created["routing_key"] not in str(listed)
    assert generic["secret"] not in str(listed)
    with sender(client, None) as pd:
        trigger_body = {**trigger(dedup_key="via-api"), "routing_key": created["routing_key"]}
        accepted(send(pd, trigger_body), "via-api")
    [summary] = incidents(client)
    assert summary["services"] == ["api"]
    assert events_of(client, summary["id"])[0].metadata["actor"] == "integration:prod-am"


def test_integration_requests_are_checked(client: TestClient) -> None:
    ok(client.post("/integrations", json={"name": "dup", "kind": "pagerduty"}), 201)
    assert_problem(client.post("/integrations", json={"name": "dup", "kind": "generic"}), 409)
    assert_problem(client.post("/integrations", json={"name": "x", "kind": "email"}), 422)
    assert_problem(
        client.post(
            "/integrations", json={"name": "y", "kind": "generic", "routing_key": "a" * 32}
        ),
        422,
        "only pagerduty integrations have a routing key",
    )
    assert_problem(
        client.post(
            "/integrations", json={"name": "z", "kind": "pagerduty", "routing_key": "short"}
        ),
        422,
    )
    tokens: TokenStore = client.app.state.tokens  # type: ignore[attr-defined]
    writer = tokens.create("writer", {Scope.READ, Scope.WRITE, Scope.INGEST})
    with sender(client, f"Bearer {writer}") as other:
        assert_problem(
            other.post("/integrations", json={"name": "w", "kind": "generic"}),
            403,
            "token 'writer' lacks the 'admin' scope for this route",
        )
        assert_problem(other.get("/integrations"), 403)
    store: IntegrationStore = client.app.state.integrations  # type: ignore[attr-defined]
    assert [i.kind for i in store.list()] == [IntegrationKind.PAGERDUTY]
