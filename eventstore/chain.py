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

Each event's hash is its row's ``chain_hash`` column (64 lowercase hex digits), written
by the statement that inserts the event: the append takes the append lock, reads the
log's last position and hash, numbers its events from the next position on and hashes
them before the insert, so the chain and the positions agree. ``events`` refuses updates
and deletes, the hash with the rest of the row. Positions so drawn have no gaps (SQLite's
never had), which lets a walk tell an event taken out of the log from one changed.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection

from eventstore.notify import CHANNEL
from eventstore.records import NewEvent, RecordedEvent

GENESIS = bytes(32)
"""The hash before the first event."""

_PACK = struct.Struct(">I").pack
_LOOKED_UP = 1 << 16
_LENGTHS = tuple(_PACK(n) for n in range(_LOOKED_UP))
"""Length prefixes looked up rather than packed: a tuple index costs a fraction of a call."""

LOG_END = "SELECT position, chain_hash FROM events ORDER BY position DESC LIMIT 1"
"""The log's last position and hash: read by an append under the append lock."""
_LAST_CHAINED = (
    "SELECT position, chain_hash FROM events WHERE chain_hash IS NOT NULL"
    " ORDER BY position DESC LIMIT 1"
)
LOG_END_AND_NOTIFY = (
    "SELECT e.position, e.chain_hash, pg_notify('"  # noqa: S608 - constant
    + CHANNEL
    + "', (coalesce(e.position, 0) + %s)::text)"
    " FROM (SELECT 1) AS one LEFT JOIN"
    " (SELECT position, chain_hash FROM events ORDER BY position DESC LIMIT 1) AS e ON true"
)
"""PostgreSQL: the same, and a notification to the log's listeners (sent at commit) of the
head the append's ``%s`` events will reach: one round trip."""


def _time(moment: datetime) -> str:
    # isoformat is several times quicker than strftime; "+00:00" is always its ending here.
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="microseconds")[:-6] + "Z"


def chain_time(moment: datetime) -> bytes:
    """``moment`` as the canonical bytes write a time: UTC, microseconds, ``Z``."""
    return _time(moment).encode()


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
    return canonical_fields(
        position,
        stream_id,
        version,
        str(event.event_id).encode(),
        event.type,
        event.schema_version,
        _json(event.data),
        _json(event.metadata),
        occurred_at,
        recorded_at,
    )


def canonical_fields(
    position: int,
    stream_id: str,
    version: int,
    event_id: bytes,
    kind: str,
    schema_version: int,
    data: bytes,
    metadata: bytes,
    occurred_at: bytes,
    recorded_at: bytes,
) -> bytes:
    """The module's table from the fields already written out: the event id hyphenated,
    the JSON as ``_json`` writes it, the times as ``_time``."""
    # Written out rather than looped, the length prefixes looked up rather than packed:
    # this runs once per event of every append.
    p = _LENGTHS
    at = str(position).encode()
    stream = stream_id.encode()
    number = str(version).encode()
    name = kind.encode()
    schema = str(schema_version).encode()
    return b"".join(
        (
            p[len(at)], at,
            length_prefix(len(stream)), stream,
            p[len(number)], number,
            length_prefix(len(event_id)), event_id,
            length_prefix(len(name)), name,
            p[len(schema)], schema,
            length_prefix(len(data)), data,
            length_prefix(len(metadata)), metadata,
            p[len(occurred_at)], occurred_at,
            p[len(recorded_at)], recorded_at,
        )
    )  # fmt: skip


def length_prefix(n: int) -> bytes:
    """``n`` as 4 bytes, big-endian."""
    return _LENGTHS[n] if n < _LOOKED_UP else _PACK(n)


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


def log_end(row: Any) -> tuple[int, bytes]:
    """The position and hash of a row of ``LOG_END`` (0 and the genesis hash: empty log).

    An event at the end with no hash was written around the service; the chain goes on
    from the genesis hash there and ``incidents verify`` names that event.
    """
    if row is None or row[0] is None:
        return 0, GENESIS
    return int(row[0]), GENESIS if row[1] is None else bytes.fromhex(row[1])


def last_link(conn: Connection) -> tuple[int, bytes]:
    """The position and hash the chain ends at: its last chained event's (0 and the genesis
    hash when there is none). What a checkpoint signs: an event written around the
    service after it, which has no hash, is never vouched for."""
    return log_end(conn.exec_driver_sql(_LAST_CHAINED).first())


def chained_rows(
    previous: bytes, first_position: int, rows: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """``rows`` (``events`` columns, without position and hash, all of one recording time
    or not) numbered from ``first_position`` and chained after ``previous``: for loading
    generated or restored events straight into the log."""
    chained = []
    for offset, row in enumerate(rows):
        position = first_position + offset
        canonical = _canonical(
            position,
            row["stream_id"],
            row["version"],
            NewEvent(
                row["event_id"],
                row["type"],
                row["data"],
                row["occurred_at"],
                row["schema_version"],
                row["metadata"],
            ),
            _time(row["occurred_at"]).encode(),
            _time(row["recorded_at"]).encode(),
        )
        previous = hashlib.sha256(previous + canonical).digest()
        chained.append({**row, "position": position, "chain_hash": previous.hex()})
    return chained
