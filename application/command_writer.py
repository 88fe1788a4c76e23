"""The one writer of a process: a thread that commits every waiting command together.

Commands are handed over through a queue and awaited (a ``Future``: blocking callers
wait on it, the event loop awaits it). The writer takes the first waiting command and
whatever else is queued by then, up to ``cap``, and commits them in one transaction:
under load a batch grows by itself, and a lone command waits for nothing but its own
commit (no timer). While a batch commits, the next one accumulates.

The thread starts with the first command and ends after ``idle_seconds`` without one,
so a process that stops writing (a test, a command-line run) keeps no thread. A child
process made by ``fork`` starts its own writer: a parent's thread does not survive it.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Generic, TypeVar

import structlog

log = structlog.get_logger()

T = TypeVar("T")

BATCH_CAP = 256
"""The most commands one transaction takes."""

IDLE_SECONDS = 2.0
"""How long the writer thread waits for a command before it ends."""


class CommandWriter(Generic[T]):
    """Runs ``commit(batch)`` on one thread for every batch of submitted items.

    ``commit`` must settle each item's future (a result or an exception); an item
    whose future is left pending when it returns, or raises, gets the exception.
    """

    def __init__(
        self,
        commit: Callable[[list[T]], None],
        settle: Callable[[T], Future[Any]],
        *,
        cap: int = BATCH_CAP,
        idle_seconds: float = IDLE_SECONDS,
    ) -> None:
        self._commit = commit
        self._future_of = settle
        self.cap = cap
        self.idle_seconds = idle_seconds
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[T] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()

    def submit(self, item: T) -> None:
        """Queue ``item``; the writer settles its future once its batch committed or failed."""
        with self._lock:
            if self._pid != os.getpid():  # a forked child: the parent's queue and thread stay there
                self._queue, self._thread, self._pid = queue.SimpleQueue(), None, os.getpid()
            self._queue.put(item)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="command-writer", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=self.idle_seconds)
            except queue.Empty:
                with self._lock:  # submit queues under this lock: nothing slips past
                    if self._queue.empty():
                        self._thread = None
                        return
                continue
            batch = [first]
            while len(batch) < self.cap:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._commit_safely(batch)

    def _commit_safely(self, batch: list[T]) -> None:
        try:
            self._commit(batch)
        except BaseException as exc:
            log.exception("command_writer.batch_failed", size=len(batch))
            failure = exc
        else:
            failure = RuntimeError("the command writer left this command unanswered")
        for item in batch:
            future = self._future_of(item)
            if not future.done():
                future.set_exception(failure)
