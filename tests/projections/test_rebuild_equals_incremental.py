"""Read models kept inline, one command at a time, equal a rebuild from the log.

Histories are written through ``IncidentService`` with a fake clock, so every
timestamp in the read models is one the test chose. Each test runs on SQLite and
PostgreSQL (see tests/conftest.py).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, select

from application.service import IncidentService
from domain import commands as c
from domain.errors import DomainError
from domain.values import Severity, Status, stream_id_for
from eventstore import EventStore
from projections import runner as runner_module
from projections.checkpoints import load_checkpoints
from projections.runner import ProjectionRunner, default_projections
from projections.summary import get_summary
from projections.tables import checkpoints, incident_summaries, timeline_entries
from projections.timeline import get_timeline
from tests.clocks import FakeClock
from tests.projections.rebuild_support import BASE, make_service
from tests.projections.timeline_support import declared_moments
from tests.support.command_writer import uuid_from

# The lifecycle as the product describes it, written out here rather than imported,
# so a generated command the domain refuses shows up as a failure.
ALLOWED: dict[Status, tuple[Status, ...]] = {
    Status.INVESTIGATING: (Status.IDENTIFIED, Status.MONITORING, Status.RESOLVED),
    Status.IDENTIFIED: (Status.MONITORING, Status.RESOLVED),
    Status.MONITORING: (Status.RESOLVED,),
    Status.RESOLVED: (Status.INVESTIGATING, Status.CLOSED),
    Status.CLOSED: (),
}

ACTORS: tuple[dict[str, Any], ...] = (
    {"actor": "alice", "source": "api"},
    {"actor": "bob", "source": "cli"},
    {"source": "alertmanager"},  # no actor: declared_by and entry actors stay NULL
)

Rows = dict[str, list[dict[str, Any]]]


def snapshot(engine: Engine) -> Rows:
    """Every row of both read models, sorted by primary key."""
    with engine.connect() as conn:
        summaries = [dict(row._mapping) for row in conn.execute(select(incident_summaries))]
        entries = [dict(row._mapping) for row in conn.execute(select(timeline_entries))]
    return {
        "incident_summaries": sorted(summaries, key=lambda row: row["incident_id"]),
        "timeline_entries": sorted(entries, key=lambda row: row["entry_id"]),
    }


def assert_same_rows(expected: Rows, actual: Rows) -> None:
    """Equal row for row, failing on the first differing row with its key."""
    for table, keyname in (("incident_summaries", "incident_id"), ("timeline_entries", "entry_id")):
        want = {row[keyname]: row for row in expected[table]}
        got = {row[keyname]: row for row in actual[table]}
        assert sorted(got) == sorted(want), f"{table}: different set of rows"
        for key, row in want.items():
            assert got[key] == row, f"{table} row {key} differs"
    assert actual == expected


def rebuild_and_compare(engine: Engine) -> Rows:
    """Rebuild from the log and assert nothing changed; returns the rows."""
    incremental = snapshot(engine)
    head = EventStore(engine).head_position()
    assert ProjectionRunner().rebuild(engine) == head
    assert_same_rows(incremental, snapshot(engine))
    return incremental


def assert_read_models_agree_with_the_aggregate(
    engine: Engine, service: IncidentService, ids: list[UUID], rows: Rows
) -> None:
    """Summary and timeline say what the aggregate folded from each stream says."""
    summaries = {row["incident_id"]: row for row in rows["incident_summaries"]}
    with engine.connect() as conn:
        for incident_id in ids:
            state = service.load(incident_id)
            summary = summaries[incident_id]
            assert summary["status"] == state.status.value
            assert summary["severity"] == state.severity.value
            assert summary["acknowledged_at"] == state.acknowledged_at
            assert summary["resolved_at"] == state.resolved_at
            assert summary["version"] == state.version
            timeline = get_timeline(conn, incident_id)
            shown = {row["entry_id"] for row in timeline if row["kind"] == "note"}
            assert shown == set(state.notes - state.redacted_notes)
            assert {row["text"] for row in timeline if row["kind"] == "note"} == {
                note.text for note in state.note_contents.values()
            }
            placeholders = {row["entry_id"] for row in timeline if row["kind"] == "note_redacted"}
            assert placeholders == set(state.redacted_notes)
            order = [(row["occurred_at"], row["position"]) for row in timeline]
            assert order == sorted(order)


# --- a seeded, realistic history ------------------------------------------------------------


def next_command(
    service: IncidentService, rng: random.Random, incident_id: UUID
) -> c.Command | None:
    """A command the incident accepts in its current state, or None when it has none."""
    state = service.load(incident_id)
    assert state.detected_at is not None
    assert state.started_at is not None
    now = service.now()
    live = sorted(state.notes - state.redacted_notes)
    options: list[Callable[[], c.Command]] = []

    if state.acknowledged_at is None and state.status is not Status.CLOSED:

        def acknowledge() -> c.Command:
            late = rng.random() < 0.5
            when = now - (now - state.detected_at) * rng.random() if late else None
            return c.AcknowledgeIncident(incident_id=incident_id, at=now, occurred_at=when)

        options += [acknowledge] * 3

    if ALLOWED[state.status]:

        def change_status() -> c.Command:
            target = rng.choice(ALLOWED[state.status])
            when = None
            if rng.random() < 0.3:
                when = max(state.started_at, now - timedelta(minutes=rng.randint(0, 30)))
            return c.ChangeStatus(incident_id=incident_id, at=now, status=target, occurred_at=when)

        options += [change_status] * 4

    if state.status is not Status.CLOSED:

        def change_severity() -> c.Command:
            target = rng.choice([s for s in Severity if s is not state.severity])
            reason = rng.choice([None, "Customer impact grew", "Only one region affected"])
            return c.ChangeSeverity(incident_id=incident_id, at=now, severity=target, reason=reason)

        options.append(change_severity)

    def add_note() -> c.Command:
        # Some notes record facts from before the incident was declared.
        when = rng.choice([None, None, now - timedelta(minutes=rng.randint(1, 300))])
        text = rng.choice(["Paged on-call", "Rolled back deploy", "Error rate back to normal"])
        return c.AddNote(
            incident_id=incident_id,
            at=now,
            note_id=uuid_from(rng),
            text=f"{text} #{rng.randint(1, 999)}",
            occurred_at=when,
        )

    options += [add_note] * 3

    if live:

        def amend_note() -> c.Command:
            shape = rng.choice(["text", "time", "both"])
            text = f"Corrected #{rng.randint(1, 999)}" if shape != "time" else None
            when = now - timedelta(minutes=rng.randint(0, 400)) if shape != "text" else None
            note_id = rng.choice(live)
            note = state.note_contents[note_id]
            if text == note.text or when == note.occurred_at:  # an amendment must change it
                text = None if text is None else f"{text}, again"
                when = None if when is None else when - timedelta(seconds=1)
            return c.AmendNote(
                incident_id=incident_id,
                at=now,
                note_id=note_id,
                text=text,
                occurred_at=when,
            )

        def redact_note() -> c.Command:
            return c.RedactNote(
                incident_id=incident_id,
                at=now,
                note_id=rng.choice(live),
                reason="Contained a customer's e-mail address",
            )

        options += [amend_note, amend_note, redact_note]

    return rng.choice(options)() if options else None


def write_history(
    service: IncidentService, rng: random.Random, *, incidents: int, commands: int
) -> list[UUID]:
    """Declare ``incidents`` and interleave ``commands`` more over them, as real work would."""
    pending = [uuid_from(rng) for _ in range(incidents)]
    declared: list[UUID] = []
    for _ in range(incidents + commands):
        if pending and (not declared or rng.random() < incidents / (incidents + commands) * 2):
            incident_id = pending.pop()
            now = service.now()
            started = now - timedelta(minutes=rng.randint(0, 180), seconds=rng.randint(0, 59))
            detected = started + (now - started) * rng.random()
            command: c.Command | None = c.DeclareIncident(
                incident_id=incident_id,
                at=now,
                title=f"Incident {len(declared) + 1}: {rng.choice(['502s', 'latency', 'stale'])}",
                severity=rng.choice(list(Severity)),
                services=tuple(rng.sample(["checkout", "payments", "search", "auth"], 2)),
                summary=rng.choice([None, "Seen by several customers"]),
                started_at=rng.choice([None, started]),
                detected_at=rng.choice([None, detected]),
            )
            declared.append(incident_id)
        else:
            command = next_command(service, rng, rng.choice(declared))
        if command is not None:
            service.execute(command, rng.choice(ACTORS))
    return declared


def random_clock(rng: random.Random) -> FakeClock:
    return FakeClock(
        BASE, lambda: timedelta(seconds=rng.randint(1, 90), microseconds=rng.randint(0, 999_999))
    )


def event_kinds(store: EventStore) -> Counter[str]:
    """How often each event type and each notable variant occurs in the log."""
    kinds: Counter[str] = Counter()
    for event in store.read_all(limit=100_000):
        kinds[event.type] += 1
        if event.type == "incident.status_changed":
            kinds[f"status:{event.data['from_status']}->{event.data['to_status']}"] += 1
        if event.type == "timeline.note_amended":
            text, when = event.data["text"], event.data["note_occurred_at"]
            kinds["amend:" + ("both" if text and when else "text" if text else "time")] += 1
    return kinds


# --- rebuild equals incremental -------------------------------------------------------------


def test_rebuild_of_a_long_history_equals_the_inline_read_models(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(20260302)
    service = make_service(engine, random_clock(rng))
    ids = write_history(service, rng, incidents=30, commands=150)

    # The history is only a good witness if it holds every kind of change.
    kinds = event_kinds(service.store)
    for kind in (
        "incident.declared",
        "incident.acknowledged",
        "incident.severity_changed",
        "timeline.note_added",
        "timeline.note_redacted",
        "status:investigating->identified",
        "status:monitoring->resolved",
        "status:resolved->investigating",
        "status:resolved->closed",
        "amend:text",
        "amend:time",
        "amend:both",
    ):
        assert kinds[kind] > 0, f"the generated history has no {kind}"
    assert kinds["incident.declared"] == 30

    head = service.store.head_position()
    with engine.connect() as conn:
        assert {n: c.position for n, c in load_checkpoints(conn).items()} == {
            p.name: head for p in default_projections()
        }

    rows = rebuild_and_compare(engine)
    assert len(rows["incident_summaries"]) == 30
    assert_read_models_agree_with_the_aggregate(engine, service, ids, rows)
    # Every note keeps its entry (a redacted one as a placeholder); amendments and
    # redactions change an entry rather than add one; a declaration adds its start and
    # detection when they are moments of their own.
    declarations = [
        r for r in service.store.read_all(limit=100_000) if r.type == "incident.declared"
    ]
    moments = sum(len(declared_moments(r)) for r in declarations)
    assert moments > 0
    non_note_events = head - sum(
        kinds[f"timeline.note_{k}"] for k in ("added", "amended", "redacted")
    )
    assert len(rows["timeline_entries"]) == kinds["timeline.note_added"] + non_note_events + moments

    # Small batches split notes from their amendments and redactions: still the same rows.
    monkeypatch.setattr(runner_module, "BATCH_SIZE", 7)
    assert ProjectionRunner().rebuild(engine) == head
    assert_same_rows(rows, snapshot(engine))


OFFSET = st.none() | st.integers(min_value=-240, max_value=10)
"""Minutes from the command's time; more than +5 lies beyond the clock skew and is refused."""

OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("declare"), st.integers(0, 2), st.sampled_from(Severity)),
        st.tuples(st.just("acknowledge"), st.integers(0, 2), OFFSET),
        st.tuples(st.just("status"), st.integers(0, 2), st.sampled_from(Status), OFFSET),
        st.tuples(st.just("severity"), st.integers(0, 2), st.sampled_from(Severity)),
        st.tuples(st.just("note"), st.integers(0, 2), OFFSET),
        st.tuples(st.just("amend"), st.integers(0, 2), st.integers(0, 5), st.booleans(), OFFSET),
        st.tuples(st.just("redact"), st.integers(0, 2), st.integers(0, 5)),
    ),
    min_size=8,
    max_size=30,
)


def build_command(
    op: tuple[Any, ...], ids: list[UUID], notes: dict[UUID, list[UUID]], now: datetime
) -> c.Command:
    """Turn a generated operation into a command; many are refused, on purpose."""
    kind, index = op[0], op[1]
    incident_id = ids[index]

    def at(offset: int | None) -> datetime | None:
        return None if offset is None else now + timedelta(minutes=offset)

    def note(pick: int) -> UUID:
        known = notes[incident_id]
        return known[pick % len(known)] if known and pick < 4 else uuid4()

    if kind == "declare":
        return c.DeclareIncident(
            incident_id=incident_id,
            at=now,
            title=f"Incident {index}",
            severity=op[2],
            started_at=now - timedelta(hours=1),
        )
    if kind == "acknowledge":
        return c.AcknowledgeIncident(incident_id=incident_id, at=now, occurred_at=at(op[2]))
    if kind == "status":
        return c.ChangeStatus(incident_id=incident_id, at=now, status=op[2], occurred_at=at(op[3]))
    if kind == "severity":
        return c.ChangeSeverity(incident_id=incident_id, at=now, severity=op[2])
    if kind == "note":
        return c.AddNote(
            incident_id=incident_id, at=now, note_id=uuid4(), text="A note", occurred_at=at(op[2])
        )
    if kind == "amend":
        return c.AmendNote(
            incident_id=incident_id,
            at=now,
            note_id=note(op[2]),
            text="Amended" if op[3] else None,
            occurred_at=at(op[4]),
        )
    return c.RedactNote(incident_id=incident_id, at=now, note_id=note(op[2]), reason="PII")


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(severities=st.lists(st.sampled_from(Severity), min_size=3, max_size=3), ops=OPERATIONS)
def test_rebuild_equals_incremental_for_random_command_sequences(
    engine: Engine, severities: list[Severity], ops: list[tuple[Any, ...]]
) -> None:
    # The database lives across examples (events cannot be deleted), so every example
    # uses new incidents and the rebuild replays the examples before it as well.
    clock = FakeClock(BASE, lambda: timedelta(seconds=37))
    service = make_service(engine, clock)
    ids = [uuid4() for _ in range(3)]
    notes: dict[UUID, list[UUID]] = {incident_id: [] for incident_id in ids}
    declarations = [("declare", i, severity) for i, severity in enumerate(severities)]
    for op in [*declarations, *ops]:
        command = build_command(op, ids, notes, service.now())
        head = service.store.head_position()
        try:
            service.execute(command, {"actor": "hypothesis"})
        except DomainError:
            assert service.store.head_position() == head, "a refused command stored events"
            continue
        if isinstance(command, c.AddNote):
            notes[command.incident_id].append(command.note_id)

    rows = rebuild_and_compare(engine)

    assert_read_models_agree_with_the_aggregate(engine, service, ids, rows)


def test_a_read_model_emptied_with_its_checkpoint_catches_up_on_the_next_append(
    engine: Engine,
) -> None:
    rng = random.Random(7)
    service = make_service(engine, random_clock(rng))
    ids = write_history(service, rng, incidents=5, commands=40)
    with engine.begin() as conn:
        conn.execute(delete(timeline_entries))
        conn.execute(delete(checkpoints).where(checkpoints.c.name == "timeline"))
    summaries_before = snapshot(engine)["incident_summaries"]

    outcome = service.execute(
        c.AddNote(incident_id=ids[0], at=service.now(), note_id=uuid4(), text="Late projection"),
        {"actor": "carol"},
    )

    head = outcome.result.position
    with engine.connect() as conn:
        assert {n: c.position for n, c in load_checkpoints(conn).items()} == {
            p.name: head for p in default_projections()
        }
        declared = [row for row in get_timeline(conn, ids[-1]) if row["kind"] == "declared"]
    assert len(declared) == 1, "the timeline did not catch up from the start of the log"
    rows = rebuild_and_compare(engine)
    # Only the one incident the note was added to moved in the summary.
    changed = [
        row["incident_id"]
        for row, before in zip(rows["incident_summaries"], summaries_before, strict=True)
        if row != before
    ]
    assert changed == [ids[0]]


# --- the read models themselves -------------------------------------------------------------

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
INCIDENT = UUID("00000000-0000-4000-8000-00000000beef")
NOTE_EARLY = UUID("00000000-0000-4000-8000-0000000000a1")
NOTE_TIED = UUID("00000000-0000-4000-8000-0000000000a2")
NOTE_MOVED = UUID("00000000-0000-4000-8000-0000000000a3")
NOTE_SECRET = UUID("00000000-0000-4000-8000-0000000000a4")


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


class Scenario:
    """One incident driven step by step; ``at(m)`` runs the next command at T0 + m minutes."""

    def __init__(self, engine: Engine) -> None:
        # Every call moves the clock one second: a command made at t is recorded at t + 1s.
        self.clock = FakeClock(T0, lambda: timedelta(seconds=1))
        self.engine = engine
        self.service = make_service(engine, self.clock)

    def at(self, minute: float, build: Callable[[datetime], c.Command]) -> int:
        self.clock.now = minutes(minute)
        outcome = self.service.execute(build(self.service.now()), {"actor": "alice"})
        return outcome.result.position

    def summary(self) -> dict[str, Any]:
        with self.engine.connect() as conn:
            row = get_summary(conn, INCIDENT)
        assert row is not None
        return row

    def timeline(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return get_timeline(conn, INCIDENT)


def declare(now: datetime) -> c.Command:
    return c.DeclareIncident(
        incident_id=INCIDENT,
        at=now,
        title="Checkout returns 502",
        severity=Severity.SEV3,
        services=("checkout", "payments", "checkout"),
        summary="Error rate above 20%",
        started_at=minutes(-60),
        detected_at=minutes(-30),
    )


def note(note_id: UUID, text: str, when: datetime | None = None) -> Callable[[datetime], c.Command]:
    return lambda now: c.AddNote(
        incident_id=INCIDENT, at=now, note_id=note_id, text=text, occurred_at=when
    )


def amend(
    note_id: UUID, text: str | None = None, when: datetime | None = None
) -> Callable[[datetime], c.Command]:
    return lambda now: c.AmendNote(
        incident_id=INCIDENT, at=now, note_id=note_id, text=text, occurred_at=when
    )


def status(to: Status, when: datetime | None = None) -> Callable[[datetime], c.Command]:
    return lambda now: c.ChangeStatus(incident_id=INCIDENT, at=now, status=to, occurred_at=when)


def test_timeline_orders_by_occurred_at_then_position_and_shows_notes_as_amended(
    engine: Engine,
) -> None:
    s = Scenario(engine)
    declared_pos = s.at(0, declare)
    early_pos = s.at(1, note(NOTE_EARLY, "Deploy 4812 rolled out", minutes(-45)))
    tied_pos = s.at(2, note(NOTE_TIED, "Paged on-call", minutes(0)))
    s.at(5, lambda now: c.AcknowledgeIncident(incident_id=INCIDENT, at=now))
    s.at(
        6,
        lambda now: c.ChangeSeverity(
            incident_id=INCIDENT, at=now, severity=Severity.SEV1, reason="All regions"
        ),
    )
    s.at(10, status(Status.IDENTIFIED))
    moved_pos = s.at(12, note(NOTE_MOVED, "Cert looks odd"))
    s.at(21, note(NOTE_SECRET, "Customer jane@example.com reported it"))
    s.at(21.5, amend(NOTE_MOVED, "Root cause: expired certificate", minutes(-50)))
    s.at(
        22,
        lambda now: c.RedactNote(incident_id=INCIDENT, at=now, note_id=NOTE_SECRET, reason="PII"),
    )
    s.at(23, amend(NOTE_EARLY, when=minutes(-40)))
    s.at(24, amend(NOTE_TIED, text="Paged on-call (Alice)"))

    entries = s.timeline()
    assert [(row["kind"], row["text"], row["occurred_at"]) for row in entries] == [
        ("started", "Incident started", minutes(-60)),
        ("note", "Root cause: expired certificate", minutes(-50)),
        ("note", "Deploy 4812 rolled out", minutes(-40)),
        ("detected", "Incident detected", minutes(-30)),
        ("declared", "Incident declared: Checkout returns 502 (SEV3)", minutes(0)),
        ("note", "Paged on-call (Alice)", minutes(0)),
        ("acknowledged", "Incident acknowledged", minutes(5)),
        ("severity_changed", "Severity changed from SEV3 to SEV1: All regions", minutes(6)),
        ("status_changed", "Status changed from investigating to identified", minutes(10)),
        ("note_redacted", "Note redacted by alice: PII", minutes(21)),
    ]
    by_id = {row["entry_id"]: row for row in entries}
    # The redacted note keeps its place and says who removed it and why, never what it said.
    redacted = by_id[NOTE_SECRET]
    assert redacted["details"] == {"visibility": "internal", "reason": "PII"}
    assert redacted["actor"] == "alice"
    assert redacted["amended_at"] == minutes(22) + timedelta(seconds=1)
    assert "jane@example.com" not in repr(entries)
    # The start and detection entries belong to the declaration: same position, own ids.
    started, detected = entries[0], entries[3]
    assert started["position"] == detected["position"] == declared_pos
    assert len({started["entry_id"], detected["entry_id"], entries[4]["entry_id"]}) == 3
    # Amending moves a note in time but keeps its place in the log.
    assert by_id[NOTE_MOVED]["position"] == moved_pos
    assert by_id[NOTE_EARLY]["position"] == early_pos
    assert by_id[NOTE_TIED]["position"] == tied_pos > declared_pos
    # amended_at is when the amendment was recorded (a second after it was made).
    assert by_id[NOTE_MOVED]["amended_at"] == minutes(21.5) + timedelta(seconds=1)
    assert by_id[NOTE_EARLY]["amended_at"] == minutes(23) + timedelta(seconds=1)
    assert by_id[NOTE_TIED]["amended_at"] == minutes(24) + timedelta(seconds=1)
    assert by_id[NOTE_EARLY]["recorded_at"] == minutes(1) + timedelta(seconds=1)
    assert [row["amended_at"] for row in entries if not row["kind"].startswith("note")] == [
        None
    ] * 6
    declared = entries[4]
    assert declared["details"] == {"severity": "SEV3", "services": ["checkout", "payments"]}
    assert declared["actor"] == "alice"
    assert entries[7]["details"] == {"from": "SEV3", "to": "SEV1", "reason": "All regions"}
    assert entries[8]["details"] == {"from": "investigating", "to": "identified"}
    rebuild_and_compare(engine)


def test_summary_follows_status_severity_acknowledgement_reopen_and_close(engine: Engine) -> None:
    s = Scenario(engine)
    s.at(0, declare)
    row = s.summary()
    assert row["status"] == "investigating"
    assert row["severity"] == "SEV3"
    assert row["services"] == ",checkout,payments,"
    assert row["summary"] == "Error rate above 20%"
    assert row["declared_by"] == "alice"
    assert row["declared_at"] == minutes(0) + timedelta(seconds=1)
    assert (row["started_at"], row["detected_at"]) == (minutes(-60), minutes(-30))
    assert (row["acknowledged_at"], row["resolved_at"], row["closed_at"]) == (None, None, None)
    assert row["version"] == 1

    s.at(
        4, lambda now: c.AcknowledgeIncident(incident_id=INCIDENT, at=now, occurred_at=minutes(-20))
    )
    s.at(5, lambda now: c.ChangeSeverity(incident_id=INCIDENT, at=now, severity=Severity.SEV2))
    s.at(20, status(Status.RESOLVED, minutes(18)))
    row = s.summary()
    assert (row["status"], row["severity"]) == ("resolved", "SEV2")
    assert row["acknowledged_at"] == minutes(-20)
    assert row["resolved_at"] == minutes(18)

    s.at(30, status(Status.INVESTIGATING))
    row = s.summary()
    assert row["status"] == "investigating"
    assert row["resolved_at"] is None, "reopening must clear resolved_at"
    assert row["acknowledged_at"] == minutes(-20)

    s.at(40, status(Status.MONITORING))
    s.at(50, status(Status.RESOLVED))
    last = s.at(60, status(Status.CLOSED, minutes(59)))
    row = s.summary()
    assert row["status"] == "closed"
    assert row["resolved_at"] == minutes(50)
    assert row["closed_at"] == minutes(59)
    assert row["version"] == 8
    assert row["last_position"] == last
    assert row["updated_at"] == minutes(60) + timedelta(seconds=1)
    assert s.service.store.stream_version(stream_id_for(INCIDENT)) == 8
    rebuild_and_compare(engine)
