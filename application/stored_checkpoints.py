"""Checkpoints the service keeps of its own log, in ``log_checkpoints``: signed heads taken
on a schedule and at each postmortem publication, for auditors to copy out.

A stored checkpoint proves nothing while it stays in the database it vouches for (whoever
rewrites the log can rewrite this table too); copied elsewhere, each one is a head that
``incidents verify --checkpoint`` later finds in the log, or not.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Connection, Engine, Row, insert, select

from application.checkpoint_tables import log_checkpoints
from application.log_checkpoints import Checkpoint
from eventstore.engine import WRITE
from eventstore.store import lock_log_for_append

Reason = Literal["scheduled", "publication"]


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    """A checkpoint as stored: its row id, why it was taken, and the signed head."""

    id: int
    reason: str
    checkpoint: Checkpoint

    def document(self) -> dict[str, Any]:
        return {"id": self.id, **self.checkpoint.document(), "reason": self.reason}


@contextmanager
def under_append_lock(engine: Engine) -> Iterator[Connection]:
    """A write transaction holding the log's append lock: the head read in it stays the head
    until commit, and two processes storing a checkpoint take turns."""
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        lock_log_for_append(conn)
        yield conn


def store_checkpoint(conn: Connection, checkpoint: Checkpoint, reason: Reason) -> StoredCheckpoint:
    """Insert a signed checkpoint in the caller's transaction; it as stored."""
    result = conn.execute(
        insert(log_checkpoints).values(
            position=checkpoint.position,
            chain_hash=checkpoint.chain_hash,
            signed_at=checkpoint.signed_at,
            key_id=checkpoint.key_id,
            signature=checkpoint.signature,
            reason=reason,
        )
    )
    (stored_id,) = result.inserted_primary_key or (None,)
    assert stored_id is not None  # the table's key is drawn by the database
    return StoredCheckpoint(int(stored_id), reason, checkpoint)


def _stored(row: Row[Any]) -> StoredCheckpoint:
    checkpoint = Checkpoint(
        position=int(row.position),
        chain_hash=row.chain_hash,
        signed_at=row.signed_at,
        signature=row.signature,
        key_id=row.key_id,
    )
    return StoredCheckpoint(int(row.id), row.reason, checkpoint)


def newest_checkpoint(conn: Connection, reason: Reason | None = None) -> StoredCheckpoint | None:
    """The checkpoint stored last (of ``reason``, when given)."""
    query = select(log_checkpoints).order_by(log_checkpoints.c.id.desc()).limit(1)
    if reason is not None:
        query = query.where(log_checkpoints.c.reason == reason)
    row = conn.execute(query).first()
    return None if row is None else _stored(row)


def checkpoint_by_id(conn: Connection, checkpoint_id: int) -> StoredCheckpoint | None:
    row = conn.execute(select(log_checkpoints).where(log_checkpoints.c.id == checkpoint_id)).first()
    return None if row is None else _stored(row)


def checkpoints_after(conn: Connection, after: int, limit: int) -> list[StoredCheckpoint]:
    """Up to ``limit`` checkpoints stored after the one with id ``after``, oldest first."""
    rows = conn.execute(
        select(log_checkpoints)
        .where(log_checkpoints.c.id > after)
        .order_by(log_checkpoints.c.id)
        .limit(limit)
    )
    return [_stored(row) for row in rows]
