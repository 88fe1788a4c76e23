"""The queue SQLite writers wait in: threads of a process, then processes.

SQLite lets one transaction write at a time. Its busy handler makes the others wait by
sleeping in growing steps (1, 2, 5, 10 ... up to 100 ms) and trying again, so under
load writers see long, random stalls and the lock often sits free while they sleep.
Writers of this service queue here instead: a thread lock inside the process and an
advisory file lock (flock) beside the database across processes, taken before
``BEGIN IMMEDIATE`` and handed on only once the driver has committed or rolled back,
so the next writer finds SQLite's lock free. SQLite's own lock and busy timeout stay
in force for any writer that does not queue, or that gave up queueing.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
import weakref
from typing import IO, Any

from sqlalchemy import Connection, Engine, event

log = logging.getLogger(__name__)


class WriterQueue:
    """One writer at a time for a database file; acquire before BEGIN, release after."""

    def __init__(self, database: str | None, timeout: float) -> None:
        self.timeout = timeout
        self._threads = threading.Lock()
        in_memory = not database or database == ":memory:" or database.startswith("file:")
        self._path = None if in_memory else f"{database}.writers.lock"
        self._file: IO[bytes] | None = None
        self._pid = 0

    def acquire(self) -> bool:
        """Wait for the turn to write; False after ``timeout`` (SQLite then decides)."""
        deadline = time.monotonic() + self.timeout
        if not self._threads.acquire(timeout=self.timeout):
            return False
        try:
            return self._acquire_file(deadline)
        except BaseException:
            self._threads.release()
            raise

    def release(self) -> None:
        if self._path is not None and self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
        self._threads.release()

    def _acquire_file(self, deadline: float) -> bool:
        handle = self._handle()
        if handle is None:
            return True
        pause = 0.0001
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    self._threads.release()
                    return False
                # Short, bounded pauses: only one thread per process waits here (the
                # others wait on the thread lock), and the holder commits within ms.
                time.sleep(pause)
                pause = min(pause * 2, 0.001)

    def _handle(self) -> IO[bytes] | None:
        # Opened once per process: a file lock belongs to the open file, and a child
        # process must not share its parent's.
        if self._path is not None and (self._file is None or self._pid != os.getpid()):
            try:
                self._file = open(self._path, "ab")  # noqa: SIM115 - held for the process's life
            except OSError as exc:
                # A lock file this user may not open (left by another user, say) must not
                # stop every write: SQLite's own lock still keeps writers apart.
                log.warning("sqlite.writer_queue.unavailable path=%s error=%s", self._path, exc)
                self._path = None
                return None
            os.set_inheritable(self._file.fileno(), False)
            self._pid = os.getpid()
        return self._file


class Turns:
    """Which driver connection holds the writers' turn, handed on after its COMMIT.

    SQLAlchemy's ``commit``/``rollback`` events fire before the driver's, so releasing
    there would let the next writer's ``BEGIN IMMEDIATE`` meet a lock not yet free. The
    turn is released by the dialect's ``do_commit``/``do_rollback`` once they return
    (the pool's reset-on-return rolls back through the same call), and, for a
    connection invalidated mid-transaction (no driver rollback), by the ``rollback``
    event and the pool's ``invalidate`` event.
    """

    def __init__(self, queue: WriterQueue) -> None:
        self.queue = queue
        self._holders: dict[int, int] = {}  # id(driver connection) -> id(Connection)
        self._lock = threading.Lock()

    def take_turn(self, conn: Connection) -> None:
        if self.queue.acquire():
            with self._lock:
                self._holders[id(conn.connection.dbapi_connection)] = id(conn)

    def end_turn(self, dbapi_connection: Any) -> None:
        raw = getattr(dbapi_connection, "dbapi_connection", dbapi_connection)
        with self._lock:
            held = self._holders.pop(id(raw), None) is not None
        if held:
            self.queue.release()

    def end_turn_of(self, conn: Connection) -> None:
        with self._lock:
            mine = [key for key, holder in self._holders.items() if holder == id(conn)]
            for key in mine:
                del self._holders[key]
        for _ in mine:
            self.queue.release()


_QUEUES: weakref.WeakKeyDictionary[Engine, WriterQueue] = weakref.WeakKeyDictionary()


def writer_queue_of(engine: Engine) -> WriterQueue | None:
    """The writer queue installed on ``engine`` (None: not a SQLite engine of ours), for
    writers that drive the driver connection themselves."""
    return _QUEUES.get(engine)


def queue_writers(engine: Engine, database: str | None, timeout: float) -> Turns:
    """Install the writer queue on a SQLite engine; ``BEGIN IMMEDIATE`` calls ``take_turn``."""
    turns = Turns(WriterQueue(database, timeout))
    _QUEUES[engine] = turns.queue
    dialect: Any = engine.dialect
    driver_commit, driver_rollback = dialect.do_commit, dialect.do_rollback

    def do_commit(dbapi_connection: Any) -> None:
        try:
            driver_commit(dbapi_connection)
        finally:
            turns.end_turn(dbapi_connection)

    def do_rollback(dbapi_connection: Any) -> None:
        try:
            driver_rollback(dbapi_connection)
        finally:
            turns.end_turn(dbapi_connection)

    dialect.do_commit = do_commit
    dialect.do_rollback = do_rollback

    @event.listens_for(engine, "rollback")
    def _rolled_back(conn: Connection) -> None:
        if conn.invalidated:  # discarded: the driver is never asked to roll back
            turns.end_turn_of(conn)

    @event.listens_for(engine.pool, "invalidate")
    def _invalidated(dbapi_connection: Any, _record: Any, _exc: Any) -> None:
        turns.end_turn(dbapi_connection)

    return turns
