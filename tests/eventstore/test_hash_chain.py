"""The hash chain over the log, on SQLite and PostgreSQL: every way of appending chains its
events in the append's transaction; the chain verifies; a byte changed, two events swapped
or one deleted behind the triggers' back is found at its position, events cut from the end
by a checkpoint of the old head; an import chains the file's events into the same hashes
on either backend."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, text

from eventstore import EventStore, NewEvent, chain_verify, chain_verify_sqlite
from eventstore.bulk_read import read_events_after
from eventstore.chain import GENESIS, canonical_bytes, last_link, link, links
from eventstore.chain_sqlite import ROWS, canonical_row
from eventstore.chain_verify import CHANGED, MISSING, UNCHAINED, Verdict, verify_chain
from eventstore.event_inserts import numbered
from eventstore.schema import events
from tests.conftest import NewDatabase
from tests.support.transfer import export_bytes, import_bytes

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

SQLITE_TRIGGERS = {
    "events_refuse_update": "BEFORE UPDATE ON events"
    " BEGIN SELECT RAISE(ABORT, 'events is append-only: UPDATE is refused'); END",
    "events_refuse_delete": "BEFORE DELETE ON events"
    " BEGIN SELECT RAISE(ABORT, 'events is append-only: DELETE is refused'); END",
}


def event(n: int) -> NewEvent:
    return NewEvent(
        event_id=uuid4(),
        type="Noted",
        data={"n": n, "text": f"note {n}", "nested": {"b": 1, "a": [1, "ü"]}},
        occurred_at=T0,
        metadata={"actor": "alice"},
    )


def fill(store: EventStore, streams: int = 3, each: int = 4) -> None:
    """Appends through the direct path (no inline work) and the checked one (inline work),
    one event and two at a time."""
    for s in range(streams):
        stream = f"incident-{uuid4()}"
        for n in range(each):
            batch = [event(n)] if (n + s) % 2 else [event(n), event(n + 100)]
            if n % 2:
                store.append(stream, batch, None, in_transaction=lambda *_: None)
            else:
                store.append(stream, batch, None)


def verified(engine: Engine, *positions: int, processes: int = 1) -> Verdict:
    with engine.connect() as conn:
        return verify_chain(conn, positions=positions, processes=processes)


@pytest.fixture(params=[1, 2], ids=["one process", "two processes"])
def processes(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """How many processes walk the log: two split even these small SQLite logs in ranges
    (PostgreSQL walks in one whatever is asked)."""
    monkeypatch.setattr(chain_verify_sqlite, "PARALLEL_FROM", 0)
    count: int = request.param
    return count


@contextmanager
def unguarded(engine: Engine) -> Iterator[None]:
    """The immutability triggers dropped, as a database owner could, and put back after."""
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        if postgres:
            conn.exec_driver_sql("ALTER TABLE events DISABLE TRIGGER USER")
        else:
            for name in SQLITE_TRIGGERS:
                conn.exec_driver_sql(f"DROP TRIGGER {name}")
    try:
        yield
    finally:
        with engine.begin() as conn:
            if postgres:
                conn.exec_driver_sql("ALTER TABLE events ENABLE TRIGGER USER")
            else:
                for name, body in SQLITE_TRIGGERS.items():
                    conn.exec_driver_sql(f"CREATE TRIGGER {name} {body}")


def test_every_append_path_chains_its_events_and_the_chain_verifies(store: EventStore) -> None:
    fill(store)
    verdict = verified(store.engine)
    assert verdict.ok, verdict.reason
    with store.engine.connect() as conn:
        logged = read_events_after(conn, 0, 1000)
        head, digest = last_link(conn)
    assert verdict.events == len(logged) == 18
    expected = GENESIS
    for recorded in logged:  # the chain, computed here from its definition
        expected = link(expected, recorded)
    assert (head, digest) == (logged[-1].position, expected)
    assert verdict.head_hash == expected


def test_walks_in_ranges_find_what_one_walk_finds(
    store: EventStore, processes: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(store, streams=5)
    with store.engine.connect() as conn:
        logged = read_events_after(conn, 0, 1000)
    ranges: list[int] = []
    walked = chain_verify_sqlite._in_processes

    def counted(*args: object) -> Verdict:
        ranges.append(1)
        return walked(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(chain_verify_sqlite, "_in_processes", counted)
    held = [logged[3].position, logged[17].position, logged[-1].position]
    one = verified(store.engine, *held)
    split = verified(store.engine, *held, processes=processes)

    assert split == one
    assert one.ok and one.events == len(logged)  # noqa: PT018
    assert set(split.at) == set(held)
    in_ranges = store.engine.dialect.name == "sqlite" and processes > 1
    assert ranges == ([1] if in_ranges else [])


def test_a_sqlite_file_opened_by_a_relative_path_walks_in_ranges(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The service's default database is ./var/incidents.db: the processes must find the
    # very file the connection has open, whatever the working directory is by then.
    if store.engine.dialect.name != "sqlite":
        pytest.skip("ranges in processes are SQLite's")
    fill(store)
    monkeypatch.setattr(chain_verify_sqlite, "PARALLEL_FROM", 0)
    database = Path(store.engine.url.database or "")
    monkeypatch.chdir(database.parent)
    driver = sqlite3.connect(database.name)
    monkeypatch.chdir(database.parent.parent)
    try:
        verdict = chain_verify_sqlite.verify_sqlite(driver, set(), None, 2)
    finally:
        driver.close()
    assert verdict == verified(store.engine)
    assert verdict.ok and verdict.events == 18  # noqa: PT018


def test_an_append_during_the_walk_is_not_taken_for_a_missing_event(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PostgreSQL's walk reads events and stored hashes apart: an append committed between
    # its last (empty) page of events and its read of stored hashes is new, not missing.
    if store.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's walk reads each event with its hash in one query")
    fill(store, streams=1)
    pages = chain_verify._batch

    def appending(conn: Any, after: int) -> Any:
        page = pages(conn, after)
        if not page:
            store.append(f"incident-{uuid4()}", [event(99)], None)
        return page

    monkeypatch.setattr(chain_verify, "_batch", appending)
    verdict = verified(store.engine)
    assert verdict.ok, verdict.reason


def test_the_canonical_bytes_are_length_prefixed_fields_in_a_fixed_order(store: EventStore) -> None:
    fill(store, streams=1, each=1)
    with store.engine.connect() as conn:
        (first, *_) = read_events_after(conn, 0, 10)
    encoded = canonical_bytes(first)
    fields = []
    while encoded:
        size = int.from_bytes(encoded[:4], "big")
        fields.append(encoded[4 : 4 + size].decode())
        encoded = encoded[4 + size :]
    assert fields == [
        str(first.position),
        first.stream_id,
        "1",
        str(first.event_id),
        "Noted",
        "1",
        '{"n":0,"nested":{"a":[1,"ü"],"b":1},"text":"note 0"}',
        '{"actor":"alice"}',
        "2026-12-01T09:00:00.000000Z",
        first.recorded_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    ]


def test_an_appends_own_links_are_those_of_its_events_as_read_back() -> None:
    """What appends number and hash their events with (``numbered``, as each driver binds
    them) gives ``links`` of the recorded events, times given in another zone than UTC
    included."""
    recorded_at = datetime(2026, 12, 1, 10, 0, 0, 5, tzinfo=ZoneInfo("Europe/Berlin"))
    events = [
        NewEvent(uuid4(), "Noted", {"b": 1, "a": ["ü"]}, datetime(2026, 12, 1, 9, tzinfo=UTC)),
        NewEvent(uuid4(), "Noted", {}, datetime(2026, 12, 1, 3, tzinfo=ZoneInfo("Asia/Tokyo"))),
    ]
    written = [(7 + i, "incident-x", 3 + i, event) for i, event in enumerate(events)]
    recorded = [event.recorded(p, s, v, recorded_at) for p, s, v, event in written]

    end = (6, "ab" * 32)  # the log's last position and hash, as an append reads them
    expected = links(bytes.fromhex(end[1]), recorded)
    for dialect in ("sqlite", "postgresql"):
        values = numbered(end, [(s, v, event) for _, s, v, event in written], recorded_at, dialect)
        assert [(row[0], bytes.fromhex(row[-1])) for row in values] == expected
    assert links(GENESIS, recorded)[1][1] == link(link(GENESIS, recorded[0]), recorded[1])


def test_one_byte_changed_in_an_old_event_is_found_at_its_position(
    store: EventStore, processes: int
) -> None:
    fill(store)
    before = verified(store.engine, processes=processes)
    with store.engine.connect() as conn:
        target = read_events_after(conn, 0, 1000)[4]
    held = verified(store.engine, before.head_position, processes=processes)
    with unguarded(store.engine), store.engine.begin() as conn:
        changed = '{"n": 3, "text": "note 4", "nested": {"b": 1, "a": [1, "ü"]}}'
        conn.execute(
            text("UPDATE events SET data = :data WHERE position = :p"),
            {"data": changed, "p": target.position},
        )
    after = verified(store.engine, before.head_position, processes=processes)
    assert not after.ok
    assert (after.bad_position, after.reason) == (target.position, CHANGED)
    assert after.at.get(before.head_position) != held.at[before.head_position]


def test_two_events_swapped_are_found_at_the_first_of_them(
    store: EventStore, processes: int
) -> None:
    fill(store)
    with store.engine.connect() as conn:
        logged = read_events_after(conn, 0, 1000)
    a, b = logged[3].position, logged[7].position
    with unguarded(store.engine), store.engine.begin() as conn:
        for old, new in ((a, -1), (b, a), (-1, b)):
            conn.execute(
                text("UPDATE events SET position = :new WHERE position = :old"),
                {"new": new, "old": old},
            )
    verdict = verified(store.engine, processes=processes)
    assert (verdict.bad_position, verdict.reason) == (a, CHANGED)


@pytest.mark.parametrize("which", [0, 5, 6], ids=["the first", "an old one", "two in a row"])
def test_a_deleted_event_is_found_at_its_position(
    store: EventStore, processes: int, which: int
) -> None:
    fill(store)
    with store.engine.connect() as conn:
        logged = read_events_after(conn, 0, 1000)
    gone = [logged[which].position] if which != 6 else [logged[5].position, logged[6].position]
    with unguarded(store.engine), store.engine.begin() as conn:
        for position in gone:
            conn.execute(text("DELETE FROM events WHERE position = :p"), {"p": position})
    verdict = verified(store.engine, processes=processes)
    assert verdict.bad_position == gone[0]
    assert verdict.reason == MISSING


def test_deleted_last_events_are_found_by_a_checkpoint_taken_before(
    store: EventStore, processes: int
) -> None:
    # Nothing after them breaks: the walk alone cannot tell a log cut short from a log
    # that ended there. A checkpoint of the old head kept elsewhere can.
    fill(store)
    with store.engine.connect() as conn:
        logged = read_events_after(conn, 0, 1000)
    head = logged[-1].position
    held = verified(store.engine, head, processes=processes)
    assert held.at[head] == held.head_hash
    with unguarded(store.engine), store.engine.begin() as conn:
        conn.execute(text("DELETE FROM events WHERE position >= :p"), {"p": logged[-2].position})
    after = verified(store.engine, head, processes=processes)
    assert after.ok
    assert after.head_position == logged[-3].position
    assert head not in after.at


def test_the_chain_hash_refuses_changes(store: EventStore) -> None:
    fill(store, streams=1, each=1)
    with pytest.raises(Exception, match="append-only"), store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE events SET chain_hash = 'x'")
    with pytest.raises(Exception, match="append-only"), store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE events SET chain_hash = NULL")


@pytest.mark.postgres
def test_an_import_chains_the_same_hashes_on_the_other_backend(new_database: NewDatabase) -> None:
    source = new_database("sqlite")
    fill(EventStore(source))
    target = new_database("postgresql")
    import_bytes(target, export_bytes(source), any_type=True)
    exported, imported = verified(source), verified(target)
    assert imported.ok, imported.reason
    assert (imported.head_position, imported.head_hash) == (
        exported.head_position,
        exported.head_hash,
    )
    EventStore(target).append(f"incident-{uuid4()}", [event(1)], None)
    assert verified(target).ok


@pytest.mark.parametrize("backend", ["sqlite"])  # the stored forms read from SQLite's driver
def test_sqlite_rows_give_the_bytes_of_their_decoded_events(store: EventStore) -> None:
    fill(store)
    with store.engine.connect() as conn:
        decoded = read_events_after(conn, 0, 1000)
        raw = conn.connection.driver_connection.execute(ROWS, (0, 1000)).fetchall()  # type: ignore[union-attr]
    assert [canonical_row(row) for row in raw] == [canonical_bytes(e) for e in decoded]


def test_what_a_checkpoint_signs_ends_at_the_last_chained_event(store: EventStore) -> None:
    """An event written around the service after the chain has no hash: the chain's end,
    which checkpoints sign, stays at the event before it, and the walk names it."""
    fill(store, streams=1)
    with store.engine.connect() as conn:
        before = last_link(conn)
    with store.engine.begin() as conn:
        conn.execute(
            events.insert(),
            {
                "position": before[0] + 1,
                "stream_id": "stream-around",
                "version": 1,
                "type": "Noted",
                "schema_version": 1,
                "data": {},
                "metadata": {},
                "event_id": uuid4(),
                "occurred_at": T0,
                "recorded_at": T0,
            },
        )
    with store.engine.connect() as conn:
        assert last_link(conn) == before
    verdict = verified(store.engine)
    assert (verdict.bad_position, verdict.reason) == (before[0] + 1, UNCHAINED)
