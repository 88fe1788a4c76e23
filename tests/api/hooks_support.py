"""What the monitoring-hook tests share: captured payloads, senders' clients, the log."""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any
from uuid import UUID

from fastapi.testclient import TestClient

from application.integrations import IntegrationKind, IntegrationStore, NewIntegration
from application.tokens import Scope, TokenStore
from domain.values import stream_id_for
from eventstore import EventStore, RecordedEvent
from monitoring.signing import sign

FIXTURES = Path(__file__).parent.parent / "fixtures" / "monitoring"
AM_ROUTING_KEY = "0123456789abcdef0123456789abcdef"
"""The routing key of Alertmanager's captured pagerduty_configs notifications."""
PDPYRAS_ROUTING_KEY = "R0UT1NGKEY0123456789abcdef012345"
ENQUEUE = "/hooks/pagerduty/v2/enqueue"


def captured(name: str) -> dict[str, Any]:
    """A fresh copy of a captured request body (tests/fixtures/monitoring/<name>.json)."""
    document = json.loads((FIXTURES / f"{name}.json").read_text())
    body: dict[str, Any] = copy.deepcopy(document["body"])
    return body


def headers_of(name: str) -> dict[str, str]:
    headers: dict[str, str] = json.loads((FIXTURES / f"{name}.json").read_text())["headers"]
    return headers


def sender(client: TestClient, authorization: str | None) -> TestClient:
    """A client of the same application that sends this Authorization header (or none)."""
    headers = {} if authorization is None else {"Authorization": authorization}
    return TestClient(client.app, headers=headers)


def ingest_token(client: TestClient, name: str = "alertmanager") -> str:
    tokens: TokenStore = client.app.state.tokens  # type: ignore[attr-defined]
    return tokens.create(name, {Scope.INGEST})


def integration(
    client: TestClient,
    name: str,
    kind: IntegrationKind = IntegrationKind.PAGERDUTY,
    service: str | None = None,
    routing_key: str | None = None,
) -> NewIntegration:
    store: IntegrationStore = client.app.state.integrations  # type: ignore[attr-defined]
    return store.create(name, kind, service, routing_key=routing_key)


def signed_headers(
    secret: str, body: bytes, reference: str, timestamp: int | None = None
) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "Content-Type": "application/json",
        "X-Incidents-Integration": reference,
        "X-Incidents-Timestamp": stamp,
        "X-Incidents-Signature": sign(secret, stamp, body),
    }


def store_of(client: TestClient) -> EventStore:
    store: EventStore = client.app.state.store  # type: ignore[attr-defined]
    return store


def events_of(client: TestClient, incident_id: str | UUID) -> list[RecordedEvent]:
    return store_of(client).read_stream(stream_id_for(UUID(str(incident_id))))


def kinds(client: TestClient, incident_id: str | UUID) -> list[str]:
    """The incident's timeline entry kinds, in timeline order."""
    response = client.get(f"/incidents/{incident_id}/timeline")
    assert response.status_code == 200, response.text
    return [entry["kind"] for entry in response.json()["entries"]]


def only_incident(body: dict[str, Any]) -> dict[str, Any]:
    incidents: list[dict[str, Any]] = body["incidents"]
    assert len(incidents) == 1, incidents
    return incidents[0]
