"""Positions on PostgreSQL: appends leave no holes, and every reader passes the holes an
older log has.

An append numbers its events after the log's last position, read under the append lock,
so a failed append or a writer killed mid-transaction leaves nothing behind: the next
append takes the same position (made for real here: a rollback in process, and a writer
process SIGKILLed while it holds the lock with its positions drawn). A log written
before migration 0015, when positions came from an identity sequence, has holes where
such appends drew one, and so has a log imported from it; every consumer is walked
across such holes: the feed's pages, the SSE stream resumed at and around a hole, a
projection worker, and export -> import into both backends.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select

from api.app import create_app
from application.service import IncidentService
from application.settings import Settings
from domain import commands as c
from domain.events import NoteAdded, encode, event_type, schema_version
from domain.values import NoteVisibility, Severity, stream_id_for
from eventstore import EventStore, NewEvent
from eventstore.chain import last_link, link
from eventstore.chain_verify import verify_chain
from eventstore.engine import create_engine
from eventstore.schema import events
from eventstore.store import lock_log_for_append
from projections.runner import default_projections
from projections.worker import ProjectionWorker
from tests.api.conftest import ADMIN_TOKEN, STREAM_SECONDS
from tests.api.helpers import declare, ok
from tests.conftest import fresh_database
from tests.sse_client import parse
from tests.support.read_models import assert_equals_rebuild, read_log
from tests.support.transfer import export_bytes, import_bytes

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]

KILLED_WRITER = """
import sys, time, uuid
from datetime import UTC, datetime
from domain import commands as c
from domain.events import NoteAdded, encode, event_type, schema_version
from domain.values import Severity
from eventstore import EventStore, NewEvent
from eventstore.engine import create_engine

def hold(conn, recorded):
    print(recorded[0].position, flush=True)  # drawn, under the append lock, not committed
    time.sleep(600)

event = NewEvent(uuid.uuid4(), "test.recorded", {"n": "killed"}, datetime.now(UTC))
EventStore(create_engine(sys.argv[1])).append("stream-killed", [event], 0, in_transaction=hold)
"""


class Failed(Exception):
    """Raised inside an append transaction to roll it back after positions were drawn."""


def new_event(**data: Any) -> NewEvent:
    return NewEvent(uuid.uuid4(), "test.recorded", data, datetime.now(UTC))


@pytest.fixture
def client(postgres_url: str) -> Iterator[TestClient]:
    """The API with projections left to a worker, so the worker is what crosses the holes."""
    settings = Settings(
        database_url=postgres_url,
        admin_token=ADMIN_TOKEN,
        projection_mode="worker",
        events_stream_max_seconds=STREAM_SECONDS,
        events_stream_poll_seconds=0.05,
    )
    with TestClient(create_app(settings)) as client:
        client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        yield client


def rolled_back_append(store: EventStore, count: int) -> None:
    def fail(_conn: object, recorded: list[Any]) -> None:
        assert len(recorded) == count
        raise Failed

    with pytest.raises(Failed):
        store.append(
            f"stream-{uuid.uuid4().hex}",
            [new_event() for _ in range(count)],
            0,
            in_transaction=fail,
        )


def killed_writer(client: TestClient, store: EventStore, url: str) -> tuple[int, list[int]]:
    """A writer draws a position and is SIGKILLed before its commit: that position, and
    the positions of the append that waited for the lock meanwhile (readers saw the log
    without the drawn one)."""
    writer = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, url],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert writer.stdout is not None
        drawn = int(writer.stdout.readline())
        head_before = store.head_position()
        assert drawn > head_before
        waiting: list[int] = []
        service: IncidentService = client.app.state.service  # type: ignore[attr-defined]
        # A real declaration, so that the projection worker below reads every committed event.
        declaration = c.DeclareIncident(
            incident_id=uuid.uuid4(),
            at=service.now(),
            title="Queued behind",
            severity=Severity.SEV3,
        )
        behind = threading.Thread(
            target=lambda: waiting.extend(
                service.execute(declaration, {"actor": "behind"}).result.positions
            )
        )
        behind.start()
        behind.join(0.5)
        assert waiting == [], "an append went past a writer that holds the append lock"
        page = ok(client.get("/events", params={"after": 0, "limit": 1000}))
        assert page["head"] == head_before, "a reader saw past a position still being written"
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(10)
    behind.join(30)
    assert not behind.is_alive(), "the killed writer's lock was never released"
    assert waiting
    return drawn, waiting


def pages(client: TestClient, after: int, limit: int) -> list[dict[str, Any]]:
    found = [ok(client.get("/events", params={"after": after, "limit": limit}))]
    while found[-1]["next_after"] < found[-1]["head"]:
        found.append(
            ok(client.get("/events", params={"after": found[-1]["next_after"], "limit": limit}))
        )
    return found


def test_a_rollback_and_a_killed_writer_leave_no_hole(
    client: TestClient, postgres_url: str
) -> None:
    store: EventStore = client.app.state.store  # type: ignore[attr-defined]
    first = declare(client, title="Checkout returns 502")
    head = store.head_position()
    rolled_back_append(store, 2)
    ok(client.post(f"/incidents/{first}/notes", json={"text": "After a rollback"}), 201)
    noted = store.head_position()
    drawn, waited = killed_writer(client, store, postgres_url)
    rolled_back_append(store, 1)
    declare(client, title="Search is slow")

    assert noted == head + 1
    assert drawn == noted + 1
    assert waited[0] == drawn  # the killed writer's position, taken by the next append
    committed = [event.position for event in read_log(store.engine)]
    assert committed == list(range(1, store.head_position() + 1))
    with store.engine.connect() as conn:
        verdict = verify_chain(conn)
    assert verdict.ok, verdict.reason
    assert verdict.head_position == committed[-1]


def leave_hole(store: EventStore, incident_id: str, width: int) -> int:
    """``width`` positions after the head that no event will have, as a log written before
    migration 0015 has where appends rolled back: the next event, a note on
    ``incident_id``, is written (chained) after them, around the store. The first
    position of the hole."""
    stream = stream_id_for(uuid.UUID(incident_id))
    note = NoteAdded(
        occurred_at=datetime.now(UTC),
        note_id=uuid.uuid4(),
        text="after a hole",
        visibility=NoteVisibility.PUBLIC,
    )
    event = NewEvent(
        uuid.uuid4(),
        event_type(note),
        encode(note),
        note.occurred_at,
        schema_version(note),
        {"actor": "importer"},
    )
    with store.engine.begin() as conn:
        lock_log_for_append(conn)
        last, previous = last_link(conn)
        position = last + width + 1
        version = (
            conn.execute(
                select(func.coalesce(func.max(events.c.version), 0)).where(
                    events.c.stream_id == stream
                )
            ).scalar_one()
            + 1
        )
        recorded_at = datetime.now(UTC)
        digest = link(previous, event.recorded(position, stream, version, recorded_at))
        conn.execute(
            insert(events).values(
                position=position,
                stream_id=stream,
                version=version,
                type=event.type,
                schema_version=event.schema_version,
                data=event.data,
                metadata=event.metadata,
                event_id=event.event_id,
                occurred_at=event.occurred_at,
                recorded_at=recorded_at,
                chain_hash=digest.hex(),
            )
        )
    return last + 1


def test_every_reader_passes_holes_in_a_log_from_before(
    client: TestClient, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    store: EventStore = client.app.state.store  # type: ignore[attr-defined]
    engine = store.engine
    first = declare(client, title="Checkout returns 502")
    made = [leave_hole(store, first, 2)]
    ok(client.post(f"/incidents/{first}/notes", json={"text": "Rolled back 4812"}), 201)
    made.append(leave_hole(store, first, 1))
    second = declare(client, title="Search is slow")
    made.append(leave_hole(store, second, 1))
    ok(client.post(f"/incidents/{second}/status", json={"status": "identified"}))

    committed = [event.position for event in read_log(engine)]
    head = store.head_position()
    holes = sorted(set(range(1, head + 1)) - set(committed))
    assert committed == sorted(committed)
    assert committed[-1] == head
    assert holes == [made[0], made[0] + 1, made[1], made[2]]
    killed = made[1]
    with engine.connect() as conn:
        assert verify_chain(conn).ok

    # The feed, in pages of every size and starting anywhere, at a hole included.
    for limit in (1, 2, 3, 1000):
        walked = pages(client, 0, limit)
        positions = [event["position"] for page in walked for event in page["events"]]
        assert positions == committed, f"limit {limit}"
        afters = [page["next_after"] for page in walked]
        assert afters == sorted(set(afters))
        assert afters[-1] == head
    for hole in holes:
        positions = [e["position"] for p in pages(client, hole, 1) for e in p["events"]]
        assert positions == [p for p in committed if p > hole]
        resumed_before = [p for p in committed if p > hole - 1]
        assert [
            e["position"] for p in pages(client, hole - 1, 2) for e in p["events"]
        ] == resumed_before

    # The stream resumed from a hole, and from just before one.
    for last_seen in (holes[0], holes[0] - 1, killed, killed - 1):
        response = client.get("/events/stream", headers={"Last-Event-ID": str(last_seen)})
        assert response.status_code == 200
        streamed = [m.position for m in parse(response.text) if m.is_event]
        assert streamed == [p for p in committed if p > last_seen]

    # A projection worker follows the log across the holes to its head.
    ProjectionWorker(engine, default_projections(), batch_size=2).run(once=True)
    assert_equals_rebuild(engine)
    summaries = ok(client.get("/incidents"))
    assert {incident["id"] for incident in summaries["items"]} >= {first, second}

    # Export and import keep the holes: positions are kept as they are, never renumbered.
    exported = export_bytes(engine)
    for backend in ("postgresql", "sqlite"):
        with fresh_database(backend, request, tmp_path / f"{backend}.db") as url:
            copy = create_engine(url)
            try:
                import_bytes(copy, exported, any_type=True)
                assert read_log(copy) == read_log(engine)
                appended = EventStore(copy).append("stream-after", [new_event()], 0)
                assert appended.positions == (head + 1,)
            finally:
                copy.dispose()
