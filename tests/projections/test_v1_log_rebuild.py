"""A log holding version 1 notes rebuilds into the read models of the same history as version 2.

One history is written twice, into two fresh databases of the same backend: once
through the service, so every note is version 2 and the read models are built inline;
once event by event through ``EventStore.append`` with the same ids, times and
metadata, but with every internal note in the shape version 1 stored (no
``visibility``, ``schema_version`` 1), as a log written before version 2 existed
holds it. Rebuilding every projection of that second log must give exactly the first
database's rows, and the aggregate must fold it into the same state, so commands go on
working. Each test runs on SQLite and PostgreSQL (tests/conftest.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import Engine

from application.service import IncidentService
from domain import commands as c
from domain.errors import RuleViolation
from domain.values import ActionKind, NoteVisibility, Priority, Section, Severity, Status
from eventstore import EventStore, NewEvent, RecordedEvent
from projections.rebuild import rebuild
from projections.runner import default_projections
from projections.timeline import get_timeline
from tests.clocks import FakeClock
from tests.conftest import NewDatabase
from tests.projections.rebuild_support import Snapshot, make_service, snapshot
from tests.support.read_models import checkpoint_positions

BASE = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
FOLLOW_UP = BASE + timedelta(hours=6)
TICK = timedelta(minutes=1)
ACTOR = {"actor": "alice", "source": "api"}

CHECKOUT = UUID("7d1f0c39-2f6b-4d55-9a61-0c8e2a1b3c01")
SEARCH = UUID("7d1f0c39-2f6b-4d55-9a61-0c8e2a1b3c02")
PAGED = UUID("5a9e4f0e-1c7d-4e2b-8f3a-6b2d9c4e7a01")
CUSTOMER_UPDATE = UUID("5a9e4f0e-1c7d-4e2b-8f3a-6b2d9c4e7a02")
DEPLOY = UUID("5a9e4f0e-1c7d-4e2b-8f3a-6b2d9c4e7a03")
LEAKED = UUID("5a9e4f0e-1c7d-4e2b-8f3a-6b2d9c4e7a04")
INDEXER = UUID("5a9e4f0e-1c7d-4e2b-8f3a-6b2d9c4e7a05")
SEARCH_UPDATE = UUID("5a9e4f0e-1c7d-4e2b-8f3a-6b2d9c4e7a06")
CAUGHT_UP = UUID("5a9e4f0e-1c7d-4e2b-8f3a-6b2d9c4e7a07")
POOL_ALERT = UUID("b3c8d2e1-4f5a-4b6c-9d7e-8f9a0b1c2d01")

PUBLIC = NoteVisibility.PUBLIC

Step = Callable[[datetime], c.Command]

HISTORY: list[Step] = [
    lambda at: c.DeclareIncident(
        incident_id=CHECKOUT,
        at=at,
        title="Checkout API returns 502",
        severity=Severity.SEV2,
        services=("checkout", "payments"),
    ),
    lambda at: c.AddNote(
        incident_id=CHECKOUT, at=at, note_id=PAGED, text="Paged the payments on-call"
    ),
    lambda at: c.AcknowledgeIncident(incident_id=CHECKOUT, at=at),
    lambda at: c.DeclareIncident(
        incident_id=SEARCH,
        at=at,
        title="Search results are stale",
        severity=Severity.SEV3,
        services=("search",),
    ),
    lambda at: c.AddNote(
        incident_id=CHECKOUT,
        at=at,
        note_id=CUSTOMER_UPDATE,
        text="Some customers cannot pay; we are investigating",
        visibility=PUBLIC,
    ),
    lambda at: c.ChangeSeverity(
        incident_id=CHECKOUT, at=at, severity=Severity.SEV1, reason="All regions affected"
    ),
    lambda at: c.AddNote(
        incident_id=CHECKOUT,
        at=at,
        note_id=DEPLOY,
        text="Deploy 4812 went out at 13:58",
        occurred_at=BASE - timedelta(minutes=2),
    ),
    lambda at: c.AddNote(
        incident_id=SEARCH, at=at, note_id=INDEXER, text="Indexer lag is 40 minutes"
    ),
    lambda at: c.AmendNote(
        incident_id=CHECKOUT,
        at=at,
        note_id=DEPLOY,
        text="Deploy 4812 went out at 13:57",
        occurred_at=BASE - timedelta(minutes=3),
    ),
    lambda at: c.AddNote(
        incident_id=CHECKOUT, at=at, note_id=LEAKED, text="Reported by jane@example.com"
    ),
    lambda at: c.RedactNote(
        incident_id=CHECKOUT, at=at, note_id=LEAKED, reason="Contained a customer's e-mail"
    ),
    lambda at: c.ChangeStatus(incident_id=CHECKOUT, at=at, status=Status.IDENTIFIED),
    lambda at: c.UpdateRootCause(
        incident_id=CHECKOUT, at=at, root_cause="Deploy 4812 halved the payments pool"
    ),
    lambda at: c.AddActionItem(
        incident_id=CHECKOUT,
        at=at,
        item_id=POOL_ALERT,
        title="Alert on connection-pool saturation",
        kind=ActionKind.PREVENTATIVE,
        owner="bob",
        due_date=date(2026, 3, 16),
        priority=Priority.P2,
    ),
    lambda at: c.EditPostmortemSection(
        incident_id=CHECKOUT,
        at=at,
        section=Section.ROOT_CAUSE,
        text="Deploy 4812 halved the connection pool of the payments service.",
    ),
    lambda at: c.AddNote(
        incident_id=SEARCH,
        at=at,
        note_id=SEARCH_UPDATE,
        text="Search may show results up to an hour old",
        visibility=PUBLIC,
    ),
    lambda at: c.ChangeStatus(incident_id=CHECKOUT, at=at, status=Status.RESOLVED),
]
"""Two incidents, interleaved: internal and public notes, amended and redacted ones."""

V1_NOTES = {PAGED, DEPLOY, LEAKED, INDEXER}
"""The internal notes of HISTORY: version 1 could hold them, so the old log does."""

FOLLOW_UPS: list[Step] = [
    lambda at: c.AmendNote(
        incident_id=CHECKOUT, at=at, note_id=PAGED, text="Paged the payments on-call (Dana)"
    ),
    lambda at: c.RedactNote(incident_id=CHECKOUT, at=at, note_id=DEPLOY, reason="Wrong incident"),
    lambda at: c.AddNote(
        incident_id=SEARCH,
        at=at,
        note_id=CAUGHT_UP,
        text="The indexer caught up",
        visibility=PUBLIC,
    ),
]
"""Commands on incidents whose notes are partly version 1.

Only note commands: the entries they touch are keyed by note id, which both databases
share, whereas other entries are keyed by a fresh event id.
"""


@pytest.fixture
def v1_engine(backend: str, new_database: NewDatabase) -> Engine:
    """A second fresh, migrated database of the same backend as ``engine``."""
    return new_database(backend)


def command_time(step: int) -> datetime:
    """When HISTORY[step] was run: each step takes two ticks, its own time and the append's."""
    return BASE + 2 * step * TICK


def run(service: IncidentService, steps: list[Step]) -> None:
    for step in steps:
        service.execute(step(service.now()), ACTOR)


def read_log(engine: Engine) -> list[RecordedEvent]:
    return EventStore(engine).read_all(0, 10_000)


def as_stored_by_v1(event: NewEvent) -> NewEvent:
    """An internal note in the shape version 1 wrote it: no visibility field."""
    assert event.data["visibility"] == "internal", "version 1 could not express this note"
    old = {key: value for key, value in event.data.items() if key != "visibility"}
    return replace(event, schema_version=1, data=old)


def write_as_old_log(log: list[RecordedEvent], engine: Engine) -> None:
    """Append ``log`` event by event, keeping ids, versions, times and metadata."""
    recorded_times = iter([r.recorded_at for r in log])
    store = EventStore(engine, clock=lambda: next(recorded_times))
    for r in log:
        event = NewEvent(
            event_id=r.event_id,
            type=r.type,
            data=r.data,
            occurred_at=r.occurred_at,
            schema_version=r.schema_version,
            metadata=r.metadata,
        )
        if r.type == "timeline.note_added" and UUID(r.data["note_id"]) in V1_NOTES:
            event = as_stored_by_v1(event)
        store.append(r.stream_id, [event], expected_version=r.version - 1)


def assert_same_read_models(expected: Snapshot, actual: Snapshot) -> None:
    assert sorted(actual) == sorted(expected)
    for table, rows in expected.items():
        assert len(actual[table]) == len(rows), f"{table}: different number of rows"
        for want, got in zip(rows, actual[table], strict=True):
            assert got == want, f"{table}: row differs"


def note_entries(engine: Engine, incident_id: UUID) -> dict[UUID, dict[str, Any]]:
    with engine.connect() as conn:
        timeline = get_timeline(conn, incident_id)
    return {row["entry_id"]: row for row in timeline if row["kind"] == "note"}


@pytest.fixture
def written_as_v2(engine: Engine) -> IncidentService:
    """HISTORY through the service: version 2 notes, read models built inline."""
    service = make_service(engine, FakeClock(BASE, TICK))
    run(service, HISTORY)
    return service


@pytest.fixture
def written_as_v1(written_as_v2: IncidentService, engine: Engine, v1_engine: Engine) -> Engine:
    """The same log with its internal notes stored as version 1, projections rebuilt."""
    write_as_old_log(read_log(engine), v1_engine)
    rebuild(v1_engine, default_projections())
    return v1_engine


def test_old_log_holds_the_v1_shape(written_as_v1: Engine) -> None:
    notes = [r for r in read_log(written_as_v1) if r.type == "timeline.note_added"]

    stored = {UUID(r.data["note_id"]): (r.schema_version, sorted(r.data)) for r in notes}

    assert stored == {
        PAGED: (1, ["note_id", "text"]),
        CUSTOMER_UPDATE: (2, ["note_id", "text", "visibility"]),
        DEPLOY: (1, ["note_id", "text"]),
        LEAKED: (1, ["note_id", "text"]),
        INDEXER: (1, ["note_id", "text"]),
        SEARCH_UPDATE: (2, ["note_id", "text", "visibility"]),
    }


def test_rebuild_of_v1_log_equals_the_v2_read_models_built_inline(
    written_as_v2: IncidentService, engine: Engine, written_as_v1: Engine
) -> None:
    assert [r.position for r in read_log(written_as_v1)] == [r.position for r in read_log(engine)]

    assert_same_read_models(snapshot(engine), snapshot(written_as_v1))
    assert checkpoint_positions(written_as_v1) == checkpoint_positions(engine)


def test_v1_notes_show_as_internal_and_keep_their_amendments(written_as_v1: Engine) -> None:
    checkout = note_entries(written_as_v1, CHECKOUT)
    search = note_entries(written_as_v1, SEARCH)

    shown = {
        entry_id: (row["text"], row["details"], row["occurred_at"])
        for entry_id, row in (checkout | search).items()
    }
    assert shown == {
        PAGED: (
            "Paged the payments on-call",
            {"visibility": "internal"},
            command_time(1),
        ),
        CUSTOMER_UPDATE: (
            "Some customers cannot pay; we are investigating",
            {"visibility": "public"},
            command_time(4),
        ),
        DEPLOY: (
            "Deploy 4812 went out at 13:57",
            {"visibility": "internal"},
            BASE - timedelta(minutes=3),
        ),
        INDEXER: (
            "Indexer lag is 40 minutes",
            {"visibility": "internal"},
            command_time(7),
        ),
        SEARCH_UPDATE: (
            "Search may show results up to an hour old",
            {"visibility": "public"},
            command_time(15),
        ),
    }
    assert checkout[DEPLOY]["amended_at"] == command_time(8) + TICK


def test_aggregate_folds_v1_notes_into_the_same_state(
    written_as_v2: IncidentService, written_as_v1: Engine
) -> None:
    old = make_service(written_as_v1, FakeClock(FOLLOW_UP))

    for incident_id in (CHECKOUT, SEARCH):
        assert old.load(incident_id) == written_as_v2.load(incident_id)
    assert old.load(CHECKOUT).notes == {PAGED, CUSTOMER_UPDATE, DEPLOY, LEAKED}
    assert old.load(CHECKOUT).redacted_notes == {LEAKED}


def test_commands_on_v1_notes_work_as_on_v2_notes(
    written_as_v2: IncidentService, engine: Engine, written_as_v1: Engine
) -> None:
    old = make_service(written_as_v1, FakeClock(FOLLOW_UP))
    new = make_service(engine, FakeClock(FOLLOW_UP))

    for service in (old, new):
        run(service, FOLLOW_UPS)

    assert_same_read_models(snapshot(engine), snapshot(written_as_v1))
    checkout = note_entries(written_as_v1, CHECKOUT)
    assert checkout[PAGED]["text"] == "Paged the payments on-call (Dana)"
    assert checkout[PAGED]["details"] == {"visibility": "internal"}
    assert DEPLOY not in checkout
    assert note_entries(written_as_v1, SEARCH)[CAUGHT_UP]["details"] == {"visibility": "public"}
    newest = [r for r in read_log(written_as_v1) if r.type == "timeline.note_added"][-1]
    assert (newest.schema_version, newest.data["visibility"]) == (2, "public")


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (
            c.AddNote(incident_id=CHECKOUT, at=FOLLOW_UP, note_id=PAGED, text="again"),
            f"timeline entry {PAGED} already exists",
        ),
        (
            c.AmendNote(incident_id=CHECKOUT, at=FOLLOW_UP, note_id=LEAKED, text="unredacted"),
            f"note {LEAKED} was redacted",
        ),
    ],
    ids=["add-note-with-a-v1-note-id", "amend-a-redacted-v1-note"],
)
def test_rules_see_v1_notes(written_as_v1: Engine, command: c.Command, message: str) -> None:
    old = make_service(written_as_v1, FakeClock(FOLLOW_UP))
    head = EventStore(written_as_v1).head_position()

    with pytest.raises(RuleViolation, match=message):
        old.execute(command, ACTOR)

    assert EventStore(written_as_v1).head_position() == head


def test_second_rebuild_of_the_mixed_log_changes_nothing(
    written_as_v2: IncidentService, written_as_v1: Engine
) -> None:
    old = make_service(written_as_v1, FakeClock(FOLLOW_UP))
    run(old, FOLLOW_UPS)
    inline = snapshot(written_as_v1)

    rebuild(written_as_v1, default_projections())

    assert_same_read_models(inline, snapshot(written_as_v1))
