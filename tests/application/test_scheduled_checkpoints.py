"""Scheduled checkpoints on SQLite and PostgreSQL, one step at a time on a fake clock: a step
stores a signed checkpoint of the head when the interval has passed and the head moved,
and nothing otherwise; stored checkpoints are append-only."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from application.checkpoint_schedule import CheckpointSchedule
from application.log_checkpoints import LogSigner, verify_signature
from application.stored_checkpoints import (
    checkpoints_after,
    store_checkpoint,
    under_append_lock,
)
from eventstore import EventStore
from eventstore.chain import last_link
from tests.eventstore.test_hash_chain import event

T0 = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)


class Clock:
    """A clock that stays where the test puts it."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def signer(engine: Engine, tmp_path: Path) -> LogSigner:
    return LogSigner(engine, tmp_path / "log-signing.key")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def schedule(engine: Engine, signer: LogSigner, clock: Clock) -> CheckpointSchedule:
    return CheckpointSchedule(engine, signer, minutes=10, clock=clock)


def append(store: EventStore) -> None:
    store.append(f"incident-{uuid4()}", [event(1)], None)


def head(engine: Engine) -> tuple[int, str]:
    with engine.connect() as conn:
        position, digest = last_link(conn)
    return position, digest.hex()


def stored(engine: Engine) -> list[tuple[int, str]]:
    with engine.connect() as conn:
        return [(s.checkpoint.position, s.reason) for s in checkpoints_after(conn, 0, 100)]


def test_an_empty_log_gets_no_checkpoint(schedule: CheckpointSchedule, engine: Engine) -> None:
    assert schedule.step() is None
    assert stored(engine) == []


def test_a_step_stores_the_moved_head_signed_and_nothing_when_it_did_not_move(
    schedule: CheckpointSchedule, store: EventStore, signer: LogSigner, clock: Clock
) -> None:
    append(store)
    first = schedule.step()
    assert first is not None
    assert (first.checkpoint.position, first.checkpoint.chain_hash) == head(store.engine)
    assert (first.reason, first.checkpoint.signed_at) == ("scheduled", "2026-12-04T10:00:00Z")
    verify_signature(first.checkpoint, signer.public_key)

    clock.now = T0 + timedelta(minutes=10)
    assert schedule.step() is None  # the head has not moved since
    append(store)
    clock.now = T0 + timedelta(minutes=20)
    second = schedule.step()
    assert second is not None
    assert (second.checkpoint.position, second.checkpoint.chain_hash) == head(store.engine)
    assert second.id > first.id
    assert stored(store.engine) == [
        (first.checkpoint.position, "scheduled"),
        (second.checkpoint.position, "scheduled"),
    ]


def test_a_moved_head_waits_for_the_interval(
    schedule: CheckpointSchedule, store: EventStore, clock: Clock
) -> None:
    append(store)
    assert schedule.step() is not None
    append(store)
    clock.now = T0 + timedelta(minutes=9, seconds=59)
    assert schedule.step() is None  # another server (or this one) stored one too recently
    clock.now = T0 + timedelta(minutes=10)
    later = schedule.step()
    assert later is not None
    assert later.checkpoint.position == head(store.engine)[0]


def test_a_head_another_checkpoint_covers_is_not_stored_again(
    schedule: CheckpointSchedule, store: EventStore, signer: LogSigner
) -> None:
    append(store)
    with under_append_lock(store.engine) as conn:
        position, digest = last_link(conn)
        store_checkpoint(conn, signer.sign(position, digest, T0), "publication")
    assert schedule.step() is None
    assert stored(store.engine) == [(position, "publication")]


def test_the_loop_stops_when_told(schedule: CheckpointSchedule) -> None:
    stop = threading.Event()
    stop.set()
    schedule.run(stop)  # returns at once: it waits on ``stop`` before every step


def test_zero_minutes_disables_the_schedule(engine: Engine, signer: LogSigner) -> None:
    assert not CheckpointSchedule(engine, signer, minutes=0).enabled
    assert CheckpointSchedule(engine, signer, minutes=10).poll_seconds == 60.0
    assert CheckpointSchedule(engine, signer, minutes=1).poll_seconds == 6.0


@pytest.mark.parametrize("statement", ["UPDATE {} SET position = 0", "DELETE FROM {}"])
@pytest.mark.parametrize("table", ["log_checkpoints", "postmortem_publication_proofs"])
def test_stored_checkpoints_and_proofs_are_append_only(
    schedule: CheckpointSchedule, store: EventStore, statement: str, table: str
) -> None:
    append(store)
    schedule.step()
    if table == "postmortem_publication_proofs":
        with store.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO postmortem_publication_proofs (incident_id, revision,"
                    " published_position, checkpoint_id, document_sha256)"
                    " VALUES (:id, 1, 1, 1, :sha)"
                ),
                {"id": uuid4().hex, "sha": "0" * 64},
            )
        statement = statement.replace("position", "published_position")
    with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as conn:
        conn.execute(text(statement.format(table)))
