"""GET /events/stream's body: the log from a position on, live, as server-sent events.

Built on sse-starlette's EventSourceResponse rather than a plain StreamingResponse (or
FastAPI's own generator-based SSE) because it already does the three things a stream
that never ends needs besides its events: it notices a client that went away while the
stream is idle (it listens for ``http.disconnect`` beside the stream), it ends every
stream when uvicorn is asked to stop (otherwise uvicorn waits for them forever), and
its heartbeat is a comment of our choosing at an interval of our choosing.
"""

from __future__ import annotations

import math
import threading
from collections.abc import AsyncIterator

import anyio
import structlog
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sse_starlette import EventSourceResponse, ServerSentEvent
from sse_starlette.sse import SendTimeoutError
from starlette.types import Receive, Scope, Send

from api.problems import problem
from api.schemas.events import LogEvent
from application.log_watcher import LogWatcher
from application.settings import Settings
from eventstore.feed import LogFilter, LogPage, read_log_page

log = structlog.get_logger()

BATCH = 500
"""Events read from the database at a time while a stream catches up."""

SEND_TIMEOUT_SECONDS = 30.0
"""A client that takes no bytes for this long is dropped, freeing its place."""

SHUTDOWN_GRACE_SECONDS = 5.0
"""How long a stream may take to end itself once the server stops (a read in flight)."""

SEPARATOR = "\n"


def message(
    *,
    data: str | None = None,
    event: str | None = None,
    id: str | None = None,
    retry: int | None = None,
    comment: str | None = None,
) -> ServerSentEvent:
    return ServerSentEvent(data, event=event, id=id, retry=retry, comment=comment, sep=SEPARATOR)


def event_message(event: LogEvent) -> ServerSentEvent:
    """``id`` is the position, so a client's Last-Event-ID is where it resumes."""
    return message(id=str(event.position), event=event.type, data=event.model_dump_json())


def _read(engine: Engine, after: int, log_filter: LogFilter) -> LogPage:
    with engine.connect() as conn:
        return read_log_page(conn, after, BATCH, log_filter)


async def follow_log(
    engine: Engine,
    watcher: LogWatcher,
    after: int,
    log_filter: LogFilter,
    settings: Settings,
    stopping: anyio.Event,
) -> AsyncIterator[ServerSentEvent]:
    """Every event after ``after`` that passes the filter, then each new one as it comes,
    until the time allowed runs out or the server stops (``stopping``).

    Database reads run in worker threads; the event loop only waits. The wake-up is
    cleared before each read, so a NOTIFY that lands during the read is not lost.
    """
    yield message(retry=settings.events_stream_retry_ms)
    max_seconds = settings.events_stream_max_seconds
    deadline = math.inf if max_seconds is None else anyio.current_time() + max_seconds
    with watcher.subscription() as wakeup:
        while True:
            wakeup.clear()
            page = await anyio.to_thread.run_sync(_read, engine, after, log_filter)
            for event in page.events:
                yield event_message(LogEvent.of(event))
            after = page.next_after
            left = deadline - anyio.current_time()
            if left <= 0 or stopping.is_set():
                return
            if not page.caught_up:
                continue
            await wakeup.wait(min(settings.events_stream_poll_seconds, left), stopping)
            if stopping.is_set():
                return


class StreamSlots:
    """How many streams this process serves at once, against a limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open = 0
        self._lock = threading.Lock()

    def acquire(self) -> bool:
        with self._lock:
            if self.open >= self.limit:
                return False
            self.open += 1
            return True

    def release(self) -> None:
        with self._lock:
            self.open -= 1


class LogStreamResponse(EventSourceResponse):
    """An event stream that holds one of the process's slots while it runs, else a 503."""

    media_type = "text/event-stream"

    def __init__(
        self,
        content: AsyncIterator[ServerSentEvent],
        slots: StreamSlots,
        settings: Settings,
        stopping: anyio.Event,
    ) -> None:
        super().__init__(
            content,
            ping=settings.events_stream_heartbeat_seconds,
            ping_message_factory=lambda: message(comment="heartbeat"),
            sep=SEPARATOR,
            send_timeout=SEND_TIMEOUT_SECONDS,
            # On shutdown ``stopping`` is set and the stream given this long to end
            # itself, so its client sees a complete response rather than a cut one.
            shutdown_event=stopping,
            shutdown_grace_period=SHUTDOWN_GRACE_SECONDS,
        )
        self.slots = slots
        self.retry_after = max(1, math.ceil(settings.events_stream_retry_ms / 1000))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The place is taken here, where it is certain to be given back, not in the route.
        if not self.slots.acquire():
            refusal = problem(
                503,
                f"this server already streams the log to {self.slots.limit} clients;"
                " retry shortly, or page through GET /events",
            )
            refusal.headers["Retry-After"] = str(self.retry_after)
            await refusal(scope, receive, send)
            return
        try:
            await super().__call__(scope, receive, send)
        except SendTimeoutError:
            log.warning("events_stream.client_stalled", seconds=SEND_TIMEOUT_SECONDS)
        except SQLAlchemyError:
            # The response has started, so no problem document can follow; the client
            # sees the stream end and resumes from its Last-Event-ID.
            log.exception("events_stream.read_failed")
        finally:
            self.slots.release()


def live_parts(app: FastAPI) -> tuple[LogWatcher, StreamSlots]:
    """The app's log watcher (its runtime's) and stream slots, both made in ``create_app``."""
    watcher: LogWatcher = app.state.log_watcher
    slots: StreamSlots = app.state.stream_slots
    return watcher, slots
