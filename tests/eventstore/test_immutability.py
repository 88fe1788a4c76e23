"""Event-store contract: the log is append-only in the database itself, not just in the API.

Raw SQL through SQLAlchemy ``text()`` must be refused by the triggers the migration
installs, on both backends, and the stored rows must be exactly as they were.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from eventstore import EventStore, NewEvent
from eventstore.engine import WRITE

AT = datetime(2026, 2, 3, 4, 5, 6, 789012, tzinfo=UTC)


def new_event(n: int) -> NewEvent:
    return NewEvent(
        event_id=uuid4(),
        type="Noted",
        data={"n": n, "text": "immuable — неизменный"},
        occurred_at=AT,
        metadata={"actor": "contract"},
    )


def snapshot(engine: Engine) -> list[tuple[Any, ...]]:
    """Every column of every row, read with raw SQL, in position order."""
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text("SELECT * FROM events ORDER BY position"))]


@pytest.fixture
def filled(store: EventStore) -> EventStore:
    store.append("a", [new_event(1), new_event(2)], expected_version=0)
    store.append("b", [new_event(3)], expected_version=0)
    store.append("a", [new_event(4)], expected_version=2)
    return store


UPDATES_AND_DELETES = [
    ("UPDATE", "UPDATE events SET type = 'Tampered' WHERE position = :position"),
    ("UPDATE", "UPDATE events SET type = type"),
    ("UPDATE", "UPDATE events SET version = version + 100 WHERE stream_id = 'a'"),
    ("UPDATE", "UPDATE events SET stream_id = 'elsewhere'"),
    ("UPDATE", "UPDATE events SET recorded_at = occurred_at WHERE position = :position"),
    ("UPDATE", "UPDATE events SET position = position + 1000 WHERE position = :position"),
    ("DELETE", "DELETE FROM events WHERE position = :position"),
    ("DELETE", "DELETE FROM events WHERE stream_id = 'b'"),
    ("DELETE", "DELETE FROM events"),
]


@pytest.mark.parametrize(("operation", "statement"), UPDATES_AND_DELETES)
def test_update_and_delete_are_refused_and_rows_stay_unchanged(
    filled: EventStore, operation: str, statement: str
) -> None:
    engine = filled.engine
    before = snapshot(engine)
    read_before = filled.read_all()
    assert len(before) == 4
    params = {"position": read_before[1].position} if ":position" in statement else {}

    with pytest.raises(DBAPIError, match=f"append-only: {operation}"), engine.begin() as conn:
        conn.execute(text(statement), params)

    assert snapshot(engine) == before
    assert filled.read_all() == read_before


def test_refusal_covers_rows_appended_in_the_same_transaction(filled: EventStore) -> None:
    engine = filled.engine
    before = snapshot(engine)

    with engine.connect().execution_options(**WRITE) as conn:
        transaction = conn.begin()
        result = filled.append_in(conn, "c", [new_event(5)], expected_version=0)
        with pytest.raises(DBAPIError, match="append-only: UPDATE"):
            conn.execute(
                text("UPDATE events SET type = 'Tampered' WHERE position = :position"),
                {"position": result.position},
            )
        transaction.rollback()

    assert snapshot(engine) == before
    assert filled.stream_version("c") == 0


def test_log_still_accepts_appends_after_a_refused_change(filled: EventStore) -> None:
    engine = filled.engine
    head = filled.head_position()
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text("DELETE FROM events"))

    result = filled.append("a", [new_event(6)], expected_version=3)

    assert result.version == 4
    assert result.position > head
    assert len(snapshot(engine)) == 5


@pytest.mark.parametrize(
    "statement",
    ["TRUNCATE events", "TRUNCATE TABLE events RESTART IDENTITY", "TRUNCATE events CASCADE"],
)
def test_truncate_is_refused_on_postgresql(
    backend: str, filled: EventStore, statement: str
) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite has no TRUNCATE statement")
    engine = filled.engine
    before = snapshot(engine)

    with pytest.raises(DBAPIError, match="append-only: TRUNCATE"), engine.begin() as conn:
        conn.execute(text(statement))

    assert snapshot(engine) == before
    assert filled.head_position() == before[-1][0]
