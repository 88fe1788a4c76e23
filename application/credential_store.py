"""What the token and integration stores share: revoking by name, and remembering lookups.

A lookup is remembered for a few seconds, so a burst of requests with one credential
costs one query; a revocation clears this process's memory at once and reaches every
other process when its remembered answers expire.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Column, Engine, String, Table, Uuid, update

from eventstore.schema import metadata
from eventstore.types import UtcDateTime

K = TypeVar("K")
V = TypeVar("V")


def credential_table(name: str, id_column: str, *columns: Column[Any]) -> Table:
    """A table of named credentials: its id, a unique name, its own ``columns``, and when it
    was created and revoked (what ``revoke_named`` relies on)."""
    return Table(
        name,
        metadata,
        Column(id_column, Uuid(), primary_key=True),
        Column("name", String(200), nullable=False, unique=True),
        *columns,
        Column("created_at", UtcDateTime(), nullable=False),
        Column("revoked_at", UtcDateTime()),
    )


def revoke_named(engine: Engine, table: Table, name: str) -> bool:
    """Mark the live credential called ``name`` revoked; False when there is none."""
    with engine.begin() as conn:
        result = conn.execute(
            update(table)
            .where(table.c.name == name, table.c.revoked_at.is_(None))
            .values(revoked_at=datetime.now(UTC))
        )
    return result.rowcount > 0


class LookupCache(Generic[K, V]):
    """Answers by key with the monotonic time they were looked up; emptied when full."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._answers: dict[K, tuple[float, V]] = {}
        self._lock = threading.Lock()

    def fresh(self, key: K, max_age: float) -> tuple[bool, V | None]:
        """``(True, answer)`` for an answer younger than ``max_age`` seconds, else ``(False, None)``."""
        with self._lock:
            found = self._answers.get(key)
        if found is not None and time.monotonic() - found[0] < max_age:
            return True, found[1]
        return False, None

    def put(self, key: K, answer: V, looked_up_at: float) -> None:
        with self._lock:
            if len(self._answers) > self.size:
                self._answers.clear()
            self._answers[key] = (looked_up_at, answer)

    def clear(self) -> None:
        with self._lock:
            self._answers.clear()
