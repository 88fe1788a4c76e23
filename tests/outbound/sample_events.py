"""Stored events and incident facts as the outbound messages receive them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from eventstore.records import RecordedEvent
from outbound.payloads import IncidentFacts

INCIDENT_ID = UUID("8d99e27d-c86f-4bc9-b959-3d35cf99a5cc")
OCCURRED = datetime(2026, 3, 4, 5, 6, 7, 123456, tzinfo=UTC)
RECORDED = datetime(2026, 3, 4, 5, 6, 8, tzinfo=UTC)
BASE_URL = "https://incidents.example.com/"

FACTS = IncidentFacts(
    INCIDENT_ID, "Checkout is down", "identified", "SEV2", ("checkout", "payments")
)


def recorded(
    type_: str, data: dict[str, Any], *, actor: str | None = "alice", version: int = 3
) -> RecordedEvent:
    """``type_`` with ``data`` as the log stores it in the incident INCIDENT_ID."""
    return RecordedEvent(
        position=42,
        stream_id=f"incident-{INCIDENT_ID}",
        version=version,
        event_id=uuid4(),
        type=type_,
        schema_version=1,
        data=data,
        metadata={} if actor is None else {"actor": actor},
        occurred_at=OCCURRED,
        recorded_at=RECORDED,
    )
