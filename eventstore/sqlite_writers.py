"""The queue SQLite writers wait in: threads of a process, then processes.

SQLite lets one transaction write at a time. Its busy handler makes the others wait by
sleeping in growing steps (1, 2, 5, 10 ... up to 100 ms) and trying again, so under
load writers see long, random stalls and the lock often sits free while they sleep.
Writers of this service queue here instead: a thread lock inside the process and an
advisory file lock (flock) beside the database across processes, taken before
``BEGIN IMMEDIATE``. The next writer starts the moment the previous one commits.
SQLite's own lock and busy timeout stay in force for any writer that does not queue.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from typing import IO


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
        if self._path is None:
            return True
        handle = self._handle()
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

    def release(self) -> None:
        if self._path is not None and self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
        self._threads.release()

    def _handle(self) -> IO[bytes]:
        # Opened once per process: a file lock belongs to the open file, and a child
        # process must not share its parent's.
        if self._file is None or self._pid != os.getpid():
            assert self._path is not None
            self._file = open(self._path, "ab")  # noqa: SIM115 - held for the process's life
            os.set_inheritable(self._file.fileno(), False)
            self._pid = os.getpid()
        return self._file
