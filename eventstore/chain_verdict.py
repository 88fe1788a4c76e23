"""What a walk of the log against its hash chain found (eventstore/chain_verify.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from eventstore.chain import GENESIS

UNCHAINED = "the event has no chain hash: it was written around the service"
MISSING = "a chained event is missing from the log: the chain breaks where positions skip this one"
CHANGED = "the event's content or place differs from what was chained"
UNREADABLE = (
    "the event's stored content is not what the service writes (its JSON or a time does not"
    " read): it was changed after it was chained"
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

    def broken(self, position: int, after: int) -> Verdict:
        """The event at ``position`` does not chain after the one at ``after``: an event
        between them was taken out of the log when positions skip (appends number them
        without gaps; a PostgreSQL log from before they did has gaps of rolled back
        appends, after which a changed event reads as a missing one), else this one was
        changed or moved."""
        if position > after + 1:
            return self.bad(after + 1, MISSING)
        return self.bad(position, CHANGED)

    def bad(self, position: int, reason: str) -> Verdict:
        self.bad_position = position
        self.reason = reason
        return self

    def then(self, later: Verdict) -> Verdict:
        """This walk of the log's first part followed by ``later``'s walk of the next part."""
        self.events += later.events
        if later.events:
            self.head_position, self.head_hash = later.head_position, later.head_hash
        self.at.update(later.at)
        self.bad_position, self.reason = later.bad_position, later.reason
        return self
