"""Event lines of a log file (eventstore/transfer/format.py): written, and read back checked."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, NamedTuple

import orjson

from eventstore.records import RECORDED_FIELDS
from eventstore.transfer.format import check_fields

EVENT_FIELDS = frozenset(RECORDED_FIELDS)
"""The fields of a version 1 event line: the ``events`` columns."""
CHAINED_EVENT_FIELDS = EVENT_FIELDS | {"chain_hash"}
"""The fields of a version 2 event line: the columns and the chain hash."""

# Limits of the ``events`` columns, checked here so a bad file is named by its line.
STREAM_ID_MAX = 200
TYPE_MAX = 100

_SORTED = orjson.OPT_SORT_KEYS
_SORTED_LINE = orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE

# Only the forms export writes are read back: the SQLite store keeps times as text and
# compares them as text, so one moment must have exactly one spelling.
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_CANONICAL_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00", re.ASCII)


class EventRow(NamedTuple):
    """An event line, checked: JSON documents as canonical text (keys sorted, compact), id
    and times in canonical form, and the event's chain hash in hex (the line's, or for a
    version 1 line the one the reader computed)."""

    position: int
    stream_id: str
    version: int
    type: str
    schema_version: int
    data: str
    metadata: str
    event_id: str
    occurred_at: str
    recorded_at: str
    chain_hash: str


def event_line(fields: dict[str, Any]) -> bytes:
    """One event as a line; ``fields`` maps every column (and ``chain_hash``) to its JSON value.

    Ids are lowercase hyphenated text and times come from ``format_time`` (or are
    spelled exactly as it would spell them).
    """
    return orjson.dumps(fields, option=_SORTED_LINE)


def parse_event(value: dict[str, Any], *, chained: bool) -> EventRow:
    """An event line's fields, checked against the ``events`` columns; ``chained``: the line
    carries ``chain_hash`` (format version 2), checked later against the recomputed chain.

    This runs once per event of an import, so the checks are written out inline.
    """
    if chained:
        if value.keys() != CHAINED_EVENT_FIELDS:
            check_fields(value, CHAINED_EVENT_FIELDS, "an event")
        chain_hash = value.pop("chain_hash")
        if type(chain_hash) is not str:
            raise ValueError(
                f"chain_hash must be 64 lowercase hexadecimal digits, not {chain_hash!r}"
            )
    else:
        if value.keys() != EVENT_FIELDS:
            check_fields(value, EVENT_FIELDS, "an event")
        chain_hash = ""
    position = value["position"]
    version = value["version"]
    schema_version = value["schema_version"]
    if type(position) is not int or position < 1:
        raise ValueError(f"position must be an integer >= 1, not {position!r}")
    if type(version) is not int or version < 1:
        raise ValueError(f"version must be an integer >= 1, not {version!r}")
    if type(schema_version) is not int or schema_version < 1:
        raise ValueError(f"schema_version must be an integer >= 1, not {schema_version!r}")
    stream_id = value["stream_id"]
    type_ = value["type"]
    if type(stream_id) is not str or not 0 < len(stream_id) <= STREAM_ID_MAX:
        raise ValueError(f"stream_id must be a string of 1 to {STREAM_ID_MAX} characters")
    if type(type_) is not str or not 0 < len(type_) <= TYPE_MAX:
        raise ValueError(f"type must be a string of 1 to {TYPE_MAX} characters")
    data = value["data"]
    metadata = value["metadata"]
    if type(data) is not dict:
        raise ValueError("data must be a JSON object")
    if type(metadata) is not dict:
        raise ValueError("metadata must be a JSON object")
    event_id = value["event_id"]
    if type(event_id) is not str or _CANONICAL_UUID.fullmatch(event_id) is None:
        raise ValueError(f"event_id must be a lowercase hyphenated UUID, not {event_id!r}")
    return EventRow(
        position,
        stream_id,
        version,
        type_,
        schema_version,
        # Sorted: the same text is stored and hashed (line_chain.row_bytes), written once.
        orjson.dumps(data, option=_SORTED).decode(),
        orjson.dumps(metadata, option=_SORTED).decode(),
        event_id,
        _canonical_time(value, "occurred_at"),
        _canonical_time(value, "recorded_at"),
        chain_hash,
    )


def _canonical_time(value: dict[str, Any], name: str) -> str:
    text = value[name]
    if type(text) is str and _CANONICAL_TIME.fullmatch(text) is not None:
        try:
            datetime.fromisoformat(text)
        except ValueError:
            pass
        else:
            return text
    raise ValueError(
        f"{name} must be a UTC time like 2026-01-31T09:30:00.000000+00:00, not {text!r}"
    )
