"""Small reads about the log's positions, for readers that cut the log at a past moment."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select

from eventstore.schema import events

MAX_POSITION = 2**63 - 1
"""The largest position either database can hold (positions are 64-bit)."""


def recorded_at_position(conn: Connection, position: int) -> datetime | None:
    """When the newest event at or before ``position`` was recorded (None: none is)."""
    query = (
        select(events.c.recorded_at)
        .where(events.c.position <= position)
        .order_by(events.c.position.desc())
        .limit(1)
    )
    found: datetime | None = conn.execute(query).scalar_one_or_none()
    return found
