"""What the timeline derives from a declaration, written out for tests to compare with."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eventstore.records import RecordedEvent

DERIVED_KINDS = ("started", "detected")


def declared_moments(recorded: RecordedEvent) -> dict[str, datetime]:
    """The start and detection entries an ``incident.declared`` event adds to its timeline.

    A moment at the same instant as the declaration (or detection at the start) has no
    entry of its own.
    """
    started = datetime.fromisoformat(recorded.data["started_at"])
    detected = datetime.fromisoformat(recorded.data["detected_at"])
    moments: dict[str, datetime] = {}
    if started != recorded.occurred_at:
        moments["started"] = started
    if detected not in (started, recorded.occurred_at):
        moments["detected"] = detected
    return moments


def derived_entries(entries: list[dict[str, Any]]) -> dict[str, datetime]:
    """The timeline's start and detection entries: kind -> when."""
    return {e["kind"]: e["occurred_at"] for e in entries if e["kind"] in DERIVED_KINDS}
