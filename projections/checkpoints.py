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
    """Record that ``projection`` has applied everything up to ``position``."""
    row = {
        "name": projection.name,
        "version": projection.version,
        "position": position,
        "updated_at": datetime.now(UTC),
    }
    upsert(conn, checkpoints, [row])


def save_checkpoints(conn: Connection, projections: Sequence[Projection], position: int) -> None:
    """Record several projections at one position in a single statement."""
    now = datetime.now(UTC)
    rows = [
        {"name": p.name, "version": p.version, "position": position, "updated_at": now}
        for p in projections
    ]
    upsert(conn, checkpoints, rows)
