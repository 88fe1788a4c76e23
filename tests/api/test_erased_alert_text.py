"""An alert's erased text: after ``POST /incidents/{id}/alerts/redactions`` no route, past view,
rebuild or export shows its summary, annotations or details; its name and labels stay.
Each test runs on SQLite and PostgreSQL (tests/conftest.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from application.integrations import IntegrationKind
from eventstore.chain_verify import verify_chain
from eventstore.schema import text_erasures, text_keys
from projections.rebuild import rebuild
from projections.runner import ProjectionRunner
from projections.timeline import TimelineProjection, get_timeline
from tests.api.helpers import assert_problem, ok
from tests.api.hooks_support import (
    headers_of,
    ingest_token,
    integration,
    only_incident,
    sender,
    signed_headers,
)
from tests.api.test_hooks_alertmanager import notification
from tests.conftest import NewDatabase
from tests.support.transfer import export_bytes, import_bytes

SECRET = "card 4111-1111-1111-1111 of jane.doe.7731@example.com"
START = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


def _alert(name: str, annotation: str, starts_at: datetime, status: str = "firing") -> Any:
    ends = "0001-01-01T00:00:00Z" if status == "firing" else datetime.now(UTC).isoformat()
    return {
        "status": status,
        "labels": {"alertname": name, "service": "payments", "severity": "critical"},
        "annotations": {"summary": f"{name}: {annotation}", "description": annotation},
        "startsAt": starts_at.isoformat(),
        "endsAt": ends,
        "generatorURL": "http://prometheus:9090/graph",
        "fingerprint": f"fp-{name}",
    }


@pytest.fixture
def am(client: TestClient) -> Iterator[TestClient]:
    """Alertmanager, with an ingest-only token as its bearer credentials."""
    with sender(client, f"Bearer {ingest_token(client)}") as am:
        yield am


def _fire(am: TestClient, *alerts: Any) -> str:
    answer = am.post(
        "/hooks/alertmanager",
        json=notification(*alerts, group_key='{}:{team="pay"}'),
        headers=headers_of("alertmanager-0.25-firing"),
    )
    incident_id: str = only_incident(ok(answer))["id"]
    return incident_id


def _keys_of(client: TestClient, incident_id: str) -> dict[str, str]:
    timeline = ok(client.get(f"/incidents/{incident_id}/timeline"))["entries"]
    return {
        e["details"]["name"]: e["details"]["alert_key"]
        for e in timeline
        if e["kind"] == "alert_fired"
    }


@pytest.fixture
def erased(client: TestClient, am: TestClient) -> tuple[str, str, int]:
    """An incident with two alerts, the first one's text erased: (incident, its alert key,
    the log position just before the erasure)."""
    incident_id = _fire(
        am,
        _alert("CheckoutErrors", SECRET, START),
        _alert("LatencyHigh", "p99 over 2 s on the checkout path", START),
    )
    key = _keys_of(client, incident_id)["CheckoutErrors"]
    assert SECRET in client.get(f"/incidents/{incident_id}/timeline").text
    before = ok(client.get("/events", params={"limit": 1000}))["events"][-1]["position"]
    ok(
        client.post(
            f"/incidents/{incident_id}/alerts/redactions",
            json={"alert_key": key, "reason": "a customer's card number"},
        )
    )
    return incident_id, key, before


def test_after_the_erasure_no_answer_holds_the_alerts_text(
    client: TestClient, engine: Engine, erased: tuple[str, str, int]
) -> None:
    incident_id, key, before = erased
    base = f"/incidents/{incident_id}"
    answers = {
        "timeline": client.get(f"{base}/timeline"),
        "timeline as of before": client.get(f"{base}/timeline", params={"as_of": before}),
        "summary as of before": client.get(base, params={"as_of": before}),
        "events": client.get("/events", params={"limit": 1000}),
        "events of the stream": client.get("/events", params={"stream": incident_id}),
        "postmortem markdown": client.get(
            f"{base}/postmortem", headers={"Accept": "text/markdown"}
        ),
    }
    for name, answer in answers.items():
        assert answer.status_code == 200, (name, answer.text)
        assert "4111-1111" not in answer.text, name
        assert "jane.doe" not in answer.text, name
        # The other alert's text is not erased.
        assert "p99 over 2 s" in answer.text or name.startswith("summary"), name

    timeline = ok(answers["timeline"])["entries"]
    (fired,) = [
        e for e in timeline if e["kind"] == "alert_fired" and e["details"]["alert_key"] == key
    ]
    assert fired["text"] == (
        "Alert firing: CheckoutErrors (its text was redacted by admin: a customer's card number)"
    )
    assert fired["details"]["labels"]["service"] == "payments"  # name and labels stay
    assert fired["details"]["summary"]["redacted"] is True
    assert fired["details"]["summary"]["redacted_by"] == "admin"
    assert fired["details"]["annotations"] == fired["details"]["details"] == {}
    (entry,) = [e for e in timeline if e["kind"] == "alert_text_redacted"]
    assert entry["text"] == "Alert text redacted: CheckoutErrors: a customer's card number"

    # The stored event still says the alert fired; its summary is the erasure's placeholder,
    # its annotations and details empty.
    feed = ok(answers["events"])["events"]
    (event,) = [e for e in feed if e["type"] == "alert.fired" and e["data"]["alert_key"] == key]
    assert event["data"]["name"] == "CheckoutErrors"
    assert event["data"]["summary"]["reason"] == "a customer's card number"
    assert event["data"]["annotations"] == event["data"]["details"] == {}
    # The past view shows the firing, saying its text was erased since.
    past = ok(answers["timeline as of before"])["entries"]
    (then,) = [e for e in past if e["kind"] == "alert_fired" and e["details"]["alert_key"] == key]
    assert then["text"] == fired["text"]

    with engine.connect() as conn:
        assert verify_chain(conn).ok
        erasure = conn.execute(select(text_erasures)).one()
        scopes = conn.execute(select(text_keys.c.scope)).scalars().all()
    assert erasure.scope == f"alert:incident-{incident_id}:{key}"
    assert erasure.scope not in scopes
    assert len(scopes) == 1  # the other alert's key


def test_an_export_and_a_rebuild_after_the_erasure_hold_no_text(
    client: TestClient, engine: Engine, erased: tuple[str, str, int]
) -> None:
    incident_id, _, _ = erased
    live = get_timeline_of(engine, incident_id)

    exported = export_bytes(engine)
    assert b"4111-1111" not in exported
    assert b"p99 over 2 s" not in exported
    assert b'"text_erasure"' in exported

    ProjectionRunner().rebuild(engine)
    assert get_timeline_of(engine, incident_id) == live


def test_a_later_firing_is_readable_until_erased_again(
    client: TestClient, am: TestClient, engine: Engine, erased: tuple[str, str, int]
) -> None:
    incident_id, key, _ = erased
    # The alert resolves and fires again with new text: that firing has a key of its own.
    later = START + timedelta(minutes=30)
    _fire(am, _alert("CheckoutErrors", SECRET, START, status="resolved"))
    _fire(am, _alert("CheckoutErrors", "second firing, card 5500-0000-0000-0004", later))
    assert (
        "second firing, card 5500-0000-0000-0004"
        in client.get(f"/incidents/{incident_id}/timeline").text
    )

    ok(
        client.post(
            f"/incidents/{incident_id}/alerts/redactions",
            json={"alert_key": key, "reason": "again a card number"},
        )
    )
    live = get_timeline_of(engine, incident_id)
    for route in ("/timeline", ""):
        answer = client.get(f"/incidents/{incident_id}{route}")
        assert "4111-1111" not in answer.text
        assert "5500-0000-0000-0004" not in answer.text
    fired = [e for e in live if e["kind"] == "alert_fired" and e["details"]["alert_key"] == key]
    assert len(fired) == 2
    assert {e["details"]["summary"]["reason"] for e in fired} == {"again a card number"}
    # The events say so too: the newest erasure of the scope is the one recorded.
    feed = ok(client.get("/events", params={"stream": incident_id}))["events"]
    erased = [e["data"]["summary"] for e in feed if e["type"] == "alert.fired"]
    erased = [s for s in erased if isinstance(s, dict)]
    assert [s["reason"] for s in erased] == ["again a card number"] * 2
    ProjectionRunner().rebuild(engine)
    assert get_timeline_of(engine, incident_id) == live


def test_an_unknown_alert_or_a_missing_reason_is_refused_and_nothing_is_stored(
    client: TestClient, erased: tuple[str, str, int]
) -> None:
    incident_id, key, _ = erased
    head = ok(client.get("/events", params={"limit": 1000}))["events"][-1]["position"]

    unknown = client.post(
        f"/incidents/{incident_id}/alerts/redactions",
        json={"alert_key": "fp-nope", "reason": "x"},
    )
    assert unknown.status_code == 404, unknown.text
    assert "fp-nope" in unknown.json()["detail"]
    no_reason = client.post(f"/incidents/{incident_id}/alerts/redactions", json={"alert_key": key})
    problem = assert_problem(no_reason, 422)
    assert "reason" in problem["detail"]
    assert ok(client.get("/events", params={"limit": 1000}))["events"][-1]["position"] == head


def test_an_alert_without_a_summary_is_erased_and_rebuilt_in_any_batches(
    client: TestClient, am: TestClient, engine: Engine
) -> None:
    bare = _alert("DiskFull", SECRET, START)
    del bare["annotations"]["summary"]  # only a description: no summary to hold the mark
    incident_id = _fire(am, bare)
    key = _keys_of(client, incident_id)["DiskFull"]
    before = ok(client.get("/events", params={"limit": 1000}))["events"][-1]["position"]
    ok(
        client.post(
            f"/incidents/{incident_id}/alerts/redactions",
            json={"alert_key": key, "reason": "a card number"},
        )
    )

    past = client.get(f"/incidents/{incident_id}/timeline", params={"as_of": before})
    assert past.status_code == 200, past.text
    assert "4111-1111" not in past.text
    (then,) = [e for e in ok(past)["entries"] if e["kind"] == "alert_fired"]
    assert then["details"]["summary"]["reason"] == "a card number"
    live = get_timeline_of(engine, incident_id)
    # One event per batch: the firing is read erased, apart from its erasure.
    rebuild(engine, [TimelineProjection()], batch_size=1)
    assert get_timeline_of(engine, incident_id) == live


def test_details_shaped_like_the_placeholder_are_a_senders_data(
    client: TestClient, am: TestClient
) -> None:
    shaped = _alert("Spoofed", "nothing secret", START)
    shaped["annotations"] = {"redacted": "true", "reason": "x", "redacted_at": START.isoformat()}
    incident_id = _fire(am, shaped)

    (fired,) = [
        e
        for e in ok(client.get(f"/incidents/{incident_id}/timeline"))["entries"]
        if e["kind"] == "alert_fired"
    ]
    assert fired["text"] == "Alert firing: Spoofed"
    assert fired["details"]["annotations"]["reason"] == "x"  # shown as sent, not as an erasure


def test_an_alert_key_of_the_longest_length_is_sealed_and_exported(
    client: TestClient, engine: Engine, backend: str, new_database: NewDatabase
) -> None:
    key = "k" * 255
    secret = integration(client, "ci-checks", IntegrationKind.GENERIC, service="checkout")
    body = json.dumps(
        {"title": "Queue stuck", "dedup_key": key, "status": "firing", "severity": "warning"}
        | {"details": {"note": SECRET}}
    ).encode()
    with sender(client, None) as hook:
        answer = hook.post(
            "/hooks/generic",
            content=body,
            headers=signed_headers(secret.credential, body, "ci-checks"),
        )
    assert answer.status_code == 200, answer.text
    incident_id = only_incident(ok(answer))["id"]
    ok(
        client.post(
            f"/incidents/{incident_id}/alerts/redactions",
            json={"alert_key": key, "reason": "a card number"},
        )
    )
    copy = new_database(backend)
    import_bytes(copy, export_bytes(engine))
    with copy.connect() as conn:
        scopes = conn.execute(select(text_erasures.c.scope)).scalars().all()
    assert scopes == [f"alert:incident-{incident_id}:{key}"]


def get_timeline_of(engine: Engine, incident_id: str) -> list[dict[str, Any]]:
    from uuid import UUID

    with engine.connect() as conn:
        rows = get_timeline(conn, UUID(incident_id))
    return [{k: v for k, v in row.items() if k != "recorded_at"} for row in rows]
