"""Senders' documents as the payload models read them: real captures, and what is refused.

The captures in tests/fixtures/monitoring are what Alertmanager 0.25 (webhook and
pagerduty_configs receivers) and pdpyras 5.4.1 really posted; every one of them must be
read by its sender's model, with the fields the service uses and the types it needs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from domain.values import AlertStatus
from monitoring.pagerduty import Event
from monitoring.payloads import (
    ALERTMANAGER_EXAMPLE,
    GRAFANA_EXAMPLE,
    AlertmanagerPayload,
    GrafanaPayload,
)
from tests.support.captures import capture_names, captured

MODELS: dict[str, type[BaseModel]] = {
    "alertmanager-0.25-firing": AlertmanagerPayload,
    "alertmanager-0.25-resolved": AlertmanagerPayload,
    "alertmanager-0.25-pagerduty-trigger": Event,
    "alertmanager-0.25-pagerduty-resolve": Event,
    "pdpyras-5.4.1-trigger": Event,
    "pdpyras-5.4.1-resolve": Event,
}
"""Which model reads each capture: Alertmanager's pagerduty_configs speak PagerDuty's API."""

GROUP_KEY = '{}/{}:{alertname="HighErrorRate", service="payments-api"}'
STARTED = datetime(2026, 11, 27, 1, 57, 56, 45467, tzinfo=UTC)
"""The firing alert's startsAt, 01:57:56.045467338Z, to the microsecond Python keeps."""


def test_every_capture_has_a_model() -> None:
    # A capture added without a model here would go untested.
    assert capture_names() == sorted(MODELS)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_capture_is_read_by_its_senders_model(name: str) -> None:
    parsed = MODELS[name].model_validate(captured(name))

    assert isinstance(parsed, MODELS[name])


def test_alertmanagers_firing_notification_is_read_field_by_field() -> None:
    payload = AlertmanagerPayload.model_validate(captured("alertmanager-0.25-firing"))

    assert payload.version == "4"
    assert payload.group_key == GROUP_KEY
    assert payload.receiver == "webhook-plain"
    assert payload.status is AlertStatus.FIRING
    assert payload.truncated_alerts == 0
    assert payload.external_url == "http://127.0.0.1:19093"
    assert payload.group_labels == {"alertname": "HighErrorRate", "service": "payments-api"}
    assert payload.common_labels["severity"] == "critical"
    assert payload.common_annotations["summary"] == "Error rate above 5% on payments-api"
    [alert] = payload.alerts
    assert alert.status is AlertStatus.FIRING
    assert alert.fingerprint == "43e5a0e0ea2e10f5"
    assert alert.labels["instance"] == "payments-01:8080"
    assert alert.starts_at == STARTED
    # Go's zero time, Alertmanager's "no end yet", is kept as it is (year 1), not refused.
    assert alert.ends_at == datetime(1, 1, 1, tzinfo=UTC)
    assert alert.generator_url == "http://127.0.0.1:19090/graph"


def test_alertmanagers_resolved_notification_carries_the_end() -> None:
    payload = AlertmanagerPayload.model_validate(captured("alertmanager-0.25-resolved"))

    assert payload.status is AlertStatus.RESOLVED
    [alert] = payload.alerts
    assert alert.status is AlertStatus.RESOLVED
    assert (alert.starts_at, alert.ends_at) == (
        STARTED,
        datetime(2026, 11, 27, 1, 57, 57, tzinfo=UTC),
    )


def test_fields_a_newer_sender_adds_are_ignored() -> None:
    body = captured("alertmanager-0.25-firing")
    body["someFieldOfAlertmanager1"] = {"nested": True}
    body["alerts"][0]["silencedBy"] = ["a-silence"]

    payload = AlertmanagerPayload.model_validate(body)

    assert payload.alerts[0].fingerprint == "43e5a0e0ea2e10f5"


def _locations(error: ValidationError) -> list[tuple[Any, ...]]:
    return [tuple(item["loc"]) for item in error.errors()]


@pytest.mark.parametrize(
    ("remove", "location"),
    [
        (("groupKey",), ("groupKey",)),
        (("receiver",), ("receiver",)),
        (("alerts", 0, "fingerprint"), ("alerts", 0, "fingerprint")),
        (("alerts", 0, "startsAt"), ("alerts", 0, "startsAt")),
        (("alerts", 0, "labels"), ("alerts", 0, "labels")),
    ],
)
def test_a_missing_field_the_service_uses_is_refused_under_the_senders_name(
    remove: tuple[Any, ...], location: tuple[Any, ...]
) -> None:
    body = captured("alertmanager-0.25-firing")
    parent: Any = body
    for step in remove[:-1]:
        parent = parent[step]
    del parent[remove[-1]]

    with pytest.raises(ValidationError) as refused:
        AlertmanagerPayload.model_validate(body)

    assert _locations(refused.value) == [location]


def test_a_nul_is_refused_but_a_control_character_in_a_label_is_kept() -> None:
    body = captured("alertmanager-0.25-firing")
    body["alerts"][0]["labels"]["instance"] = "payments-01\x1b[31m"
    assert AlertmanagerPayload.model_validate(body).alerts[0].labels["instance"].endswith("[31m")

    body["alerts"][0]["labels"]["instance"] = "payments\x0001"
    with pytest.raises(ValidationError, match="NUL") as refused:
        AlertmanagerPayload.model_validate(body)
    assert _locations(refused.value) == [("alerts", 0, "labels", "instance")]


def test_grafana_and_alertmanager_documents_are_not_interchangeable() -> None:
    with pytest.raises(ValidationError) as as_alertmanager:
        AlertmanagerPayload.model_validate(GRAFANA_EXAMPLE)
    assert ("version",) in _locations(as_alertmanager.value)

    with pytest.raises(ValidationError) as as_grafana:
        GrafanaPayload.model_validate(ALERTMANAGER_EXAMPLE)
    assert ("version",) in _locations(as_grafana.value)


def test_pdpyras_events_are_read_with_their_links_and_details() -> None:
    trigger = Event.model_validate(captured("pdpyras-5.4.1-trigger"))
    resolve = Event.model_validate(captured("pdpyras-5.4.1-resolve"))

    assert (trigger.event_action, trigger.dedup_key) == ("trigger", "pdpyras-disk-db-01")
    assert trigger.payload is not None
    assert trigger.payload.severity == "critical"
    assert trigger.payload.source == "db-01.example.internal"
    assert trigger.payload.custom_details == {"service": "payments-db", "used_pct": 97}
    assert [(link.href, link.text) for link in trigger.links] == [
        ("http://127.0.0.1:19090/graph", "graph")
    ]
    assert (resolve.event_action, resolve.dedup_key, resolve.payload) == (
        "resolve",
        "pdpyras-disk-db-01",
        None,
    )


def test_a_pagerduty_resolve_without_a_dedup_key_is_refused() -> None:
    body = captured("pdpyras-5.4.1-resolve")
    del body["dedup_key"]

    with pytest.raises(ValidationError, match="'dedup_key' is missing for a resolve event"):
        Event.model_validate(body)
