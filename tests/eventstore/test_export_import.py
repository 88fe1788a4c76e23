"""Export and import of the log (``eventstore.transfer``): it moves whole, or not at all.

Histories are realistic: complete incidents from bench/history.py written straight to
the log, then commands through IncidentService (notes amended and redacted, action
items, postmortem edits) by an actor whose name needs escaping everywhere (see
tests/support/transfer.py). Tests run on SQLite and PostgreSQL; one moves a log
SQLite -> PostgreSQL -> SQLite. The ``incidents export`` and ``import`` commands around
these functions are tested in tests/cli/test_export_import_commands.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson
import pytest
from sqlalchemy import Engine, func, select

from eventstore import EventStore, NewEvent
from eventstore.chain import GENESIS, link
from eventstore.records import RecordedEvent
from eventstore.schema import events
from eventstore.transfer.bulk_insert import BulkInsertRefused
from eventstore.transfer.format import LogFileError
from eventstore.transfer.import_log import DatabaseNotEmpty
from projections.runner import ProjectionRunner
from tests.conftest import NewDatabase
from tests.support.log_files import sealed
from tests.support.read_models import assert_same_rows, read_log, read_model_tables, snapshot
from tests.support.transfer import (
    BASE,
    event_count,
    export_bytes,
    import_bytes,
    without_header,
    write_history,
)


def read_model_rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return sum(
            int(conn.execute(select(func.count()).select_from(table)).scalar_one())
            for table in read_model_tables()
        )


def chain_rows(engine: Engine) -> int:
    with engine.connect() as conn:
        chained = select(func.count()).where(events.c.chain_hash.is_not(None))
        return int(conn.execute(chained).scalar_one())


def new_event(**data: Any) -> NewEvent:
    return NewEvent(uuid.uuid4(), "test.recorded", data, BASE, metadata={"actor": "test"})


# --- round trips ------------------------------------------------------------------------------


def test_a_round_trip_keeps_every_event_and_read_model(
    engine: Engine, backend: str, new_database: NewDatabase
) -> None:
    write_history(engine)
    exported = export_bytes(engine)
    copy = new_database(backend)

    import_bytes(copy, exported)
    ProjectionRunner().rebuild(copy)

    source_log = read_log(engine)
    assert len(source_log) > 900
    assert read_log(copy) == source_log  # every column of every event
    tables = snapshot(engine)
    assert {"incident_summaries", "timeline_entries", "action_items", "postmortem_sections"} <= (
        {name for name, rows in tables.items() if rows}
    )
    assert_same_rows(tables, snapshot(copy))
    assert without_header(export_bytes(copy)) == without_header(exported)
    # The next append continues after the imported head, on both backends.
    appended = EventStore(copy).append("stream-after-import", [new_event()], 0)
    assert appended.position == source_log[-1].position + 1


def test_values_that_need_escaping_survive_the_trip(
    engine: Engine, backend: str, new_database: NewDatabase
) -> None:
    store = EventStore(engine)
    awkward = {
        "text": 'tab\there, newline\nthere, "quotes", back\\slash, \\N, \\., é, 🚒, \u2028',
        "numbers": [0, -1, 2**62, 0.1, 1.5e-9, 123456.789],
        "nested": {"z": [True, False, None, {}], "a": {"b": {"c": []}}},
        "empty": "",
    }
    store.append("odd\tstream\\with\nspecials", [new_event(**awkward)], 0)
    store.append(
        "incident-other",
        [
            NewEvent(
                uuid.uuid4(),
                "test.recorded",
                {},
                datetime(2026, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
                metadata={"request_id": "r\\1", "list": ["x", 1]},
            )
        ],
        0,
    )
    exported = export_bytes(engine)
    copy = new_database(backend)

    import_bytes(copy, exported, any_type=True)

    assert read_log(copy) == read_log(engine)
    assert without_header(export_bytes(copy)) == without_header(exported)


def test_an_empty_log_round_trips(engine: Engine, backend: str, new_database: NewDatabase) -> None:
    exported = export_bytes(engine)
    copy = new_database(backend)

    import_bytes(copy, exported)

    assert exported.count(b"\n") == 2
    assert event_count(copy) == 0
    assert EventStore(copy).append("stream-a", [new_event()], 0).position == 1


@pytest.mark.postgres
def test_sqlite_to_postgresql_to_sqlite_changes_nothing(new_database: NewDatabase) -> None:
    sqlite_source = new_database("sqlite")
    write_history(sqlite_source, seed=5)
    from_sqlite = export_bytes(sqlite_source)

    postgres = new_database("postgresql")
    import_bytes(postgres, from_sqlite)
    ProjectionRunner().rebuild(postgres)
    from_postgres = export_bytes(postgres)

    sqlite_again = new_database("sqlite")
    import_bytes(sqlite_again, from_postgres)
    ProjectionRunner().rebuild(sqlite_again)
    from_sqlite_again = export_bytes(sqlite_again)

    headers = [orjson.loads(f.split(b"\n", 1)[0]) for f in (from_sqlite, from_postgres)]
    assert [h["source_backend"] for h in headers] == ["sqlite", "postgresql"]
    assert headers[0]["head_position"] == headers[1]["head_position"] > 900
    assert without_header(from_postgres) == without_header(from_sqlite)
    assert without_header(from_sqlite_again) == without_header(from_sqlite)
    expected = snapshot(sqlite_source)
    assert_same_rows(expected, snapshot(postgres), "postgresql: ")
    assert_same_rows(expected, snapshot(sqlite_again), "sqlite again: ")


def test_export_reads_one_snapshot_and_does_not_block_writers(
    engine: Engine, backend: str, new_database: NewDatabase
) -> None:
    store = EventStore(engine)
    for n in range(30):
        store.append(f"stream-{n}", [new_event(n=n)], 0)
    appended_during_export: list[int] = []

    def append_meanwhile(position: int, head: int) -> None:
        if 0 < position < head and not appended_during_export:
            result = store.append("stream-late", [new_event(late=True)], 0)
            appended_during_export.append(result.position)

    exported = export_bytes(engine, progress=append_meanwhile, batch_size=7)

    assert appended_during_export == [31]
    copy = new_database(backend)
    import_bytes(copy, exported, any_type=True)
    assert [r.position for r in read_log(copy)] == list(range(1, 31))


# --- refusals ---------------------------------------------------------------------------------


def test_import_refuses_a_database_that_has_events(
    engine: Engine, backend: str, new_database: NewDatabase
) -> None:
    source = new_database(backend)
    EventStore(source).append("stream-a", [new_event(), new_event()], 0)
    EventStore(engine).append("stream-b", [new_event()], 0)
    before = read_log(engine)

    with pytest.raises(DatabaseNotEmpty, match="already holds events"):
        import_bytes(engine, export_bytes(source))

    assert read_log(engine) == before


def _cut_mid_line(lines: list[bytes]) -> bytes:
    data = b"".join(lines)
    return data[: len(data) - len(lines[-1]) - len(lines[-2]) // 2]


def _flip_text(lines: list[bytes]) -> bytes:
    # A changed letter inside a string: still valid JSON, caught by the checksum alone.
    target = next(i for i, line in enumerate(lines) if b"observation" in line)
    damaged = lines[:]
    damaged[target] = lines[target].replace(b"observation", b"observatioN", 1)
    return b"".join(damaged)


def _flip_byte(lines: list[bytes]) -> bytes:
    damaged = lines[:]
    line = bytearray(lines[5])
    line[line.index(b"{", 1)] ^= 0x01  # the opening brace of "data" becomes "z"
    damaged[5] = bytes(line)
    return b"".join(damaged)


def _reseal_with(change: Callable[[dict[str, Any]], None]) -> Callable[[list[bytes]], bytes]:
    """Damage the content of event line 3, then recompute chain, header and trailer to
    match, so that only the check meant for the damage can catch it."""

    def damage(lines: list[bytes]) -> bytes:
        event = orjson.loads(lines[3])
        change(event)
        changed = [*lines[:3], orjson.dumps(event, option=orjson.OPT_APPEND_NEWLINE), *lines[4:]]
        return sealed(changed[:-1], rechain=True)

    return damage


def _change_event(change: Callable[[dict[str, Any]], None]) -> Callable[[list[bytes]], bytes]:
    """Change event line 3 and fix the trailer's count and SHA-256, the chain left as is."""

    def damage(lines: list[bytes]) -> bytes:
        event = orjson.loads(lines[3])
        change(event)
        changed = [*lines[:3], orjson.dumps(event, option=orjson.OPT_APPEND_NEWLINE), *lines[4:]]
        return sealed(changed[:-1])

    return damage


def _last_event(lines: list[bytes]) -> bytes:
    return [line for line in lines if line.startswith(b'{"chain_hash"') and b'"event_id"' in line][
        -1
    ]


def _flip_text_forging_the_chain(lines: list[bytes]) -> bytes:
    # The chain made to hold again, the trailer's SHA-256 left as it was.
    damaged = sealed(_flip_text(lines).splitlines(keepends=True)[:-1], rechain=True)
    return b"".join([*damaged.splitlines(keepends=True)[:-1], lines[-1]])


def _change_trailer(**fields: Any) -> Callable[[list[bytes]], bytes]:
    def damage(lines: list[bytes]) -> bytes:
        trailer = orjson.loads(lines[-1])
        trailer.update(fields)
        return b"".join([*lines[:-1], orjson.dumps(trailer, option=orjson.OPT_APPEND_NEWLINE)])

    return damage


def _insert_line(line: bytes) -> Callable[[list[bytes]], bytes]:
    return lambda ls: sealed([*ls[:4], line, *ls[4:-1]], rechain=True)


def _header_version(version: int) -> Callable[[list[bytes]], bytes]:
    def damage(lines: list[bytes]) -> bytes:
        header = orjson.loads(lines[0])
        header["format_version"] = version
        return b"".join([orjson.dumps(header, option=orjson.OPT_APPEND_NEWLINE), *lines[1:]])

    return damage


def _without_chain_hash(line: bytes) -> bytes:
    event = orjson.loads(line)
    del event["chain_hash"]
    return orjson.dumps(event, option=orjson.OPT_APPEND_NEWLINE)


DAMAGE: dict[str, tuple[Callable[[list[bytes]], bytes], type[Exception], str]] = {
    "truncated mid-line": (_cut_mid_line, LogFileError, "the file is truncated"),
    "missing trailer": (lambda ls: b"".join(ls[:-1]), LogFileError, "without a trailer"),
    "flipped letter": (_flip_text, LogFileError, r"line \d+: position \d+ does not chain"),
    "flipped letter, chain forged": (
        _flip_text_forging_the_chain,
        LogFileError,
        "SHA-256 of the event lines does not match",
    ),
    "tampered chain hash": (
        _change_event(lambda e: e.update(chain_hash="0" * 64)),
        LogFileError,
        "line 4: position 3 does not chain",
    ),
    "chain hash not hex": (
        _change_event(lambda e: e.update(chain_hash="not a hash")),
        LogFileError,
        "line 4: chain_hash must be 64 lowercase hexadecimal digits",
    ),
    "event line without chain hash": (
        lambda ls: sealed([*ls[:3], _without_chain_hash(ls[3]), *ls[4:-1]]),
        LogFileError,
        r"line 4: an event has missing fields \['chain_hash'\]",
    ),
    "trailer head changed": (
        _change_trailer(chain_hash="f" * 64),
        LogFileError,
        "the trailer's chain hash is not the chain's head",
    ),
    "trailer checkpoint of another position": (
        _change_trailer(
            checkpoint={
                "position": 3,
                "chain_hash": "a" * 64,
                "signed_at": "2026-12-04T10:15:02Z",
                "signature": "c2ln",
                "key_id": "3b1f",
            }
        ),
        LogFileError,
        "the trailer's checkpoint is of position 3",
    ),
    "unknown line kind": (
        _insert_line(b'{"attachment":"a1","size":3}\n'),
        LogFileError,
        r"line 5: a line of an unknown kind \(fields \['attachment', 'size'\]\)",
    ),
    "newer format version": (
        _header_version(3),
        LogFileError,
        "line 1: format version 3 is not supported; this release reads versions 1, 2",
    ),
    "flipped byte": (_flip_byte, LogFileError, "line 6: not valid JSON"),
    "removed line": (
        lambda ls: b"".join([line for line in ls if line is not _last_event(ls)]),
        LogFileError,
        "lines are missing or were added",
    ),
    "bad line": (
        lambda ls: b"".join([*ls[:4], b"hello\n", *ls[4:]]),
        LogFileError,
        "line 5: not valid JSON",
    ),
    "more after the trailer": (
        lambda ls: b"".join([*ls, ls[3]]),
        LogFileError,
        "more after the trailer",
    ),
    "empty file": (lambda ls: b"", LogFileError, "the file is empty"),
    "not an export": (
        lambda ls: b'{"hello": "world"}\n',
        LogFileError,
        "line 1: not an incident-ledger-log file",
    ),
    "version gap": (
        _reseal_with(lambda e: e.update(version=e["version"] + 1)),
        LogFileError,
        "line 4: stream incident-",
    ),
    "time without offset": (
        _reseal_with(lambda e: e.update(occurred_at="2026-01-01T00:00:00")),
        LogFileError,
        "line 4: occurred_at must be a UTC time",
    ),
    "unknown type": (
        _reseal_with(lambda e: e.update(type="incident.teleported")),
        LogFileError,
        "'incident.teleported' is unknown to this release",
    ),
    "NUL character": (
        _reseal_with(lambda e: e["metadata"].update(actor="a\x00b")),
        LogFileError,
        "NUL character",
    ),
    "duplicate event id": (
        lambda ls: sealed(
            [
                *ls[:4],
                orjson.dumps(
                    {**orjson.loads(ls[4]), "event_id": orjson.loads(ls[3])["event_id"]},
                    option=orjson.OPT_APPEND_NEWLINE,
                ),
                *ls[5:-1],
            ],
            rechain=True,
        ),
        BulkInsertRefused,
        "event_id",
    ),
}


@pytest.mark.parametrize("damage", list(DAMAGE), ids=list(DAMAGE))
def test_a_damaged_file_is_refused_and_nothing_is_written(
    engine: Engine, history_file: bytes, damage: str
) -> None:
    damaged, error, message = DAMAGE[damage]

    with pytest.raises(error, match=message):
        import_bytes(engine, damaged(history_file.splitlines(keepends=True)))

    assert (event_count(engine), chain_rows(engine), read_model_rows(engine)) == (0, 0, 0)
    # Nothing half-done is left behind: the intact file still goes in, positions unchanged.
    import_bytes(engine, history_file)
    assert without_header(export_bytes(engine)) == without_header(history_file)
    appended = EventStore(engine).append("stream-after-import", [new_event()], 0)
    assert appended.position == orjson.loads(history_file.split(b"\n", 1)[0])["head_position"] + 1


def test_event_ids_and_times_are_written_in_one_spelling(engine: Engine) -> None:
    event_id = UUID("0b6f5f6e-1c2d-4e3f-8a9b-0c1d2e3f4a5b")
    recorded_at = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    store = EventStore(engine, clock=lambda: recorded_at)
    store.append("stream-a", [NewEvent(event_id, "test.recorded", {"b": 1, "a": 2}, BASE)], 0)
    # The chain hash the store wrote, computed here from the event as eventstore.chain does.
    expected_hash = link(
        GENESIS,
        RecordedEvent(
            1, "stream-a", 1, event_id, "test.recorded", 1, {"b": 1, "a": 2}, {}, BASE, recorded_at
        ),
    ).hex()

    line = export_bytes(engine).splitlines()[1]

    assert line == (
        b'{"chain_hash":"' + expected_hash.encode() + b'",'
        b'"data":{"a":2,"b":1},"event_id":"0b6f5f6e-1c2d-4e3f-8a9b-0c1d2e3f4a5b",'
        b'"metadata":{},"occurred_at":"2026-03-02T09:00:00.000000+00:00","position":1,'
        b'"recorded_at":"2026-05-01T12:00:00.000000+00:00","schema_version":1,'
        b'"stream_id":"stream-a","type":"test.recorded","version":1}'
    )
