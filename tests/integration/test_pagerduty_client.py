"""PagerDuty's own Python client (pdpyras) against a real ``incidents serve``.

``EventsAPISession(routing_key)`` with its ``url`` pointed at the service's
``/hooks/pagerduty`` prefix posts to ``/hooks/pagerduty/v2/enqueue`` exactly as it
would post to events.pagerduty.com, and reads the dedup key from the answer.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.servers import Served, incidents_server

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # pdpyras announces its successor on import
    import pdpyras

pytestmark = pytest.mark.slow


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[tuple[Served, str]]:
    with incidents_server(database_url, tmp_path) as served, served.admin() as admin:
        created = admin.post(
            "/integrations", json={"name": "pdpyras", "kind": "pagerduty", "service": "storage"}
        )
        assert created.status_code == 201, created.text
        yield served, created.json()["routing_key"]


def session(served: Served, routing_key: str) -> Any:
    events = pdpyras.EventsAPISession(routing_key)
    events.url = f"{served.url}/hooks/pagerduty"
    return events


def the_incident(served: Served) -> dict[str, Any]:
    [incident] = served.get("/incidents")["items"]
    found: dict[str, Any] = incident
    return found


def test_pdpyras_trigger_acknowledge_resolve(served: tuple[Served, str]) -> None:
    server, routing_key = served
    events = session(server, routing_key)

    key = events.trigger(
        "Disk almost full on db-02",
        "db-02.example.internal",
        dedup_key="db-02-disk",
        severity="warning",
        custom_details={"used_pct": 96},
    )
    assert key == "db-02-disk"
    incident = the_incident(server)
    assert (incident["title"], incident["severity"]) == ("Disk almost full on db-02", "SEV3")
    assert (incident["services"], incident["source"]) == (["storage"], "pagerduty")
    assert events.trigger("Disk almost full on db-02", "db-02", dedup_key=key) == key

    assert events.acknowledge(key) == key
    assert events.resolve(key) == key

    incident = the_incident(server)
    assert incident["acknowledged_at"] is not None
    assert incident["alerts"] == {"firing": 0, "resolved": 1}
    entries = server.get(f"/incidents/{incident['id']}/timeline")["entries"]
    kinds = [entry["kind"] for entry in entries]
    for kind in ("alert_fired", "alert_acknowledged", "alert_resolved", "alerts_cleared"):
        assert kinds.count(kind) == 1, kinds


def test_pdpyras_trigger_without_a_key_and_an_unknown_routing_key(
    served: tuple[Served, str],
) -> None:
    server, routing_key = served

    generated = session(server, routing_key).trigger("Queue backlog", "queue-01")

    assert len(generated) == 32
    incident = the_incident(server)
    assert incident["severity"] == "SEV1", "pdpyras triggers are critical by default"
    with pytest.raises(pdpyras.PDClientError) as refused:
        session(server, "0" * 32).trigger("Nobody listens", "nowhere")
    response = refused.value.response
    assert response is not None
    assert response.status_code == 400
    assert response.json() == {
        "status": "invalid event",
        "message": "Event object is invalid",
        "errors": ["Invalid routing key"],
    }
    assert len(server.get("/incidents")["items"]) == 1
