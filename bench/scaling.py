"""Append and timeline-read latency as the log grows (10k, 100k, 1M events stored).

One database per backend grows from size to size: each step adds generated incident
histories (another seed, so other incidents) and rebuilds the read models in a child
process (its rate and peak RSS are recorded too: memory should not grow with the log).
Then each run measures one-event appends through EventStore.append (the next event of
new incidents, at their expected version) and timeline reads of random stored incidents
(``get_timeline``, what GET /incidents/{id}/timeline runs), each on a connection from
the pool as a request would take it.
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from uuid import UUID

from sqlalchemy import Engine, select

from bench.appends import history, new_event
from bench.common import engine_for, fresh_database, run_child
from bench.history import load
from bench.stats import Figures, latency_figures, repeat
from eventstore.schema import events
from eventstore.store import EventStore
from projections.timeline import get_timeline

INCIDENT_PREFIX = "incident-"


def label(size: int) -> str:
    """10000 -> '10k', 1000000 -> '1M'."""
    if size >= 1_000_000 and size % 1_000_000 == 0:
        return f"{size // 1_000_000}M"
    if size >= 1000 and size % 1000 == 0:
        return f"{size // 1000}k"
    return str(size)


class GrowingLog:
    """A database that is grown to each size in turn, read models rebuilt at each."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = engine_for(url)
        self.stored = 0
        self.incidents: list[UUID] = []

    def grow_to(self, size: int) -> Figures:
        """Load events up to ``size``, rebuild; the rebuild's rate and peak RSS."""
        if size > self.stored:
            self.stored += load(self.engine, size - self.stored, seed=100 + size % 997)
        done = run_child("bench.rebuild_child", self.url)
        self.incidents = _incidents(self.engine)
        return {
            "rebuild_per_s": done["events"] / done["seconds"],
            "rebuild_peak_rss_mib": done["peak_rss_mib"],
        }

    def measure(self, samples: int, seed: int) -> Figures:
        """``samples`` one-event appends and ``samples`` timeline reads: p50 and p99."""
        store = EventStore(self.engine)
        appended = []
        for row in history(samples, seed=seed):
            event = new_event(row)
            started = time.perf_counter()
            store.append(row["stream_id"], [event], row["version"] - 1)
            appended.append(time.perf_counter() - started)
        self.stored += samples
        rng = random.Random(seed)
        read = []
        for incident_id in rng.choices(self.incidents, k=samples):
            started = time.perf_counter()
            with self.engine.connect() as conn:
                get_timeline(conn, incident_id, limit=500)
            read.append(time.perf_counter() - started)
        return {**latency_figures("append", appended), **latency_figures("timeline", read)}

    def dispose(self) -> None:
        self.engine.dispose()


def _incidents(engine: Engine) -> list[UUID]:
    query = select(events.c.stream_id).where(
        events.c.version == 1, events.c.stream_id.startswith(INCIDENT_PREFIX)
    )
    with engine.connect() as conn:
        return [UUID(stream[len(INCIDENT_PREFIX) :]) for stream in conn.scalars(query)]


def measure(
    backend: str, sizes: list[int], runs: int, samples: int, workdir: Path
) -> dict[str, list[Figures]]:
    """Every size's runs, keyed by its label."""
    results: dict[str, list[Figures]] = {}
    with fresh_database(backend, workdir) as url:
        log = GrowingLog(url)
        try:
            for size in sorted(sizes):
                started = time.perf_counter()
                rebuilt = log.grow_to(size)
                print(
                    f"  {backend} at {label(size)}: grown and rebuilt in"
                    f" {time.perf_counter() - started:.1f}s",
                    flush=True,
                )
                results[label(size)] = repeat(
                    runs,
                    lambda number, size=size, rebuilt=rebuilt: {  # type: ignore[misc]
                        **rebuilt,
                        **log.measure(samples, seed=10_000 + size + number),
                    },
                    f"{backend} at {label(size)}",
                )
        finally:
            log.dispose()
    return results
