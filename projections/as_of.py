"""Read models as they stood at a past moment: the incident's stream replayed up to a cut.

The live read models are tables kept up to date event by event through each
projection's pure ``apply_to_rows``. Folding the same functions over a prefix of the
log gives, in memory, exactly the rows those tables held when that prefix was all the
log had. The shapers below order and select those rows the way the projections' own
queries (``get_timeline``, ``get_postmortem``, ``list_action_items``) do. Nothing here
writes.

A moment is named as a log position or as a recorded time (``AsOf``): a time means
everything the service had *recorded* by then, not what had *occurred* by then.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection

from domain.values import stream_id_for
from eventstore.reads import MAX_POSITION, recorded_at_position
from eventstore.store import head_position_in, read_stream_in, stream_position_in
from projections import action_items, postmortem, summary, timeline
from projections.base import Envelope, envelope
from projections.decoded_streams import DecodedStreams
from projections.errors import NotFound

Row = dict[str, Any]

_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})", re.ASCII
)
_NUMBER = re.compile(r"\d{1,19}", re.ASCII)


@dataclass(frozen=True, slots=True)
class Cut:
    """Where the log is cut: at a log position or at a recorded time, both inclusive."""

    position: int | None = None
    recorded_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class AsOf:
    """A past moment asked for: the text that named it and where it cuts the log."""

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


def parse_as_of(text: str) -> AsOf | None:
    """A log position or an RFC 3339 time with a timezone; None when ``text`` is neither."""
    position = parse_number(text)
    if position is not None:
        return AsOf(text, Cut(position=position))
    at = parse_time(text)
    if at is not None:
        return AsOf(text, Cut(recorded_until=at))
    return None


def read_incident(
    conn: Connection, incident_id: UUID, cut: Cut, streams: DecodedStreams | None = None
) -> list[Envelope]:
    """The incident's events up to the cut, decoded, in stream order.

    With ``streams`` the whole stream comes from (and goes to) that cache and is cut
    here, with the same inclusive comparisons the query would make.
    """
    stream_id = stream_id_for(incident_id)
    if streams is not None:
        return [
            env
            for env in streams.read(conn, stream_id)
            if (cut.position is None or env.recorded.position <= cut.position)
            and (cut.recorded_until is None or env.recorded.recorded_at <= cut.recorded_until)
        ]
    recorded = read_stream_in(
        conn, stream_id, to_position=cut.position, recorded_until=cut.recorded_until
    )
    return [envelope(r) for r in recorded]


def incident_exists(conn: Connection, incident_id: UUID) -> bool:
    """Whether the log holds any event of the incident, at any time."""
    return stream_position_in(conn, stream_id_for(incident_id)) > 0


def replay(
    conn: Connection, incident_id: UUID, as_of: AsOf, streams: DecodedStreams | None = None
) -> list[Envelope]:
    """The incident's events up to ``as_of``; NotFound when it had not been declared by then."""
    found = read_incident(conn, incident_id, as_of.cut, streams)
    if found:
        return found
    if incident_exists(conn, incident_id):
        raise NotFound(f"incident {incident_id} had not been declared as of {as_of.text}")
    raise NotFound.incident(incident_id)


# --- replays -------------------------------------------------------------------------------


def summary_row(envelopes: Sequence[Envelope]) -> Row | None:
    """The incident's summary row after these events (None before its declaration)."""
    rows: dict[UUID, Row] = {}
    for env in envelopes:
        summary.apply_to_rows(rows, env)
    return next(iter(rows.values()), None)


def timeline_rows(
    envelopes: Sequence[Envelope],
    *,
    limit: int | None = None,
    after: tuple[datetime, int] | None = None,
) -> list[Row]:
    """Visible timeline entries in timeline order, paged like ``timeline.get_timeline``."""
    rows: dict[UUID, Row | None] = {}
    for env in envelopes:
        timeline.apply_to_rows(rows, env)
    # A relation also writes an entry on the other incident's timeline: not this one's.
    own = envelopes[0].incident_id if envelopes else None
    entries = sorted(
        (row for row in rows.values() if row is not None and row["incident_id"] == own),
        key=lambda row: (row["occurred_at"], row["position"]),
    )
    if after is not None:
        entries = [row for row in entries if (row["occurred_at"], row["position"]) > after]
    return entries if limit is None else entries[:limit]


def action_item_rows(envelopes: Sequence[Envelope], *, limit: int | None = None) -> list[Row]:
    """The incident's action items soonest due first, as ``list_action_items`` orders them."""
    rows: dict[action_items.Key, Row] = {}
    for env in envelopes:
        action_items.apply_to_rows(rows, env)
    items = sorted(rows.values(), key=lambda row: (row["due_date"], row["position"]))
    return items if limit is None else items[:limit]


def postmortem_rows(envelopes: Sequence[Envelope]) -> postmortem.Rows:
    """Every revision, section text and section change of the postmortem after these events."""
    rows = postmortem.Rows()
    for env in envelopes:
        postmortem.apply_to_rows(rows, env)
    return rows


def postmortem_revision(rows: postmortem.Rows, revision: int | None = None) -> Row | None:
    """One revision (default: the latest) shaped as ``postmortem.get_postmortem`` returns it."""
    revisions = sorted(rows.revisions.values(), key=lambda row: int(row["revision"]))

    def texts(wanted: int) -> dict[str, str]:
        return {
            section: text
            for (_, number, section), text in rows.sections.items()
            if number == wanted and text is not None
        }

    return postmortem.revision_document(revisions, revision, texts)
