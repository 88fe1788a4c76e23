"""What a migration that adds a projection does to the projection's checkpoint.

A projection without a checkpoint is only filled when an append or a worker first runs
it, the first append then replaying the whole log inside its own transaction. A
checkpoint of another version marks it outdated instead: the next start rebuilds it
from the log beside the live tables (projections/rebuild.py, ``rebuild_outdated``). At
position 0, an append that comes first still catches it up, so nothing is lost.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from eventstore.types import UtcDateTime

_checkpoints = sa.table(
    "projection_checkpoints",
    sa.column("name", sa.String),
    sa.column("version", sa.Integer),
    sa.column("position", sa.BigInteger),
    sa.column("updated_at", UtcDateTime()),
)
_events = sa.table("events", sa.column("position", sa.BigInteger))


def mark_outdated(name: str) -> None:
    """Have the next start rebuild projection ``name`` when the log already has events."""
    bind = op.get_bind()
    if bind.execute(sa.select(_events.c.position).limit(1)).first() is not None:
        bind.execute(
            _checkpoints.insert().values(
                name=name, version=0, position=0, updated_at=datetime.now(UTC)
            )
        )


def forget(name: str) -> None:
    """Remove projection ``name``'s checkpoint (a downgrade that drops its tables)."""
    op.execute(_checkpoints.delete().where(_checkpoints.c.name == name))
