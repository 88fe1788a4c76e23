"""Event-store contract: append, optimistic concurrency, idempotency, reads, in-transaction work.

Every test runs on SQLite and PostgreSQL (the ``backend`` parameter of ``store``/``engine``).
Counts and snapshots are taken with raw SQL where it matters, so a test does not only
check the store against itself.
"""

from __future__ import annotations

import dataclasses
import itertools
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import IntegrityError, StatementError

from eventstore import (
    AppendResult,
    ConcurrencyError,
    EventIdConflict,
    EventStore,
    InvalidEventData,
    NewEvent,
    RecordedEvent,
)
from eventstore.engine import create_engine
from eventstore.store import read_all_in

T0 = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
_serial = itertools.count(1)


def new_event(
    type_: str = "Noted",
    data: dict[str, Any] | None = None,
    *,
    occurred_at: datetime = T0,
    metadata: dict[str, Any] | None = None,
    schema_version: int = 1,
) -> NewEvent:
    """A fresh event with a new id and distinguishable data."""
    return NewEvent(
        event_id=uuid4(),
        type=type_,
        data={"n": next(_serial)} if data is None else data,
        occurred_at=occurred_at,
        schema_version=schema_version,
        metadata={} if metadata is None else metadata,
    )


def batch(size: int) -> list[NewEvent]:
    return [new_event() for _ in range(size)]


def count_events(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM events")).scalar_one())


def raw_rows(engine: Engine) -> list[tuple[Any, ...]]:
    """Every stored row as the database returns it, bypassing the store's read path."""
    with engine.connect() as conn:
        query = text(
            "SELECT position, stream_id, version, event_id, type, schema_version, "
            "occurred_at, recorded_at FROM events ORDER BY position"
        )
        return [tuple(row) for row in conn.execute(query)]


class FakeClock:
    """A clock the test moves by hand; the store stamps recorded_at from it."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 4, 5, 6, 7, 8, 987654, tzinfo=UTC))


@pytest.fixture
def clocked_store(engine: Engine, clock: FakeClock) -> EventStore:
    return EventStore(engine, clock=clock)


# --- append: versions and positions ---------------------------------------------------


def test_append_to_new_stream_with_expected_zero_returns_version_and_positions(
    store: EventStore,
) -> None:
    events = batch(3)

    result = store.append("incident-1", events, expected_version=0)

    assert result.stream_id == "incident-1"
    assert result.version == 3
    assert len(result.positions) == 3
    assert list(result.positions) == sorted(set(result.positions))
    assert result.position == result.positions[-1]
    stored = store.read_stream("incident-1")
    assert [r.version for r in stored] == [1, 2, 3]
    assert [r.position for r in stored] == list(result.positions)
    assert [r.event_id for r in stored] == [e.event_id for e in events]


def test_versions_run_from_one_per_stream_and_continue_across_appends(store: EventStore) -> None:
    a1 = store.append("a", batch(2), expected_version=0)
    b1 = store.append("b", batch(1), expected_version=0)
    a2 = store.append("a", batch(3), expected_version=2)
    b2 = store.append("b", batch(2), expected_version=1)

    assert (a1.version, b1.version, a2.version, b2.version) == (2, 1, 5, 3)
    assert [r.version for r in store.read_stream("a")] == [1, 2, 3, 4, 5]
    assert [r.version for r in store.read_stream("b")] == [1, 2, 3]
    assert store.stream_version("a") == 5
    assert store.stream_version("b") == 3


def test_positions_increase_globally_across_streams(store: EventStore) -> None:
    positions: list[int] = []
    for i, size in enumerate([1, 3, 2, 1, 4, 2]):
        stream = "abc"[i % 3]
        result = store.append(stream, batch(size), expected_version=None)
        positions.extend(result.positions)

    assert positions == sorted(set(positions)), "positions must strictly increase"
    assert [r.position for r in store.read_all()] == positions
    assert len(positions) == count_events(store.engine) == 13


@pytest.mark.parametrize("expected", [0, 1, 3, 10])
def test_stale_expected_version_raises_concurrency_error_and_writes_nothing(
    store: EventStore, expected: int
) -> None:
    store.append("s", batch(2), expected_version=0)
    before = raw_rows(store.engine)
    rejected = batch(2)

    with pytest.raises(ConcurrencyError) as excinfo:
        store.append("s", rejected, expected_version=expected)

    assert excinfo.value.stream_id == "s"
    assert excinfo.value.expected == expected
    assert excinfo.value.actual == 2
    assert raw_rows(store.engine) == before
    assert store.stream_version("s") == 2
    # None of the rejected events was kept: appending them at the right version is a
    # fresh write, not an idempotent replay of something half-stored.
    retried = store.append("s", rejected, expected_version=2)
    assert retried.version == 4
    assert count_events(store.engine) == 4


def test_nonzero_expected_version_on_missing_stream_raises(store: EventStore) -> None:
    with pytest.raises(ConcurrencyError) as excinfo:
        store.append("missing", batch(1), expected_version=1)

    assert (excinfo.value.expected, excinfo.value.actual) == (1, 0)
    assert count_events(store.engine) == 0
    assert store.stream_version("missing") == 0
    assert store.read_stream("missing") == []


def test_expected_version_none_appends_at_whatever_version(store: EventStore) -> None:
    first = store.append("s", batch(2), expected_version=None)
    store.append("other", batch(3), expected_version=None)
    second = store.append("s", batch(1), expected_version=None)
    third = store.append("s", batch(2), expected_version=None)

    assert (first.version, second.version, third.version) == (2, 3, 5)
    assert [r.version for r in store.read_stream("s")] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("empty", [[], ()], ids=["list", "tuple"])
@pytest.mark.parametrize("expected", [0, None])
def test_appending_no_events_raises_value_error(
    store: EventStore, empty: list[NewEvent], expected: int | None
) -> None:
    with pytest.raises(ValueError, match="at least one event"):
        store.append("s", empty, expected_version=expected)
    assert count_events(store.engine) == 0


@pytest.mark.parametrize("field", ["occurred_at", "clock"])
def test_naive_datetimes_are_refused_and_nothing_is_written(engine: Engine, field: str) -> None:
    naive = datetime(2026, 1, 1, 12, 0)  # noqa: DTZ001 - the point of the test
    store = EventStore(engine, clock=(lambda: naive) if field == "clock" else None)
    event = new_event(occurred_at=naive) if field == "occurred_at" else new_event()

    with pytest.raises((ValueError, StatementError), match="naive"):
        store.append("s", [new_event(), event], expected_version=0)
    assert count_events(engine) == 0


# --- idempotency ----------------------------------------------------------------------


def test_reappending_the_same_events_returns_the_original_result_and_writes_nothing(
    store: EventStore,
) -> None:
    events = batch(2)
    original = store.append("s", events, expected_version=0)
    store.append("s", batch(2), expected_version=2)  # the stream moves on to version 4
    rows = raw_rows(store.engine)

    # The same objects, and equal copies of them, at stale, current, future and no version.
    copies = [dataclasses.replace(e) for e in events]
    for resent in (events, copies):
        for expected in (0, 2, 4, 99, None):
            assert store.append("s", resent, expected_version=expected) == original

    assert original == AppendResult("s", 2, original.positions)
    assert raw_rows(store.engine) == rows
    assert count_events(store.engine) == 4


def _changed(event: NewEvent, change: str) -> NewEvent:
    if change == "data":
        return dataclasses.replace(event, data={**event.data, "extra": True})
    if change == "type":
        return dataclasses.replace(event, type=event.type + "V2")
    if change == "schema_version":
        return dataclasses.replace(event, schema_version=event.schema_version + 1)
    if change == "occurred_at":
        return dataclasses.replace(event, occurred_at=event.occurred_at + timedelta(microseconds=1))
    assert change == "stream"
    return event


@pytest.mark.parametrize("change", ["data", "type", "schema_version", "occurred_at", "stream"])
def test_same_event_id_with_other_content_raises_event_id_conflict(
    store: EventStore, change: str
) -> None:
    stored = new_event(data={"title": "Checkout is down", "severity": "SEV2"})
    store.append("s", [stored], expected_version=0)
    rows = raw_rows(store.engine)
    stream = "t" if change == "stream" else "s"

    with pytest.raises(EventIdConflict):
        store.append(stream, [_changed(stored, change)], expected_version=None)

    assert raw_rows(store.engine) == rows
    assert store.read_stream("s")[0].data == {"title": "Checkout is down", "severity": "SEV2"}
    assert store.read_stream("t") == []


@pytest.mark.parametrize("order", ["stored_first", "new_first"])
def test_mix_of_stored_and_new_event_ids_raises_event_id_conflict(
    store: EventStore, order: str
) -> None:
    stored = batch(2)
    store.append("s", stored, expected_version=0)
    fresh = new_event()
    mixed = [stored[0], fresh] if order == "stored_first" else [fresh, stored[1]]

    with pytest.raises(EventIdConflict):
        store.append("s", mixed, expected_version=None)

    assert count_events(store.engine) == 2
    # The new event was not stored: it can still be appended as a fresh event.
    assert store.append("s", [fresh], expected_version=2).version == 3


def test_duplicate_event_id_within_one_batch_is_not_a_concurrency_error(
    store: EventStore,
) -> None:
    event = new_event()

    with pytest.raises(EventIdConflict, match="twice in one append"):
        store.append("s", [event, event], expected_version=0)
    assert count_events(store.engine) == 0


# --- reading --------------------------------------------------------------------------


def test_read_stream_returns_only_that_stream_in_version_order(store: EventStore) -> None:
    written: dict[str, list[NewEvent]] = {"a": [], "b": []}
    for stream, size in [("a", 2), ("b", 1), ("a", 1), ("b", 3), ("a", 2)]:
        events = batch(size)
        store.append(stream, events, expected_version=None)
        written[stream].extend(events)

    for stream, events in written.items():
        stored = store.read_stream(stream)
        assert [r.stream_id for r in stored] == [stream] * len(events)
        assert [r.version for r in stored] == list(range(1, len(events) + 1))
        assert [r.event_id for r in stored] == [e.event_id for e in events]
        assert [r.position for r in stored] == sorted(r.position for r in stored)
    assert store.read_stream("nobody") == []


@pytest.mark.parametrize(
    ("after_version", "to_version", "expected"),
    [
        (0, None, [1, 2, 3, 4, 5, 6]),
        (2, None, [3, 4, 5, 6]),
        (0, 4, [1, 2, 3, 4]),
        (2, 4, [3, 4]),
        (3, 4, [4]),
        (4, 4, []),
        (6, None, []),
        (0, 0, []),
        (0, 60, [1, 2, 3, 4, 5, 6]),
    ],
)
def test_read_stream_after_version_and_to_version(
    store: EventStore, after_version: int, to_version: int | None, expected: list[int]
) -> None:
    store.append("s", batch(4), expected_version=0)
    store.append("noise", batch(2), expected_version=0)
    store.append("s", batch(2), expected_version=4)

    stored = store.read_stream("s", after_version=after_version, to_version=to_version)

    assert [r.version for r in stored] == expected


def test_read_stream_to_position_cuts_at_a_log_position(store: EventStore) -> None:
    a1 = store.append("a", batch(2), expected_version=0)
    b1 = store.append("b", batch(1), expected_version=0)
    a2 = store.append("a", batch(2), expected_version=2)

    assert [r.version for r in store.read_stream("a", to_position=b1.position)] == [1, 2]
    assert [r.version for r in store.read_stream("a", to_position=a1.positions[0])] == [1]
    assert [r.version for r in store.read_stream("a", to_position=a2.positions[0])] == [1, 2, 3]
    assert [r.version for r in store.read_stream("a", to_position=a2.position)] == [1, 2, 3, 4]
    assert store.read_stream("a", to_position=a1.positions[0] - 1) == []
    assert [
        r.version for r in store.read_stream("a", after_version=1, to_position=b1.position)
    ] == [2]


def test_read_stream_recorded_until_cuts_at_recorded_time(
    clocked_store: EventStore, clock: FakeClock
) -> None:
    t1 = clock.now
    clocked_store.append("s", batch(2), expected_version=0)
    t2 = clock.advance(seconds=1)
    clocked_store.append("s", batch(1), expected_version=2)
    t3 = clock.advance(microseconds=1)
    clocked_store.append("s", batch(1), expected_version=3)
    clock.advance(days=1)
    clocked_store.append("s", batch(1), expected_version=4)

    def versions(until: datetime) -> list[int]:
        return [r.version for r in clocked_store.read_stream("s", recorded_until=until)]

    one_us = timedelta(microseconds=1)
    assert versions(t1 - one_us) == []
    assert versions(t1) == [1, 2]
    assert versions(t2 - one_us) == [1, 2]
    assert versions(t2) == [1, 2, 3]
    assert versions(t3 - one_us) == [1, 2, 3]
    assert versions(t3) == [1, 2, 3, 4]
    assert versions(clock.now) == [1, 2, 3, 4, 5]
    # The cut is an instant: the same moment expressed in another zone cuts the same way.
    assert versions(t3.astimezone(timezone(timedelta(hours=-7)))) == [1, 2, 3, 4]
    assert [
        r.version
        for r in clocked_store.read_stream("s", after_version=1, to_version=3, recorded_until=t3)
    ] == [2, 3]


def _append_mixed(store: EventStore) -> list[int]:
    positions: list[int] = []
    for i, size in enumerate([3, 1, 4, 1, 5, 2, 6, 5, 3]):
        positions.extend(store.append(f"s{i % 4}", batch(size), expected_version=None).positions)
    return positions


@pytest.mark.parametrize("limit", [1, 4, 7, 30, 1000])
def test_read_all_pages_cover_the_whole_log_in_position_order(
    store: EventStore, limit: int
) -> None:
    positions = _append_mixed(store)
    assert len(positions) == 30

    seen: list[RecordedEvent] = []
    last = 0
    pages: list[int] = []
    while page := store.read_all(after_position=last, limit=limit):
        assert len(page) <= limit
        assert page[0].position > last, "read_all must start strictly after the position"
        pages.append(len(page))
        seen.extend(page)
        last = page[-1].position

    assert [r.position for r in seen] == positions
    assert all(size == limit for size in pages[:-1])
    assert len({r.event_id for r in seen}) == 30
    assert store.read_all(after_position=last, limit=limit) == []


def test_read_all_after_position_is_exclusive_and_default_reads_from_start(
    store: EventStore,
) -> None:
    positions = _append_mixed(store)

    assert [r.position for r in store.read_all()] == positions
    assert [r.position for r in store.read_all(after_position=positions[9])] == positions[10:]
    assert [r.position for r in store.read_all(after_position=positions[9], limit=3)] == (
        positions[10:13]
    )
    assert store.read_all(after_position=positions[-1]) == []


def test_head_position_and_stream_version(store: EventStore) -> None:
    assert store.head_position() == 0
    assert store.stream_version("s") == 0

    first = store.append("s", batch(3), expected_version=0)
    assert store.head_position() == first.position
    second = store.append("other", batch(2), expected_version=0)
    assert store.head_position() == second.position
    assert store.stream_version("s") == 3
    assert store.stream_version("other") == 2

    with pytest.raises(ConcurrencyError):
        store.append("s", batch(1), expected_version=1)
    assert store.head_position() == second.position
    assert store.head_position() == max(r.position for r in store.read_all())
    assert store.stream_version("s") == 3


NESTED_DATA: dict[str, Any] = {
    "title": "Paiement refusé — 支付失败 — Zahlung fehlgeschlagen 💳🔥",
    "rtl": "שגיאה בתשלום",
    "combining": "e\u0301 vs \u00e9",
    "escapes": 'quote " backslash \\ newline \n tab \t',
    "numbers": {"int": 42, "negative": -7, "big": 2**62, "float": 0.1 + 0.2, "tiny": 1.5e-7},
    "flags": [True, False, None],
    "empty": {"list": [], "dict": {}, "string": ""},
    "deep": {"a": [{"b": [{"c": {"d": ["é", 1, {"e": None}]}}]}]},
    "services": ["checkout", "payments"],
}
NESTED_METADATA: dict[str, Any] = {
    "actor": "Zoë Ångström",
    "correlation_id": "c0ffee00-0000-4000-8000-000000000001",
    "causation": {"command": "DeclareIncident", "via": ["api", "🛰️"]},
    "request": {"ip": "203.0.113.7", "headers": {"user-agent": "curl/8 (ĉ)"}},
}


def test_data_and_metadata_round_trip(store: EventStore) -> None:
    event = new_event("IncidentDeclared", NESTED_DATA, metadata=NESTED_METADATA, schema_version=3)
    plain = new_event(data={})
    store.append("s", [event, plain], expected_version=0)

    for stored in (store.read_stream("s"), store.read_all()):
        first, second = stored
        assert first.data == NESTED_DATA
        assert first.metadata == NESTED_METADATA
        assert (first.type, first.schema_version, first.event_id) == (
            "IncidentDeclared",
            3,
            event.event_id,
        )
        assert second.data == {}
        assert second.metadata == {}
        assert second.schema_version == 1


@pytest.mark.parametrize(
    "occurred_at",
    [
        datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC),
        datetime(2026, 3, 1, 15, 0, 15, 1, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-8))),
    ],
    ids=["utc", "plus-0530", "minus-0800"],
)
def test_timestamps_come_back_utc_aware_and_exact_to_the_microsecond(
    clocked_store: EventStore, clock: FakeClock, occurred_at: datetime
) -> None:
    clocked_store.append("s", [new_event(occurred_at=occurred_at)], expected_version=0)

    for stored in (clocked_store.read_stream("s")[0], clocked_store.read_all()[0]):
        for value, written in ((stored.occurred_at, occurred_at), (stored.recorded_at, clock.now)):
            assert value.tzinfo is not None
            assert value.utcoffset() == timedelta(0)
            assert value.tzinfo == UTC
            assert value == written
            assert value.microsecond == written.astimezone(UTC).microsecond
            assert value.replace(tzinfo=None) == written.astimezone(UTC).replace(tzinfo=None)


def test_timestamps_come_back_utc_when_the_session_time_zone_is_not_utc(
    backend: str, database_url: str
) -> None:
    if backend != "postgresql":
        pytest.skip("a session time zone is a PostgreSQL setting")
    engine = create_engine(database_url, connect_args={"options": "-c TimeZone=America/New_York"})
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SHOW TimeZone")).scalar_one() == "America/New_York"
        clock = FakeClock(datetime(2026, 7, 1, 3, 4, 5, 600007, tzinfo=UTC))
        store = EventStore(engine, clock=clock)
        occurred_at = datetime(2026, 6, 30, 23, 59, 59, 999999, tzinfo=UTC)
        store.append("s", [new_event(occurred_at=occurred_at)], expected_version=0)

        stored = store.read_stream("s")[0]
        assert stored.occurred_at == occurred_at
        assert stored.recorded_at == clock.now
        assert stored.occurred_at.tzinfo == UTC
        assert stored.recorded_at.tzinfo == UTC
        assert stored.occurred_at.day == 30  # not shifted to the session's zone
        assert [r.version for r in store.read_stream("s", recorded_until=clock.now)] == [1]
        before = clock.now - timedelta(microseconds=1)
        assert store.read_stream("s", recorded_until=before) == []
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("data", "metadata"),
    [
        ({"text": "before\x00after"}, {}),
        ({"nested": [{"k\x00": 1}]}, {}),
        ({}, {"actor": "a\x00"}),
    ],
)
def test_nul_character_is_refused_alike_on_every_backend(
    store: EventStore, data: dict[str, object], metadata: dict[str, object]
) -> None:
    # PostgreSQL's JSONB cannot hold U+0000, so the store refuses it everywhere.
    with pytest.raises(InvalidEventData, match="NUL"):
        store.append("s", [new_event(data=data, metadata=metadata)], expected_version=0)
    assert count_events(store.engine) == 0
    literal = {"text": "a backslash-u0000 written out: \\u0000"}
    store.append("s", [new_event(data=literal)], expected_version=0)
    assert store.read_stream("s")[0].data == literal


# --- in_transaction -------------------------------------------------------------------


def test_in_transaction_receives_the_recorded_events_and_commits_with_them(
    engine: Engine, clocked_store: EventStore, clock: FakeClock
) -> None:
    store = clocked_store
    store.append("s", batch(1), expected_version=0)
    events = batch(3)
    received: list[list[RecordedEvent]] = []
    visible_inside: list[list[int]] = []

    def project(conn: Connection, recorded: list[RecordedEvent]) -> None:
        received.append(list(recorded))
        visible_inside.append([r.position for r in read_all_in(conn, 0, 100)])
        conn.execute(
            text(
                "INSERT INTO projection_checkpoints (name, version, position, updated_at) "
                "VALUES ('contract', 1, :position, :at)"
            ),
            {"position": recorded[-1].position, "at": "2026-01-01 00:00:00"},
        )

    result = store.append("s", events, expected_version=1, in_transaction=project)

    assert len(received) == 1
    recorded = received[0]
    assert recorded == store.read_stream("s", after_version=1)
    assert [r.event_id for r in recorded] == [e.event_id for e in events]
    assert [r.version for r in recorded] == [2, 3, 4]
    assert tuple(r.position for r in recorded) == result.positions
    assert all(r.stream_id == "s" and r.recorded_at == clock.now for r in recorded)
    assert visible_inside[0][-3:] == list(result.positions)
    with engine.connect() as conn:
        checkpoint = conn.execute(
            text("SELECT position FROM projection_checkpoints WHERE name = 'contract'")
        ).scalar_one()
    assert checkpoint == result.position


@pytest.mark.parametrize("existing", [0, 2])
def test_in_transaction_failure_rolls_back_the_append(
    engine: Engine, store: EventStore, existing: int
) -> None:
    if existing:
        store.append("s", batch(existing), expected_version=0)
    rows = raw_rows(engine)
    head = store.head_position()
    boom = RuntimeError("projection failed")
    saw_events: list[int] = []

    def project(conn: Connection, recorded: list[RecordedEvent]) -> None:
        saw_events.append(len(read_all_in(conn, head, 100)))
        conn.execute(
            text(
                "INSERT INTO projection_checkpoints (name, version, position, updated_at) "
                "VALUES ('contract', 1, 1, '2026-01-01 00:00:00')"
            )
        )
        raise boom

    events = batch(2)
    with pytest.raises(RuntimeError) as excinfo:
        store.append("s", events, expected_version=existing, in_transaction=project)

    assert excinfo.value is boom
    assert saw_events == [2]  # the events were inserted before the callback ran
    assert raw_rows(engine) == rows
    assert store.stream_version("s") == existing
    assert store.head_position() == head
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM projection_checkpoints")).scalar_one() == 0
    # Nothing of the failed attempt survives: the same events append afresh.
    assert store.append("s", events, expected_version=existing).version == existing + 2


def test_in_transaction_integrity_error_surfaces_as_itself(
    engine: Engine, store: EventStore
) -> None:
    insert = text(
        "INSERT INTO projection_checkpoints (name, version, position, updated_at) "
        "VALUES ('dup', 1, 1, '2026-01-01 00:00:00')"
    )

    def project(conn: Connection, recorded: list[RecordedEvent]) -> None:
        conn.execute(insert)
        conn.execute(insert)  # violates pk_projection_checkpoints

    with pytest.raises(IntegrityError):
        store.append("s", batch(1), expected_version=0, in_transaction=project)
    assert count_events(engine) == 0
