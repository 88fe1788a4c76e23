"""Wake this process's live streams when the log grows: one LISTEN shared by all of them.

A LISTEN needs a connection of its own that blocks while it waits, so one thread holds
it for every stream instead of one connection and one thread per client. The thread
runs only while some stream is waiting, and only on PostgreSQL; elsewhere, and whenever
the listening connection is lost, the streams still find new events by polling.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator

import anyio
import structlog
from sqlalchemy import Engine

from eventstore.notify import Listener

log = structlog.get_logger()


class Wakeup:
    """Set from any thread, awaited by one stream on the event loop that created it."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._event = asyncio.Event()

    def set_from_thread(self) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
            self._loop.call_soon_threadsafe(self._event.set)

    def clear(self) -> None:
        self._event.clear()

    async def wait(self, timeout: float, stopping: anyio.Event) -> None:
        """Return when set, when ``stopping`` is, or after ``timeout`` seconds."""

        async def until(event: asyncio.Event | anyio.Event) -> None:
            await event.wait()
            race.cancel_scope.cancel()

        with anyio.move_on_after(timeout):
            async with anyio.create_task_group() as race:
                race.start_soon(until, self._event)
                race.start_soon(until, stopping)


class LogWatcher:
    """Hands out wake-ups that a PostgreSQL NOTIFY from any writer of the log sets."""

    def __init__(self, engine: Engine, wait_seconds: float) -> None:
        self._engine = engine
        self._wait_seconds = wait_seconds
        self._listens = engine.dialect.name == "postgresql"
        self._lock = threading.Lock()
        self._waiters: set[Wakeup] = set()
        self._thread: threading.Thread | None = None

    @contextlib.contextmanager
    def subscription(self) -> Iterator[Wakeup]:
        """A wake-up for the calling stream, valid until the block ends."""
        wakeup = Wakeup()
        with self._lock:
            self._waiters.add(wakeup)
            if self._listens and self._thread is None:
                self._thread = threading.Thread(target=self._run, name="log-watcher", daemon=True)
                self._thread.start()
        try:
            yield wakeup
        finally:
            with self._lock:
                self._waiters.discard(wakeup)

    def close(self) -> None:
        """Retire the listening thread; a stream that subscribes later starts a new one,
        as an engine that was disposed opens new connections when used again.

        Waits for the thread at most one wait, so its connection is given back before
        the engine is disposed whenever that can be done without holding up shutdown.
        """
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=self._wait_seconds)

    def _run(self) -> None:
        while True:
            try:
                self._listen()
                return
            except Exception:
                # The streams keep polling meanwhile; only their latency suffers.
                log.warning("log_watcher.listen_failed", exc_info=True)
            time.sleep(self._wait_seconds)
            if not self._still_wanted():
                return

    def _listen(self) -> None:
        """Wake the streams on each notification, until none waits any more."""
        with Listener(self._engine) as listener:
            while self._still_wanted():
                if listener.wait(self._wait_seconds):
                    self._wake_all()

    def _still_wanted(self) -> bool:
        """True while streams wait; otherwise this thread retires (under the lock, so a
        stream that subscribes a moment later starts a new one)."""
        with self._lock:
            if self._thread is not threading.current_thread():
                return False
            if self._waiters:
                return True
            self._thread = None
            return False

    def _wake_all(self) -> None:
        with self._lock:
            waiters = list(self._waiters)
        for wakeup in waiters:
            wakeup.set_from_thread()
