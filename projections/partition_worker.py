"""One process of a partitioned rebuild: replays the events of one set of streams.

Every read-model row belongs to one incident, and an incident's events are one stream,
so the streams of one partition fold into rows no other partition touches. The worker
rebuilds its projections from their names, reads its partition's events up to the
position the rebuild started from, in committed pages, and writes the rows into the
shadow tables: those of the log's database on PostgreSQL, where writers of different
rows do not wait for each other. SQLite lets one transaction write at a time, so there
each worker writes into a scratch file of its own, without a journal, which the rebuild
merges afterwards.
"""

from __future__ import annotations

import gc
import traceback
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from multiprocessing.queues import Queue
from typing import Any

from sqlalchemy import Connection, event

from eventstore.bulk_read import first_position_after, read_events_between
from eventstore.engine import WRITE, create_engine
from eventstore.sealed_text import TextVault, install_vault
from eventstore.stream_partitions import StreamPartition
from projections.base import envelope
from projections.defaults import default_projections
from projections.shadow_tables import shadow_of

Report = tuple[str, int, Any]
"""What a worker tells the rebuild: ("progress", partition, events), ("done", partition,
events) or ("failed", partition, (error, traceback))."""


@dataclass(frozen=True, slots=True)
class PartitionJob:
    """Everything a worker needs, sent to a new process: plain values only."""

    url: str
    names: tuple[str, ...]
    partition: int
    """Its number, for reports."""
    streams: StreamPartition
    until: int
    span: int
    """Positions per page: the partition holds about its share of them."""
    scratch: str | None = None
    """A SQLite file to write the rows into instead of the log's database."""
    vault: TextVault | None = None
    """What opens the log's sealed text (the rebuilding engine's)."""


def _without_journal(dbapi_connection: Any, _record: Any) -> None:
    # A private file, deleted after the merge and after any failure: nothing to roll
    # back or to recover after a crash, so nothing worth journaling or syncing.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=OFF")
    cursor.close()


@contextmanager
def _connections(job: PartitionJob) -> Iterator[tuple[Connection, Connection]]:
    """The connection reading the log and the one writing the rows."""
    with ExitStack() as stack:
        source = create_engine(job.url)
        stack.callback(source.dispose)
        if job.vault is not None:
            install_vault(source, job.vault)
        reader = stack.enter_context(source.connect())
        if reader.dialect.name == "postgresql":
            # psycopg then gives times in its own UTC, which converting to UTC leaves as is.
            reader.exec_driver_sql("SET TIME ZONE 'UTC'")
            reader.commit()
        target = source
        if job.scratch is not None:
            target = create_engine(f"sqlite:///{job.scratch}", sqlite_synchronous="OFF")
            event.listen(target, "connect", _without_journal)
            stack.callback(target.dispose)
        yield reader, stack.enter_context(target.connect().execution_options(**WRITE))


def replay_partition(job: PartitionJob, progress: Callable[[int], None]) -> int:
    """Fold the partition's events up to ``job.until`` into the shadow tables; the count."""
    chosen = [p for p in default_projections() if p.name in job.names]
    shadows = {table.name: shadow_of(table) for p in chosen for table in p.tables}
    building = [p.using(shadows) for p in chosen]
    streams = job.streams.condition()
    replayed = 0
    with _connections(job) as (reader, writer):
        if job.scratch is not None:
            with writer.begin():
                for shadow in shadows.values():
                    shadow.create(writer)
        # A page is a range of positions, so never more events than that whatever the
        # partition's share of them.
        after = 0
        while after < job.until:
            upto = min(after + job.span, job.until)
            with reader.begin():
                page = read_events_between(reader, after, upto, streams)
                following = first_position_after(reader, upto) if not page else None
            if not page:
                # Over a stretch without this partition's events in one step.
                after = job.until if following is None else following - 1
                continue
            envelopes = [envelope(r) for r in page]
            with writer.begin():
                for target in building:
                    target.apply(writer, envelopes)
            after = upto
            replayed += len(page)
            progress(len(page))
    return replayed


def run_partition(job: PartitionJob, reports: Queue[Report]) -> None:
    """A worker process's entry point: replay, then say how it went (never raises)."""
    # What importing made lives as long as the process: spare the collector walking it
    # again on every full collection, which a replay's stream of new objects sets off.
    gc.freeze()
    try:
        count = replay_partition(job, lambda n: reports.put(("progress", job.partition, n)))
    except BaseException as exc:
        error = f"{type(exc).__name__}: {exc}"
        reports.put(("failed", job.partition, (error, traceback.format_exc())))
    else:
        reports.put(("done", job.partition, count))
