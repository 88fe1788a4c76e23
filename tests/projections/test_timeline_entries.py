"""Timeline entries as a responder reads them: where the incident starts, what a redaction
leaves, what an alert says. Pure folds of ``apply_to_rows``, as live tables and as_of share it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain import events as e
from domain.values import AlertSource, NoteVisibility, Severity, stream_id_for
from eventstore.records import RecordedEvent
from projections.as_of import timeline_rows
from projections.base import Envelope
from tests.projections.timeline_support import declared_moments

INCIDENT = UUID("00000000-0000-4000-8000-0000000000c1")
NOTE = UUID("00000000-0000-4000-8000-0000000000c2")
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


class Log:
    """Envelopes of one incident, numbered as the store would number them."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    def add(self, event: e.DomainEvent, actor: str | None = "oncall-bot") -> Envelope:
        position = len(self.envelopes) + 1
        recorded = RecordedEvent(
            position=position,
            stream_id=stream_id_for(INCIDENT),
            version=position,
            event_id=uuid4(),
            type=e.event_type(event),
            schema_version=e.schema_version(event),
            data=e.encode(event),
            metadata={"actor": actor} if actor else {},
            occurred_at=event.occurred_at,
            recorded_at=event.occurred_at + timedelta(seconds=1),
        )
        env = Envelope(recorded, event)
        self.envelopes.append(env)
        return env

    def entries(self) -> list[dict[str, Any]]:
        return timeline_rows(self.envelopes)


def declared(started: datetime, detected: datetime, at: datetime = T0) -> e.IncidentDeclared:
    return e.IncidentDeclared(
        occurred_at=at,
        incident_id=INCIDENT,
        title="Checkout returns 502",
        severity=Severity.SEV2,
        started_at=started,
        detected_at=detected,
    )


@pytest.mark.parametrize(
    ("started", "detected", "expected"),
    [
        pytest.param(
            minutes(-60),
            minutes(-30),
            [("started", "Incident started", -60), ("detected", "Incident detected", -30)],
            id="back-dated",
        ),
        pytest.param(
            minutes(-60),
            minutes(-60),
            [("started", "Incident started and was detected", -60)],
            id="detected-at-the-start",
        ),
        pytest.param(
            minutes(-60), T0, [("started", "Incident started", -60)], id="detected-when-declared"
        ),
        pytest.param(T0, T0, [], id="declared-as-it-started"),
    ],
)
def test_the_timeline_starts_where_the_incident_started(
    started: datetime, detected: datetime, expected: list[tuple[str, str, int]]
) -> None:
    log = Log()
    declaration = log.add(declared(started, detected))
    log.add(e.IncidentAcknowledged(occurred_at=minutes(-20)))

    entries = log.entries()

    derived = [(row["kind"], row["text"], row["occurred_at"]) for row in entries][: len(expected)]
    assert derived == [(kind, text, minutes(m)) for kind, text, m in expected]
    assert [row["kind"] for row in entries][len(expected) :] == ["acknowledged", "declared"]
    assert {row["kind"]: row["occurred_at"] for row in entries[: len(expected)]} == (
        declared_moments(declaration.recorded)
    )
    assert {row["position"] for row in entries[: len(expected)]} <= {1}
    # Every entry has an id of its own, and the same one on every replay.
    assert len({row["entry_id"] for row in entries}) == len(entries)
    assert [row["entry_id"] for row in timeline_rows(log.envelopes)] == [
        row["entry_id"] for row in entries
    ]


def test_a_redacted_note_leaves_a_placeholder_without_its_text() -> None:
    log = Log()
    log.add(declared(T0, T0))
    log.add(
        e.NoteAdded(
            occurred_at=minutes(5),
            note_id=NOTE,
            text="Customer jane@example.com cannot pay",
            visibility=NoteVisibility.PUBLIC,
        ),
        actor="alice",
    )
    log.add(
        e.NoteAmended(occurred_at=minutes(6), note_id=NOTE, text="jane@example.com, again"),
        actor="alice",
    )
    redaction = log.add(
        e.NoteRedacted(
            occurred_at=minutes(9),
            note_id=NOTE,
            reason="contained a customer e-mail address",
        )
    )

    entry = next(row for row in log.entries() if row["entry_id"] == NOTE)

    assert entry["kind"] == "note_redacted"
    assert entry["text"] == "Note redacted by oncall-bot: contained a customer e-mail address"
    assert entry["actor"] == "oncall-bot"
    assert entry["details"] == {
        "visibility": "public",
        "reason": "contained a customer e-mail address",
    }
    assert entry["occurred_at"] == minutes(5), "the placeholder keeps the note's place"
    assert entry["amended_at"] == redaction.recorded.recorded_at
    assert "jane@example.com" not in repr(log.entries())


def fired(name: str, summary: str | None) -> e.AlertFired:
    return e.AlertFired(
        occurred_at=minutes(1),
        source=AlertSource.ALERTMANAGER,
        alert_key="fp-1",
        name=name,
        summary=summary,
    )


@pytest.mark.parametrize(
    ("summary", "text"),
    [
        pytest.param(
            "Disk almost full on db-01", "Alert firing: Disk almost full on db-01", id="same"
        ),
        pytest.param(
            "  Disk almost full on db-01  \nat 97%",
            "Alert firing: Disk almost full on db-01",
            id="same-first-line",
        ),
        pytest.param(
            "/var at 97%", "Alert firing: Disk almost full on db-01: /var at 97%", id="other"
        ),
        pytest.param(None, "Alert firing: Disk almost full on db-01", id="none"),
    ],
)
def test_an_alert_entry_does_not_repeat_its_name(summary: str | None, text: str) -> None:
    log = Log()
    log.add(declared(T0, T0))
    log.add(fired("Disk almost full on db-01", summary))

    assert log.entries()[-1]["text"] == text
