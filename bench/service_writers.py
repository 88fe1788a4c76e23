"""Concurrent writers in one process through IncidentService: the command writer's group commit.

Each writer is a thread with an incident of its own, issuing one AddNote command after
another and waiting for each (``IncidentService.execute``, what a command route awaits).
The process's one command writer takes whatever commands are waiting and commits them
in one transaction under the append lock, so concurrent writers share commits (and
their WAL flushes) instead of queueing for the lock one commit each.

The service is built as the composition root builds it, with ``projection_mode=worker``:
the other contenders of bench/concurrent_writers.py write events only, and so does this
one (read models would be kept by ``incidents project``).
"""

from __future__ import annotations

import threading
import time
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import Engine, bindparam, text

from application.bootstrap import build
from application.service import CommandContext, IncidentService
from application.settings import Settings
from domain.commands import AddNote, DeclareIncident
from domain.values import Severity, stream_id_for

CONTEXT = CommandContext({"actor": "bench", "source": "bench"})
NOTE = "Error rate back under 1% after the rollback of deploy 4812"
# Every row of a transaction carries its id in xmin: distinct ids are committed transactions.
TRANSACTIONS = text(
    "SELECT count(*), count(DISTINCT xmin::text) FROM events"
    " WHERE stream_id IN :streams AND version > 1"
).bindparams(bindparam("streams", expanding=True))


def _declare(service: IncidentService, writers: int) -> list[UUID]:
    incidents = [uuid4() for _ in range(writers)]
    for incident_id in incidents:
        command = DeclareIncident(
            incident_id=incident_id,
            at=service.now(),
            title="Checkout returns 502",
            severity=Severity.SEV2,
            services=("checkout",),
        )
        service.execute(command, CONTEXT)
    return incidents


def _writer(
    service: IncidentService,
    incident_id: UUID,
    count: int,
    start: threading.Barrier,
    failures: list[BaseException],
) -> None:
    start.wait()
    try:
        for _ in range(count):
            note = AddNote(incident_id=incident_id, at=service.now(), note_id=uuid4(), text=NOTE)
            service.execute(note, CONTEXT)
    except BaseException as exc:  # reported by race(), not lost with the thread
        failures.append(exc)


def events_per_commit(engine: Engine, incidents: list[UUID]) -> float:
    """Notes stored over the transactions that stored them."""
    streams = [stream_id_for(incident_id) for incident_id in incidents]
    with engine.connect() as conn:
        events, transactions = conn.execute(TRANSACTIONS, {"streams": streams}).one()
    return float(events) / transactions if transactions else 0.0


def timed_writers(
    service: IncidentService, writers: int, per_writer: int
) -> tuple[float, list[UUID]]:
    """``writers`` threads adding ``per_writer`` notes each to an incident of their own: the
    seconds from their common start to the last one's end, and their incidents."""
    incidents = _declare(service, writers)  # connects and warms the writer up, unclocked
    start = threading.Barrier(writers + 1)
    failures: list[BaseException] = []
    threads = [
        threading.Thread(target=_writer, args=(service, incident_id, per_writer, start, failures))
        for incident_id in incidents
    ]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    if failures:
        raise failures[0]
    return seconds, incidents


def race(url: str, writers: int, per_writer: int) -> dict[str, Any]:
    """``writers`` threads adding ``per_writer`` notes each: the span and the commit sizes."""
    runtime = build(Settings(database_url=url, projection_mode="worker", log_level="WARNING"))
    try:
        seconds, incidents = timed_writers(runtime.service, writers, per_writer)
        return {
            "seconds": seconds,
            "events_per_commit": events_per_commit(runtime.engine, incidents),
        }
    finally:
        runtime.close()
