"""PagerDuty Events API v2 events to alert batches, from pdpyras's and Alertmanager's captures.

``handle`` hands each batch to the ingestor; here a stand-in keeps the batches instead of
recording them, so what PagerDuty's fields become is checked without a database.
"""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import cast
from uuid import UUID

from application.alert_ingestion import AlertBatch, AlertIngestor, Recorded
from application.integrations import Integration, IntegrationKind
from application.service import CommandContext
from domain.values import AlertSource, AlertStatus, Severity
from monitoring.mapping import SeverityMap
from monitoring.pagerduty import Event, handle
from tests.support.captures import captured

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
INTEGRATION = Integration(
    integration_id=UUID("5b0c7e9a-3f1d-4a2b-9c8e-7d6f5a4b3c21"),
    name="prod-pd",
    kind=IntegrationKind.PAGERDUTY,
    service="storage",
    created_at=NOW,
)
GROUP = f"pagerduty:{INTEGRATION.integration_id}"
CONTEXT = CommandContext({"actor": INTEGRATION.actor, "source": "pagerduty"})
AM_DEDUP_KEY = "7832209b5618d6dfcdd03986ab54e2d8563282f293b5c6bf7fdd87e77fab4a19"


class Collector:
    """Stands in for ``AlertIngestor``: keeps what it is given, records nothing."""

    def __init__(self) -> None:
        self.service = SimpleNamespace(now=lambda: NOW)
        self.batches: list[AlertBatch] = []
        self.acknowledged: list[tuple[str, str]] = []

    def record(self, batch: AlertBatch, context: CommandContext) -> list[Recorded]:
        self.batches.append(batch)
        return []

    def acknowledge(self, group: str, alert_key: str, context: CommandContext) -> list[Recorded]:
        self.acknowledged.append((group, alert_key))
        return []


def send(name: str, **changes: object) -> tuple[str, Collector]:
    """Handle the captured event (with ``changes``); its dedup key and what was handed on."""
    body = {**captured(name), **changes}
    collector = Collector()
    event = Event.model_validate({k: v for k, v in body.items() if v is not None})
    dedup_key, _ = handle(
        cast(AlertIngestor, collector), event, INTEGRATION, SeverityMap(), CONTEXT
    )
    return dedup_key, collector


def test_a_pdpyras_trigger_is_a_firing_alert_of_its_dedup_key() -> None:
    dedup_key, collector = send("pdpyras-5.4.1-trigger")

    assert dedup_key == "pdpyras-disk-db-01"
    [batch] = collector.batches
    assert batch.source is AlertSource.PAGERDUTY
    assert batch.group == f"{GROUP}:pdpyras-disk-db-01"
    assert (batch.title, batch.severity) == ("Disk almost full on db-01", Severity.SEV1)
    assert batch.services == ("payments-db",), "custom_details.service names the service"
    [report] = batch.alerts
    assert (report.key, report.status) == ("pdpyras-disk-db-01", AlertStatus.FIRING)
    assert (report.summary, report.severity) == ("Disk almost full on db-01", "critical")
    assert report.starts_at is None, "no payload.timestamp: the service's time is used"
    assert report.details == {
        "source": "db-01.example.internal",
        "custom_details": {"service": "payments-db", "used_pct": 97},
        "links": [{"href": "http://127.0.0.1:19090/graph", "text": "graph"}],
    }


def test_a_pdpyras_resolve_resolves_the_alert_of_the_same_group() -> None:
    _, triggered = send("pdpyras-5.4.1-trigger")
    dedup_key, resolved = send("pdpyras-5.4.1-resolve")

    assert dedup_key == "pdpyras-disk-db-01"
    [batch] = resolved.batches
    assert batch.group == triggered.batches[0].group
    [report] = batch.alerts
    assert (report.key, report.status) == ("pdpyras-disk-db-01", AlertStatus.RESOLVED)
    assert batch.severity is Severity.SEV3, "a resolve carries no severity: as none"


def test_alertmanagers_pagerduty_notifications_map_like_pagerdutys_own() -> None:
    dedup_key, triggered = send("alertmanager-0.25-pagerduty-trigger")
    _, resolved = send("alertmanager-0.25-pagerduty-resolve")

    assert dedup_key == AM_DEDUP_KEY
    [trigger] = triggered.batches
    assert trigger.group == f"{GROUP}:{AM_DEDUP_KEY}"
    assert trigger.title == "[FIRING:1] HighErrorRate payments-api (payments-01:8080 critical)"
    assert trigger.severity is Severity.SEV2, "Alertmanager sends its critical as error"
    assert trigger.services == ("storage",), "no service in the details: the integration's"
    assert trigger.alerts[0].details["client"] == "Alertmanager"
    assert trigger.alerts[0].details["client_url"].endswith("/#/alerts?receiver=pagerduty-v2")
    assert trigger.alerts[0].details["custom_details"]["num_firing"] == "1"
    [resolve] = resolved.batches
    assert resolve.group == trigger.group
    assert resolve.alerts[0].status is AlertStatus.RESOLVED


def test_a_trigger_without_a_dedup_key_gets_one_of_its_own() -> None:
    first, collector = send("pdpyras-5.4.1-trigger", dedup_key=None)
    second, _ = send("pdpyras-5.4.1-trigger", dedup_key=None)

    assert len(first) == 32
    assert first != second
    assert collector.batches[0].group == f"{GROUP}:{first}"
    assert collector.batches[0].alerts[0].key == first


def test_an_acknowledge_names_the_group_and_the_alert() -> None:
    dedup_key, collector = send("pdpyras-5.4.1-resolve", event_action="acknowledge")

    assert collector.batches == []
    assert collector.acknowledged == [(f"{GROUP}:{dedup_key}", "pdpyras-disk-db-01")]
