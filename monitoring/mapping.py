"""Senders' documents to alert batches: titles, severities, services and alert reports.

- title: ``commonAnnotations.summary``, else the ``alertname``;
- severity: the ``severity`` label through INCIDENTS_SEVERITY_MAP (the most severe of
  the alerts' when they differ; ``none`` when no alert has a known one);
- services: the ``service`` label (common to the group, else every alert's).

Titles, names and services are single lines: from senders whose text is not refused
for a control character (see ``monitoring.payloads``), each run of control characters
and line breaks becomes one space (a hyphen in a service name).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from application.alert_ingestion import AlertBatch
from application.integrations import Integration
from domain.commands import AlertReport
from domain.state import CLOCK_SKEW
from domain.values import AlertSource, AlertStatus, Severity
from monitoring.payloads import (
    AlertmanagerAlert,
    AlertmanagerPayload,
    GenericEvent,
    GrafanaAlert,
    GrafanaPayload,
)

DEFAULT_SEVERITIES: dict[str, Severity] = {
    "critical": Severity.SEV1,
    "error": Severity.SEV2,
    "high": Severity.SEV2,
    "warning": Severity.SEV3,
    "info": Severity.SEV4,
    "none": Severity.SEV3,
}
_NOT_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
NO_END_YEAR = 1
"""Alertmanager's ``endsAt`` of an alert that is still firing: 0001-01-01T00:00:00Z."""


class SeverityMap:
    """An alert's severity label to SEV1..SEV5; ``SEV2`` and ``sev2`` name themselves."""

    def __init__(self, overrides: Mapping[str, Severity] | None = None) -> None:
        self.mapping = {**DEFAULT_SEVERITIES}
        self.mapping.update({k.strip().lower(): v for k, v in (overrides or {}).items()})

    def known(self, label: str | None) -> Severity | None:
        key = (label or "").strip().lower()
        if key in self.mapping:
            return self.mapping[key]
        return Severity(key.upper()) if key.upper() in Severity.__members__ else None

    def accepted(self) -> list[str]:
        """Every label a sender may use: the mapped names, then SEV1..SEV5."""
        return [*self.mapping, *Severity]

    def __call__(self, *labels: str | None) -> Severity:
        """The most severe of the labels' severities; ``none``'s when none is known."""
        found = [s for s in (self.known(label) for label in labels) if s is not None]
        return min(found) if found else self.mapping.get("none", Severity.SEV3)


def clip(text: str | None, limit: int) -> str | None:
    """The text stripped and cut to ``limit`` characters (None when empty)."""
    if text is None or not text.strip():
        return None
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def line(text: str | None, limit: int) -> str | None:
    """Like ``clip``, on one line: control characters and line breaks become a space."""
    return clip(_NOT_ONE_LINE.sub(" ", text) if text else text, limit)


def service_names(values: Iterable[str | None]) -> tuple[str, ...]:
    """Valid service names (no spaces or commas, at most 100 characters), in order, once."""
    names = (
        re.sub(r"[\s,\x00-\x1f\x7f-\x9f]+", "-", (value or "").strip())[:100] for value in values
    )
    return tuple(dict.fromkeys(name for name in names if name))


def _report(alert: AlertmanagerAlert, **extra: Any) -> AlertReport:
    resolved = alert.status is AlertStatus.RESOLVED
    ended = (
        alert.ends_at if alert.ends_at is not None and alert.ends_at.year > NO_END_YEAR else None
    )
    return AlertReport(
        key=alert.fingerprint,
        status=alert.status,
        name=line(alert.labels.get("alertname"), 200) or "alert",
        starts_at=alert.starts_at,
        ends_at=ended if resolved else None,
        fingerprint=alert.fingerprint,
        summary=clip(alert.annotations.get("summary"), 10_000),
        severity=line(alert.labels.get("severity"), 100),
        labels=alert.labels,
        annotations=alert.annotations,
        generator_url=alert.generator_url or None,
        **extra,
    )


def _grafana_report(alert: GrafanaAlert) -> AlertReport:
    details: dict[str, Any] = {
        "values": alert.values,
        "value_string": alert.value_string or None,
        "image_url": alert.image_url or None,
    }
    return _report(
        alert,
        dashboard_url=alert.dashboard_url or None,
        panel_url=alert.panel_url or None,
        silence_url=alert.silence_url or None,
        details={k: v for k, v in details.items() if v is not None},
    )


def _group_facts(
    payload: AlertmanagerPayload | GrafanaPayload, severities: SeverityMap, fallback_title: str
) -> dict[str, Any]:
    common = payload.common_labels
    alerts = payload.alerts
    name = (
        common.get("alertname")
        or payload.group_labels.get("alertname")
        or alerts[0].labels.get("alertname")
    )
    firing = [a for a in alerts if a.status is AlertStatus.FIRING] or alerts
    severity = severities(common.get("severity"), *(a.labels.get("severity") for a in firing))
    services = service_names(
        [common["service"]] if "service" in common else [a.labels.get("service") for a in alerts]
    )
    title = line(payload.common_annotations.get("summary"), 200) or line(name, 200)
    return {
        "title": title or line(fallback_title, 200) or "Alerts",
        "severity": severity,
        "services": services,
        "summary": clip(payload.common_annotations.get("description"), 10_000),
    }


def from_alertmanager(payload: AlertmanagerPayload, severities: SeverityMap) -> AlertBatch:
    return AlertBatch(
        source=AlertSource.ALERTMANAGER,
        group=f"alertmanager:{payload.receiver}:{payload.group_key}",
        alerts=tuple(_report(alert) for alert in payload.alerts),
        **_group_facts(payload, severities, f"Alerts for {payload.receiver}"),
    )


def from_grafana(payload: GrafanaPayload, severities: SeverityMap) -> AlertBatch:
    return AlertBatch(
        source=AlertSource.GRAFANA,
        group=f"grafana:{payload.org_id}:{payload.receiver}:{payload.group_key}",
        alerts=tuple(_grafana_report(alert) for alert in payload.alerts),
        **_group_facts(payload, severities, payload.title),
    )


def from_generic(
    event: GenericEvent, integration: Integration, severities: SeverityMap, now: datetime
) -> AlertBatch:
    """The generic event as an alert batch; 422 naming the field for a severity no map knows
    or a time in the future (checked here, where the sender's field name is known)."""
    if event.severity is not None and severities.known(event.severity) is None:
        raise _refused(
            "severity",
            event.severity,
            f"unknown severity {event.severity!r}; use one of {', '.join(severities.accepted())}",
        )
    if event.occurred_at is not None and event.occurred_at > now + CLOCK_SKEW:
        raise _refused(
            "occurred_at",
            event.occurred_at.isoformat(),
            f"{event.occurred_at.isoformat()} lies in the future (the service's clock says"
            f" {now.isoformat(timespec='seconds')})",
        )
    firing = event.status is AlertStatus.FIRING
    name = line(event.title, 200) or line(event.dedup_key, 200) or "alert"
    report = AlertReport(
        key=event.dedup_key,
        status=event.status,
        name=name,
        starts_at=event.occurred_at if firing else None,
        ends_at=None if firing else event.occurred_at,
        severity=event.severity,
        details=event.details,
    )
    return AlertBatch(
        source=AlertSource.GENERIC,
        group=f"generic:{integration.integration_id}:{event.dedup_key}",
        alerts=(report,),
        title=name,
        severity=severities(event.severity),
        services=service_names([integration.service]),
    )


class PayloadRefused(ValueError):
    """A well-formed payload whose field the service cannot accept; the API answers 422."""

    def __init__(self, field: str, value: str, message: str) -> None:
        super().__init__(message)
        self.errors = [
            {"loc": ("body", field), "msg": message, "type": "value_error", "input": value}
        ]


def _refused(field: str, value: str, message: str) -> PayloadRefused:
    return PayloadRefused(field, value, message)
