"""IncidentService called directly: commands, Idempotency-Key replays and If-Match.

No HTTP here: the service is what the API, the CLI and the alert hooks all call, so its
own answers (outcomes, refusals, what is stored) are checked where they are made. Each
test runs on SQLite and PostgreSQL (tests/conftest.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from sqlalchemy import Engine, func, select

from application.idempotency import (
    IdempotencyMismatch,
    IdempotencyRequest,
    idempotency_keys,
    request_hash,
)
from application.service import CommandContext, IncidentService, PreconditionFailed
from domain import commands as c
from domain.errors import IncidentNotFound
from domain.values import Severity, Status, stream_id_for
from eventstore import EventStore
from projections.runner import ProjectionRunner
from projections.summary import get_summary
from projections.timeline import get_timeline
from tests.clocks import FakeClock

START = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
ALICE = {"actor": "alice", "source": "api"}
BODY = b'{"title": "Checkout returns 502", "severity": "SEV2"}'


@pytest.fixture
def service(engine: Engine) -> IncidentService:
    """The service as the API runs it: read models projected inline, on a stepping clock."""
    clock = FakeClock(START, timedelta(seconds=1))
    return IncidentService(EventStore(engine, clock=clock), ProjectionRunner(), clock=clock)


def declare(service: IncidentService, incident_id: UUID) -> c.DeclareIncident:
    return c.DeclareIncident(
        incident_id=incident_id,
        at=service.now(),
        title="Checkout returns 502",
        severity=Severity.SEV2,
        services=("checkout",),
    )


def note(service: IncidentService, incident_id: UUID, text: str = "Rolled back") -> c.AddNote:
    return c.AddNote(incident_id=incident_id, at=service.now(), note_id=uuid4(), text=text)


def stored_keys(service: IncidentService) -> int:
    with service.store.engine.connect() as conn:
        query = select(func.count()).select_from(idempotency_keys)
        return int(conn.execute(query).scalar_one())


def keyed(key: str, body: bytes = BODY) -> CommandContext:
    """The context the API builds for a request with this Idempotency-Key, from alice."""
    request = IdempotencyRequest("alice", key, request_hash("POST", "/incidents", body))
    return CommandContext(ALICE, idempotency=request)


def test_a_declared_incident_takes_a_note_and_both_are_projected(
    service: IncidentService,
) -> None:
    incident_id = uuid4()

    declared = service.execute(declare(service, incident_id), ALICE)
    noted = service.execute(note(service, incident_id, "Paged on-call"), ALICE)

    assert (declared.incident_id, declared.result.version) == (incident_id, 1)
    assert (noted.result.version, noted.replayed, noted.unchanged) == (2, False, False)
    assert noted.result.position > declared.result.position
    state = service.load(incident_id)
    assert (state.title, state.severity, state.status) == (
        "Checkout returns 502",
        Severity.SEV2,
        Status.INVESTIGATING,
    )
    assert [n.text for n in state.note_contents.values()] == ["Paged on-call"]
    recorded = service.store.read_stream(stream_id_for(incident_id))
    assert [r.type for r in recorded] == ["incident.declared", "timeline.note_added"]
    assert {r.metadata["actor"] for r in recorded} == {"alice"}
    # The read models were updated in the command's own transaction.
    with service.store.engine.connect() as conn:
        summary = get_summary(conn, incident_id)
        timeline = get_timeline(conn, incident_id)
    assert summary is not None
    assert (summary["version"], summary["declared_by"]) == (2, "alice")
    assert [entry["text"] for entry in timeline if entry["kind"] == "note"] == ["Paged on-call"]


def test_a_replayed_idempotency_key_returns_the_first_result_and_stores_nothing(
    service: IncidentService,
) -> None:
    context = keyed("declare-1")
    incident_id = context.new_id("incident")
    first = service.execute(declare(service, incident_id), context)
    head = service.store.head_position()

    # A retry builds its command again: later, with the same id the key derives.
    retry = keyed("declare-1")
    assert retry.new_id("incident") == incident_id
    again = service.execute(declare(service, retry.new_id("incident")), retry)

    assert (first.replayed, again.replayed) == (False, True)
    assert again.incident_id == first.incident_id == incident_id
    assert again.result == first.result
    assert service.store.head_position() == head
    assert len(service.store.read_stream(stream_id_for(incident_id))) == 1
    assert stored_keys(service) == 1


def test_an_idempotency_key_reused_for_another_request_is_refused(
    service: IncidentService,
) -> None:
    incident_id = uuid4()
    service.execute(declare(service, incident_id), keyed("declare-2"))
    head = service.store.head_position()

    other = keyed("declare-2", b'{"title": "Search is slow", "severity": "SEV3"}')
    with pytest.raises(IdempotencyMismatch, match="'declare-2' was used for a different request"):
        service.execute(note(service, incident_id), other)

    assert service.store.head_position() == head
    assert stored_keys(service) == 1


def test_if_match_lets_a_command_through_only_at_the_named_version(
    service: IncidentService,
) -> None:
    incident_id = uuid4()
    service.execute(declare(service, incident_id), ALICE)
    service.execute(note(service, incident_id), ALICE)
    head = service.store.head_position()

    with pytest.raises(PreconditionFailed, match="at version 2, If-Match asked for version 1"):
        service.execute(note(service, incident_id), ALICE, if_match=1)
    assert service.store.head_position() == head

    at_two = service.execute(note(service, incident_id), ALICE, if_match=2)
    at_any = service.execute(note(service, incident_id), ALICE, if_match="*")
    assert (at_two.result.version, at_any.result.version) == (3, 4)


def test_if_match_on_an_unknown_incident(service: IncidentService) -> None:
    unknown = uuid4()

    # A command that needs the incident is refused for that, whatever If-Match says.
    with pytest.raises(IncidentNotFound):
        service.execute(note(service, unknown), ALICE, if_match=5)
    with pytest.raises(PreconditionFailed, match="incident does not exist"):
        service.execute(declare(service, unknown), ALICE, if_match="*")
    assert service.store.head_position() == 0

    # Version 0 is "not declared yet": a declaration made only if nobody made it first.
    declared = service.execute(declare(service, unknown), ALICE, if_match=0)
    assert declared.result.version == 1
    with pytest.raises(PreconditionFailed, match="at version 1, If-Match asked for version 0"):
        service.execute(declare(service, unknown), ALICE, if_match=0)
