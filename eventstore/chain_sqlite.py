"""The chain's canonical bytes straight from SQLite's stored columns, for a walk of the whole
log: the same bytes as ``chain.canonical_bytes`` of the decoded event, without making the
event (UUID objects, datetimes), which costs several times the hashing.

SQLite stores an event id as 32 hex digits and a time as naive UTC text with its
microseconds (``2026-12-01 09:00:00.104000``); anything else is decoded the slow way.
"""

from __future__ import annotations

import struct
from typing import Any

import orjson

from eventstore.stored_times import parse_stored_time

_TIME_LENGTH = 26
_SORTED = orjson.OPT_SORT_KEYS
_PACK = struct.Struct(">I").pack
_LENGTHS = tuple(_PACK(n) for n in range(1 << 16))
"""Length prefixes looked up rather than packed: a tuple index costs a fraction of a call."""

_COLUMNS = (
    "SELECT position, stream_id, version, event_id, type, schema_version, data, metadata,"
    " occurred_at, recorded_at, chain_hash FROM events"
)
ROWS = f"{_COLUMNS} WHERE position > ? ORDER BY position LIMIT ?"
"""The walk's rows: an event's columns, then its stored chain hash (NULL: none)."""
ROWS_IN_RANGE = f"{_COLUMNS} WHERE position > ? AND position <= ? ORDER BY position LIMIT ?"
"""The same, up to a last position."""


def _time(text: str) -> bytes:
    if len(text) == _TIME_LENGTH and text[10] == " " and text[19] == ".":
        return f"{text[:10]}T{text[11:]}Z".encode()
    return parse_stored_time(text).strftime("%Y-%m-%dT%H:%M:%S.%fZ").encode()


def _event_id(stored: str) -> bytes:
    if len(stored) == 32:
        h = stored.lower()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}".encode()
    return stored.lower().encode()


def _length(n: int) -> bytes:
    return _LENGTHS[n] if n < 65536 else _PACK(n)


def canonical_row(row: Any) -> bytes:
    """``canonical_bytes`` of the event stored in ``row`` (the columns of ``ROWS``)."""
    # Written out rather than looped: this runs once per event of the log.
    p = _LENGTHS
    position = str(row[0]).encode()
    stream = row[1].encode()
    version = str(row[2]).encode()
    event_id = _event_id(row[3])
    kind = row[4].encode()
    schema = str(row[5]).encode()
    data = orjson.dumps(orjson.loads(row[6]), option=_SORTED)
    metadata = orjson.dumps(orjson.loads(row[7]), option=_SORTED)
    occurred = _time(row[8])
    recorded = _time(row[9])
    return b"".join(
        (
            p[len(position)], position,
            _length(len(stream)), stream,
            p[len(version)], version,
            _length(len(event_id)), event_id,
            _length(len(kind)), kind,
            p[len(schema)], schema,
            _length(len(data)), data,
            _length(len(metadata)), metadata,
            p[len(occurred)], occurred,
            p[len(recorded)], recorded,
        )
    )  # fmt: skip
