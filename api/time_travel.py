"""``?as_of=``: read an incident as the service had recorded it at a log position or a time."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID
from weakref import WeakKeyDictionary

from fastapi import Depends, HTTPException, Query
from fastapi.exceptions import RequestValidationError
from sqlalchemy import Connection, Engine

from eventstore.store import head_position_in
from projections.as_of import Cut, incident_exists, read_incident, recorded_at_position
from projections.base import Envelope
from projections.decoded_streams import DecodedStreams

AS_OF_DESCRIPTION = (
    "Answer as the service stood at a past moment. A non-negative integer is a log"
    " position: the events at or before it. An RFC 3339 time (with a timezone; write `+`"
    " as `%2B`) means everything the service had **recorded** by then (`recorded_at <="
    " as_of`), not what had **occurred** by then: a note recorded at 15:00 about something"
    " that happened at 14:00 is not part of `as_of=14:30`, because at 14:30 nobody had"
    " written it yet. A time in the future gives the current state; a moment before the"
    " incident was declared is 404."
)

AS_OF_EXAMPLES = ["2026-03-02T10:30:00Z", "1234"]

_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})")
_NUMBER = re.compile(r"\d{1,19}")
MAX_POSITION = 2**63 - 1
"""Positions are 64-bit; a larger number could not be compared with them in SQL."""


def parse_time(value: str) -> datetime | None:
    """An RFC 3339 date-time in UTC, or None when ``value`` is not one."""
    if not _RFC3339.fullmatch(value):
        return None
    try:
        return datetime.fromisoformat(value.upper()).astimezone(UTC)
    except (ValueError, OverflowError):  # month 13, hour 24; year 1 with a positive offset
        return None


def parse_number(value: str) -> int | None:
    """A non-negative 64-bit integer, or None when ``value`` is not one."""
    if not _NUMBER.fullmatch(value):
        return None
    number = int(value)
    return number if number <= MAX_POSITION else None


def invalid_query(name: str, value: str, message: str) -> RequestValidationError:
    """A 422 naming the query parameter, like FastAPI's own validation errors."""
    if " " in value and "T" in value.upper():
        message += " (a '+' in a URL query means a space: write it as %2B)"
    error = {"loc": ("query", name), "msg": message, "type": "value_error", "input": value}
    return RequestValidationError([error])


@dataclass(frozen=True, slots=True)
class AsOf:
    """A parsed ``as_of``: the text the client sent and where it cuts the log."""

    text: str
    cut: Cut

    def moment(self, conn: Connection, now: datetime) -> datetime:
        """The "now" of the answer, for fields relative to it (an action item's ``overdue``).

        A time is its own moment (a future one is now). A position the log has reached
        is the moment its newest event at or before it was recorded, so that position
        gives the same answer forever; a position beyond the log's head is now.
        """
        if self.cut.recorded_until is not None:
            return min(self.cut.recorded_until, now)
        assert self.cut.position is not None  # a cut is a position or a time
        if self.cut.position > head_position_in(conn):
            return now
        return recorded_at_position(conn, self.cut.position) or now


def as_of_query(
    as_of: Annotated[
        str | None,
        Query(min_length=1, max_length=64, description=AS_OF_DESCRIPTION, examples=AS_OF_EXAMPLES),
    ] = None,
) -> AsOf | None:
    """The ``as_of`` query parameter; 422 when it is neither a position nor an RFC 3339 time."""
    if as_of is None:
        return None
    position = parse_number(as_of)
    if position is not None:
        return AsOf(as_of, Cut(position=position))
    at = parse_time(as_of)
    if at is not None:
        return AsOf(as_of, Cut(recorded_until=at))
    raise invalid_query(
        "as_of",
        as_of,
        "as_of must be a log position (a non-negative integer below 2^63) or an RFC 3339"
        " time with a timezone, such as 2026-03-02T10:30:00Z",
    )


AsOfDep = Annotated[AsOf | None, Depends(as_of_query)]


_DECODED: WeakKeyDictionary[Engine, DecodedStreams] = WeakKeyDictionary()
"""Each database's recently replayed streams (see projections/decoded_streams.py)."""
_DECODED_LOCK = threading.Lock()


def _decoded_streams(engine: Engine) -> DecodedStreams:
    with _DECODED_LOCK:
        streams = _DECODED.get(engine)
        if streams is None:
            streams = _DECODED[engine] = DecodedStreams()
        return streams


def replay(conn: Connection, incident_id: UUID, as_of: AsOf) -> list[Envelope]:
    """The incident's events up to ``as_of``; 404 when it had not been declared by then."""
    found = read_incident(conn, incident_id, as_of.cut, _decoded_streams(conn.engine))
    if found:
        return found
    if incident_exists(conn, incident_id):
        raise HTTPException(404, f"incident {incident_id} had not been declared as of {as_of.text}")
    raise HTTPException(404, f"incident {incident_id} does not exist")
