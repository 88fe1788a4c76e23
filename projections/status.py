"""How far each projection has come: for readiness, metrics and read-your-writes."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine

from eventstore.store import head_position_in
from projections.base import Projection
from projections.checkpoints import load_checkpoints


@dataclass(frozen=True, slots=True)
class ProjectionStatus:
    name: str
    version: int
    stored_version: int | None
    position: int
    lag: int

    @property
    def outdated(self) -> bool:
        """Its code changed since its tables were built: a rebuild is due or running."""
        return self.stored_version is not None and self.stored_version != self.version


def statuses(engine: Engine, projections: Sequence[Projection]) -> list[ProjectionStatus]:
    """Every projection's checkpoint against the head of the log."""
    with engine.connect() as conn:
        head = head_position_in(conn)
        stored = load_checkpoints(conn)
    result = []
    for projection in projections:
        checkpoint = stored.get(projection.name)
        position = checkpoint.position if checkpoint else 0
        result.append(
            ProjectionStatus(
                name=projection.name,
                version=projection.version,
                stored_version=checkpoint.version if checkpoint else None,
                position=position,
                lag=max(head - position, 0),
            )
        )
    return result


def wait_for_position(
    engine: Engine, projections: Sequence[Projection], position: int, timeout: float
) -> list[ProjectionStatus]:
    """Wait until every projection has applied ``position``; the laggards when time runs out."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        behind = [s for s in statuses(engine, projections) if s.position < position]
        if not behind or time.monotonic() >= deadline:
            return behind
        time.sleep(min(delay, max(deadline - time.monotonic(), 0)))
        delay = min(delay * 2, 0.1)
