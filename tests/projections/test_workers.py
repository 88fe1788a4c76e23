"""Projection workers, in-process: they equal a rebuild, share the work, and survive rebuilds.

Commands go through ``IncidentService(store, None)`` (worker mode: nothing is projected
inline), then ``ProjectionWorker``s in threads, each with its own engine as separate
processes would have, bring the read models up to date. Every comparison covers every
table of every projection in ``default_projections()``. Each test runs on SQLite and
PostgreSQL (see tests/conftest.py).
"""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine, Table, delete, event, func, inspect, select, update

from application.service import IncidentService
from domain import commands as c
from domain.errors import DomainError
from domain.values import Severity, Status, stream_id_for
from eventstore import EventStore
from eventstore.engine import create_engine
from projections.base import Envelope, Projection
from projections.rebuild import rebuild, rebuild_outdated
from projections.runner import ProjectionRunner, default_projections
from projections.status import statuses
from projections.summary import list_summaries
from projections.tables import checkpoints
from projections.worker import ProjectionWorker
from tests.support.command_writer import CommandWriter, write_concurrently
from tests.support.read_models import (
    assert_caught_up,
    assert_equals_rebuild,
    assert_same_rows,
    assert_timeline_exactly_once,
    read_log,
    read_model_tables,
    snapshot,
    wait_caught_up,
)


class Recording:
    """A projection that notes every position it applies (to prove each is applied once)."""

    def __init__(self, inner: Projection, applied: dict[str, list[int]]) -> None:
        self.inner = inner
        self.applied = applied

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def version(self) -> int:
        return self.inner.version

    @property
    def tables(self) -> Sequence[Table]:
        return self.inner.tables

    def using(self, tables: Mapping[str, Table]) -> Projection:
        return self.inner.using(tables)

    def apply(self, conn: Connection, batch: Sequence[Envelope]) -> None:
        self.inner.apply(conn, batch)
        self.applied[self.inner.name].extend(env.recorded.position for env in batch)


class WorkerThread:
    """A ProjectionWorker on its own engine in its own thread, as another process would be."""

    def __init__(self, database_url: str, name: str, *, batch_size: int = 10) -> None:
        self.name = name
        self.engine = create_engine(database_url)
        self.applied: dict[str, list[int]] = defaultdict(list)
        self.worker = ProjectionWorker(
            self.engine,
            [Recording(p, self.applied) for p in default_projections()],
            batch_size=batch_size,
            poll_interval=0.02,
        )
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        try:
            self.worker.run(self.stop)
        except BaseException as exc:  # raised again by halt(), in the test's thread
            self.error = exc

    def start(self) -> WorkerThread:
        self.thread.start()
        return self

    def halt(self, timeout: float = 15) -> None:
        self.stop.set()
        self.thread.join(timeout)
        assert not self.thread.is_alive(), f"{self.name} did not stop within {timeout}s"
        self.engine.dispose()
        if self.error is not None:
            raise AssertionError(f"{self.name} failed") from self.error


def assert_applied_exactly_once(workers: Sequence[WorkerThread], positions: Sequence[int]) -> None:
    """Across all workers, every projection applied each position exactly once, in order."""
    for projection in default_projections():
        for w in workers:
            own = w.applied[projection.name]
            assert own == sorted(set(own)), f"{w.name} applied {projection.name} out of order"
        combined = sorted(p for w in workers for p in w.applied[projection.name])
        duplicates = sorted({p for p in combined if combined.count(p) > 1})[:10]
        assert not duplicates, f"{projection.name}: positions applied twice: {duplicates}"
        assert combined == list(positions), (
            f"{projection.name}: applied {len(combined)} positions, the log has {len(positions)}"
        )


def worker_service(engine: Engine) -> IncidentService:
    return IncidentService(EventStore(engine), None)


# --- (a) one worker, run to completion, equals a rebuild --------------------------------------


@pytest.mark.parametrize("batch_size", [3, 500])
def test_a_worker_run_once_equals_a_rebuild(engine: Engine, batch_size: int) -> None:
    writer = CommandWriter(worker_service(engine), random.Random(1000 + batch_size))
    writer.write(150)
    head = EventStore(engine).head_position()
    assert head == writer.events >= 150
    assert all(s.lag == head for s in statuses(engine, default_projections())), (
        "worker mode projected something inline"
    )

    worker = ProjectionWorker(engine, default_projections(), batch_size=batch_size)
    worker.run(once=True)
    assert_caught_up(engine)
    first = assert_equals_rebuild(engine, "after the first run: ")
    if "incident_summaries" in first:
        assert len(first["incident_summaries"]) == len(writer.incidents)

    # Later events continue from the checkpoint, not from the start.
    writer.write(90)
    worker.run(once=True)
    assert_equals_rebuild(engine, "after the second run: ")
    assert_timeline_exactly_once(engine)
    assert writer.refused == 0


# --- (b) two workers at once while commands are written ---------------------------------------


def test_two_concurrent_workers_apply_every_event_exactly_once(
    database_url: str, engine: Engine
) -> None:
    services = [worker_service(engine), worker_service(engine)]
    workers = [WorkerThread(database_url, f"worker-{i}").start() for i in (1, 2)]
    running = list(workers)
    try:
        writers = write_concurrently(services, seed=20, per_writer=80)
        wait_caught_up(engine, 20)

        # Stop whoever owns something; a third worker joins while writes go on.
        owner = next(w for w in running if any(w.applied.values()))
        owner.halt()
        running.remove(owner)
        workers.append(WorkerThread(database_url, "worker-3").start())
        running.append(workers[-1])
        writers += write_concurrently(services, seed=40, per_writer=80)
        wait_caught_up(engine, 20)
    finally:
        errors = []
        for w in running:
            try:
                w.halt()
            except AssertionError as exc:
                errors.append(exc)
        if errors:
            raise errors[0]

    positions = [r.position for r in read_log(engine)]
    assert len(positions) == sum(writer.events for writer in writers) >= 320
    assert_applied_exactly_once(workers, positions)
    assert_equals_rebuild(engine)
    assert_timeline_exactly_once(engine)


# --- (c) random command sequences, two workers, equal a rebuild -------------------------------

OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["ack", "status", "severity", "note", "amend", "redact"]),
        st.integers(0, 2),
        st.integers(0, 5),
    ),
    min_size=5,
    max_size=25,
)


def build_command(
    op: tuple[str, int, int], ids: list[UUID], notes: dict[UUID, list[UUID]], now: datetime
) -> c.Command:
    """Turn a generated operation into a command; some are refused by the domain, on purpose."""
    kind, index, pick = op
    incident_id = ids[index]
    known = notes[incident_id]
    note_id = known[pick % len(known)] if known and pick < 4 else uuid4()
    if kind == "ack":
        return c.AcknowledgeIncident(incident_id=incident_id, at=now)
    if kind == "status":
        statuses_ = list(Status)
        return c.ChangeStatus(incident_id=incident_id, at=now, status=statuses_[pick % 5])
    if kind == "severity":
        return c.ChangeSeverity(incident_id=incident_id, at=now, severity=list(Severity)[pick % 5])
    if kind == "note":
        when = now - timedelta(minutes=pick * 17) if pick % 2 else None
        return c.AddNote(
            incident_id=incident_id, at=now, note_id=uuid4(), text="Note", occurred_at=when
        )
    if kind == "amend":
        return c.AmendNote(
            incident_id=incident_id,
            at=now,
            note_id=note_id,
            text=f"Amended {pick}" if pick % 2 else None,
            occurred_at=now - timedelta(minutes=pick * 13) if pick != 1 else None,
        )
    return c.RedactNote(incident_id=incident_id, at=now, note_id=note_id, reason="PII")


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=OPERATIONS, batch_size=st.integers(1, 6))
def test_two_workers_equal_a_rebuild_for_random_command_sequences(
    database_url: str, engine: Engine, ops: list[tuple[str, int, int]], batch_size: int
) -> None:
    # The database lives across examples (events cannot be deleted): each example uses
    # new incidents, and the checks cover what earlier examples wrote as well.
    service = worker_service(engine)
    start = service.store.head_position()
    ids = [uuid4() for _ in range(3)]
    notes: dict[UUID, list[UUID]] = {incident_id: [] for incident_id in ids}
    workers = [
        WorkerThread(database_url, f"worker-{i}", batch_size=batch_size).start() for i in (1, 2)
    ]
    try:
        for i, incident_id in enumerate(ids):
            service.execute(
                c.DeclareIncident(
                    incident_id=incident_id,
                    at=service.now(),
                    title=f"Incident {i}",
                    severity=Severity.SEV3,
                    started_at=service.now() - timedelta(hours=1),
                ),
                {"actor": "hypothesis"},
            )
        for op in ops:
            command = build_command(op, ids, notes, service.now())
            try:
                service.execute(command, {"actor": "hypothesis"})
            except DomainError:
                continue
            if isinstance(command, c.AddNote):
                notes[command.incident_id].append(command.note_id)
        wait_caught_up(engine, 20)
    finally:
        for w in workers:
            w.halt()

    positions = [r.position for r in read_log(engine) if r.position > start]
    assert_applied_exactly_once(workers, positions)
    assert_equals_rebuild(engine)
    assert_timeline_exactly_once(engine)


# --- (d) a projection whose version changed is rebuilt ----------------------------------------


def seed_and_project(engine: Engine, seed: int, count: int) -> CommandWriter:
    writer = CommandWriter(worker_service(engine), random.Random(seed))
    writer.write(count)
    ProjectionWorker(engine, default_projections(), batch_size=50).run(once=True)
    assert_caught_up(engine)
    return writer


def make_outdated(engine: Engine, projections: Sequence[Projection]) -> None:
    """Pretend the stored read models were built by older code: older version, other rows."""
    names = [p.name for p in projections]
    with engine.begin() as conn:
        conn.execute(
            update(checkpoints)
            .where(checkpoints.c.name.in_(names))
            .values(version=checkpoints.c.version - 1)
        )
        for table in read_model_tables(projections):
            conn.execute(delete(table))


def test_a_worker_rebuilds_projections_whose_version_changed(engine: Engine) -> None:
    writer = seed_and_project(engine, 5, 120)
    before = snapshot(engine)
    make_outdated(engine, default_projections())
    assert all(s.outdated for s in statuses(engine, default_projections()))
    writer.write(30)  # the rebuild must include what was appended after the bump

    worker = ProjectionWorker(
        engine,
        default_projections(),
        batch_size=20,
        rebuild=lambda projection: rebuild(engine, projection),
    )
    worker.run(once=True)

    assert not any(s.outdated for s in statuses(engine, default_projections()))
    assert_caught_up(engine)  # versions restored to the code's
    rows = assert_equals_rebuild(engine)
    for table, keys in before.items():
        # Redactions appended after the bump may remove entries, never empty a table.
        assert bool(rows[table]) >= bool(keys), f"{table} is empty after the rebuild"
    assert_timeline_exactly_once(engine)


def test_rebuild_outdated_rebuilds_exactly_the_projections_whose_version_changed(
    engine: Engine,
) -> None:
    seed_and_project(engine, 6, 120)
    expected = snapshot(engine)
    assert rebuild_outdated(engine, default_projections()) == []

    for projection in default_projections():
        make_outdated(engine, [projection])
        assert rebuild_outdated(engine, default_projections()) == [projection.name]
        assert_caught_up(engine)
        assert_same_rows(expected, snapshot(engine), f"after rebuilding {projection.name}: ")

    make_outdated(engine, default_projections())
    names = [p.name for p in default_projections()]
    assert rebuild_outdated(engine, default_projections()) == names
    assert_same_rows(expected, snapshot(engine), "after rebuilding all: ")
    assert_equals_rebuild(engine)


def test_a_version_change_stays_outdated_through_appends_and_batches_until_rebuilt(
    engine: Engine,
) -> None:
    """Appends apply the new code to the rows an older version built: they move the
    checkpoint on, but only the rebuild says the rows are the new version's. Were they to
    say it, a rebuild cut short (a restart during it) would never run again."""
    seed_and_project(engine, 7, 80)
    expected_names = [p.name for p in default_projections()]
    make_outdated(engine, default_projections())
    inline = CommandWriter(
        IncidentService(EventStore(engine), ProjectionRunner()), random.Random(8)
    )
    inline.write(20)
    ProjectionWorker(engine, default_projections(), batch_size=20).run(once=True)

    assert all(s.outdated for s in statuses(engine, default_projections()))
    assert rebuild_outdated(engine, default_projections()) == expected_names
    assert not any(s.outdated for s in statuses(engine, default_projections()))
    assert_caught_up(engine)
    assert_equals_rebuild(engine)


# --- (e) a rebuild while commands are written and read ----------------------------------------


class Reader(threading.Thread):
    """Keeps reading every read model; no error, and never an empty or shrinking summary."""

    def __init__(self, database_url: str) -> None:
        super().__init__(name="reader", daemon=True)
        self.engine = create_engine(database_url)
        self.stop = threading.Event()
        self.reads = 0
        self.problems: list[str] = []

    def run(self) -> None:
        tables = read_model_tables()
        summaries = next(t for t in tables if t.name == "incident_summaries")
        last = 0
        try:
            while not self.stop.is_set():
                with self.engine.connect() as conn:
                    count = conn.execute(select(func.count()).select_from(summaries)).scalar_one()
                    page = list_summaries(conn, limit=20)
                    for table in tables:
                        conn.execute(select(func.count()).select_from(table)).scalar_one()
                if count == 0 or not page:
                    self.problems.append(f"read {self.reads}: empty summary ({count} rows)")
                if count < last:
                    self.problems.append(f"read {self.reads}: {last} summaries, then {count}")
                last = count
                self.reads += 1
        except Exception as exc:  # every error is a finding
            self.problems.append(f"read {self.reads}: {type(exc).__name__}: {exc}")
        finally:
            self.engine.dispose()


def test_rebuild_while_commands_are_appended_and_read_loses_nothing(
    database_url: str, engine: Engine
) -> None:
    inline = IncidentService(EventStore(engine), ProjectionRunner())
    CommandWriter(inline, random.Random(77)).write(400)
    writer = CommandWriter(inline, random.Random(78), actor="during-rebuild")
    stop_writing, rebuilding = threading.Event(), threading.Event()
    during = [0]  # appends committed while a rebuild was running
    writer_errors: list[BaseException] = []

    def keep_writing() -> None:
        try:
            while not stop_writing.is_set():
                overlapping = rebuilding.is_set()
                if writer.step() is not None and overlapping and rebuilding.is_set():
                    during[0] += 1
        except BaseException as exc:
            writer_errors.append(exc)

    appender = threading.Thread(target=keep_writing, name="appender", daemon=True)
    reader = Reader(database_url)
    appender.start()
    reader.start()
    rebuilds = 0
    try:
        # Rebuild, one projection at a time or all in one pass, until enough appends
        # landed in the middle of one (SQLite lets one writer in at a time: pace it).
        deadline = time.monotonic() + 20
        while (rebuilds < 3 or during[0] < 10) and time.monotonic() < deadline:
            rebuilding.set()
            if rebuilds % 2:
                ProjectionRunner().rebuild(engine)
            else:
                for projection in default_projections():
                    rebuild(engine, projection, batch_size=25)
            rebuilding.clear()
            rebuilds += 1
            time.sleep(0.05)
        time.sleep(0.2)
    finally:
        stop_writing.set()
        reader.stop.set()
        appender.join(30)
        reader.join(30)
    assert not appender.is_alive()
    assert not reader.is_alive()
    assert writer_errors == []
    assert reader.problems == []
    assert reader.reads > 10, "the reader barely ran during the rebuilds"
    assert during[0] >= 10, f"only {during[0]} appends overlapped {rebuilds} rebuilds"

    assert_caught_up(engine)
    assert_equals_rebuild(engine)
    assert_timeline_exactly_once(engine)
    # Every incident's summary has seen every event of its stream.
    with engine.connect() as conn:
        summaries = {r.incident_id: r.version for r in conn.execute(select_summary_versions())}
    for incident_id in writer.incidents:
        assert summaries[incident_id] == inline.store.stream_version(stream_id_for(incident_id))


def select_summary_versions() -> Any:
    table = next(t for t in read_model_tables() if t.name == "incident_summaries")
    return select(table.c.incident_id, table.c.version)


# --- overlapping rebuilds of one projection ---------------------------------------------------


def before_each_transaction(engine: Engine, hook: Callable[[], None]) -> None:
    """Call ``hook`` as each transaction begins, before any statement or lock (even SQLite's
    BEGIN IMMEDIATE, which engine.py issues from its own "begin" listener)."""
    existing = list(engine.dispatch.begin)
    for listener in existing:
        event.remove(engine, "begin", listener)
    event.listen(engine, "begin", lambda conn: hook())
    for listener in existing:
        event.listen(engine, "begin", listener)


def test_overlapping_rebuilds_of_one_projection_never_leave_wrong_rows(
    database_url: str, engine: Engine
) -> None:
    # Two rebuilds of one projection would share its shadow tables: the second would drop
    # the first's half-filled shadow. The rebuild lock must make them take turns.
    seed_and_project(engine, 8, 400)
    expected = snapshot(engine)
    projection = next(p for p in default_projections() if p.name == "timeline")
    first_engine, second_engine = create_engine(database_url), create_engine(database_url)
    errors: dict[str, BaseException] = {}
    begun = {"first": 0}

    def run_second() -> None:
        try:
            rebuild(second_engine, projection, batch_size=10)
        except Exception as exc:  # recorded, then asserted absent
            errors["second"] = exc

    second = threading.Thread(target=run_second, name="second-rebuild", daemon=True)

    def first_begins() -> None:
        # Mid-replay of the first rebuild, start the second and give it time to interfere.
        begun["first"] += 1
        if begun["first"] == 12:
            second.start()
            time.sleep(0.5)

    before_each_transaction(first_engine, first_begins)
    try:
        try:
            rebuild(first_engine, projection, batch_size=10)
        except Exception as exc:
            errors["first"] = exc
        second.join(60)
    finally:
        first_engine.dispose()
        second_engine.dispose()
    assert begun["first"] >= 12, "the first rebuild was too short to overlap"
    assert not second.is_alive()
    assert errors == {}
    with engine.connect() as conn:
        leftovers = [n for n in inspect(conn).get_table_names() if n.endswith("__rebuild")]
    assert leftovers == []

    # Whichever rebuild ran last, the read model must be right, not merely caught up.
    assert_caught_up(engine)
    assert_same_rows(expected, snapshot(engine), f"after overlapping rebuilds ({errors}): ")
