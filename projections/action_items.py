"""The action-item board: the current state of every corrective and preventative measure."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Connection, Table, and_, not_, or_, select

from domain import events as e
from projections.base import Envelope
from projections.sql import upsert
from projections.tables import action_items

Row = dict[str, Any]
Key = tuple[UUID, UUID]
"""(incident_id, item_id): item ids are chosen by clients and may repeat across incidents."""

FINISHED = ("done", "wont_do")
"""Statuses in which an item is finished: it can no longer be overdue."""


def is_finished(status: str) -> bool:
    """Whether an item in ``status`` is done or abandoned."""
    return status in FINISHED


def is_overdue(due_date: date, status: str, today: date) -> bool:
    """Past its due date on ``today`` and not finished; ``overdue_condition`` is the same rule in SQL."""
    return due_date < today and not is_finished(status)


def _added(rows: dict[Key, Row], env: Envelope, ev: e.ActionItemAdded) -> None:
    rows[(env.incident_id, ev.item_id)] = {
        "item_id": ev.item_id,
        "incident_id": env.incident_id,
        "title": ev.title,
        "kind": ev.kind.value,
        "owner": ev.owner,
        "due_date": ev.due_date,
        "priority": ev.priority.value,
        "status": "open",
        "reason": None,
        "ticket_url": ev.ticket_url,
        "created_at": env.recorded.recorded_at,
        "updated_at": env.recorded.recorded_at,
        "position": env.recorded.position,
    }


def _changed(**changes: Callable[[Any], Any]) -> Callable[[dict[Key, Row], Envelope, Any], None]:
    """An applier setting each named column to a function of the event."""

    def apply(rows: dict[Key, Row], env: Envelope, ev: Any) -> None:
        row = rows[(env.incident_id, ev.item_id)]
        row.update({column: value(ev) for column, value in changes.items()})
        row["updated_at"] = env.recorded.recorded_at

    return apply


APPLIERS: dict[type[e.DomainEvent], Callable[[dict[Key, Row], Envelope, Any], None]] = {
    e.ActionItemAdded: _added,
    e.ActionItemReassigned: _changed(owner=lambda ev: ev.owner),
    e.ActionItemRescheduled: _changed(due_date=lambda ev: ev.due_date),
    e.ActionItemRetitled: _changed(title=lambda ev: ev.title),
    e.ActionItemReprioritized: _changed(priority=lambda ev: ev.priority.value),
    e.ActionItemStatusChanged: _changed(
        status=lambda ev: ev.to_status.value, reason=lambda ev: ev.reason
    ),
    # A link removed is a ``None`` ticket_url: the column goes back to null.
    e.ActionItemTicketLinked: _changed(ticket_url=lambda ev: ev.ticket_url),
}


CHANGES_ITEM = (
    e.ActionItemReassigned,
    e.ActionItemRescheduled,
    e.ActionItemRetitled,
    e.ActionItemReprioritized,
    e.ActionItemStatusChanged,
    e.ActionItemTicketLinked,
)


def apply_to_rows(rows: dict[Key, Row], env: Envelope) -> None:
    """Fold one event into in-memory item rows; events about other things are ignored."""
    applier = APPLIERS.get(type(env.event))
    if applier is not None:
        applier(rows, env, env.event)


class ActionItemProjection:
    name = "action_items"
    version = 2

    def __init__(self, table: Table = action_items) -> None:
        self.table = table

    @property
    def tables(self) -> tuple[Table, ...]:
        return (self.table,)

    def using(self, tables: Mapping[str, Table]) -> ActionItemProjection:
        return ActionItemProjection(tables[action_items.name])

    def apply(self, conn: Connection, batch: Sequence[Envelope]) -> None:
        relevant = [env for env in batch if type(env.event) in APPLIERS]
        if not relevant:
            return
        table = self.table
        earlier = {
            (env.incident_id, env.event.item_id)
            for env in relevant
            if isinstance(env.event, CHANGES_ITEM)
        }
        rows: dict[Key, Row] = {}
        if earlier:
            items = {item_id for _, item_id in earlier}
            query = select(table).where(table.c.item_id.in_(items))
            for row in conn.execute(query):
                if (row.incident_id, row.item_id) in earlier:
                    rows[(row.incident_id, row.item_id)] = dict(row._mapping)
        for env in relevant:
            apply_to_rows(rows, env)
        upsert(conn, table, [rows[key] for key in sorted(rows)])


def get_action_item(conn: Connection, incident_id: UUID, item_id: UUID) -> Row | None:
    """One item of one incident, or None (an item of another incident is not found either)."""
    t = action_items
    query = select(t).where(t.c.item_id == item_id, t.c.incident_id == incident_id)
    row = conn.execute(query).first()
    return dict(row._mapping) if row is not None else None


def overdue_condition(today: date) -> ColumnElement[bool]:
    """``is_overdue`` as a condition on the table, for filtering the board."""
    t = action_items
    return and_(t.c.due_date < today, t.c.status.not_in(FINISHED))


def list_action_items(
    conn: Connection,
    *,
    owner: str | None = None,
    status: str | None = None,
    kind: str | None = None,
    incident_id: UUID | None = None,
    overdue: bool | None = None,
    today: date,
    limit: int,
    cursor: tuple[date, int] | None = None,
) -> list[Row]:
    """Items soonest due first (then in the order they were added).

    ``overdue`` keeps only items past their due date on ``today`` and not finished (True),
    or only the others (False). ``cursor`` is the (due_date, position) of the last item of
    the previous page.
    """
    t = action_items
    query = select(t)
    if owner is not None:
        query = query.where(t.c.owner == owner)
    if status is not None:
        query = query.where(t.c.status == status)
    if kind is not None:
        query = query.where(t.c.kind == kind)
    if incident_id is not None:
        query = query.where(t.c.incident_id == incident_id)
    if overdue is not None:
        query = query.where(overdue_condition(today) if overdue else not_(overdue_condition(today)))
    if cursor is not None:
        due, position = cursor
        query = query.where(
            or_(t.c.due_date > due, and_(t.c.due_date == due, t.c.position > position))
        )
    query = query.order_by(t.c.due_date, t.c.position).limit(limit)
    return [dict(row._mapping) for row in conn.execute(query)]
