"""Eight concurrent writers on PostgreSQL: our store against the bare driver.

Each writer is a process of its own (no shared interpreter lock) with its own
connection, appending one event per transaction to its own incident streams. Ours go
through EventStore.append, which serialises every writer of the log on one
transaction-scoped advisory lock so that positions become visible in order and a
follower never skips one; the driver's writers insert into ``raw_events`` with no lock
at all, so their positions may commit out of order. Throughput counts every append of
every writer between the first start and the last finish.
"""

from __future__ import annotations

import multiprocessing
import time
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

from bench.appends import history, new_event
from bench.common import engine_for, fresh_database
from bench.raw_driver import RawAppender, create_raw_table
from bench.stats import Figures
from eventstore.store import EventStore

WRITERS = 8


def _write(kind: str, url: str, rows: list[dict[str, Any]], start: Barrier, out: Any) -> None:
    if kind == "ours":
        engine = engine_for(url)
        store = EventStore(engine)
        store.head_position()  # connect before the clock starts
        start.wait()
        began = time.perf_counter()
        for row in rows:
            store.append(row["stream_id"], [new_event(row)], row["version"] - 1)
        out.put((began, time.perf_counter()))
        engine.dispose()
        return
    appender = RawAppender(url)
    start.wait()
    began = time.perf_counter()
    for row in rows:
        appender.append(row)
    out.put((began, time.perf_counter()))
    appender.close()


def _race(kind: str, url: str, per_writer: int) -> float:
    """Appends per second of WRITERS processes writing ``per_writer`` events each."""
    context = multiprocessing.get_context("fork")
    start = context.Barrier(WRITERS)
    out = context.Queue()
    writers = [
        context.Process(
            target=_write,
            args=(kind, url, history(per_writer, seed=1000 + number), start, out),
        )
        for number in range(WRITERS)
    ]
    for writer in writers:
        writer.start()
    spans = [out.get(timeout=600) for _ in writers]
    for writer in writers:
        writer.join()
        if writer.exitcode != 0:
            raise RuntimeError(f"a {kind} writer exited with {writer.exitcode}")
    elapsed: float = max(end for _, end in spans) - min(began for began, _ in spans)
    return WRITERS * per_writer / elapsed


def run(per_writer: int, workdir: Path, number: int) -> Figures:
    """One run on a fresh PostgreSQL database: ours and the driver, order alternating."""
    with fresh_database("postgresql", workdir) as url:
        engine = engine_for(url)
        create_raw_table(engine)
        engine.dispose()
        order = ["ours", "raw"] if number % 2 == 0 else ["raw", "ours"]
        figures = {f"{kind}_per_s": _race(kind, url, per_writer) for kind in order}
    figures["ours_vs_raw"] = figures["ours_per_s"] / figures["raw_per_s"]
    return figures
