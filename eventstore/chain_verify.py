"""Walking the log against its hash chain: the first position whose content, order or hash
does not match, and the recomputed hash at any positions a caller holds checkpoints of.

The walk recomputes every hash from the events themselves, starting from the genesis
hash, and compares it with the stored one: a changed byte, two events swapped, an event
removed or one inserted around the service all break it at their position, and every
stored hash after it then disagrees with the recomputed chain too.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Collection
from hashlib import sha256

from sqlalchemy import Connection, text

from eventstore.bulk_read import read_events_after
from eventstore.chain import GENESIS, canonical_bytes
from eventstore.chain_verdict import CHANGED, MISSING, UNCHAINED, Verdict
from eventstore.chain_verify_sqlite import verify_sqlite

__all__ = ["MISSING", "UNCHAINED", "Verdict", "verify_chain"]

BATCH = 5000
_STORED = text(
    "SELECT position, chain_hash FROM event_chain WHERE position > :after"
    " ORDER BY position LIMIT :limit"
)


def verify_chain(
    conn: Connection,
    *,
    positions: Collection[int] = (),
    progress: Callable[[int], object] | None = None,
    processes: int = 1,
) -> Verdict:
    """Walk the whole log in position order beside ``event_chain``; stop at the first
    mismatch. ``positions``: where to note the recomputed hash (checkpoints).
    ``processes``: on a SQLite file of many events, walk ranges of it in that many
    processes at once (eventstore/chain_verify_sqlite.py); ``progress`` is then not called.
    """
    if conn.dialect.name == "sqlite":
        driver = conn.connection.driver_connection
        return verify_sqlite(driver, set(positions), progress, processes)
    verdict = Verdict()
    wanted = set(positions)
    previous = GENESIS
    after = 0
    stored: deque[tuple[int, str]] = deque()
    read_to = 0
    while True:
        batch = _batch(conn, after)
        if len(stored) <= len(batch):
            rows = conn.execute(_STORED, {"after": read_to, "limit": BATCH * 2}).all()
            stored.extend((int(p), str(h)) for p, h in rows)
            read_to = stored[-1][0] if stored else read_to
        if not batch:
            break
        for event in batch:
            if not stored or stored[0][0] > event.position:
                return _bad(verdict, event.position, UNCHAINED)
            if stored[0][0] < event.position:
                return _bad(verdict, stored[0][0], MISSING)
            _, expected = stored.popleft()
            previous = sha256(previous + event.canonical).digest()
            if previous.hex() != expected:
                return _bad(verdict, event.position, CHANGED)
            if event.position in wanted:
                verdict.at[event.position] = previous
            verdict.events += 1
            verdict.head_position = event.position
            verdict.head_hash = previous
        after = batch[-1].position
        if progress is not None:
            progress(after)
    if stored and not _appended_since(conn, stored[0][0]):
        return _bad(verdict, stored[0][0], MISSING)
    return verdict


def _appended_since(conn: Connection, position: int) -> bool:
    """Whether the event at ``position`` exists now: appended (with its chain row) after the
    walk read its last page, as a live log's appends go on; not missing, then."""
    found = conn.execute(text("SELECT 1 FROM events WHERE position = :p"), {"p": position})
    return found.first() is not None


class _Walked:
    """An event as the walk needs it: its position and its canonical bytes."""

    __slots__ = ("canonical", "position")

    def __init__(self, position: int, canonical: bytes) -> None:
        self.position = position
        self.canonical = canonical


def _batch(conn: Connection, after: int) -> list[_Walked]:
    return [
        _Walked(e.position, canonical_bytes(e))
        for e in read_events_after(conn, after, BATCH, as_stored=True)
    ]


def _bad(verdict: Verdict, position: int, reason: str) -> Verdict:
    return verdict.bad(position, reason)
