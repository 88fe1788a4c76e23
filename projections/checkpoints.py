"""Projection checkpoints: the last applied position, written with the projection's rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from projections.base import Projection
from projections.sql import upsert
from projections.tables import checkpoints

_ALL = select(checkpoints)
_ALL_FOR_UPDATE = _ALL.with_for_update()


@dataclass(frozen=True, slots=True)
class Checkpoint:
    name: str
    version: int
    position: int
    updated_at: datetime | None = None


def load_checkpoints(conn: Connection, *, for_update: bool = False) -> dict[str, Checkpoint]:
    """Every stored checkpoint; ``for_update`` locks them until the transaction ends.

    Locking makes inline appends, workers and rebuilds take turns on a projection: the
    second waits for the first to commit, then sees its new position.
    """
    query = _ALL_FOR_UPDATE if for_update else _ALL
    return {
        row.name: Checkpoint(row.name, row.version, row.position, row.updated_at)
        for row in conn.execute(query)
    }


def lock_checkpoint(conn: Connection, projection: Projection) -> Checkpoint:
    """This projection's checkpoint, created at position 0 if new, locked for the transaction."""
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    conn.execute(
        insert(checkpoints)
        .values(
            name=projection.name,
            version=projection.version,
            position=0,
            updated_at=datetime.now(UTC),
        )
        .on_conflict_do_nothing(index_elements=["name"])
    )
    row = conn.execute(
        select(checkpoints).where(checkpoints.c.name == projection.name).with_for_update()
    ).one()
    return Checkpoint(row.name, row.version, row.position, row.updated_at)


def save_checkpoint(conn: Connection, projection: Projection, position: int) -> None:
    """Record that ``projection``'s rows up to ``position`` are all its code's, version too.

    True of a rebuild's, and of a catch-up from the first event; appends and worker
    batches only advance a checkpoint (``advance_checkpoints``)."""
    upsert(conn, checkpoints, [_row(projection, position, datetime.now(UTC))])


def advance_checkpoints(conn: Connection, projections: Sequence[Projection], position: int) -> None:
    """Record that ``projections`` have applied everything up to ``position``, in one statement.

    A checkpoint keeps the version its rows were built by. An append (or a worker's batch)
    applies this code to rows that an earlier version may have made; were it to record this
    code's version, a rebuild that a version change asked for and that was cut short (a
    restart during it) would never run again, and rows the new code reads differently
    would stay as the old code made them. A new checkpoint gets
    the code's version: its rows are this code's from the first.
    """
    now = datetime.now(UTC)
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = insert(checkpoints).values([_row(p, position, now) for p in projections])
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=["name"],
            set_={
                "position": statement.excluded.position,
                "updated_at": statement.excluded.updated_at,
            },
        )
    )


def _row(projection: Projection, position: int, now: datetime) -> dict[str, object]:
    return {
        "name": projection.name,
        "version": projection.version,
        "position": position,
        "updated_at": now,
    }
