"""The one incident every rule test starts from: fixed ids, fixed times, its declaration."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from domain.events import DomainEvent, IncidentDeclared
from domain.incident import CLOCK_SKEW, Incident, fold
from domain.values import Severity

INCIDENT_ID = UUID("00000000-0000-4000-8000-000000000001")

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
STARTED = NOW - timedelta(hours=1)
DETECTED = NOW - timedelta(minutes=30)
DECLARED = NOW - timedelta(minutes=25)
TOO_FAR_AHEAD = NOW + CLOCK_SKEW + timedelta(seconds=1)


def given(*events: DomainEvent) -> Incident:
    return fold(events)


def iso(value: datetime) -> str:
    return value.isoformat()


def declared(**overrides: Any) -> IncidentDeclared:
    fields: dict[str, Any] = {
        "occurred_at": DECLARED,
        "incident_id": INCIDENT_ID,
        "title": "Checkout is down",
        "severity": Severity.SEV2,
        "services": ("checkout",),
        "started_at": STARTED,
        "detected_at": DETECTED,
    }
    fields.update(overrides)
    return IncidentDeclared(**fields)
