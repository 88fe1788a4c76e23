"""One event per transaction: our EventStore.append, the bare driver and ``eventsourcing``.

All three write into the same fresh database in one run, in an order that rotates
from run to run. Ours and the driver write the same generated incident histories
(bench/history.py: each append is the next event of its incident, at its expected
version); the library saves an aggregate after each new note.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from itertools import islice
from pathlib import Path
from typing import Any

from bench import peer_eventsourcing as peer
from bench.common import engine_for, fresh_database
from bench.history import rows
from bench.raw_driver import RawAppender, create_raw_table
from bench.stats import Figures, latency_figures
from eventstore.records import NewEvent
from eventstore.store import EventStore

WARMUP = 20


def new_event(row: dict[str, Any]) -> NewEvent:
    """The generated log row as the event a command would have appended."""
    return NewEvent(
        event_id=row["event_id"],
        type=row["type"],
        data=row["data"],
        occurred_at=row["occurred_at"],
        schema_version=row["schema_version"],
        metadata=row["metadata"],
    )


def history(count: int, seed: int = 11) -> list[dict[str, Any]]:
    """Exactly ``count`` log rows of complete incident histories."""
    return list(islice(rows(count, seed=seed), count))


def ours(store: EventStore, batch: list[dict[str, Any]]) -> list[float]:
    """Seconds per EventStore.append of one event at its expected version."""
    latencies = []
    for row in batch:
        event = new_event(row)
        started = time.perf_counter()
        store.append(row["stream_id"], [event], row["version"] - 1)
        latencies.append(time.perf_counter() - started)
    return latencies


def raw(appender: RawAppender, batch: list[dict[str, Any]]) -> list[float]:
    """Seconds per bare-driver insert of the same row, one transaction each."""
    latencies = []
    for row in batch:
        started = time.perf_counter()
        appender.append(row)
        latencies.append(time.perf_counter() - started)
    return latencies


def run(backend: str, count: int, workdir: Path, number: int) -> Figures:
    """One run: ``count`` measured appends each way (after WARMUP unmeasured ones)."""
    batch = history(WARMUP + count)
    with fresh_database(backend, workdir) as url:
        engine = engine_for(url)
        create_raw_table(engine)
        store = EventStore(engine)
        appender = RawAppender(url)

        def measure_ours() -> list[float]:
            return ours(store, batch)[WARMUP:]

        def measure_raw() -> list[float]:
            return raw(appender, batch)[WARMUP:]

        def measure_peer() -> list[float]:
            with peer.application(url) as app:
                return peer.append_one_per_transaction(app, count, WARMUP)

        contenders: list[tuple[str, Callable[[], list[float]]]] = [
            ("ours", measure_ours),
            ("raw", measure_raw),
            ("eventsourcing", measure_peer),
        ]
        shift = number % len(contenders)
        figures: Figures = {}
        try:
            for name, measure in contenders[shift:] + contenders[:shift]:
                latencies = measure()
                figures[f"{name}_per_s"] = len(latencies) / sum(latencies)
                figures.update(latency_figures(name, latencies))
        finally:
            appender.close()
            engine.dispose()
    figures["ours_vs_raw"] = figures["ours_per_s"] / figures["raw_per_s"]
    figures["ours_vs_eventsourcing"] = figures["ours_per_s"] / figures["eventsourcing_per_s"]
    return figures
