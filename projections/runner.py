"""Runs projections inline, inside the append transaction (the default on SQLite)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import Connection, Engine

from eventstore.records import RecordedEvent
from eventstore.selective_reads import head_position_before
from eventstore.store import read_all_in
from projections import rebuild as rebuilding
from projections.base import Projection, envelope
from projections.checkpoints import advance_checkpoints, load_checkpoints, save_checkpoint
from projections.defaults import default_projections

BATCH_SIZE = 1000

Progress = Callable[[int], None]
"""Called with the number of events just applied."""

__all__ = ["BATCH_SIZE", "Progress", "ProjectionRunner", "default_projections"]


class ProjectionRunner:
    """Applies a fixed set of projections and keeps their checkpoints with their rows."""

    def __init__(self, projections: Sequence[Projection] | None = None) -> None:
        self.projections = list(projections or default_projections())

    def apply_inline(self, conn: Connection, recorded: list[RecordedEvent]) -> None:
        """Bring every projection up to the events just appended, in the same transaction.

        A projection whose checkpoint is behind the log (new, or being caught up by a
        worker) catches up from the log first, so no event is applied twice or skipped.
        """
        before = head_position_before(conn, recorded[0].position)
        stored = load_checkpoints(conn, for_update=True)
        fresh = [envelope(r) for r in recorded]
        current = []
        for projection in self.projections:
            checkpoint = stored.get(projection.name)
            position = checkpoint.position if checkpoint is not None else 0
            if position == before:
                projection.apply(conn, fresh)
                current.append(projection)
            else:
                self.catch_up(conn, projection, position)
        if current:
            advance_checkpoints(conn, current, recorded[-1].position)

    def catch_up(
        self,
        conn: Connection,
        projection: Projection,
        after: int,
        progress: Progress | None = None,
    ) -> int:
        """Apply everything in the log after ``after``; returns the new checkpoint."""
        position = after
        # From the first event, every row is this code's: its version, as a rebuild's.
        record = save_checkpoint if after == 0 else _advance
        while batch := read_all_in(conn, position, BATCH_SIZE):
            projection.apply(conn, [envelope(r) for r in batch])
            position = batch[-1].position
            record(conn, projection, position)
            if progress is not None:
                progress(len(batch))
        return position

    def rebuild(
        self,
        engine: Engine,
        progress: Progress | None = None,
        names: Sequence[str] | None = None,
    ) -> int:
        """Rebuild projections (all, or those named) into fresh tables and swap them in."""
        chosen = [p for p in self.projections if not names or p.name in names]
        return rebuilding.rebuild(engine, chosen, progress, batch_size=BATCH_SIZE)


def _advance(conn: Connection, projection: Projection, position: int) -> None:
    advance_checkpoints(conn, [projection], position)
