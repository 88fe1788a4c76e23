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
from dataclasses import dataclass, field
from hashlib import sha256

from sqlalchemy import Connection, text

from eventstore.bulk_read import read_events_after
from eventstore.chain import GENESIS, canonical_bytes
from eventstore.chain_sqlite import ROWS, canonical_row

BATCH = 5000
UNCHAINED = "the event has no chain hash: it was written around the service"
MISSING = "a chained event is missing from the log"
_STORED = text(
    "SELECT position, chain_hash FROM event_chain WHERE position > :after"
    " ORDER BY position LIMIT :limit"
)


@dataclass
class Verdict:
    """What a walk found: ``bad_position`` is None when every event and hash matched."""

    events: int = 0
    head_position: int = 0
    head_hash: bytes = GENESIS
    bad_position: int | None = None
    reason: str | None = None
    at: dict[int, bytes] = field(default_factory=dict)
    """The recomputed hash at each position asked for (a checkpoint's), where reached."""

    @property
    def ok(self) -> bool:
        return self.bad_position is None


def verify_chain(
    conn: Connection,
    *,
    positions: Collection[int] = (),
    progress: Callable[[int], object] | None = None,
) -> Verdict:
    """Walk the whole log in position order beside ``event_chain``; stop at the first
    mismatch. ``positions``: where to note the recomputed hash (checkpoints)."""
    verdict = Verdict()
    wanted = set(positions)
    previous = GENESIS
    after = 0
    stored: deque[tuple[int, str]] = deque()
    read_to = 0
    sqlite = conn.dialect.name == "sqlite"
    while True:
        batch = _sqlite_batch(conn, after) if sqlite else _batch(conn, after)
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
                return _bad(
                    verdict,
                    event.position,
                    "the event's content or place differs from what was chained",
                )
            if event.position in wanted:
                verdict.at[event.position] = previous
            verdict.events += 1
            verdict.head_position = event.position
            verdict.head_hash = previous
        after = batch[-1].position
        if progress is not None:
            progress(after)
    if stored:
        return _bad(verdict, stored[0][0], MISSING)
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


def _sqlite_batch(conn: Connection, after: int) -> list[_Walked]:
    # The driver's own cursor: the walk reads every row once and wants them as stored.
    cursor = conn.connection.driver_connection.execute(ROWS, (after, BATCH))  # type: ignore[union-attr]
    return [_Walked(row[0], canonical_row(row)) for row in cursor.fetchall()]


def _bad(verdict: Verdict, position: int, reason: str) -> Verdict:
    verdict.bad_position = position
    verdict.reason = reason
    return verdict
