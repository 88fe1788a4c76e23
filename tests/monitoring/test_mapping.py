"""Senders' documents to alert batches: group, title, severity, services and each alert.

Built from the real Alertmanager 0.25 captures in tests/fixtures/monitoring. There is no
captured Grafana request: Grafana's documents are Grafana's documented example
(``GRAFANA_EXAMPLE``) and the Alertmanager capture with the fields Grafana adds, the
shape Grafana's webhook contact point sends.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from application.alert_ingestion import AlertBatch
from domain.values import AlertSource, AlertStatus, Severity
from monitoring.mapping import SeverityMap, from_alertmanager, from_grafana
from monitoring.payloads import GRAFANA_EXAMPLE, AlertmanagerPayload, GrafanaPayload
from tests.support.captures import captured

GROUP_KEY = '{}/{}:{alertname="HighErrorRate", service="payments-api"}'
STARTED = datetime(2026, 11, 27, 1, 57, 56, 45467, tzinfo=UTC)
ENDED = datetime(2026, 11, 27, 1, 57, 57, tzinfo=UTC)


def alertmanager(body: dict[str, Any], severities: SeverityMap | None = None) -> AlertBatch:
    return from_alertmanager(AlertmanagerPayload.model_validate(body), severities or SeverityMap())


def grafana(body: dict[str, Any]) -> AlertBatch:
    return from_grafana(GrafanaPayload.model_validate(body), SeverityMap())


def alert_with(body: dict[str, Any], fingerprint: str, **labels: str) -> dict[str, Any]:
    """The capture's alert under another fingerprint, with these labels changed."""
    alert: dict[str, Any] = {**body["alerts"][0], "fingerprint": fingerprint}
    alert["labels"] = {**alert["labels"], **labels}
    return alert


def test_a_firing_notification_is_one_batch_for_its_group() -> None:
    batch = alertmanager(captured("alertmanager-0.25-firing"))

    assert batch.source is AlertSource.ALERTMANAGER
    assert batch.group == f"alertmanager:webhook-plain:{GROUP_KEY}"
    assert batch.title == "Error rate above 5% on payments-api"
    assert batch.severity is Severity.SEV1
    assert batch.services == ("payments-api",)
    assert batch.summary == "5xx ratio has been > 5% for 5 minutes"
    [report] = batch.alerts
    assert (report.key, report.fingerprint) == ("43e5a0e0ea2e10f5", "43e5a0e0ea2e10f5")
    assert report.status is AlertStatus.FIRING
    assert report.name == "HighErrorRate"
    assert report.starts_at == STARTED
    assert report.ends_at is None, "Go's zero time is no end"
    assert report.severity == "critical"
    assert report.summary == "Error rate above 5% on payments-api"
    assert report.labels["instance"] == "payments-01:8080"
    assert report.annotations["runbook_url"].endswith("/payments/high-error-rate")
    assert report.generator_url == "http://127.0.0.1:19090/graph"


def test_the_resolution_lands_in_the_same_group_for_the_same_alert() -> None:
    firing = alertmanager(captured("alertmanager-0.25-firing"))
    resolved = alertmanager(captured("alertmanager-0.25-resolved"))

    assert resolved.group == firing.group
    [report] = resolved.alerts
    assert report.status is AlertStatus.RESOLVED
    assert (report.key, report.starts_at, report.ends_at) == ("43e5a0e0ea2e10f5", STARTED, ENDED)


def test_another_receiver_of_the_same_group_is_another_group() -> None:
    body = captured("alertmanager-0.25-firing")
    body["receiver"] = "webhook-escalation"

    assert alertmanager(body).group == f"alertmanager:webhook-escalation:{GROUP_KEY}"


@pytest.mark.parametrize(
    ("labels", "severity"),
    [
        pytest.param(["warning", "critical"], Severity.SEV1, id="the most severe alert"),
        pytest.param(["info", "error"], Severity.SEV2, id="error"),
        pytest.param(["warning"], Severity.SEV3, id="warning"),
        pytest.param(["info"], Severity.SEV4, id="info"),
        pytest.param(["SEV5"], Severity.SEV5, id="a level names itself"),
        pytest.param([" sev2 "], Severity.SEV2, id="in any case and spacing"),
        pytest.param(["page"], Severity.SEV3, id="unknown: as none"),
    ],
)
def test_severity_comes_from_the_alerts_severity_labels(
    labels: list[str], severity: Severity
) -> None:
    body = captured("alertmanager-0.25-firing")
    del body["commonLabels"]["severity"]
    body["alerts"] = [alert_with(body, f"fp-{n}", severity=s) for n, s in enumerate(labels)]

    batch = alertmanager(body)

    assert batch.severity is severity
    assert [report.severity for report in batch.alerts] == [label.strip() for label in labels]


def test_resolved_alerts_do_not_raise_the_severity_of_firing_ones() -> None:
    body = captured("alertmanager-0.25-firing")
    del body["commonLabels"]["severity"]
    ended = alert_with(body, "fp-ended", severity="critical")
    ended.update(status="resolved", endsAt="2026-11-27T01:57:57Z")
    body["alerts"] = [alert_with(body, "fp-open", severity="warning"), ended]

    assert alertmanager(body).severity is Severity.SEV3


def test_the_severity_map_can_be_overridden() -> None:
    severities = SeverityMap({"Critical": Severity.SEV2, "page": Severity.SEV1})
    body = captured("alertmanager-0.25-firing")

    assert alertmanager(body, severities).severity is Severity.SEV2
    body["commonLabels"]["severity"] = "page"
    assert alertmanager(body, severities).severity is Severity.SEV1


def test_without_a_summary_the_alertname_is_the_title() -> None:
    body = captured("alertmanager-0.25-firing")
    del body["commonAnnotations"]["summary"]

    assert alertmanager(body).title == "HighErrorRate"


def test_titles_and_services_from_sender_text_are_single_lines() -> None:
    body = captured("alertmanager-0.25-firing")
    body["commonAnnotations"]["summary"] = "Error rate\r\nabove 5%\x1b[0m on payments"
    del body["commonLabels"]["service"]
    body["alerts"] = [
        alert_with(body, "fp-1", service="payments api"),
        alert_with(body, "fp-2", service="checkout,eu"),
        alert_with(body, "fp-3", service="payments api"),
    ]

    batch = alertmanager(body)

    assert batch.title == "Error rate above 5% [0m on payments"
    assert batch.services == ("payments-api", "checkout-eu"), "each service once, in order"


def test_grafanas_documented_example_keeps_its_links_and_values() -> None:
    batch = grafana(GRAFANA_EXAMPLE)

    assert batch.source is AlertSource.GRAFANA
    assert batch.group == 'grafana:1:incident-ledger:{}:{alertname="HighErrorRate"}'
    assert (batch.title, batch.severity) == ("Error rate above 5% on payments-api", Severity.SEV1)
    [report] = batch.alerts
    assert report.dashboard_url == "http://grafana:3000/d/payments"
    assert report.panel_url == "http://grafana:3000/d/payments?viewPanel=2"
    assert report.silence_url == "http://grafana:3000/alerting/silence/new"
    assert report.details == {"values": {"A": 0.07}}


def test_grafana_and_alertmanager_groups_never_meet() -> None:
    body = captured("alertmanager-0.25-firing")
    body.update(version="1", orgId=3, title="[FIRING:1] HighErrorRate", state="alerting")
    body["alerts"][0].update(values={"A": 0.07}, valueString="[ var='A' value=0.07 ]")

    from_grafana_batch = grafana(body)

    assert from_grafana_batch.group == f"grafana:3:webhook-plain:{GROUP_KEY}"
    assert from_grafana_batch.group != alertmanager(captured("alertmanager-0.25-firing")).group
    assert from_grafana_batch.alerts[0].details == {
        "values": {"A": 0.07},
        "value_string": "[ var='A' value=0.07 ]",
    }
