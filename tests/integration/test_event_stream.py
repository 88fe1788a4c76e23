"""GET /events/stream from a real ``incidents serve``, read by a real HTTP client.

Writers append continuously (through the API and, from this process, straight through
the store) while a consumer follows the stream, hangs up in the middle of it again and
again, and comes back with Last-Event-ID. Whatever the timing, it must end up with every
position of the log exactly once, in order. On PostgreSQL the server is woken by
LISTEN/NOTIFY (the store's appends notify); on SQLite it polls.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Generator
from contextlib import closing
from pathlib import Path
from uuid import uuid4

import httpx
import pytest

from application.service import CommandContext, IncidentService
from domain import commands as c
from domain.values import Severity
from eventstore import EventStore
from eventstore.engine import create_engine
from projections.runner import ProjectionRunner
from tests.integration.servers import (
    ADMIN_TOKEN,
    eventually,
    incidents_server,
)
from tests.sse_client import Message, messages

pytestmark = pytest.mark.slow

STREAM_SETTINGS = {
    "INCIDENTS_EVENTS_STREAM_HEARTBEAT_SECONDS": "0.2",
    "INCIDENTS_EVENTS_STREAM_POLL_SECONDS": "0.1",
    "INCIDENTS_EVENTS_STREAM_RETRY_MS": "100",
}
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
NOTES_PER_WRITER = 12
HANG_UP_AFTER = [4, 9, 2, 7, 5]
"""How many events the consumer takes on each connection before it hangs up, in turn."""
NOTES_PER_HANG_UP = 3
"""A writer's note ``n`` waits for the consumer's ``n // 3``-th hang-up, so the writing
spans several hang-ups however fast the writers are."""


class HangUps:
    """The consumer's hang-ups so far, which the writers wait on."""

    def __init__(self) -> None:
        self.count = 0
        self._changed = threading.Condition()

    def add(self) -> None:
        with self._changed:
            self.count += 1
            self._changed.notify_all()

    def wait_for(self, count: int) -> None:
        with self._changed:
            assert self._changed.wait_for(lambda: self.count >= count, timeout=30)


def api_writer(url: str, hang_ups: HangUps) -> None:
    with httpx.Client(base_url=url, headers=AUTH, timeout=30) as client:
        declared = client.post(
            "/incidents", json={"title": "Checkout returns 502", "severity": "SEV2"}
        )
        assert declared.status_code == 201, declared.text
        incident = declared.json()["id"]
        for n in range(NOTES_PER_WRITER):
            hang_ups.wait_for(n // NOTES_PER_HANG_UP)
            added = client.post(f"/incidents/{incident}/notes", json={"text": f"note {n}"})
            assert added.status_code == 201, added.text


def store_writer(database_url: str, hang_ups: HangUps | None = None) -> None:
    """Another process appending to the same log, not through the server; paced by
    ``hang_ups`` when given."""
    engine = create_engine(database_url)
    try:
        service = IncidentService(EventStore(engine), ProjectionRunner())
        context = CommandContext(metadata={"actor": "store-writer", "source": "test"})
        incident = uuid4()
        service.execute(
            c.DeclareIncident(
                incident_id=incident,
                at=service.now(),
                title="Search is slow",
                severity=Severity.SEV3,
            ),
            context,
        )
        for n in range(NOTES_PER_WRITER):
            if hang_ups is not None:
                hang_ups.wait_for(n // NOTES_PER_HANG_UP)
            note = c.AddNote(incident_id=incident, at=service.now(), note_id=uuid4(), text=f"n{n}")
            service.execute(note, context)
    finally:
        engine.dispose()


def log_positions(database_url: str) -> list[int]:
    engine = create_engine(database_url)
    try:
        return [event.position for event in EventStore(engine).read_all(limit=100_000)]
    finally:
        engine.dispose()


def open_stream(client: httpx.Client, last: int | None) -> Generator[Message]:
    """The stream's messages; closing the generator hangs up."""
    headers = {} if last is None else {"Last-Event-ID": str(last)}
    with client.stream("GET", "/events/stream", headers=headers) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        yield from messages(response.iter_lines())


def check(message: Message) -> int:
    envelope = message.json()
    assert envelope["position"] == message.position
    assert envelope["type"] == message.event
    return message.position


def test_a_consumer_that_keeps_reconnecting_gets_every_position_once_in_order(
    database_url: str, tmp_path: Path
) -> None:
    with incidents_server(database_url, tmp_path, **STREAM_SETTINGS) as served:
        hang_ups = HangUps()
        writers = [
            threading.Thread(target=api_writer, args=(served.url, hang_ups)) for _ in range(2)
        ]
        writers.append(threading.Thread(target=store_writer, args=(database_url, hang_ups)))
        for writer in writers:
            writer.start()
        received: list[int] = []
        deadline = time.monotonic() + 60
        with httpx.Client(base_url=served.url, headers=AUTH, timeout=10) as client:
            # While the writers write: take a few events, hang up mid-stream, resume.
            while any(writer.is_alive() for writer in writers):
                assert time.monotonic() < deadline, "the writers did not finish"
                budget = HANG_UP_AFTER[hang_ups.count % len(HANG_UP_AFTER)]
                taken = 0
                with closing(open_stream(client, received[-1] if received else None)) as stream:
                    for message in stream:
                        if message.is_event:
                            received.append(check(message))
                            taken += 1
                        idle = "heartbeat" in message.comments  # the writers wait on us
                        if taken == budget or idle or not any(w.is_alive() for w in writers):
                            break  # leaving the block hangs up
                hang_ups.add()
            for writer in writers:
                writer.join()
            expected = log_positions(database_url)
            # Then once more to the end of the log, and on until the stream idles.
            heartbeat_when_idle = False
            with closing(open_stream(client, received[-1] if received else None)) as stream:
                for message in stream:
                    assert time.monotonic() < deadline, "the stream did not reach the head"
                    if message.is_event:
                        received.append(check(message))
                    elif "heartbeat" in message.comments and received[-1:] == expected[-1:]:
                        heartbeat_when_idle = True
                        break
        assert len(expected) == 3 * (NOTES_PER_WRITER + 1)
        assert received == expected  # every position, once, in increasing order
        assert hang_ups.count >= (NOTES_PER_WRITER - 1) // NOTES_PER_HANG_UP
        assert heartbeat_when_idle


def test_a_server_refuses_streams_beyond_its_limit_and_frees_the_place_on_hang_up(
    database_url: str, tmp_path: Path
) -> None:
    with (
        incidents_server(
            database_url, tmp_path, INCIDENTS_EVENTS_STREAM_MAX_CLIENTS="1", **STREAM_SETTINGS
        ) as served,
        httpx.Client(base_url=served.url, headers=AUTH, timeout=10) as client,
    ):
        first = open_stream(client, None)
        assert next(first).retry == 100
        refused = client.get("/events/stream")
        assert refused.status_code == 503
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.headers["retry-after"] == "1"
        assert "already streams the log to 1 clients" in refused.json()["detail"]
        first.close()  # hang up

        def reopened() -> bool:
            with client.stream("GET", "/events/stream") as response:
                return response.status_code == 200

        eventually(reopened, timeout=10, what="the place to be freed")


def test_stopping_the_server_ends_open_streams_cleanly(database_url: str, tmp_path: Path) -> None:
    """Without this, uvicorn would wait for the endless response for ever on SIGTERM."""
    with incidents_server(database_url, tmp_path, **STREAM_SETTINGS) as served:
        process = served.process
        assert process is not None
        with httpx.Client(base_url=served.url, headers=AUTH, timeout=10) as client:
            stream = open_stream(client, None)
            assert next(stream).retry == 100
            os.killpg(process.pid, signal.SIGTERM)
            rest = list(stream)  # a complete response: no error for a cut-off body
        assert all(not message.is_event for message in rest)
        process.wait(timeout=30)
        assert process.returncode in (0, -signal.SIGTERM), served.log.read_text()


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgresql"])
def test_on_postgresql_a_notify_wakes_an_idle_stream_that_would_not_poll_for_a_minute(
    database_url: str, tmp_path: Path
) -> None:
    settings = {**STREAM_SETTINGS, "INCIDENTS_EVENTS_STREAM_POLL_SECONDS": "60"}
    with (
        incidents_server(database_url, tmp_path, **settings) as served,
        httpx.Client(base_url=served.url, headers=AUTH, timeout=10) as client,
    ):
        declared = client.post("/incidents", json={"title": "Queue backs up", "severity": "SEV3"})
        assert declared.status_code == 201, declared.text
        deadline = time.monotonic() + 30  # well inside the minute the stream would sleep
        with closing(open_stream(client, None)) as stream:
            first = next(m for m in stream if m.is_event)
            assert first.position == 1  # the stream has read the log and now waits
            writer = threading.Thread(target=store_writer, args=(database_url,))
            writer.start()
            second = next(m for m in stream if m.is_event or time.monotonic() > deadline)
            writer.join()
        assert second.is_event, "no NOTIFY reached the stream"
        assert second.position == 2
        assert second.event == "incident.declared"
