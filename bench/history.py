"""Realistic incident histories, generated through the domain and written straight to the log.

Each incident: a declaration, acknowledgement, notes (some amended or redacted), status
and severity changes, roles, impact and root cause, action items moving to done, and
postmortem edits, a review and a publication. Commands go through ``decide`` so every
event is one the service could have written.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Engine

from domain import commands as c
from domain.events import encode, event_type, schema_version
from domain.incident import Incident, decide, evolve
from domain.values import stream_id_for
from eventstore.chain import chained_rows, last_link
from eventstore.schema import events

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def _uuid(rng: random.Random) -> UUID:
    return UUID(int=rng.getrandbits(128), version=4)


def _commands(
    rng: random.Random, incident_id: UUID, at: datetime, size: int
) -> Iterator[c.Command]:
    yield c.DeclareIncident(
        incident_id=incident_id,
        at=at,
        title=f"Elevated errors on service-{rng.randrange(40)}",
        severity=rng.choice(["SEV1", "SEV2", "SEV3", "SEV4"]),
        services=(f"service-{rng.randrange(40)}",),
        started_at=at - timedelta(minutes=rng.randrange(1, 30)),
    )
    yield c.AcknowledgeIncident(incident_id=incident_id, at=at + timedelta(minutes=2))
    yield c.AssignRole(incident_id=incident_id, at=at, role="incident_commander", person="alice")
    notes: list[UUID] = []
    items: list[UUID] = []
    for step in range(size):
        when = at + timedelta(minutes=3 + step)
        roll = rng.random()
        if roll < 0.55 or not notes:
            note_id = _uuid(rng)
            notes.append(note_id)
            yield c.AddNote(
                incident_id=incident_id,
                at=when,
                note_id=note_id,
                text=f"observation {step}: p99 at {rng.randrange(100, 2000)} ms",
            )
        elif roll < 0.62:
            yield c.AmendNote(
                incident_id=incident_id,
                at=when,
                note_id=notes[-1],
                text=f"corrected observation {step}",
            )
        elif roll < 0.72:
            item_id = _uuid(rng)
            items.append(item_id)
            yield c.AddActionItem(
                incident_id=incident_id,
                at=when,
                item_id=item_id,
                title=f"Fix {step}",
                kind=rng.choice(["corrective", "preventative"]),
                owner=rng.choice(["alice", "bob", "carol"]),
                due_date=date(2026, 6, 1) + timedelta(days=rng.randrange(60)),
            )
        elif roll < 0.9:
            yield c.EditPostmortemSection(
                incident_id=incident_id,
                at=when,
                section=rng.choice(
                    ["summary", "impact", "root_cause", "resolution", "lessons_learned"]
                ),
                text=f"Draft {step}: " + "details " * rng.randrange(5, 40),
            )
        else:
            yield c.AddParticipant(incident_id=incident_id, at=when, person=f"responder-{step}")
    end = at + timedelta(minutes=size + 5)
    yield c.UpdateRootCause(
        incident_id=incident_id, at=end, root_cause="A config push removed a pool limit"
    )
    yield c.ChangeStatus(incident_id=incident_id, at=end, status="identified")
    yield c.MarkMitigated(incident_id=incident_id, at=end)
    yield c.ChangeStatus(incident_id=incident_id, at=end, status="resolved")
    for item in items:
        yield c.ChangeActionItemStatus(incident_id=incident_id, at=end, item_id=item, status="done")
    for section in ("summary", "root_cause", "resolution"):
        yield c.EditPostmortemSection(
            incident_id=incident_id, at=end, section=section, text=f"Final {section}."
        )
    yield c.RequestPostmortemReview(incident_id=incident_id, at=end)
    yield c.PublishPostmortem(incident_id=incident_id, at=end)


def rows(total: int, *, seed: int = 7, events_per_incident: int = 120) -> Iterator[dict[str, Any]]:
    """Log rows for about ``total`` events of complete incident histories."""
    rng = random.Random(seed)
    produced = 0
    recorded = EPOCH
    while produced < total:
        incident_id = _uuid(rng)
        stream_id = stream_id_for(incident_id)
        state = Incident()
        at = EPOCH + timedelta(hours=produced // 50)
        for command in _commands(rng, incident_id, at, events_per_incident):
            try:
                new_events = decide(state, command)
            except Exception:  # noqa: S112 - a random step may break a rule; skip it
                continue
            for event in new_events:
                state = evolve(state, event)
                recorded += timedelta(milliseconds=1)
                produced += 1
                yield {
                    "stream_id": stream_id,
                    "version": state.version,
                    "type": event_type(event),
                    "schema_version": schema_version(event),
                    "data": encode(event),
                    "metadata": {"actor": "bench", "source": "bench"},
                    "event_id": _uuid(rng),
                    "occurred_at": event.occurred_at,
                    "recorded_at": recorded,
                }


def load(engine: Engine, total: int, *, chunk: int = 5000, seed: int = 7) -> int:
    """Append ``total`` generated events in large insert batches, numbered and chained
    after the log's end as appends number and chain them; returns how many.

    Another ``seed`` gives other incidents, so loads with different seeds add up.
    """
    count = 0
    batch: list[dict[str, Any]] = []
    with engine.begin() as conn:
        last, previous = last_link(conn)

        def insert(batch: list[dict[str, Any]]) -> None:
            nonlocal last, previous
            chained = chained_rows(previous, last + 1, batch)
            conn.execute(events.insert(), chained)
            last, previous = chained[-1]["position"], bytes.fromhex(chained[-1]["chain_hash"])

        for row in rows(total, seed=seed):
            batch.append(row)
            if len(batch) >= chunk:
                insert(batch)
                count += len(batch)
                batch = []
        if batch:
            insert(batch)
            count += len(batch)
    return count
