"""One transaction for many commands: each keeps its own answer.

A batch is handed to the service's writer as the writer would take it from its queue
(``IncidentService._commit``), so which commands share a transaction is fixed by the
test, not by timing. On SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import psycopg
import pytest
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import OperationalError

from application.command_batches import PendingCommand
from application.idempotency import IdempotencyMismatch, IdempotencyRequest, request_hash
from application.service import CommandContext, IncidentService, PreconditionFailed
from domain import commands as c
from domain.errors import EntryNotFound, IncidentNotFound
from domain.values import AlertSource, AlertStatus, Severity, stream_id_for
from eventstore import EventStore, RecordedEvent
from projections.runner import ProjectionRunner
from projections.timeline import get_timeline
from tests.clocks import FakeClock
from tests.eventstore.test_append_and_read import new_event

START = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
ALICE = {"actor": "alice", "source": "api"}


class FailingOn(ProjectionRunner):
    """The read models as usual, except that an event carrying ``text`` breaks them."""

    def __init__(self, text: str, error: Exception) -> None:
        super().__init__()
        self.text, self.error = text, error
        self.batches: list[int] = []

    def apply_inline(self, conn: Connection, recorded: list[RecordedEvent]) -> None:
        self.batches.append(len(recorded))
        if any(r.data.get("text") == self.text for r in recorded):
            raise self.error
        super().apply_inline(conn, recorded)


def service_with(engine: Engine, runner: ProjectionRunner | None = None) -> IncidentService:
    clock = FakeClock(START, timedelta(seconds=1))
    return IncidentService(
        EventStore(engine, clock=clock), runner or ProjectionRunner(), clock=clock
    )


def declare(service: IncidentService) -> UUID:
    incident_id = uuid4()
    service.execute(
        c.DeclareIncident(
            incident_id=incident_id, at=service.now(), title="Checkout 502", severity=Severity.SEV2
        ),
        ALICE,
    )
    return incident_id


def pending(
    service: IncidentService,
    incident_id: UUID,
    text: str,
    context: CommandContext | None = None,
) -> PendingCommand:
    command = c.AddNote(incident_id=incident_id, at=service.now(), note_id=uuid4(), text=text)
    return PendingCommand(incident_id, [command], context or CommandContext(ALICE))


def outcomes(batch: Sequence[PendingCommand]) -> list[object]:
    """Each command's answer: its new version, or the type of its refusal."""
    answers: list[object] = []
    for item in batch:
        assert item.future.done()
        error = item.future.exception()
        answers.append(type(error) if error else item.future.result().result.version)
    return answers


def notes_of(service: IncidentService, incident_id: UUID) -> list[str]:
    stream = service.store.read_stream(stream_id_for(incident_id))
    return [e.data["text"] for e in stream if e.type == "timeline.note_added"]


def test_commands_of_one_batch_are_decided_in_order_and_refusals_stay_alone(
    engine: Engine,
) -> None:
    service = service_with(engine)
    first, second = declare(service), declare(service)
    missing = uuid4()
    amend_nothing = c.AmendNote(
        incident_id=first, at=service.now(), note_id=uuid4(), text="no such note"
    )
    batch = [
        pending(service, first, "one"),
        pending(service, second, "two"),
        PendingCommand(first, [amend_nothing], CommandContext(ALICE)),
        pending(service, missing, "nowhere"),
        pending(service, first, "three"),
        pending(service, first, "stale", CommandContext(ALICE, if_match=1)),
        pending(service, first, "current", CommandContext(ALICE, if_match=3)),
    ]

    service._commit(batch)

    assert outcomes(batch) == [2, 2, EntryNotFound, IncidentNotFound, 3, PreconditionFailed, 4]
    assert notes_of(service, first) == ["one", "three", "current"]
    assert notes_of(service, second) == ["two"]
    with engine.connect() as conn:  # projected in the same transaction
        texts = [r["text"] for r in get_timeline(conn, first) if r["kind"] == "note"]
    assert texts == ["one", "three", "current"]


def test_a_command_that_breaks_the_transaction_is_found_and_the_rest_commit(
    engine: Engine,
) -> None:
    runner = FailingOn("poison", ValueError("a projection broke on this event"))
    service = service_with(engine, runner)
    incident_id = declare(service)
    texts = ["a", "b", "c", "poison", "d", "e", "f"]
    batch = [pending(service, incident_id, text) for text in texts]

    service._commit(batch)

    assert outcomes(batch) == [2, 3, 4, ValueError, 5, 6, 7]
    assert notes_of(service, incident_id) == ["a", "b", "c", "d", "e", "f"]
    assert runner.batches[1] == len(texts)  # tried together first (after the declaration)
    stream = service.store.read_stream(stream_id_for(incident_id))
    assert [e.version for e in stream] == list(range(1, 8))


def test_a_database_fault_fails_the_whole_batch_and_stores_none_of_it(engine: Engine) -> None:
    fault = OperationalError("COMMIT", {}, psycopg.errors.DiskFull("could not extend file"))
    service = service_with(engine, FailingOn("full", fault))
    incident_id = declare(service)
    batch = [pending(service, incident_id, text) for text in ["a", "b", "full", "c"]]

    service._commit(batch)

    assert outcomes(batch) == [OperationalError] * 4
    assert notes_of(service, incident_id) == []
    assert service.store.stream_version(stream_id_for(incident_id)) == 1


def keyed(key: str, body: bytes) -> CommandContext:
    request = IdempotencyRequest("alice", key, request_hash("POST", "/notes", body))
    return CommandContext(ALICE, idempotency=request)


def test_one_idempotency_key_twice_in_a_batch_appends_once(engine: Engine) -> None:
    service = service_with(engine)
    incident_id = declare(service)
    batch = [
        pending(service, incident_id, "once", keyed("k1", b"once")),
        pending(service, incident_id, "once", keyed("k1", b"once")),
        pending(service, incident_id, "other", keyed("k1", b"other")),
    ]

    service._commit(batch)

    assert outcomes(batch) == [2, 2, IdempotencyMismatch]
    first, replay = batch[0].future.result(), batch[1].future.result()
    assert (first.replayed, replay.replayed) == (False, True)
    assert replay.result == first.result
    assert notes_of(service, incident_id) == ["once"]
    # Stored with the events: a later retry is answered from the table.
    later = service.execute(
        c.AddNote(incident_id=incident_id, at=service.now(), note_id=uuid4(), text="once"),
        keyed("k1", b"once"),
    )
    assert later.replayed
    assert later.result == first.result


def test_an_unchanged_command_after_an_append_of_the_same_batch_points_at_it(
    engine: Engine,
) -> None:
    service = service_with(engine)
    incident_id = uuid4()
    alert = c.AlertReport(key="fp-1", status=AlertStatus.FIRING, name="Error rate", starts_at=START)

    def record() -> PendingCommand:
        command = c.RecordAlerts(
            incident_id=incident_id,
            at=service.now(),
            source=AlertSource.ALERTMANAGER,
            alerts=(alert,),
            title="Error rate above 5%",
            severity=Severity.SEV1,
        )
        return PendingCommand(incident_id, [command], CommandContext(ALICE))

    batch = [record(), record()]  # a notification and its redelivery
    service._commit(batch)

    first, second = (item.future.result() for item in batch)
    assert second.unchanged
    assert not first.unchanged
    assert second.result.version == first.result.version
    assert second.result.position == first.result.position


def test_commands_submitted_together_from_many_threads_share_transactions(
    engine: Engine,
) -> None:
    runner = FailingOn("never", ValueError())
    service = service_with(engine, runner)
    incident_id = declare(service)
    futures = [
        service.submit(
            c.AddNote(incident_id=incident_id, at=service.now(), note_id=uuid4(), text=str(n)),
            ALICE,
        )
        for n in range(200)
    ]

    versions = sorted(f.result(timeout=30).result.version for f in futures)

    assert versions == list(range(2, 202))
    assert sum(runner.batches[1:]) == 200
    assert len(runner.batches) - 1 < 200, "some commands were committed together"


@pytest.mark.parametrize("count", [1, 3])
def test_append_batch_lands_every_append_or_none(store: EventStore, count: int) -> None:
    store.append("a", [new_event()], 0)
    appends = [(f"s{n}", [new_event(), new_event()], 0) for n in range(count)]
    stale = [*appends, ("a", [new_event()], 0)]

    with pytest.raises(Exception, match="version"):
        store.append_batch(stale)
    assert all(store.stream_version(f"s{n}") == 0 for n in range(count))

    last = new_event()
    results = store.append_batch([*appends, ("a", [last], 1)])
    assert [r.version for r in results] == [2] * count + [2]
    positions = [p for r in results for p in r.positions]
    assert positions == sorted(positions)
    assert len(set(positions)) == len(positions)
    again = store.append_batch([*appends, ("a", [last], 1)])
    assert again == results  # a retry of the whole batch answers as it was answered
