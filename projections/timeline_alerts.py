"""Timeline entries for monitoring events: each at the alert's own time, not its receipt's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain import events as e
from domain.erasable_text import RedactedText

Described = tuple[str, str, dict[str, Any]]
"""An entry's kind, human-readable text and details."""


def _fired(ev: e.AlertFired) -> Described:
    if isinstance(ev.summary, RedactedText):
        return erased_alert(ev.name, _fired_details(ev), ev.summary)
    text = f"Alert firing: {ev.name}"
    lines = (ev.summary or "").strip().splitlines()
    if lines and lines[0].strip() != ev.name:  # many sources repeat the name as the summary
        text += f": {lines[0]}"
    return "alert_fired", text, _fired_details(ev)


def erased_alert(name: str, details: dict[str, Any], erased: RedactedText) -> Described:
    """A firing whose text was erased: its name, labels and links, and who erased the rest,
    when and why; the same whether read after the erasure or rewritten by it. As the
    opened event reads (domain/erasable_text.py): the placeholder in ``summary``,
    ``annotations`` and ``details`` empty."""
    by = f" by {erased.redacted_by}" if erased.redacted_by else ""
    text = f"Alert firing: {name} (its text was redacted{by}: {erased.reason})"
    placeholder = erased.model_dump(mode="json")
    return (
        "alert_fired",
        text,
        {**details, "summary": placeholder, "annotations": {}, "details": {}},
    )


def _fired_details(ev: e.AlertFired) -> dict[str, Any]:
    return {
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


def _text_redacted(ev: e.AlertTextRedacted) -> Described:
    return (
        "alert_text_redacted",
        f"Alert text redacted: {ev.name}: {ev.reason}",
        {"alert_key": ev.alert_key, "name": ev.name, "reason": ev.reason},
    )


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
    e.AlertTextRedacted: _text_redacted,
    e.IncidentLinked: _linked,
}
