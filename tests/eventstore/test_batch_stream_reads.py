"""Reading several streams after a version each in one query, as the command writer does."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from sqlalchemy import Engine

from eventstore import EventStore, NewEvent
from eventstore.selective_reads import read_streams_after

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def _events(count: int) -> list[NewEvent]:
    return [
        NewEvent(event_id=uuid4(), type="Noted", data={"n": n}, occurred_at=T0)
        for n in range(count)
    ]


def test_each_stream_gets_its_events_after_its_own_version_in_order(
    store: EventStore, engine: Engine
) -> None:
    store.append("incident-a", _events(3), 0)
    store.append("incident-b", _events(2), 0)
    store.append("incident-a", _events(2), 3)  # interleaved in the log with b
    store.append("incident-c", _events(1), 0)
    with engine.connect() as conn:
        found = read_streams_after(conn, {"incident-a": 2, "incident-b": 0, "incident-z": 0})
    assert set(found) == {"incident-a", "incident-b", "incident-z"}
    assert [r.version for r in found["incident-a"]] == [3, 4, 5]
    assert [r.data["n"] for r in found["incident-a"]] == [2, 0, 1]
    assert [r.version for r in found["incident-b"]] == [1, 2]
    assert found["incident-z"] == []
    assert all(r.stream_id == "incident-a" for r in found["incident-a"])


def test_no_streams_asked_reads_nothing(engine: Engine) -> None:
    with engine.connect() as conn:
        assert read_streams_after(conn, {}) == {}
