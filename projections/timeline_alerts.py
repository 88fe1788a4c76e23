"""Timeline entries for monitoring events: each at the alert's own time, not its receipt's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain import events as e

Described = tuple[str, str, dict[str, Any]]
"""An entry's kind, human-readable text and details."""


def _fired(ev: e.AlertFired) -> Described:
    text = f"Alert firing: {ev.name}"
    lines = (ev.summary or "").strip().splitlines()
    if lines and lines[0].strip() != ev.name:  # many sources repeat the name as the summary
        text += f": {lines[0]}"
    details = {
        "source": ev.source.value,
        "alert_key": ev.alert_key,
        "fingerprint": ev.fingerprint,
        "name": ev.name,
        "summary": ev.summary,
        "severity": ev.severity,
        "labels": ev.labels,
        "annotations": ev.annotations,
        "generator_url": ev.generator_url,
        "dashboard_url": ev.dashboard_url,
        "panel_url": ev.panel_url,
        "silence_url": ev.silence_url,
        "details": ev.details,
    }
    return "alert_fired", text, details


def _cleared(ev: e.AlertsCleared) -> Described:
    noun = "alert" if ev.resolved == 1 else "alerts"
    return (
        "alerts_cleared",
        f"All alerts resolved ({ev.resolved} {noun} in all)",
        {"resolved": ev.resolved},
    )


def _linked(ev: e.IncidentLinked) -> Described:
    text = f"Follows incident {ev.previous_incident_id}"
    if ev.reason:
        text += f": {ev.reason}"
    details = {"previous_incident_id": str(ev.previous_incident_id), "reason": ev.reason}
    return "linked", text, details


ALERT_DESCRIBERS: dict[type[e.DomainEvent], Callable[[Any], Described]] = {
    e.AlertFired: _fired,
    e.AlertResolved: lambda ev: (
        "alert_resolved",
        f"Alert resolved: {ev.name}",
        {"alert_key": ev.alert_key, "name": ev.name},
    ),
    e.AlertAcknowledged: lambda ev: (
        "alert_acknowledged",
        f"Alert acknowledged: {ev.name}",
        {"alert_key": ev.alert_key, "name": ev.name},
    ),
    e.AlertsCleared: _cleared,
    e.IncidentLinked: _linked,
}
