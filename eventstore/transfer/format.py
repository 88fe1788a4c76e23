"""The file ``incidents export`` writes and ``incidents import`` reads: the log as JSON lines.

Line 1 is a header, then one line per event in position order, then a trailer::

    {"format":"incident-ledger-log","format_version":1,"source_backend":"sqlite",
     "exported_at":"2026-11-27T10:00:00.123456+00:00","head_position":1042}
    {"data":{...},"event_id":"…","metadata":{...},"occurred_at":"…","position":1,
     "recorded_at":"…","schema_version":1,"stream_id":"incident-…","type":"…","version":1}
    ...
    {"events":1042,"sha256":"…","trailer":"incident-ledger-log"}

Event lines are compact JSON with every key sorted, ids as lowercase hyphenated UUIDs and
times as UTC to the microsecond (``2026-01-31T09:30:00.000000+00:00``), so one log gives
the same bytes whichever backend it was exported from (PostgreSQL's JSONB does not keep
key order).
The trailer's SHA-256 covers the bytes of every event line, newlines included, and with
the event count it makes a truncated, shortened or altered file detectable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

import orjson

from eventstore.records import RECORDED_FIELDS

FORMAT = "incident-ledger-log"
FORMAT_VERSION = 1

EVENT_FIELDS = frozenset(RECORDED_FIELDS)
HEADER_FIELDS = frozenset(
    {"format", "format_version", "source_backend", "exported_at", "head_position"}
)
TRAILER_FIELDS = frozenset({"trailer", "events", "sha256"})

# Limits of the ``events`` columns, checked here so a bad file is named by its line.
STREAM_ID_MAX = 200
TYPE_MAX = 100

_SORTED_LINE = orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE

# Only the forms export writes are read back: the SQLite store keeps times as text and
# compares them as text, so one moment must have exactly one spelling.
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_CANONICAL_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00", re.ASCII)


class LogFileError(ValueError):
    """The file is not a complete, intact export of a log; ``line`` is 1-based when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(f"line {line}: {message}" if line is not None else message)
        self.line = line


@dataclass(frozen=True, slots=True)
class Header:
    source_backend: str
    exported_at: datetime
    head_position: int


@dataclass(frozen=True, slots=True)
class Trailer:
    events: int
    sha256: str


def header_line(header: Header) -> bytes:
    """The first line of a log file."""
    return orjson.dumps(
        {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "source_backend": header.source_backend,
            "exported_at": format_time(header.exported_at),
            "head_position": header.head_position,
        },
        option=orjson.OPT_APPEND_NEWLINE,
    )


def format_time(moment: datetime) -> str:
    """A time as the file writes it: UTC, to the microsecond, always the same length."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat("T", "microseconds") + "+00:00"


def event_line(fields: dict[str, Any]) -> bytes:
    """One event as a line; ``fields`` maps every column to its JSON value.

    Ids are lowercase hyphenated text and times come from ``format_time`` (or are
    spelled exactly as it would spell them).
    """
    return orjson.dumps(fields, option=_SORTED_LINE)


def trailer_line(trailer: Trailer) -> bytes:
    """The last line of a log file."""
    return orjson.dumps(
        {"trailer": FORMAT, "events": trailer.events, "sha256": trailer.sha256},
        option=_SORTED_LINE,
    )


def load_line(line: bytes) -> dict[str, Any]:
    """A line's JSON object; ValueError when it is not one."""
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc})") from None
    if type(value) is not dict:
        raise ValueError("not a JSON object")
    return value


def is_trailer(value: dict[str, Any]) -> bool:
    return "trailer" in value


def parse_header(value: dict[str, Any]) -> Header:
    """The header's fields, checked; ValueError names what is wrong."""
    if value.get("format") != FORMAT:
        raise ValueError(f"not an {FORMAT} file (its header must name format {FORMAT!r})")
    if value.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"format version {value.get('format_version')!r} is not supported;"
            f" this release reads version {FORMAT_VERSION}"
        )
    _exact_fields(value, HEADER_FIELDS, "the header")
    return Header(
        source_backend=_text(value, "source_backend", 50),
        exported_at=_time(value, "exported_at"),
        head_position=_count(value, "head_position", minimum=0),
    )


def parse_trailer(value: dict[str, Any]) -> Trailer:
    """The trailer's fields, checked; ValueError names what is wrong."""
    _exact_fields(value, TRAILER_FIELDS, "the trailer")
    if value["trailer"] != FORMAT:
        raise ValueError(f"the trailer must name format {FORMAT!r}")
    digest = value["sha256"]
    if type(digest) is not str or _SHA256_HEX.fullmatch(digest) is None:
        raise ValueError("the trailer's sha256 must be 64 lowercase hexadecimal digits")
    return Trailer(events=_count(value, "events", minimum=0), sha256=digest)


class EventRow(NamedTuple):
    """An event line, checked: JSON documents as compact text, id and times in canonical form."""

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


def parse_event(value: dict[str, Any]) -> EventRow:
    """An event line's fields, checked against the ``events`` columns.

    This runs once per event of an import, so the checks are written out inline.
    """
    if value.keys() != EVENT_FIELDS:
        _exact_fields(value, EVENT_FIELDS, "an event")
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
        orjson.dumps(data).decode(),
        orjson.dumps(metadata).decode(),
        event_id,
        _canonical_time(value, "occurred_at"),
        _canonical_time(value, "recorded_at"),
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


def _exact_fields(value: dict[str, Any], expected: frozenset[str], what: str) -> None:
    if value.keys() != expected:
        missing = sorted(expected - value.keys())
        unexpected = sorted(value.keys() - expected)
        raise ValueError(f"{what} has missing fields {missing} and unexpected fields {unexpected}")


def _count(value: dict[str, Any], name: str, *, minimum: int) -> int:
    number = value[name]
    if type(number) is not int or number < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, not {number!r}")
    return number


def _text(value: dict[str, Any], name: str, limit: int) -> str:
    text = value[name]
    if type(text) is not str or not text or len(text) > limit:
        raise ValueError(f"{name} must be a non-empty string of at most {limit} characters")
    return text


def _time(value: dict[str, Any], name: str) -> datetime:
    text = value[name]
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an ISO 8601 time, not {text!r}") from None
    if moment.tzinfo is None:
        raise ValueError(f"{name} must carry a UTC offset, not {text!r}")
    return moment.astimezone(UTC)
