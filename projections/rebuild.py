"""Zero-downtime rebuild: replay the log into shadow tables, then swap them in atomically.

Reads keep using the live tables during the replay, and appends keep updating them.
The swap takes the append lock, catches the shadow up to the head of the log, and
replaces the live tables in one transaction, so no event lands in between.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import structlog
from sqlalchemy import Connection, Engine, MetaData, Table

from eventstore.engine import WRITE
from eventstore.store import head_position_in, lock_log_for_append, read_all_in
from projections.base import Projection, envelope
from projections.checkpoints import load_checkpoints, save_checkpoint
from projections.ownership import rebuild_lock

log = structlog.get_logger()

SUFFIX = "__rebuild"
BATCH_SIZE = 2000

Progress = Callable[[int], None]


def shadow_of(table: Table) -> Table:
    """An index-less copy of ``table`` under another name (indexes come after the swap)."""
    shadow = table.to_metadata(
        MetaData(naming_convention=table.metadata.naming_convention), name=table.name + SUFFIX
    )
    shadow.indexes.clear()
    shadow.primary_key.name = f"pk_{shadow.name}"
    return shadow


def _swap(conn: Connection, live: Table, shadow: Table) -> None:
    live.drop(conn)
    conn.exec_driver_sql(f'ALTER TABLE "{shadow.name}" RENAME TO "{live.name}"')
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(
            f'ALTER TABLE "{live.name}" RENAME CONSTRAINT "{shadow.primary_key.name}"'
            f' TO "pk_{live.name}"'
        )
    for index in live.indexes:
        index.create(conn)


def rebuild(
    engine: Engine,
    projection: Projection | Sequence[Projection],
    progress: Progress | None = None,
    *,
    batch_size: int = BATCH_SIZE,
) -> int:
    """Rebuild projections from the whole log in one pass; returns the position reached.

    Each event is read and decoded once and applied to every projection's shadow tables.
    """
    with rebuild_lock(engine):
        return _rebuild(engine, projection, progress, batch_size)


def _rebuild(
    engine: Engine,
    projection: Projection | Sequence[Projection],
    progress: Progress | None,
    batch_size: int,
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

    with engine.connect().execution_options(**WRITE) as conn:
        with conn.begin():
            for shadow in shadows.values():
                shadow.drop(conn, checkfirst=True)
                shadow.create(conn)
        # Replay in committed batches: no long transaction, reads and appends go on.
        position = 0
        while True:
            with conn.begin():
                reached = apply(conn, position)
            if reached == position:
                break
            position = reached
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
