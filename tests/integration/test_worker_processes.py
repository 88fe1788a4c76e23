"""Projection workers and API nodes as real processes on one PostgreSQL database.

``incidents project`` and ``incidents serve`` run as subprocesses: workers are killed
with SIGKILL mid-batch and must resume from their last committed checkpoint; when the
worker owning the projections dies, another takes them over; and two API nodes in
worker mode with two workers serve concurrent clients, read-your-writes included.
Everything ends compared with a rebuild from the log. PostgreSQL only: on SQLite
every node would have to share one file on one machine.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any
from uuid import UUID

import httpx
import pytest
from sqlalchemy import Engine, delete, text, update

from application.schema_migrations import migrate
from application.service import IncidentService
from domain.incident import NEXT_STATUSES
from domain.values import Status
from eventstore import EventStore, NewEvent
from eventstore.engine import create_engine
from eventstore.records import RecordedEvent
from projections.ownership import LOCK_NAMESPACE
from projections.runner import default_projections
from projections.status import statuses
from projections.tables import checkpoints
from projections.worker import ProjectionWorker
from tests.support.command_writer import CommandWriter, write_concurrently
from tests.support.read_models import (
    assert_equals_rebuild,
    assert_same_rows,
    assert_timeline_exactly_once,
    checkpoint_positions,
    read_log,
    read_model_tables,
    snapshot,
    wait_caught_up,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    # Only the PostgreSQL variant of the backend fixture (tests/conftest.py).
    pytest.mark.parametrize("backend", ["postgresql"]),
]

INCIDENTS = Path(sys.executable).with_name("incidents")

ADMIN_TOKEN = "il_integration-admin"
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def pg_url(backend: str, request: pytest.FixtureRequest) -> str:
    if backend != "postgresql":
        pytest.skip("worker processes are tested on PostgreSQL only")
    url: str = request.getfixturevalue("database_url")
    return url


# --- processes --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def named(url: str, application_name: str) -> str:
    """The URL with an application_name, which tells the processes apart in pg_locks."""
    return f"{url}{'&' if '?' in url else '?'}application_name={application_name}"


class Process:
    def __init__(self, name: str, args: list[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        self.log = log
        self._out = log.open("wb")
        self.popen = subprocess.Popen(
            [str(INCIDENTS), *args],
            env=env,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> int:
        """SIGKILL: no cleanup at all, as when a machine or container dies."""
        os.kill(self.pid, signal.SIGKILL)
        return self.popen.wait(10)

    def stop(self, timeout: float = 10) -> int | None:
        """SIGTERM, then SIGKILL if it does not exit in time; its exit code."""
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(10)
        self._out.close()
        return self.popen.returncode

    def output(self) -> str:
        if not self._out.closed:
            self._out.flush()
        return self.log.read_text(errors="replace")[-4000:]


class Processes:
    """Starts ``incidents`` subprocesses and always stops every one of them on exit."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.started: list[Process] = []

    def __enter__(self) -> Processes:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for process in self.started:
            try:
                process.stop()
            except Exception as error:  # keep stopping the others
                print(f"could not stop {process.name}: {error}")
        if exc is not None:
            for process in self.started:
                print(f"--- output of {process.name} ---\n{process.output()}")

    def start(self, name: str, *args: str, **env: str) -> Process:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("INCIDENTS_")}
        environment.update(
            # Every process of one deployment seals and opens text with the same key.
            INCIDENTS_SECRET_KEY=os.environ["INCIDENTS_SECRET_KEY"],
            INCIDENTS_LOG_LEVEL="WARNING",
            INCIDENTS_LOG_FORMAT="json",
            PYTHONUNBUFFERED="1",
        )
        environment.update(env)
        log = self.tmp_path / f"{name}-{len(self.started)}.log"
        process = Process(name, list(args), environment, log)
        self.started.append(process)
        return process

    def worker(self, url: str, name: str, batch_size: int = 50) -> Process:
        return self.start(
            name, "project", "--batch-size", str(batch_size), "--database-url", named(url, name)
        )

    def api(self, url: str, name: str, port: int) -> Process:
        return self.start(
            name,
            "serve",
            "--port",
            str(port),
            "--database-url",
            named(url, name),
            INCIDENTS_PROJECTION_MODE="worker",
            INCIDENTS_ADMIN_TOKEN=ADMIN_TOKEN,
        )


# --- the database as the processes leave it ---------------------------------------------------


def seed(url: str, events: int, seed: int, writers: int = 3) -> list[CommandWriter]:
    """Append about ``events`` events through IncidentService in worker mode (nothing inline).

    The seeding connections skip waiting for the WAL flush: it only makes them faster.
    """
    engine = create_engine(url, connect_args={"options": "-c synchronous_commit=off"})
    try:
        services = [IncidentService(EventStore(engine), None) for _ in range(writers)]
        return write_concurrently(services, seed, events // writers)
    finally:
        engine.dispose()


def seed_bulk(url: str, events: int, seed: int) -> None:
    """``events`` events decided by IncidentService(store, None), appended 1-8 per stream.

    Appends of different incidents interleave in the log as the commands did, and
    every append goes through EventStore.append under its expected version.
    """
    with tempfile.TemporaryDirectory() as scratch:
        # Deciding thousands of commands straight into PostgreSQL takes 20-40 s here (a
        # dozen round trips each); a scratch SQLite log decides them in a few seconds.
        staging_engine = create_engine(f"sqlite:///{scratch}/staging.db")
        migrate(staging_engine)
        service = IncidentService(EventStore(staging_engine), None)
        CommandWriter(service, random.Random(seed)).write(events)
        staged = EventStore(staging_engine).read_all(0, 10**9)
        staging_engine.dispose()
    engine = create_engine(url, connect_args={"options": "-c synchronous_commit=off"})
    store = EventStore(engine)
    rng = random.Random(seed)
    pending: dict[str, list[RecordedEvent]] = {}
    sizes: dict[str, int] = {}

    def flush(stream_id: str) -> None:
        chunk = pending.pop(stream_id)
        sizes.pop(stream_id, None)
        new_events = [
            NewEvent(
                event_id=r.event_id,
                type=r.type,
                schema_version=r.schema_version,
                data=r.data,
                metadata=r.metadata,
                occurred_at=r.occurred_at,
            )
            for r in chunk
        ]
        store.append(stream_id, new_events, chunk[0].version - 1)

    try:
        for recorded in staged:
            pending.setdefault(recorded.stream_id, []).append(recorded)
            if len(pending[recorded.stream_id]) >= sizes.setdefault(
                recorded.stream_id, rng.randint(1, 8)
            ):
                flush(recorded.stream_id)
        for stream_id in list(pending):
            flush(stream_id)
    finally:
        engine.dispose()


def owners(engine: Engine) -> dict[str, str]:
    """projection name -> application_name of the session holding its advisory lock."""
    keys = {zlib.crc32(p.name.encode()): p.name for p in default_projections()}
    query = text(
        "SELECT l.objid, a.application_name FROM pg_locks l"
        " JOIN pg_stat_activity a ON a.pid = l.pid"
        " WHERE l.locktype = 'advisory' AND l.granted AND l.classid = :ns AND l.objsubid = 2"
        " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    )
    with engine.connect() as conn:
        rows = conn.execute(query, {"ns": LOCK_NAMESPACE}).all()
    found: dict[str, str] = {}
    for objid, application_name in rows:
        name = keys.get(int(objid))
        if name is not None:
            assert name not in found, f"{name} is locked by two sessions"
            found[name] = application_name
    return found


def wait_until(condition: Any, timeout: float, message: str, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{message} (waited {timeout}s)")
        time.sleep(interval)


def wait_mid_way(engine: Engine, above: int, head: int, worker: Process) -> dict[str, int]:
    """Poll checkpoints until the worker is past ``above`` and still short of ``head``."""
    deadline = time.monotonic() + 30
    names = [p.name for p in default_projections()]
    while time.monotonic() < deadline:
        stored = checkpoint_positions(engine)
        positions = {n: stored.get(n, (0, 0))[1] for n in names}
        if max(positions.values()) > above:
            assert min(positions.values()) < head, (
                f"the worker caught up before it could be killed mid-way: {positions}"
            )
            return positions
        assert worker.alive(), f"the worker died:\n{worker.output()}"
        time.sleep(0.002)
    raise AssertionError(f"the worker made no progress:\n{worker.output()}")


class BackgroundWriter:
    """Keeps sending commands (worker mode) from a thread until stopped."""

    def __init__(self, engine: Engine, seed: int) -> None:
        self.writer = CommandWriter(
            IncidentService(EventStore(engine), None), random.Random(seed), actor=f"bg-{seed}"
        )
        self.errors: list[BaseException] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self.writer.step()
        except BaseException as exc:
            self.errors.append(exc)

    def __enter__(self) -> BackgroundWriter:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(30)
        assert not self._thread.is_alive()
        assert self.errors == [], self.errors


# --- (a) SIGKILL mid-batch --------------------------------------------------------------------


def test_a_worker_killed_mid_batch_resumes_from_its_checkpoint(
    pg_url: str, engine: Engine, tmp_path: Path
) -> None:
    seed_bulk(pg_url, 3000, seed=1)
    head = EventStore(engine).head_position()
    assert head >= 3000  # 3,000 commands; a summary fact also seeds its postmortem section
    assert all(s.lag == head for s in statuses(engine, default_projections()))

    reached = 0
    with Processes(tmp_path) as processes:
        for round_ in (1, 2):
            worker = processes.worker(pg_url, f"worker-{round_}")
            positions = wait_mid_way(engine, reached, head, worker)
            assert worker.kill() == -signal.SIGKILL
            stored = checkpoint_positions(engine)
            assert all(position < head for _, position in stored.values()), stored
            reached = max(position for _, position in stored.values())
            assert reached >= max(positions.values())
            # The dead session's advisory locks go with its connection.
            wait_until(lambda: not owners(engine), 10, "the killed worker's locks stayed")
            # More events arrive while no worker runs.
            seed(pg_url, 150, seed=10 + round_, writers=1)
            head = EventStore(engine).head_position()

        processes.worker(pg_url, "worker-3")
        wait_caught_up(engine, 30)
        assert set(owners(engine).values()) == {"worker-3"}

    assert_equals_rebuild(engine)
    assert_timeline_exactly_once(engine)


def shadow_tables(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        query = text("SELECT tablename FROM pg_tables WHERE tablename LIKE '%\\_\\_rebuild'")
        return sorted(conn.execute(query).scalars())


def test_a_worker_killed_while_rebuilding_an_outdated_projection_rebuilds_it_again(
    pg_url: str, engine: Engine, tmp_path: Path
) -> None:
    seed_bulk(pg_url, 3000, seed=2)
    ProjectionWorker(engine, default_projections(), batch_size=1000).run(once=True)
    expected = snapshot(engine)
    # Older code built these tables: an older version and rows that are not right.
    with engine.begin() as conn:
        conn.execute(update(checkpoints).values(version=checkpoints.c.version - 1))
        for table in read_model_tables():
            conn.execute(delete(table))

    with Processes(tmp_path) as processes:
        worker = processes.worker(pg_url, "worker-1")
        wait_until(lambda: shadow_tables(engine), 30, "the worker never started a rebuild", 0.002)
        assert worker.kill() == -signal.SIGKILL
        assert any(s.outdated for s in statuses(engine, default_projections()))

        processes.worker(pg_url, "worker-2")
        wait_caught_up(engine, 30)

    assert shadow_tables(engine) == []
    assert_same_rows(expected, snapshot(engine), "after the rebuild: ")
    assert_equals_rebuild(engine)


# --- (b) failover -----------------------------------------------------------------------------


def test_when_the_owning_worker_dies_another_takes_over(
    pg_url: str, engine: Engine, tmp_path: Path
) -> None:
    names = {p.name for p in default_projections()}
    with Processes(tmp_path) as processes:
        running = {
            "worker-a": processes.worker(pg_url, "worker-a", batch_size=20),
            "worker-b": processes.worker(pg_url, "worker-b", batch_size=20),
        }
        with BackgroundWriter(engine, seed=3):
            held = wait_until(
                lambda: (o := owners(engine)) and set(o) == names and o,
                20,
                "the projections were never all claimed",
            )
            time.sleep(0.5)

        for round_, restarted in enumerate(("worker-a2", "worker-b2"), start=4):
            # Kill the process holding (the first of) the projections while writes go on.
            victim = held[sorted(names)[0]]
            survivor = next(n for n in running if n != victim)
            with BackgroundWriter(engine, seed=round_):
                assert running.pop(victim).kill() == -signal.SIGKILL
                killed_at = time.monotonic()
                time.sleep(1.5)
            wait_caught_up(engine, max(15 - (time.monotonic() - killed_at), 1))
            held = owners(engine)
            assert held == dict.fromkeys(names, survivor)

            # A replacement starts idle: everything is owned already.
            running[restarted] = processes.worker(pg_url, restarted, batch_size=20)
            wait_until(
                lambda name=restarted: application_connected(engine, name),
                20,
                f"{restarted} never connected",
            )
            assert owners(engine) == dict.fromkeys(names, survivor)

        # A worker asked to stop releases its projections and exits cleanly.
        owner = held[sorted(names)[0]]
        assert running.pop(owner).stop() == 0
        (spare,) = running
        wait_until(
            lambda: owners(engine) == dict.fromkeys(names, spare), 15, f"{spare} did not take over"
        )
        wait_caught_up(engine, 15)

    assert_equals_rebuild(engine)
    assert_timeline_exactly_once(engine)


def application_connected(engine: Engine, name: str) -> bool:
    with engine.connect() as conn:
        query = text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :name")
        return bool(conn.execute(query, {"name": name}).scalar_one())


# --- (c) two API nodes and two workers --------------------------------------------------------


class Client(threading.Thread):
    """Sends commands to both nodes in turn; reads back on the other node (read-your-writes)."""

    def __init__(self, index: int, bases: list[str], shared: list[str], until: float) -> None:
        super().__init__(name=f"client-{index}", daemon=True)
        self.index = index
        self.bases = bases
        self.shared = shared
        self.until = until
        self.rng = random.Random(index)
        self.mine: dict[str, Status] = {}
        self.notes: dict[str, str] = {}  # note id -> incident id
        self.requests = 0
        self.conflicts = 0
        self.read_your_writes = 0
        self.problems: list[str] = []

    def run(self) -> None:
        try:
            with httpx.Client(timeout=30, headers=AUTH) as http:
                turn = self.index
                while time.monotonic() < self.until:
                    node, other = self.bases[turn % 2], self.bases[(turn + 1) % 2]
                    turn += 1
                    self.one_command(http, node, other)
        except Exception as exc:
            self.problems.append(f"{type(exc).__name__}: {exc}")

    def one_command(self, http: httpx.Client, node: str, other: str) -> None:
        roll = self.rng.random()
        open_ = [i for i, s in self.mine.items() if NEXT_STATUSES[s]]
        if not self.mine or roll < 0.15:
            body = {"title": f"Client {self.index} incident", "severity": "SEV3"}
            response = http.post(f"{node}/incidents", json=body)
            self.check(response, 201)
            result = response.json()
            self.mine[result["id"]] = Status.INVESTIGATING
            self.read_back(http, other, result["id"], "", result["position"])
        elif roll < 0.65 or not open_:
            incident_id = self.rng.choice([*self.shared, *self.mine])
            text_ = f"client {self.index} note {self.requests}"
            response = http.post(f"{node}/incidents/{incident_id}/notes", json={"text": text_})
            if response.status_code == 409:  # lost every retry against the other clients
                self.conflicts += 1
                return
            self.check(response, 201)
            note_id = response.headers["location"].rsplit("/", 1)[1]
            self.notes[note_id] = incident_id
            timeline = self.read_back(
                http, other, incident_id, "/timeline", response.json()["position"]
            )
            if timeline is not None and note_id not in {e["id"] for e in timeline["entries"]}:
                self.problems.append(f"note {note_id} not in the timeline read from {other}")
        else:
            incident_id = self.rng.choice(open_)
            target = self.rng.choice(sorted(NEXT_STATUSES[self.mine[incident_id]]))
            response = http.post(
                f"{node}/incidents/{incident_id}/status", json={"status": target.value}
            )
            self.check(response, 200)
            self.mine[incident_id] = target
            summary = self.read_back(http, other, incident_id, "", response.json()["position"])
            if summary is not None and summary["status"] != target.value:
                self.problems.append(f"{incident_id} read as {summary['status']} on {other}")

    def read_back(
        self, http: httpx.Client, node: str, incident_id: str, path: str, position: int
    ) -> dict[str, Any] | None:
        """GET on the other node with ?min_position= right after the command."""
        response = http.get(f"{node}/incidents/{incident_id}{path}?min_position={position}")
        if not self.check(response, 200):
            return None
        self.read_your_writes += 1
        result: dict[str, Any] = response.json()
        return result

    def check(self, response: httpx.Response, status: int) -> bool:
        self.requests += 1
        if response.status_code != status:
            request = response.request
            self.problems.append(
                f"{request.method} {request.url}: {response.status_code} {response.text[:300]}"
            )
            return False
        return True


def wait_ready_and_caught_up(http: httpx.Client, bases: list[str], timeout: float) -> None:
    """/readyz answers 200 on every node and reports lag 0 for every projection."""

    def caught_up() -> bool:
        for base in bases:
            response = http.get(f"{base}/readyz")
            if response.status_code != 200:
                return False
            if any(p["lag"] != 0 for p in response.json()["projections"]):
                return False
        return True

    wait_until(caught_up, timeout, "the nodes never reported lag 0", interval=0.1)


def wait_healthy(http: httpx.Client, base: str, process: Process, timeout: float = 30) -> None:
    def healthy() -> bool:
        assert process.alive(), f"{process.name} exited:\n{process.output()}"
        try:
            return http.get(f"{base}/healthz").status_code == 200
        except httpx.TransportError:
            return False

    wait_until(healthy, timeout, f"{process.name} never answered /healthz", interval=0.1)


def test_two_api_nodes_and_two_workers_serve_concurrent_clients(
    pg_url: str, engine: Engine, tmp_path: Path
) -> None:
    ports = [free_port(), free_port()]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    with Processes(tmp_path) as processes, httpx.Client(timeout=30, headers=AUTH) as http:
        apis = [processes.api(pg_url, f"api-{i}", port) for i, port in enumerate(ports)]
        processes.worker(pg_url, "worker-a", batch_size=20)
        processes.worker(pg_url, "worker-b", batch_size=20)
        for base, api in zip(bases, apis, strict=True):
            wait_healthy(http, base, api)
        shared = []
        for i in range(3):
            body = {"title": f"Shared incident {i}", "severity": "SEV2"}
            response = http.post(f"{bases[i % 2]}/incidents", json=body)
            assert response.status_code == 201, response.text
            shared.append(response.json()["id"])

        until = time.monotonic() + 5
        clients = [Client(i, bases, shared, until) for i in range(4)]
        for client in clients:
            client.start()
        for client in clients:
            client.join(60)
        assert not any(client.is_alive() for client in clients)
        problems = [p for client in clients for p in client.problems]
        assert problems == [], problems[:10]

        wait_ready_and_caught_up(http, bases, 20)

        notes = {n: i for client in clients for n, i in client.notes.items()}
        stats = {
            "requests": sum(client.requests for client in clients),
            "notes": len(notes),
            "read_your_writes": sum(client.read_your_writes for client in clients),
            "conflicts": sum(client.conflicts for client in clients),
        }
        print(f"clients: {stats}")
        assert stats["notes"] >= 20, stats
        assert stats["read_your_writes"] >= 40, stats
        for turn, (note_id, incident_id) in enumerate(sorted(notes.items())):
            response = http.get(f"{bases[turn % 2]}/incidents/{incident_id}/timeline")
            assert response.status_code == 200, response.text
            found = [e for e in response.json()["entries"] if e["id"] == note_id]
            assert len(found) == 1, f"note {note_id} appears {len(found)} times"
        for client in clients:
            for incident_id, status in client.mine.items():
                response = http.get(f"{bases[client.index % 2]}/incidents/{incident_id}")
                assert response.json()["status"] == status.value

    stored_notes = [
        UUID(r.data["note_id"]) for r in read_log(engine) if r.type == "timeline.note_added"
    ]
    assert sorted(stored_notes) == sorted(UUID(n) for n in notes), "notes stored != notes posted"
    assert_equals_rebuild(engine)
    assert_timeline_exactly_once(engine)


@pytest.fixture(autouse=True)
def _no_stray_processes() -> Iterator[None]:
    """Belt and braces: a test never leaves a child process behind.

    Except multiprocessing's resource tracker: a parallel rebuild (here or in an earlier
    test of this process) starts it once, and it lives as long as the process that
    started it, as it does in a server.
    """
    yield
    children = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children")
    if children.exists():
        left = [pid for pid in children.read_text().split() if not _resource_tracker(pid)]
        assert left == [], f"subprocesses left running: {left}"


def _resource_tracker(pid: str) -> bool:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:  # ended meanwhile
        return True
    return b"multiprocessing.resource_tracker" in command
