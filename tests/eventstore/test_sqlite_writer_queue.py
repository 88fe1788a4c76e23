"""SQLite writers queue for their turn (threads, then processes) instead of sleeping in
SQLite's busy handler; every append still lands exactly once, in version order."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest
from sqlalchemy import Engine, event, func, select

from eventstore import EventStore, NewEvent
from eventstore.engine import WRITE, create_engine
from eventstore.schema import events
from eventstore.sqlite_writers import WriterQueue

APPENDS_PER_WRITER = 40


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """A migrated SQLite database: the queue exists for SQLite's single writer only."""
    path = tmp_path / "incidents.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[Engine]:
    engine = create_engine(sqlite_url)
    yield engine
    engine.dispose()


def _event(n: int) -> NewEvent:
    return NewEvent(
        event_id=uuid4(),
        type="test.appended",
        schema_version=1,
        data={"n": n},
        metadata={},
        occurred_at=datetime(2026, 11, 27, 14, 5, tzinfo=UTC),
    )


def _append_many(database_url: str, stream_id: str, count: int) -> int:
    engine = create_engine(database_url)
    try:
        store = EventStore(engine)
        for n in range(count):
            store.append(stream_id, [_event(n)], expected_version=None)
        return count
    finally:
        engine.dispose()


def _versions(engine: Engine, stream_id: str) -> list[int]:
    query = select(events.c.version).where(events.c.stream_id == stream_id)
    return sorted(engine.connect().execute(query).scalars())


def test_threads_of_one_process_take_turns(sqlite_url: str, sqlite_engine: Engine) -> None:
    with ThreadPoolExecutor(8) as pool:
        done = list(pool.map(lambda _: _append_many(sqlite_url, "shared", 25), range(8)))
    assert sum(done) == 200
    assert _versions(sqlite_engine, "shared") == list(range(1, 201))


def test_processes_take_turns_through_the_file_lock(sqlite_url: str, sqlite_engine: Engine) -> None:
    # Plain child interpreters, waited for here: a multiprocessing pool would leave its
    # resource tracker running after the test.
    script = (
        "import sys\n"
        "from tests.eventstore.test_sqlite_writer_queue import _append_many\n"
        "_append_many(sys.argv[1], 'shared', int(sys.argv[2]))\n"
    )
    writers = [
        subprocess.Popen([sys.executable, "-c", script, sqlite_url, str(APPENDS_PER_WRITER)])
        for _ in range(3)
    ]
    assert [writer.wait(120) for writer in writers] == [0, 0, 0]
    assert _versions(sqlite_engine, "shared") == list(range(1, 3 * APPENDS_PER_WRITER + 1))
    count = sqlite_engine.connect().execute(select(func.count()).select_from(events)).scalar_one()
    assert count == 3 * APPENDS_PER_WRITER


def test_a_waiter_gives_up_after_its_timeout_and_gets_its_turn_later(tmp_path: Path) -> None:
    database = str(tmp_path / "queue.db")
    holder = WriterQueue(database, timeout=5)
    assert holder.acquire()
    other_thread: list[bool] = []
    waiter = threading.Thread(
        target=lambda: other_thread.append(WriterQueue(database, timeout=0.2).acquire())
    )
    waiter.start()
    waiter.join(10)
    assert other_thread == [False]  # another process's turn (its own queue) is still held
    holder.release()
    later = WriterQueue(database, timeout=5)
    assert later.acquire()
    later.release()


def test_an_in_memory_database_queues_threads_only() -> None:
    queue = WriterQueue(":memory:", timeout=0.2)
    assert queue.acquire()
    taken = threading.Thread(target=lambda: results.append(queue.acquire()))
    results: list[bool] = []
    taken.start()
    taken.join(10)
    assert results == [False]
    queue.release()
    assert queue.acquire()
    queue.release()


def test_the_next_writer_finds_the_database_free(sqlite_url: str, sqlite_engine: Engine) -> None:
    """The turn is handed on after the driver's COMMIT: with SQLite's busy timeout at 0,
    a writer that began before the previous one had committed would fail at once."""
    impatient = create_engine(sqlite_url)
    event.listen(impatient, "connect", lambda dbapi, _: dbapi.execute("PRAGMA busy_timeout=0"))
    try:
        store = EventStore(impatient)

        def write(n: int) -> int:
            for k in range(50):
                store.append(f"stream-{n}", [_event(k)], expected_version=k)
            return 50

        with ThreadPoolExecutor(4) as pool:
            assert sum(pool.map(write, range(4))) == 200
    finally:
        impatient.dispose()
    count = sqlite_engine.connect().execute(select(func.count()).select_from(events)).scalar_one()
    assert count == 200


def test_a_writer_whose_connection_is_invalidated_gives_up_its_turn(
    sqlite_url: str, sqlite_engine: Engine
) -> None:
    with sqlite_engine.connect().execution_options(**WRITE) as conn:
        conn.begin()
        conn.invalidate()  # a driver failure mid-transaction: the connection is discarded
    finished: list[int] = []
    other = threading.Thread(target=lambda: finished.append(_append_many(sqlite_url, "s", 1)))
    other.start()
    other.join(10)  # the queue's own timeout is 30 s: a leaked turn would hold it that long
    assert finished == [1]
    with sqlite_engine.connect().execution_options(**WRITE) as conn, conn.begin():
        conn.exec_driver_sql("SELECT 1")  # and this process's next writer gets its turn too


def test_an_unopenable_lock_file_leaves_writers_to_sqlites_own_lock(tmp_path: Path) -> None:
    database = tmp_path / "queue.db"
    Path(f"{database}.writers.lock").mkdir()  # cannot be opened as a file
    queue = WriterQueue(str(database), timeout=5)
    assert queue.acquire()
    queue.release()
    assert queue.acquire()  # the thread lock was released: no turn leaked
    queue.release()
