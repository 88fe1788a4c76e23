"""Zero-downtime rebuild: replay the log into shadow tables, then swap them in atomically.

Reads keep using the live tables during the replay, and appends keep updating them.
The swap takes the append lock, catches the shadow up to the head of the log, and
replaces the live tables in one transaction, so no event lands in between.

On PostgreSQL the shadows are UNLOGGED while the log is replayed into them: a replay
writes most rows more than once (a document or a summary rewritten as its incident goes
on), each write a WAL record and, after a checkpoint, a full page image. They become
LOGGED once the replay has reached the head, before the append lock is taken: one
sequential write of each table's final contents to the WAL, which is what makes it
crash-safe and reach replicas. A crash during the replay empties the shadows, and the
rebuild, which failed with it, starts over. Their indexes are built then too, several
tables at once (projections/shadow_finish.py), so the swap under the lock only renames;
on SQLite, which writes one table at a time, the swap builds them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import structlog
from sqlalchemy import Connection, Engine, Table

from eventstore.engine import WRITE
from eventstore.store import head_position_in, lock_log_for_append, read_all_in
from projections.base import Projection, envelope, resumed
from projections.checkpoints import load_checkpoints, save_checkpoint
from projections.defaults import default_names
from projections.ownership import rebuild_lock
from projections.partitioned_rebuild import (
    PARALLEL_FROM,
    default_processes,
    replay_in_partitions,
    shareable,
)
from projections.shadow_finish import finish_shadows, take_live_names
from projections.shadow_tables import SUFFIX, make_companions, shadow_of

__all__ = ["BATCH_SIZE", "PARALLEL_FROM", "SUFFIX", "rebuild", "rebuild_outdated", "shadow_of"]

log = structlog.get_logger()

BATCH_SIZE = 2000

Progress = Callable[[int], None]


def _swap(conn: Connection, live: Table, shadow: Table) -> None:
    live.drop(conn)
    conn.exec_driver_sql(f'ALTER TABLE "{shadow.name}" RENAME TO "{live.name}"')
    if conn.dialect.name == "postgresql":
        # Indexes and the rest were made on the shadow already (finish_shadows).
        take_live_names(conn, live, shadow)
        return
    for index in live.indexes:
        index.create(conn)
    make_companions(conn, live)


def rebuild(
    engine: Engine,
    projection: Projection | Sequence[Projection],
    progress: Progress | None = None,
    *,
    batch_size: int = BATCH_SIZE,
    processes: int | None = None,
    parallel_from: int = PARALLEL_FROM,
) -> int:
    """Rebuild projections from the whole log in one pass; returns the position reached.

    Each event is read and decoded once and applied to every projection's shadow tables.
    A log of ``parallel_from`` events or more is replayed by ``processes`` worker
    processes (default: one per CPU), each folding a partition of the streams, when
    every projection is a default read model that a worker can make from its name.
    """
    with rebuild_lock(engine):
        return _rebuild(engine, projection, progress, batch_size, processes, parallel_from)


def _rebuild(
    engine: Engine,
    projection: Projection | Sequence[Projection],
    progress: Progress | None,
    batch_size: int,
    processes: int | None = None,
    parallel_from: int = PARALLEL_FROM,
) -> int:
    targets = [projection] if not isinstance(projection, Sequence) else list(projection)
    shadows = {table.name: shadow_of(table) for p in targets for table in p.tables}
    building = [p.using(shadows) for p in targets]

    def apply(conn: Connection, after: int) -> int:
        batch = read_all_in(conn, after, batch_size)
        if batch:
            envelopes = [envelope(r) for r in batch]
            for target in building:
                target.apply(conn, envelopes)
            if progress is not None:
                progress(len(batch))
        return batch[-1].position if batch else after

    postgres = engine.dialect.name == "postgresql"
    with engine.connect().execution_options(**WRITE) as conn:
        with conn.begin():
            for shadow in shadows.values():
                shadow.drop(conn, checkfirst=True)
                shadow.create(conn)
                if postgres:
                    conn.exec_driver_sql(f'ALTER TABLE "{shadow.name}" SET UNLOGGED')
            head = head_position_in(conn)
        position = 0
        names = default_names(targets)
        workers = processes if processes is not None else default_processes()
        if names is not None and workers > 1 and head >= parallel_from and shareable(engine):
            # Up to the head as it is now in worker processes; the rest here, as alone.
            replay_in_partitions(
                engine,
                names,
                list(shadows.values()),
                head,
                progress,
                processes=workers,
                batch_size=batch_size,
            )
            position = head
            # What a building projection remembers of its own writes covers none of theirs.
            building = [resumed(target) for target in building]
        # Replay in committed batches: no long transaction, reads and appends go on.
        while True:
            with conn.begin():
                reached = apply(conn, position)
            if reached == position:
                break
            position = reached
        if postgres:
            pairs = [(table, shadows[table.name]) for p in targets for table in p.tables]
            finish_shadows(engine, pairs, workers)
        with conn.begin():
            lock_log_for_append(conn)
            load_checkpoints(conn, for_update=True)
            while (reached := apply(conn, position)) != position:
                position = reached
            position = max(position, head_position_in(conn))
            for target in targets:
                for table in target.tables:
                    _swap(conn, table, shadows[table.name])
                save_checkpoint(conn, target, position)
    return position


def rebuild_outdated(engine: Engine, projections: Sequence[Projection]) -> list[str]:
    """Rebuild every projection whose stored version differs from its code's; their names."""
    with rebuild_lock(engine):
        # Decided under the lock: another node may have rebuilt them while we waited.
        with engine.connect() as conn:
            stored = load_checkpoints(conn)
        outdated = [
            p
            for p in projections
            if (checkpoint := stored.get(p.name)) is not None and checkpoint.version != p.version
        ]
        if outdated:
            names = [p.name for p in outdated]
            log.info("projection.rebuild", projections=names)
            position = _rebuild(engine, outdated, None, BATCH_SIZE)
            log.info("projection.rebuilt", projections=names, position=position)
    return [p.name for p in outdated]
