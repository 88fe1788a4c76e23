"""Asynchronous projection workers: follow the log in batches, one owner per projection."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

import structlog
from sqlalchemy import Connection, Engine

from eventstore.notify import Listener
from eventstore.store import read_all_in
from projections.base import Projection, envelope
from projections.checkpoints import advance_checkpoints, lock_checkpoint
from projections.ownership import Ownership

log = structlog.get_logger()


class ProjectionWorker:
    """Applies owned projections batch by batch; each batch commits with its checkpoint.

    A crash at any point loses at most the uncommitted batch, which the next owner
    applies again from the last committed checkpoint: no event is applied twice or lost.
    """

    def __init__(
        self,
        engine: Engine,
        projections: Sequence[Projection],
        *,
        batch_size: int = 500,
        poll_interval: float = 0.5,
        rebuild: Callable[[Projection], object] | None = None,
    ) -> None:
        self.engine = engine
        self.projections = list(projections)
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self._rebuild = rebuild

    def run(self, stop: threading.Event | None = None, *, once: bool = False) -> None:
        """Work until ``stop`` is set (or, with ``once``, until every owned projection is caught up)."""
        stop = stop or threading.Event()
        with self.engine.connect() as conn, Listener(self.engine) as listener:
            ownership = Ownership(conn)
            try:
                while not stop.is_set():
                    applied = self._round(conn, ownership)
                    if once and applied == 0:
                        return
                    if applied == 0:
                        listener.wait(self.poll_interval)
            finally:
                ownership.release_all()

    def _round(self, conn: Connection, ownership: Ownership) -> int:
        applied = 0
        for projection in self.projections:
            if not ownership.try_claim(projection.name):
                continue
            applied += self.step(conn, projection)
        return applied

    def step(self, conn: Connection, projection: Projection) -> int:
        """Apply one batch to a projection this worker owns; the number of events applied."""
        started = time.perf_counter()
        with conn.begin():
            checkpoint = lock_checkpoint(conn, projection)
            outdated = checkpoint.version != projection.version and self._rebuild is not None
            batch = [] if outdated else read_all_in(conn, checkpoint.position, self.batch_size)
            if batch:
                projection.apply(conn, [envelope(r) for r in batch])
                advance_checkpoints(conn, [projection], batch[-1].position)
        if outdated and self._rebuild is not None:
            log.info("projection.rebuild", projection=projection.name)
            self._rebuild(projection)
            return 1
        if not batch:
            return 0
        log.debug(
            "projection.batch",
            projection=projection.name,
            events=len(batch),
            position=batch[-1].position,
            ms=round((time.perf_counter() - started) * 1000, 1),
        )
        return len(batch)
