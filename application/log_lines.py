"""Rendered log lines written by a thread of their own, so a request never waits on stderr.

Every request writes its access line. Written where it is rendered, on the event loop,
a slow reader of stderr (a full pipe, a stalled log shipper) would stall every request
of the process. Lines are queued instead and one thread writes them, several per
``write`` when they pile up.

Lines at warning and above wait until everything before them is written: they are rare,
a process that fails right after one should not lose it, and the order of lines holds.
Whatever is queued is written when the process exits normally, when logging is
configured again, and on ``flush``.
"""

from __future__ import annotations

import atexit
import os
import queue
import threading
from typing import Any, TextIO

_FLUSH_WAIT_SECONDS = 5.0
"""How long ``flush`` waits for the writer; a stream that blocks longer is not waited for."""


class LineWriter:
    """A structlog logger (its level methods take the rendered line) writing to ``stream``."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._queue: queue.SimpleQueue[str | threading.Event] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()

    def queue(self, line: str) -> None:
        """Write ``line`` soon, without waiting for it."""
        self._put(line)

    def now(self, line: str) -> None:
        """Write ``line`` and wait until it (and every line before it) is written."""
        self._put(line)
        self.flush()

    def flush(self) -> None:
        """Wait until every line queued so far is written."""
        if self._thread is None:
            return
        written = threading.Event()
        self._put(written)
        written.wait(_FLUSH_WAIT_SECONDS)

    def _put(self, item: str | threading.Event) -> None:
        with self._lock:
            if self._pid != os.getpid():  # a forked child: the parent's thread stays there
                self._queue, self._thread, self._pid = queue.SimpleQueue(), None, os.getpid()
            self._queue.put(item)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="log-lines", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            items = [self._queue.get()]
            while True:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            lines = [item for item in items if isinstance(item, str)]
            if lines:
                self._write("".join(line + "\n" for line in lines))
            for item in items:
                if isinstance(item, threading.Event):
                    item.set()

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # stderr closed or gone: nowhere left to say so
            pass

    # structlog calls the method named after the line's level with the rendered line.
    def msg(self, line: str) -> None:
        self.queue(line)

    debug = info = log = msg

    def warning(self, line: str) -> None:
        self.now(line)

    warn = error = err = exception = critical = fatal = failure = warning


_writers: list[LineWriter] = []


def writer_for(stream: TextIO) -> LineWriter:
    """A new writer for ``stream``; earlier ones are flushed first, so no line is reordered."""
    flush_all()
    writer = LineWriter(stream)
    _writers[:] = [writer]
    return writer


def flush_all(*_: Any) -> None:
    """Wait until every queued line of the process is written."""
    for writer in list(_writers):
        writer.flush()


atexit.register(flush_all)
