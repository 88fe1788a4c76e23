"""Log lines are written by a thread of their own: a stalled stderr never stalls a caller."""

from __future__ import annotations

import io
import threading
import time

from application.log_lines import LineWriter


class StalledStream(io.StringIO):
    """A stream whose writes wait until it is released, like a full pipe."""

    def __init__(self) -> None:
        super().__init__()
        self.released = threading.Event()
        self.writing = threading.Event()

    def write(self, text: str) -> int:
        self.writing.set()
        self.released.wait(10)
        return super().write(text)


def test_queued_lines_do_not_wait_for_a_stalled_stream_and_arrive_in_order() -> None:
    stream = StalledStream()
    writer = LineWriter(stream)
    writer.info("first")
    assert stream.writing.wait(5)  # the writer thread is now stuck in write
    started = time.monotonic()
    for number in range(1000):
        writer.info(f"line {number}")
    queued_in = time.monotonic() - started
    assert stream.getvalue() == ""
    assert queued_in < 5  # far below the 10 s the stream would hold a caller
    stream.released.set()
    writer.flush()
    assert stream.getvalue().splitlines() == ["first", *(f"line {n}" for n in range(1000))]


def test_a_warning_is_written_before_the_call_returns_with_every_line_before_it() -> None:
    stream = io.StringIO()
    writer = LineWriter(stream)
    writer.info("request")
    writer.warning("database fault")
    assert stream.getvalue() == "request\ndatabase fault\n"
    writer.error("failed")
    assert stream.getvalue().endswith("failed\n")
