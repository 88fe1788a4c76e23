"""Eight concurrent writers on PostgreSQL: our store and our service against the bare driver.

``ours`` and ``raw``: each writer is a process of its own (no shared interpreter lock)
with its own connection, appending one event per transaction to its own incident
streams. Ours go through EventStore.append, which serialises every writer of the log on
one transaction-scoped advisory lock so that positions become visible in order and a
follower never skips one; the driver's writers insert into ``raw_events`` with no lock
at all, so their positions may commit out of order.

``service``: the eight writers are threads of one process issuing AddNote commands
through IncidentService, whose one command writer commits whatever is waiting in one
transaction (bench/service_writers.py). Each event is one command's, so its rate is
comparable with the others'; the events per committed transaction say how much the
writers shared.

Throughput counts every append of every writer between the first start and the last
finish. The three take turns in an order that rotates from run to run.
"""

from __future__ import annotations

import multiprocessing
import queue
import time
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

from bench import service_writers
from bench.appends import history, new_event
from bench.common import engine_for, fresh_database
from bench.raw_driver import RawAppender, create_raw_table
from bench.stats import Figures
from eventstore.store import EventStore

WRITERS = 8
CONTENDERS = ["ours", "raw", "service"]


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


def _service(url: str, per_writer: int, out: Any) -> None:
    out.put(service_writers.race(url, WRITERS, per_writer))


def _answer(child: BaseProcess, out: Any) -> dict[str, Any]:
    """What the child put in ``out``; an error as soon as it died without answering."""
    while True:
        try:
            answer: dict[str, Any] = out.get(timeout=1)
            return answer
        except queue.Empty:
            if not child.is_alive():
                raise RuntimeError(f"the service's writers exited with {child.exitcode}") from None


def _race_service(url: str, per_writer: int) -> tuple[float, float]:
    """(events per second, events per transaction) of WRITERS threads of one child process,
    which starts as the others' writers do: forked from here, nothing shared with this one."""
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    child = context.Process(target=_service, args=(url, per_writer, out))
    child.start()
    try:
        figures = _answer(child, out)
    finally:
        child.join()
    return WRITERS * per_writer / figures["seconds"], figures["events_per_commit"]


def run(per_writer: int, workdir: Path, number: int) -> Figures:
    """One run on a fresh PostgreSQL database: the three contenders, order rotating."""
    with fresh_database("postgresql", workdir) as url:
        engine = engine_for(url)
        create_raw_table(engine)
        engine.dispose()
        turn = number % len(CONTENDERS)
        figures: Figures = {}
        for kind in CONTENDERS[turn:] + CONTENDERS[:turn]:
            if kind == "service":
                rate, per_commit = _race_service(url, per_writer)
                figures["service_per_s"] = rate
                figures["service_events_per_commit"] = per_commit
            else:
                figures[f"{kind}_per_s"] = _race(kind, url, per_writer)
    figures["ours_vs_raw"] = figures["ours_per_s"] / figures["raw_per_s"]
    figures["service_vs_raw"] = figures["service_per_s"] / figures["raw_per_s"]
    return figures
