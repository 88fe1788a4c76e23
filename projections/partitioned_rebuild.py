"""The replay of a rebuild split over processes, one partition of the streams each.

The rebuild (projections/rebuild.py) creates the shadow tables, takes the head of the
log, and hands the replay up to that head to worker processes
(projections/partition_worker.py); it then catches up and swaps as it does alone.
Workers start with "spawn", never "fork": a rebuild also runs inside a server with
threads, whose locks a forked child would inherit in whatever state they were.
"""

from __future__ import annotations

import glob
import multiprocessing
import os
import queue
import shutil
import tempfile
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from pathlib import Path

import structlog
from sqlalchemy import Engine, Table

from eventstore.sealed_text import vault_of
from eventstore.stream_partitions import partition_streams
from projections.partition_worker import PartitionJob, Report, run_partition
from projections.scratch_merge import merge_scratch_files
from projections.spare_connections import spare_engine

log = structlog.get_logger()

PARALLEL_FROM = 20_000
"""Below this many events, starting processes costs more than it saves."""

MAX_PROCESSES = 4

SCRATCH_SUFFIX = ".rebuild-"
"""Ends the name of the database file and starts that of the folder of scratch files."""

_POLL_SECONDS = 0.2


class PartitionFailed(RuntimeError):
    """A worker of a partitioned rebuild failed; the rebuild stops before its swap."""

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.details = details
        """The worker's traceback, when it could send one."""


def default_processes() -> int:
    """One worker per CPU, within reason."""
    return max(1, min(os.cpu_count() or 1, MAX_PROCESSES))


def shareable(engine: Engine) -> bool:
    """Whether other processes can open ``engine``'s database (a private in-memory one: no)."""
    if engine.dialect.name != "sqlite":
        return True
    database = engine.url.database
    return bool(database) and database != ":memory:" and not str(database).startswith("file:")


def replay_in_partitions(
    engine: Engine,
    names: Sequence[str],
    shadows: Sequence[Table],
    until: int,
    progress: Callable[[int], None] | None,
    *,
    processes: int,
    batch_size: int,
) -> None:
    """Fill ``shadows`` with the projections ``names`` made from the log up to ``until``."""
    url = engine.url.render_as_string(hide_password=False)
    with ExitStack() as stack:
        scratch: list[str | None] = [None] * processes
        if engine.dialect.name == "sqlite":
            database = Path(str(engine.url.database))
            # Left by a rebuild whose process died; only one rebuild runs at a time.
            for stale in database.parent.glob(f"{glob.escape(database.name)}{SCRATCH_SUFFIX}*"):
                if stale.is_dir():
                    shutil.rmtree(stale, ignore_errors=True)
            folder = stack.enter_context(
                tempfile.TemporaryDirectory(
                    prefix=f"{database.name}{SCRATCH_SUFFIX}", dir=database.parent
                )
            )
            # Every partition, the first too: a worker writing into the log's database
            # pays for the write-ahead log and its checkpoints on every commit, which made
            # it the last to finish by a quarter (1,000,000 events), and its commits
            # contend with the service's appends; the merge writes each row once.
            scratch[:] = [str(Path(folder) / f"partition-{i}.db") for i in range(processes)]
        with spare_engine(engine) as spare, spare.connect() as conn:
            partitions = partition_streams(conn, until, processes)
        jobs = [
            PartitionJob(
                url=url,
                names=tuple(names),
                partition=index,
                streams=streams,
                until=until,
                span=batch_size * processes,
                scratch=scratch[index],
                vault=vault_of(engine),
            )
            for index, streams in enumerate(partitions)
        ]
        _run(jobs, progress)
        files = [path for path in scratch if path is not None]
        if files:
            merge_scratch_files(engine, files, shadows)


def _run(jobs: Sequence[PartitionJob], progress: Callable[[int], None] | None) -> None:
    context = multiprocessing.get_context("spawn")
    reports: Queue[Report] = context.Queue()
    workers: dict[int, BaseProcess] = {
        job.partition: context.Process(
            target=run_partition,
            args=(job, reports),
            name=f"rebuild-partition-{job.partition}",
            daemon=True,
        )
        for job in jobs
    }
    try:
        for worker in workers.values():
            worker.start()
        _follow(workers, reports, progress)
    finally:
        for worker in workers.values():
            if worker.is_alive():
                worker.terminate()
        for worker in workers.values():
            worker.join()
        reports.close()
        reports.join_thread()


def _follow(
    workers: dict[int, BaseProcess],
    reports: Queue[Report],
    progress: Callable[[int], None] | None,
) -> None:
    """Pass progress on until every worker is done; raise on the first failure."""
    pending = set(workers)
    exited: set[int] = set()
    while pending:
        try:
            kind, partition, value = reports.get(timeout=_POLL_SECONDS)
        except queue.Empty:
            for partition in pending:
                code = workers[partition].exitcode
                # Killed, or gone without a word: a worker's last report reaches the
                # queue before it exits, so one more wait is enough to tell.
                if code not in (None, 0) or partition in exited:
                    raise PartitionFailed(
                        f"rebuild worker for partition {partition} exited with code {code}"
                    ) from None
                if code == 0:
                    exited.add(partition)
            continue
        if kind == "progress":
            if progress is not None:
                progress(value)
        elif kind == "done":
            pending.discard(partition)
        else:
            error, details = value
            log.error("projection.rebuild_partition_failed", partition=partition, error=details)
            raise PartitionFailed(f"rebuild of partition {partition} failed: {error}", details)
