"""The hash chain over the log: each event's hash covers the one before it and every column of
the event, so changing, reordering or removing an event already written shows.

    h(0) = 32 zero bytes
    h(n) = SHA-256( h(n-1) || canonical_bytes(event n) )

``canonical_bytes`` is the event's ten columns, in this order, each written as its length
in bytes (4 bytes, big-endian) followed by its UTF-8 text:

    position         decimal digits                         1812
    stream_id        as stored                              incident-0f8f...
    version          decimal digits                         4
    event_id         lowercase, hyphenated                  0f8fad5b-d9cb-469f-a165-70867728950e
    type             as stored                              incident.status_changed
    schema_version   decimal digits                         1
    data             JSON, keys sorted, no spaces, UTF-8    {"status":"resolved"}
    metadata         the same                               {"actor":"alice"}
    occurred_at      UTC, microseconds, Z                   2026-12-06T09:12:00.104000Z
    recorded_at      the same

JSON as RFC 8785 would write it for the values the service stores (strings, integers,
booleans, null, objects, arrays): keys sorted by code point, no whitespace, strings with
only the escapes JSON requires, non-ASCII characters as themselves. The same event gives
the same bytes on SQLite and PostgreSQL, whose ``jsonb`` reorders keys.

The hashes live in ``event_chain`` (one row per position, hex), written in the
transaction that appends the events, under the append lock, so the chain and the
positions agree. ``event_chain`` refuses updates and deletes as ``events`` does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import orjson
from sqlalchemy import Connection

from eventstore.bulk_read import read_events_after
from eventstore.notify import CHANNEL
from eventstore.records import NewEvent, RecordedEvent

GENESIS = bytes(32)
"""The hash before the first event."""

_LAST = "SELECT position, chain_hash FROM event_chain ORDER BY position DESC LIMIT 1"
_NOTIFY_AND_END = (
    "SELECT (SELECT chain_hash FROM event_chain ORDER BY position DESC LIMIT 1),"  # noqa: S608 - constant
    f" pg_notify('{CHANNEL}', %s)"
)
_INSERT_SQLITE = "INSERT INTO event_chain (position, chain_hash) VALUES (?, ?)"
_INSERT_POSTGRES = "INSERT INTO event_chain (position, chain_hash) VALUES (%s, %s)"


def _time(moment: datetime) -> str:
    # isoformat is several times quicker than strftime; "+00:00" is always its ending here.
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="microseconds")[:-6] + "Z"


def _json(value: object) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def canonical_bytes(event: RecordedEvent) -> bytes:
    """The bytes of ``event`` that its chain hash covers (the module's table)."""
    return _canonical(
        event.position,
        event.stream_id,
        event.version,
        event,
        _time(event.occurred_at).encode(),
        _time(event.recorded_at).encode(),
    )


def _canonical(
    position: int,
    stream_id: str,
    version: int,
    event: RecordedEvent | NewEvent,
    occurred_at: bytes,
    recorded_at: bytes,
) -> bytes:
    fields = (
        str(position).encode(),
        stream_id.encode(),
        str(version).encode(),
        str(event.event_id).encode(),
        event.type.encode(),
        str(event.schema_version).encode(),
        _json(event.data),
        _json(event.metadata),
        occurred_at,
        recorded_at,
    )
    parts = []
    for field in fields:
        parts.append(len(field).to_bytes(4, "big"))
        parts.append(field)
    return b"".join(parts)


def link(previous: bytes, event: RecordedEvent) -> bytes:
    """The chain hash of ``event`` after the one of the event before it."""
    return hashlib.sha256(previous + canonical_bytes(event)).digest()


def links(previous: bytes, recorded: Iterable[RecordedEvent]) -> list[tuple[int, bytes]]:
    """(position, hash) of each event of ``recorded``, chained in order after ``previous``."""
    chained = []
    for event in recorded:
        previous = link(previous, event)
        chained.append((event.position, previous))
    return chained


def new_links(
    previous: bytes,
    written: Iterable[tuple[int, str, int, NewEvent]],
    recorded_at: datetime,
) -> list[tuple[int, bytes]]:
    """``links`` of events just written, as (position, stream, version, event) recorded
    at ``recorded_at``: the same hashes, without making each a RecordedEvent first (an
    append's own events all share one recording time, written out once)."""
    recorded = _time(recorded_at).encode()
    chained = []
    for position, stream_id, version, event in written:
        occurred = _time(event.occurred_at).encode()
        canonical = _canonical(position, stream_id, version, event, occurred, recorded)
        previous = hashlib.sha256(previous + canonical).digest()
        chained.append((position, previous))
    return chained


class ChainEnd:
    """The chain's end as this process last committed it, to spare the read of it before an
    append: trusted only when the append's first position follows it directly, which no
    other writer's event can then sit between (positions rise, and appends hold the lock)."""

    def __init__(self) -> None:
        self.position = -1
        self.digest = GENESIS

    def before(self, first_position: int) -> bytes | None:
        return self.digest if first_position == self.position + 1 else None

    def committed(self, position: int, digest: bytes) -> None:
        self.position, self.digest = position, digest


def last_link(conn: Connection) -> tuple[int, bytes]:
    """The position and hash the chain ends at (0 and the genesis hash when empty)."""
    # Straight to the driver: it runs in every group commit on SQLite, where compiling and
    # wrapping a statement costs several times the read.
    row = conn.exec_driver_sql(_LAST).first()
    return (0, GENESIS) if row is None else (int(row[0]), bytes.fromhex(row[1]))


def notify_and_read_end(conn: Connection, position: int) -> bytes:
    """PostgreSQL: tell listeners the log grew to ``position`` (at commit) and read the
    chain's end, in one round trip; under the append lock, so the end is the log's end
    before the caller's events, which wrote no chain row yet."""
    row = conn.exec_driver_sql(_NOTIFY_AND_END, (str(int(position)),)).one()
    return GENESIS if row[0] is None else bytes.fromhex(row[0])


def extend_chain(
    conn: Connection,
    written: Sequence[tuple[int, str, int, NewEvent]],
    recorded_at: datetime,
    previous: bytes | None = None,
) -> bytes:
    """Chain the just-inserted events ``written`` (position, stream, version, event as
    stored) after the chain's end (``previous``, when the caller read it already), in the
    caller's appending transaction (which holds the append lock); the new end's hash."""
    if previous is None:
        _, previous = last_link(conn)
    chained = new_links(previous, written, recorded_at)
    write_links(conn, chained)
    return chained[-1][1] if chained else previous


def write_links(conn: Connection, chained: Sequence[tuple[int, bytes]]) -> None:
    if not chained:
        return
    rows = [(position, digest.hex()) for position, digest in chained]
    statement = _INSERT_POSTGRES if conn.dialect.name == "postgresql" else _INSERT_SQLITE
    conn.exec_driver_sql(statement, rows if len(rows) > 1 else rows[0])


def chain_whole_log(conn: Connection, batch_size: int = 5000) -> bytes:
    """Chain every event of a log that has no chain yet (an upgrade, an import), in the
    caller's transaction; the head's hash."""
    previous, after = GENESIS, 0
    while batch := read_events_after(conn, after, batch_size, as_stored=True):
        chained = links(previous, batch)
        write_links(conn, chained)
        after, previous = chained[-1]
    return previous
