"""Runs projections: inline inside the append transaction, or as a full rebuild."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, delete, func, select

from eventstore.engine import WRITE
from eventstore.records import RecordedEvent
from eventstore.schema import events
from eventstore.store import lock_log_for_append, read_all_in
from projections.base import Projection, envelope
from projections.sql import upsert
from projections.summary import SummaryProjection
from projections.tables import checkpoints
from projections.timeline import TimelineProjection

BATCH_SIZE = 1000

Progress = Callable[[int], None]
"""Called with the number of events just applied."""


def default_projections() -> list[Projection]:
    """Every read model of the service, in the order they are applied."""
    return [SummaryProjection(), TimelineProjection()]


def load_checkpoints(conn: Connection) -> dict[str, int]:
    """Last applied position of every projection that has one."""
    return {row.name: row.position for row in conn.execute(select(checkpoints))}


def _save_checkpoint(conn: Connection, projection: Projection, position: int) -> None:
    row = {
        "name": projection.name,
        "version": projection.version,
        "position": position,
        "updated_at": datetime.now(UTC),
    }
    upsert(conn, checkpoints, [row])


class ProjectionRunner:
    """Applies a fixed set of projections and keeps their checkpoints with their rows."""

    def __init__(self, projections: Sequence[Projection] | None = None) -> None:
        self.projections = list(projections or default_projections())

    def apply_inline(self, conn: Connection, recorded: list[RecordedEvent]) -> None:
        """Bring every projection up to the events just appended, in the same transaction.

        A projection whose checkpoint is behind the log (new, or rebuilt) catches up from
        the log first, so inline mode never applies an event twice or skips one.
        """
        first = recorded[0].position
        before = conn.execute(
            select(func.coalesce(func.max(events.c.position), 0)).where(events.c.position < first)
        ).scalar_one()
        positions = load_checkpoints(conn)
        fresh = [envelope(r) for r in recorded]
        for projection in self.projections:
            if positions.get(projection.name, 0) == before:
                projection.apply(conn, fresh)
                _save_checkpoint(conn, projection, recorded[-1].position)
            else:
                self.catch_up(conn, projection, positions.get(projection.name, 0))

    def catch_up(
        self,
        conn: Connection,
        projection: Projection,
        after: int,
        progress: Progress | None = None,
    ) -> int:
        """Apply everything in the log after ``after``; returns the new checkpoint."""
        position = after
        while batch := read_all_in(conn, position, BATCH_SIZE):
            projection.apply(conn, [envelope(r) for r in batch])
            position = batch[-1].position
            _save_checkpoint(conn, projection, position)
            if progress is not None:
                progress(len(batch))
        return position

    def rebuild(self, engine: Engine, progress: Progress | None = None) -> int:
        """Empty every read model and replay the whole log into it, in one transaction.

        Appends wait meanwhile (the rebuild holds the append lock), so no event can land
        between the replay and the commit.
        """
        with engine.connect().execution_options(**WRITE) as conn, conn.begin():
            lock_log_for_append(conn)
            for projection in self.projections:
                for table in projection.tables:
                    conn.execute(delete(table))
            conn.execute(delete(checkpoints))
            position = 0
            while batch := read_all_in(conn, position, BATCH_SIZE):
                envelopes = [envelope(r) for r in batch]
                for projection in self.projections:
                    projection.apply(conn, envelopes)
                position = batch[-1].position
                if progress is not None:
                    progress(len(batch))
            for projection in self.projections:
                _save_checkpoint(conn, projection, position)
            return position
