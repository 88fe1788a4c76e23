"""The log as a feed: pages of events after a position, optionally filtered, without gaps."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, or_, select

from eventstore.records import RECORDED_FIELDS, RecordedEvent
from eventstore.schema import events
from eventstore.sealed_text import open_sealed
from eventstore.store import head_position_in

SCAN_WINDOW = 10_000
"""Positions one filtered page looks through at most when only types narrow it: a type
that is rare would otherwise make a single request read the rest of the log."""


@dataclass(frozen=True, slots=True)
class LogFilter:
    """Which events a reader wants: one stream, and types by exact name or by prefix."""

    stream_id: str | None = None
    types: frozenset[str] = field(default_factory=frozenset)
    type_prefixes: frozenset[str] = field(default_factory=frozenset)

    @property
    def by_type(self) -> bool:
        return bool(self.types or self.type_prefixes)


@dataclass(frozen=True, slots=True)
class LogPage:
    """Events in position order; ``next_after`` is where the next page starts.

    ``next_after`` is the last position this page looked at, not the last it returned:
    with a filter, positions that did not match are passed once and for all. When
    ``next_after`` has reached ``head`` the reader has seen the whole log.
    """

    events: list[RecordedEvent]
    next_after: int
    head: int

    @property
    def caught_up(self) -> bool:
        return self.next_after >= self.head


def read_log_page(
    conn: Connection, after: int, limit: int, log_filter: LogFilter | None = None
) -> LogPage:
    """Up to ``limit`` events after position ``after`` that match ``log_filter``.

    The head is read first and the page cut at it. Appends hold the log's lock from
    drawing their positions until they commit (lock_log_for_append), so once the head
    is visible every smaller position that will ever exist is visible too, even to a
    later statement on PostgreSQL with its own snapshot: nothing at or below the head
    can appear after this page has passed it.
    """
    log_filter = log_filter or LogFilter()
    head = head_position_in(conn)
    upper = head
    if log_filter.by_type and log_filter.stream_id is None:
        upper = min(head, after + SCAN_WINDOW)
    columns = [events.c[name] for name in RECORDED_FIELDS]  # not the chain hash
    query = select(*columns).where(events.c.position > after, events.c.position <= upper)
    if log_filter.stream_id is not None:
        query = query.where(events.c.stream_id == log_filter.stream_id)
    if log_filter.by_type:
        query = query.where(
            or_(
                events.c.type.in_(sorted(log_filter.types)),
                *(
                    events.c.type.startswith(prefix, autoescape=True)
                    for prefix in sorted(log_filter.type_prefixes)
                ),
            )
        )
    rows = conn.execute(query.order_by(events.c.position).limit(limit))
    found = open_sealed(conn, [RecordedEvent(**row._asdict()) for row in rows])
    if len(found) == limit:
        return LogPage(found, found[-1].position, head)
    return LogPage(found, max(after, upper), head)
