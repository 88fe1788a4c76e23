"""A fresh database holding generated incident histories, for workloads that read a big log."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.common import engine_for, fresh_database
from bench.history import load
from eventstore.store import EventStore
from projections.runner import ProjectionRunner


@contextmanager
def preloaded(backend: str, events: int, workdir: Path) -> Iterator[tuple[str, int]]:
    """A migrated database with about ``events`` generated events: (url, events loaded)."""
    with fresh_database(backend, workdir) as url:
        engine = engine_for(url)
        started = time.perf_counter()
        loaded = load(engine, events)
        engine.dispose()
        print(
            f"  {backend}: loaded {loaded:,} events in {time.perf_counter() - started:.1f}s",
            flush=True,
        )
        yield url, loaded


def rebuild_here(url: str) -> tuple[int, float]:
    """Rebuild every projection in this process: (events in the log, seconds)."""
    engine = engine_for(url)
    try:
        events = EventStore(engine).head_position()
        started = time.perf_counter()
        ProjectionRunner().rebuild(engine)
        return events, time.perf_counter() - started
    finally:
        engine.dispose()
