"""The chain's canonical bytes straight from SQLite's stored columns, for a walk of the whole
log: the same bytes as ``chain.canonical_bytes`` of the decoded event, without making the
event (UUID objects, datetimes), which costs several times the hashing.

SQLite stores an event id as 32 hex digits and a time as naive UTC text with its
microseconds (``2026-12-01 09:00:00.104000``); anything else is decoded the slow way.
"""

from __future__ import annotations

from typing import Any

import orjson

from eventstore.chain import canonical_fields
from eventstore.stored_times import parse_stored_time

_TIME_LENGTH = 26
_SORTED = orjson.OPT_SORT_KEYS

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


def canonical_row(row: Any) -> bytes:
    """``canonical_bytes`` of the event stored in ``row`` (the columns of ``ROWS``)."""
    return canonical_fields(
        row[0],
        row[1],
        row[2],
        _event_id(row[3]),
        row[4],
        row[5],
        orjson.dumps(orjson.loads(row[6]), option=_SORTED),
        orjson.dumps(orjson.loads(row[7]), option=_SORTED),
        _time(row[8]),
        _time(row[9]),
    )
