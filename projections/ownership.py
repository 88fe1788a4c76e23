"""Which worker owns which projection: exactly one at a time, handed over when one dies.

On PostgreSQL a worker holds a session-level advisory lock per projection on the very
connection that writes the projection's batches: if the worker dies, its connection
closes, the lock is released and another worker takes over. On SQLite a worker holds
an exclusive ``flock`` on a file beside the database, released by the kernel when the
process dies.
"""

from __future__ import annotations

import fcntl
import os
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from sqlalchemy import Connection, Engine, text

LOCK_NAMESPACE = 0x1C1D
"""First key of the two-key advisory lock: every projection lock lives in this namespace."""


def _lock_key(name: str) -> int:
    # A signed 32-bit int: PostgreSQL's two-key advisory lock takes two int4.
    key = zlib.crc32(name.encode())
    return key - (1 << 32) if key >= 1 << 31 else key


class Ownership:
    """Claims projections for this worker and remembers which it holds."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._files: dict[str, IO[bytes]] = {}
        self.owned: set[str] = set()

    def try_claim(self, name: str) -> bool:
        """Take ownership of a projection if nobody holds it; True when this worker owns it."""
        if name in self.owned:
            return True
        if self.conn.dialect.name == "postgresql":
            claimed = bool(
                self.conn.execute(
                    text("SELECT pg_try_advisory_lock(:ns, :key)"),
                    {"ns": LOCK_NAMESPACE, "key": _lock_key(name)},
                ).scalar_one()
            )
            self.conn.commit()
        else:
            claimed = self._claim_file(name)
        if claimed:
            self.owned.add(name)
        return claimed

    def _claim_file(self, name: str) -> bool:
        database = self.conn.engine.url.database
        if not database or database == ":memory:":
            return True  # a private in-memory database has no other workers
        path = Path(f"{database}.{name}.lock")
        handle = path.open("ab")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        os.set_inheritable(handle.fileno(), False)
        self._files[name] = handle
        return True

    def release(self, name: str) -> None:
        """Give up one claim, so that another worker may take it."""
        if name not in self.owned:
            return
        self.owned.discard(name)
        if self.conn.dialect.name == "postgresql":
            self.conn.execute(
                text("SELECT pg_advisory_unlock(:ns, :key)"),
                {"ns": LOCK_NAMESPACE, "key": _lock_key(name)},
            )
            self.conn.commit()
        handle = self._files.pop(name, None)
        if handle is not None:
            handle.close()

    def release_all(self) -> None:
        """Give up every projection (PostgreSQL releases on disconnect anyway)."""
        if self.conn.dialect.name == "postgresql" and not self.conn.closed:
            self.conn.execute(text("SELECT pg_advisory_unlock_all()"))
            self.conn.commit()
        for handle in self._files.values():
            handle.close()
        self._files.clear()
        self.owned.clear()


REBUILD_LOCK_KEY = -1
"""Second key of the advisory lock that lets one rebuild run at a time."""


@contextmanager
def rebuild_lock(engine: Engine) -> Iterator[None]:
    """Wait until no other rebuild runs, then hold that right until the block ends.

    Two rebuilds at once would share shadow tables; one would swap in the other's
    half-filled copy.
    """
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(
                text("SELECT pg_advisory_lock(:ns, :key)"),
                {"ns": LOCK_NAMESPACE, "key": REBUILD_LOCK_KEY},
            )
            conn.commit()
            try:
                yield
            finally:
                conn.execute(
                    text("SELECT pg_advisory_unlock(:ns, :key)"),
                    {"ns": LOCK_NAMESPACE, "key": REBUILD_LOCK_KEY},
                )
                conn.commit()
        return
    database = engine.url.database
    if not database or database == ":memory:":
        yield
        return
    with Path(f"{database}.rebuild.lock").open("ab") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
