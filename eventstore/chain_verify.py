"""Walking the log against its hash chain: the first position whose content, order or hash
does not match, and the recomputed hash at any positions a caller holds checkpoints of.

The walk recomputes every hash from the events themselves, starting from the genesis
hash, and compares it with the stored one: a changed byte, two events swapped, an event
removed or one inserted around the service all break it at their position, and every
stored hash after it then disagrees with the recomputed chain too.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from hashlib import sha256

from sqlalchemy import Connection, text

from eventstore.bulk_read import read_events_after
from eventstore.chain import GENESIS, canonical_bytes
from eventstore.chain_verdict import CHANGED, MISSING, UNCHAINED, Verdict
from eventstore.chain_verify_sqlite import verify_sqlite

__all__ = ["CHANGED", "MISSING", "UNCHAINED", "Verdict", "verify_chain"]

BATCH = 5000
_STORED = text(
    "SELECT position, chain_hash FROM events WHERE position > :after AND position <= :last"
)


def verify_chain(
    conn: Connection,
    *,
    positions: Collection[int] = (),
    progress: Callable[[int], object] | None = None,
    processes: int = 1,
) -> Verdict:
    """Walk the whole log in position order, each event against its stored hash; stop at
    the first mismatch. ``positions``: where to note the recomputed hash (checkpoints).
    ``processes``: on a SQLite file of many events, walk ranges of it in that many
    processes at once (eventstore/chain_verify_sqlite.py); ``progress`` is then not called.
    """
    if conn.dialect.name == "sqlite":
        driver = conn.connection.driver_connection
        return verify_sqlite(driver, set(positions), progress, processes)
    verdict = Verdict()
    wanted = set(positions)
    previous, previous_position = GENESIS, 0
    while batch := _batch(conn, previous_position):
        # The hashes of the same positions, read apart: the events come decoded as the
        # store reads them, which their canonical bytes are made from.
        rows = conn.execute(_STORED, {"after": previous_position, "last": batch[-1].position})
        stored = {int(position): digest for position, digest in rows}
        for event in batch:
            expected = stored.get(event.position)
            if expected is None:
                return verdict.bad(event.position, UNCHAINED)
            link = sha256(previous + event.canonical).digest()
            if link.hex() != expected:
                return verdict.broken(event.position, previous_position)
            previous, previous_position = link, event.position
            if event.position in wanted:
                verdict.at[event.position] = link
            verdict.events += 1
            verdict.head_position = event.position
            verdict.head_hash = link
        if progress is not None:
            progress(previous_position)
    return verdict


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
