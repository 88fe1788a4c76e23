"""Read models as they stood at a past moment: the incident's stream replayed up to a cut.

The live read models are tables kept up to date event by event through each
projection's pure ``apply_to_rows``. Folding the same functions over a prefix of the
log gives, in memory, exactly the rows those tables held when that prefix was all the
log had. The shapers below order and select those rows the way the projections' own
queries (``get_timeline``, ``get_postmortem``, ``list_action_items``) do. Nothing here
writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, select

from domain.values import stream_id_for
from eventstore.schema import events
from eventstore.store import read_stream_in, stream_position_in
from projections import action_items, postmortem, summary, timeline
from projections.base import Envelope, envelope
from projections.decoded_streams import DecodedStreams

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Cut:
    """Where the log is cut: at a log position or at a recorded time, both inclusive."""

    position: int | None = None
    recorded_until: datetime | None = None


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


def recorded_at_position(conn: Connection, position: int) -> datetime | None:
    """When the newest event at or before ``position`` was recorded (None: none is)."""
    query = (
        select(events.c.recorded_at)
        .where(events.c.position <= position)
        .order_by(events.c.position.desc())
        .limit(1)
    )
    found: datetime | None = conn.execute(query).scalar_one_or_none()
    return found


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
    entries = sorted(
        (row for row in rows.values() if row is not None),
        key=lambda row: (row["occurred_at"], row["position"]),
    )
    if after is not None:
        entries = [row for row in entries if (row["occurred_at"], row["position"]) > after]
    return entries if limit is None else entries[:limit]


def action_item_rows(envelopes: Sequence[Envelope], *, limit: int | None = None) -> list[Row]:
    """The incident's action items soonest due first, as ``list_action_items`` orders them."""
    rows: dict[UUID, Row] = {}
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
    if not revisions:
        return None
    wanted = revision if revision is not None else revisions[-1]["revision"]
    chosen = next((row for row in revisions if row["revision"] == wanted), None)
    if chosen is None:
        return None
    texts = {
        section: text
        for (_, number, section), text in rows.sections.items()
        if number == wanted and text is not None
    }
    order = postmortem.SECTION_ORDER
    return {
        **chosen,
        "sections": {name: texts[name] for name in sorted(texts, key=order.__getitem__)},
        "latest_revision": revisions[-1]["revision"],
        "published_revisions": [
            row["revision"] for row in revisions if row["status"] == "published"
        ],
    }
