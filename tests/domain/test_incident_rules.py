"""Rules of the Incident aggregate, as given-events / when-command / then-events."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import pytest
from pydantic import BaseModel, ValidationError

from domain.commands import (
    AcknowledgeIncident,
    AddNote,
    AmendNote,
    ChangeSeverity,
    ChangeStatus,
    Command,
    DeclareIncident,
    RedactNote,
)
from domain.errors import (
    EntryNotFound,
    IncidentAlreadyExists,
    IncidentNotFound,
    InvalidTransition,
    RuleViolation,
)
from domain.events import (
    DomainEvent,
    IncidentAcknowledged,
    IncidentDeclared,
    IncidentMitigated,
    IncidentSeverityChanged,
    IncidentStatusChanged,
    NoteAdded,
    NoteAmended,
    NoteRedacted,
)
from domain.incident import CLOCK_SKEW, NEXT_STATUSES, Incident, decide, evolve, fold
from domain.state import Note
from domain.values import NoteVisibility, Severity, Status
from tests.domain.scenario import (
    DECLARED,
    DETECTED,
    INCIDENT_ID,
    NOW,
    STARTED,
    TOO_FAR_AHEAD,
    declared,
    given,
    iso,
)

NOTE_ID = UUID("00000000-0000-4000-8000-0000000000a1")
OTHER_NOTE_ID = UUID("00000000-0000-4000-8000-0000000000a2")


def acknowledged(at: datetime = DECLARED) -> IncidentAcknowledged:
    return IncidentAcknowledged(occurred_at=at)


def status_changed(
    from_status: Status, to_status: Status, at: datetime = DECLARED
) -> IncidentStatusChanged:
    return IncidentStatusChanged(occurred_at=at, from_status=from_status, to_status=to_status)


def note_added(note_id: UUID = NOTE_ID, at: datetime = DECLARED) -> NoteAdded:
    return NoteAdded(
        occurred_at=at,
        note_id=note_id,
        text="Rolled back deploy 42",
        visibility=NoteVisibility.INTERNAL,
    )


def note_redacted(note_id: UUID = NOTE_ID, at: datetime = DECLARED) -> NoteRedacted:
    return NoteRedacted(occurred_at=at, note_id=note_id, reason="contained a customer email")


def history_to(status: Status) -> tuple[DomainEvent, ...]:
    """Events taking a fresh incident to ``status``."""
    start: tuple[DomainEvent, ...] = (declared(),)
    if status is Status.INVESTIGATING:
        return start
    if status is Status.CLOSED:
        return (
            *start,
            status_changed(Status.INVESTIGATING, Status.RESOLVED),
            status_changed(Status.RESOLVED, Status.CLOSED),
        )
    return (*start, status_changed(Status.INVESTIGATING, status))


# The lifecycle as specified: forward with skipping, reopen to investigating, close once resolved.
EXPECTED_NEXT: dict[Status, set[Status]] = {
    Status.INVESTIGATING: {Status.IDENTIFIED, Status.MONITORING, Status.RESOLVED},
    Status.IDENTIFIED: {Status.MONITORING, Status.RESOLVED},
    Status.MONITORING: {Status.RESOLVED},
    Status.RESOLVED: {Status.INVESTIGATING, Status.CLOSED},
    Status.CLOSED: set(),
}
ALLOWED = [(a, b) for a in Status for b in Status if b in EXPECTED_NEXT[a]]
REFUSED = [(a, b) for a in Status for b in Status if a is not b and b not in EXPECTED_NEXT[a]]


def pair_id(pair: tuple[Status, Status]) -> str:
    return f"{pair[0].value}->{pair[1].value}"


# --- declare ------------------------------------------------------------------------------


def test_given_nothing_when_declare_then_declared_with_every_field() -> None:
    command = DeclareIncident(
        incident_id=INCIDENT_ID,
        at=NOW,
        title="Checkout is down",
        severity=Severity.SEV2,
        services=("checkout", "payments"),
        summary="5xx on /pay",
        started_at=STARTED,
        detected_at=DETECTED,
    )

    assert decide(given(), command) == [
        IncidentDeclared(
            occurred_at=NOW,
            incident_id=INCIDENT_ID,
            title="Checkout is down",
            severity=Severity.SEV2,
            services=("checkout", "payments"),
            summary="5xx on /pay",
            started_at=STARTED,
            detected_at=DETECTED,
        )
    ]


@pytest.mark.parametrize(
    ("started_at", "detected_at", "expected_started", "expected_detected"),
    [
        pytest.param(None, None, NOW, NOW, id="neither-both-default-to-at"),
        pytest.param(STARTED, None, STARTED, NOW, id="only-started-detected-defaults-to-at"),
        pytest.param(None, DETECTED, DETECTED, DETECTED, id="only-detected-started-defaults-to-it"),
        pytest.param(
            NOW + timedelta(minutes=2),
            None,
            NOW + timedelta(minutes=2),
            NOW + timedelta(minutes=2),
            id="started-slightly-ahead-detected-not-before-it",
        ),
        pytest.param(STARTED, STARTED, STARTED, STARTED, id="detected-equal-to-started"),
    ],
)
def test_given_nothing_when_declare_then_times_default(
    started_at: datetime | None,
    detected_at: datetime | None,
    expected_started: datetime,
    expected_detected: datetime,
) -> None:
    command = DeclareIncident(
        incident_id=INCIDENT_ID,
        at=NOW,
        title="Checkout is down",
        severity=Severity.SEV3,
        started_at=started_at,
        detected_at=detected_at,
    )

    assert decide(given(), command) == [
        IncidentDeclared(
            occurred_at=NOW,
            incident_id=INCIDENT_ID,
            title="Checkout is down",
            severity=Severity.SEV3,
            started_at=expected_started,
            detected_at=expected_detected,
        )
    ]


def test_given_nothing_when_declare_detected_before_started_then_refused() -> None:
    command = DeclareIncident(
        incident_id=INCIDENT_ID,
        at=NOW,
        title="Checkout is down",
        severity=Severity.SEV2,
        started_at=DETECTED,
        detected_at=STARTED,
    )

    with pytest.raises(
        RuleViolation,
        match=re.escape(f"detected_at {iso(STARTED)} is before started_at {iso(DETECTED)}"),
    ):
        decide(given(), command)


@pytest.mark.parametrize(
    ("started_at", "detected_at", "field"),
    [
        pytest.param(TOO_FAR_AHEAD, None, "started_at", id="started-ahead"),
        pytest.param(None, TOO_FAR_AHEAD, "started_at", id="detected-ahead-defaults-started"),
        pytest.param(STARTED, TOO_FAR_AHEAD, "detected_at", id="detected-ahead"),
    ],
)
def test_given_nothing_when_declare_with_future_time_then_refused(
    started_at: datetime | None, detected_at: datetime | None, field: str
) -> None:
    command = DeclareIncident(
        incident_id=INCIDENT_ID,
        at=NOW,
        title="Checkout is down",
        severity=Severity.SEV2,
        started_at=started_at,
        detected_at=detected_at,
    )

    with pytest.raises(
        RuleViolation, match=re.escape(f"{field} {iso(TOO_FAR_AHEAD)} lies in the future")
    ):
        decide(given(), command)


def test_given_nothing_when_declare_exactly_at_clock_skew_then_accepted() -> None:
    edge = NOW + CLOCK_SKEW
    command = DeclareIncident(
        incident_id=INCIDENT_ID,
        at=NOW,
        title="Checkout is down",
        severity=Severity.SEV2,
        started_at=edge,
        detected_at=edge,
    )

    [event] = decide(given(), command)

    assert isinstance(event, IncidentDeclared)
    assert (event.started_at, event.detected_at) == (edge, edge)


def test_given_declared_when_declare_again_then_already_exists() -> None:
    command = DeclareIncident(
        incident_id=INCIDENT_ID, at=NOW, title="Checkout is down again", severity=Severity.SEV1
    )

    with pytest.raises(
        IncidentAlreadyExists, match=re.escape(f"incident {INCIDENT_ID} already exists")
    ):
        decide(given(declared()), command)


def test_given_nothing_when_declare_with_duplicate_services_then_deduplicated_in_order() -> None:
    command = DeclareIncident(
        incident_id=INCIDENT_ID,
        at=NOW,
        title="Checkout is down",
        severity=Severity.SEV2,
        services=("payments", "checkout", "payments", " checkout ", "db"),
    )

    [event] = decide(given(), command)

    assert isinstance(event, IncidentDeclared)
    assert event.services == ("payments", "checkout", "db")


# --- unknown incident ---------------------------------------------------------------------

COMMANDS_ON_EXISTING: list[Command] = [
    AcknowledgeIncident(incident_id=INCIDENT_ID, at=NOW),
    ChangeStatus(incident_id=INCIDENT_ID, at=NOW, status=Status.IDENTIFIED),
    ChangeSeverity(incident_id=INCIDENT_ID, at=NOW, severity=Severity.SEV1),
    AddNote(incident_id=INCIDENT_ID, at=NOW, note_id=NOTE_ID, text="hello"),
    AmendNote(incident_id=INCIDENT_ID, at=NOW, note_id=NOTE_ID, text="hello"),
    RedactNote(incident_id=INCIDENT_ID, at=NOW, note_id=NOTE_ID, reason="pii"),
]


@pytest.mark.parametrize("command", COMMANDS_ON_EXISTING, ids=lambda cmd: type(cmd).__name__)
def test_given_nothing_when_any_command_then_incident_not_found(command: Command) -> None:
    with pytest.raises(IncidentNotFound, match=re.escape(f"incident {INCIDENT_ID} does not exist")):
        decide(given(), command)


# --- acknowledge --------------------------------------------------------------------------


def test_given_declared_when_acknowledge_then_acknowledged_at_command_time() -> None:
    command = AcknowledgeIncident(incident_id=INCIDENT_ID, at=NOW)

    assert decide(given(declared()), command) == [IncidentAcknowledged(occurred_at=NOW)]


@pytest.mark.parametrize(
    "when", [DETECTED, NOW - timedelta(minutes=10)], ids=["at-detection", "after"]
)
def test_given_declared_when_acknowledge_with_time_then_that_time(when: datetime) -> None:
    command = AcknowledgeIncident(incident_id=INCIDENT_ID, at=NOW, occurred_at=when)

    assert decide(given(declared()), command) == [IncidentAcknowledged(occurred_at=when)]


def test_given_acknowledged_when_acknowledge_again_then_refused() -> None:
    first = NOW - timedelta(minutes=20)
    command = AcknowledgeIncident(incident_id=INCIDENT_ID, at=NOW)

    with pytest.raises(
        RuleViolation, match=re.escape(f"incident was already acknowledged at {iso(first)}")
    ):
        decide(given(declared(), acknowledged(first)), command)


def test_given_declared_when_acknowledge_before_detection_then_refused() -> None:
    when = DETECTED - timedelta(seconds=1)
    command = AcknowledgeIncident(incident_id=INCIDENT_ID, at=NOW, occurred_at=when)

    with pytest.raises(
        RuleViolation,
        match=re.escape(f"acknowledged at {iso(when)} is before detection at {iso(DETECTED)}"),
    ):
        decide(given(declared()), command)


def test_given_declared_when_acknowledge_in_future_then_refused() -> None:
    command = AcknowledgeIncident(incident_id=INCIDENT_ID, at=NOW, occurred_at=TOO_FAR_AHEAD)

    with pytest.raises(
        RuleViolation, match=re.escape(f"occurred_at {iso(TOO_FAR_AHEAD)} lies in the future")
    ):
        decide(given(declared()), command)


def test_given_closed_when_acknowledge_then_refused() -> None:
    command = AcknowledgeIncident(incident_id=INCIDENT_ID, at=NOW)

    with pytest.raises(InvalidTransition, match="a closed incident cannot be acknowledged"):
        decide(given(*history_to(Status.CLOSED)), command)


# --- status -------------------------------------------------------------------------------


def test_next_statuses_match_the_specified_lifecycle() -> None:
    assert {status: set(nxt) for status, nxt in NEXT_STATUSES.items()} == EXPECTED_NEXT


@pytest.mark.parametrize(("from_status", "to_status"), ALLOWED, ids=[pair_id(p) for p in ALLOWED])
def test_given_status_when_allowed_change_then_status_changed(
    from_status: Status, to_status: Status
) -> None:
    command = ChangeStatus(incident_id=INCIDENT_ID, at=NOW, status=to_status)

    assert decide(given(*history_to(from_status)), command) == [
        IncidentStatusChanged(occurred_at=NOW, from_status=from_status, to_status=to_status)
    ]


@pytest.mark.parametrize(("from_status", "to_status"), REFUSED, ids=[pair_id(p) for p in REFUSED])
def test_given_status_when_disallowed_change_then_invalid_transition(
    from_status: Status, to_status: Status
) -> None:
    allowed = ", ".join(sorted(s.value for s in EXPECTED_NEXT[from_status])) or "none"
    command = ChangeStatus(incident_id=INCIDENT_ID, at=NOW, status=to_status)

    with pytest.raises(
        InvalidTransition,
        match=re.escape(
            f"cannot change status from {from_status.value} to {to_status.value} (allowed: {allowed})"
        ),
    ):
        decide(given(*history_to(from_status)), command)


@pytest.mark.parametrize("status", list(Status), ids=lambda s: s.value)
def test_given_status_when_change_to_same_status_then_refused(status: Status) -> None:
    command = ChangeStatus(incident_id=INCIDENT_ID, at=NOW, status=status)

    with pytest.raises(InvalidTransition, match=f"incident is already {status.value}$"):
        decide(given(*history_to(status)), command)


@pytest.mark.parametrize("to_status", list(Status), ids=lambda s: s.value)
def test_given_closed_when_any_status_then_refused_closed_is_final(to_status: Status) -> None:
    command = ChangeStatus(incident_id=INCIDENT_ID, at=NOW, status=to_status)

    with pytest.raises(InvalidTransition):
        decide(given(*history_to(Status.CLOSED)), command)


def test_given_declared_when_change_status_with_time_then_that_time() -> None:
    when = NOW - timedelta(minutes=5)
    command = ChangeStatus(
        incident_id=INCIDENT_ID, at=NOW, status=Status.IDENTIFIED, occurred_at=when
    )

    assert decide(given(declared()), command) == [
        IncidentStatusChanged(
            occurred_at=when, from_status=Status.INVESTIGATING, to_status=Status.IDENTIFIED
        )
    ]


def test_given_declared_when_change_status_in_future_then_refused() -> None:
    command = ChangeStatus(
        incident_id=INCIDENT_ID, at=NOW, status=Status.IDENTIFIED, occurred_at=TOO_FAR_AHEAD
    )

    with pytest.raises(
        RuleViolation, match=re.escape(f"occurred_at {iso(TOO_FAR_AHEAD)} lies in the future")
    ):
        decide(given(declared()), command)


def test_given_declared_when_resolved_before_start_then_refused() -> None:
    when = STARTED - timedelta(seconds=1)
    command = ChangeStatus(
        incident_id=INCIDENT_ID, at=NOW, status=Status.RESOLVED, occurred_at=when
    )

    with pytest.raises(
        RuleViolation,
        match=re.escape(f"resolved at {iso(when)} is before started_at {iso(STARTED)}"),
    ):
        decide(given(declared()), command)


@pytest.mark.parametrize(
    ("history", "to_status"),
    [
        pytest.param((), Status.IDENTIFIED, id="identified"),
        pytest.param((), Status.MONITORING, id="monitoring"),
        pytest.param(
            (status_changed(Status.INVESTIGATING, Status.RESOLVED),),
            Status.INVESTIGATING,
            id="reopened",
        ),
        pytest.param(
            (status_changed(Status.INVESTIGATING, Status.RESOLVED),), Status.CLOSED, id="closed"
        ),
    ],
)
def test_given_declared_when_any_status_change_before_start_then_refused(
    history: tuple[DomainEvent, ...], to_status: Status
) -> None:
    when = STARTED - timedelta(seconds=1)
    command = ChangeStatus(incident_id=INCIDENT_ID, at=NOW, status=to_status, occurred_at=when)

    with pytest.raises(
        RuleViolation,
        match=re.escape(
            f"status change to {to_status.value} at {iso(when)} is before started_at {iso(STARTED)}"
        ),
    ):
        decide(given(declared(), *history), command)


def test_given_mitigated_when_resolved_before_the_mitigation_then_refused() -> None:
    mitigated = NOW - timedelta(minutes=10)
    when = mitigated - timedelta(seconds=1)
    command = ChangeStatus(
        incident_id=INCIDENT_ID, at=NOW, status=Status.RESOLVED, occurred_at=when
    )
    state = given(declared(), IncidentMitigated(occurred_at=mitigated))

    with pytest.raises(
        RuleViolation,
        match=re.escape(f"resolved at {iso(when)} is before mitigated_at {iso(mitigated)}"),
    ):
        decide(state, command)
    at_mitigation = command.model_copy(update={"occurred_at": mitigated})
    assert decide(state, at_mitigation) == [
        IncidentStatusChanged(
            occurred_at=mitigated, from_status=Status.INVESTIGATING, to_status=Status.RESOLVED
        )
    ]


def test_given_declared_when_resolved_exactly_at_start_then_accepted() -> None:
    command = ChangeStatus(
        incident_id=INCIDENT_ID, at=NOW, status=Status.RESOLVED, occurred_at=STARTED
    )

    assert decide(given(declared()), command) == [
        IncidentStatusChanged(
            occurred_at=STARTED, from_status=Status.INVESTIGATING, to_status=Status.RESOLVED
        )
    ]


def test_resolving_records_resolved_at_in_state() -> None:
    resolved = NOW - timedelta(minutes=3)

    state = given(declared(), status_changed(Status.INVESTIGATING, Status.RESOLVED, resolved))

    assert state.status is Status.RESOLVED
    assert state.resolved_at == resolved


def test_reopening_clears_resolved_at_in_state() -> None:
    state = given(
        declared(),
        status_changed(Status.INVESTIGATING, Status.RESOLVED, NOW - timedelta(minutes=3)),
        status_changed(Status.RESOLVED, Status.INVESTIGATING, NOW - timedelta(minutes=1)),
    )

    assert state.status is Status.INVESTIGATING
    assert state.resolved_at is None


def test_closing_keeps_resolved_at_in_state() -> None:
    resolved = NOW - timedelta(minutes=3)

    state = given(
        declared(),
        status_changed(Status.INVESTIGATING, Status.RESOLVED, resolved),
        status_changed(Status.RESOLVED, Status.CLOSED, NOW),
    )

    assert state.status is Status.CLOSED
    assert state.resolved_at == resolved


# --- severity -----------------------------------------------------------------------------


def test_given_declared_when_change_severity_then_severity_changed() -> None:
    command = ChangeSeverity(
        incident_id=INCIDENT_ID, at=NOW, severity=Severity.SEV1, reason="all regions"
    )

    assert decide(given(declared(severity=Severity.SEV3)), command) == [
        IncidentSeverityChanged(
            occurred_at=NOW,
            from_severity=Severity.SEV3,
            to_severity=Severity.SEV1,
            reason="all regions",
        )
    ]


def test_given_severity_changed_when_change_severity_then_from_is_current() -> None:
    changed = IncidentSeverityChanged(
        occurred_at=DECLARED, from_severity=Severity.SEV3, to_severity=Severity.SEV1
    )
    command = ChangeSeverity(incident_id=INCIDENT_ID, at=NOW, severity=Severity.SEV4)

    assert decide(given(declared(severity=Severity.SEV3), changed), command) == [
        IncidentSeverityChanged(
            occurred_at=NOW, from_severity=Severity.SEV1, to_severity=Severity.SEV4
        )
    ]


def test_given_declared_when_same_severity_then_refused() -> None:
    command = ChangeSeverity(incident_id=INCIDENT_ID, at=NOW, severity=Severity.SEV2)

    with pytest.raises(RuleViolation, match="severity is already SEV2"):
        decide(given(declared(severity=Severity.SEV2)), command)


def test_given_closed_when_change_severity_then_refused() -> None:
    command = ChangeSeverity(incident_id=INCIDENT_ID, at=NOW, severity=Severity.SEV1)

    with pytest.raises(InvalidTransition, match="a closed incident cannot change severity"):
        decide(given(*history_to(Status.CLOSED)), command)


# --- notes --------------------------------------------------------------------------------


def test_given_declared_when_add_note_then_note_added_at_command_time() -> None:
    command = AddNote(
        incident_id=INCIDENT_ID, at=NOW, note_id=NOTE_ID, text="  Paged the DB team  "
    )

    assert decide(given(declared()), command) == [
        NoteAdded(
            occurred_at=NOW,
            note_id=NOTE_ID,
            text="Paged the DB team",
            visibility=NoteVisibility.INTERNAL,
        )
    ]


def test_given_declared_when_add_public_note_then_note_added_is_public() -> None:
    command = AddNote(
        incident_id=INCIDENT_ID,
        at=NOW,
        note_id=NOTE_ID,
        text="Checkout is degraded; we are rolling back",
        visibility=NoteVisibility.PUBLIC,
    )

    assert decide(given(declared()), command) == [
        NoteAdded(
            occurred_at=NOW,
            note_id=NOTE_ID,
            text="Checkout is degraded; we are rolling back",
            visibility=NoteVisibility.PUBLIC,
        )
    ]


def test_given_declared_when_add_note_with_time_then_that_time() -> None:
    when = STARTED - timedelta(minutes=5)
    command = AddNote(
        incident_id=INCIDENT_ID, at=NOW, note_id=NOTE_ID, text="Deploy 42", occurred_at=when
    )

    assert decide(given(declared()), command) == [
        NoteAdded(
            occurred_at=when, note_id=NOTE_ID, text="Deploy 42", visibility=NoteVisibility.INTERNAL
        )
    ]


def test_given_declared_when_add_note_before_the_start_then_accepted() -> None:
    # A deploy that preceded the incident is a fair timeline entry.
    when = STARTED - timedelta(hours=2)
    command = AddNote(
        incident_id=INCIDENT_ID, at=NOW, note_id=NOTE_ID, text="Deploy 41", occurred_at=when
    )

    assert decide(given(declared()), command) == [
        NoteAdded(
            occurred_at=when, note_id=NOTE_ID, text="Deploy 41", visibility=NoteVisibility.INTERNAL
        )
    ]


def test_given_note_when_add_same_note_id_then_refused() -> None:
    command = AddNote(incident_id=INCIDENT_ID, at=NOW, note_id=NOTE_ID, text="again")

    with pytest.raises(RuleViolation, match=re.escape(f"timeline entry {NOTE_ID} already exists")):
        decide(given(declared(), note_added()), command)


def test_given_redacted_note_when_add_same_note_id_then_refused() -> None:
    command = AddNote(incident_id=INCIDENT_ID, at=NOW, note_id=NOTE_ID, text="again")

    with pytest.raises(RuleViolation, match=re.escape(f"timeline entry {NOTE_ID} already exists")):
        decide(given(declared(), note_added(), note_redacted()), command)


def test_given_declared_when_add_note_in_future_then_refused() -> None:
    command = AddNote(
        incident_id=INCIDENT_ID, at=NOW, note_id=NOTE_ID, text="later", occurred_at=TOO_FAR_AHEAD
    )

    with pytest.raises(
        RuleViolation, match=re.escape(f"occurred_at {iso(TOO_FAR_AHEAD)} lies in the future")
    ):
        decide(given(declared()), command)


@pytest.mark.parametrize(
    ("text", "occurred_at"),
    [
        pytest.param("Rolled back deploy 41", None, id="text"),
        pytest.param(None, STARTED, id="time"),
        pytest.param("Rolled back deploy 41", STARTED, id="both"),
    ],
)
def test_given_note_when_amend_then_note_amended(
    text: str | None, occurred_at: datetime | None
) -> None:
    command = AmendNote(
        incident_id=INCIDENT_ID, at=NOW, note_id=NOTE_ID, text=text, occurred_at=occurred_at
    )

    assert decide(given(declared(), note_added()), command) == [
        NoteAmended(occurred_at=NOW, note_id=NOTE_ID, text=text, note_occurred_at=occurred_at)
    ]


def test_given_note_when_amend_with_nothing_then_refused() -> None:
    command = AmendNote(incident_id=INCIDENT_ID, at=NOW, note_id=NOTE_ID)

    with pytest.raises(
        RuleViolation, match="an amendment needs a new text, a new occurred_at, or both"
    ):
        decide(given(declared(), note_added()), command)


@pytest.mark.parametrize(
    ("text", "occurred_at", "unchanged"),
    [
        pytest.param("Rolled back deploy 42", None, "text", id="same-text"),
        pytest.param(None, DECLARED, "occurred_at", id="same-time"),
        pytest.param("Rolled back deploy 42", DECLARED, "text and occurred_at", id="same-both"),
    ],
)
def test_given_note_when_amend_changes_nothing_then_refused(
    text: str | None, occurred_at: datetime | None, unchanged: str
) -> None:
    command = AmendNote(
        incident_id=INCIDENT_ID, at=NOW, note_id=NOTE_ID, text=text, occurred_at=occurred_at
    )

    with pytest.raises(
        RuleViolation,
        match=re.escape(
            f"the amendment changes nothing: note {NOTE_ID} already has this {unchanged}"
        ),
    ):
        decide(given(declared(), note_added()), command)


def test_given_amended_note_when_amend_back_to_its_first_text_then_accepted() -> None:
    amended = NoteAmended(occurred_at=NOW, note_id=NOTE_ID, text="Rolled back deploy 41")
    command = AmendNote(
        incident_id=INCIDENT_ID, at=NOW, note_id=NOTE_ID, text="Rolled back deploy 42"
    )

    assert decide(given(declared(), note_added(), amended), command) == [
        NoteAmended(occurred_at=NOW, note_id=NOTE_ID, text="Rolled back deploy 42")
    ]
    # The same text with a new time still changes the note.
    moved = AmendNote(
        incident_id=INCIDENT_ID,
        at=NOW,
        note_id=NOTE_ID,
        text="Rolled back deploy 41",
        occurred_at=STARTED,
    )
    assert decide(given(declared(), note_added(), amended), moved) == [
        NoteAmended(
            occurred_at=NOW, note_id=NOTE_ID, text="Rolled back deploy 41", note_occurred_at=STARTED
        )
    ]


def test_given_note_when_amend_time_into_future_then_refused() -> None:
    command = AmendNote(incident_id=INCIDENT_ID, at=NOW, note_id=NOTE_ID, occurred_at=TOO_FAR_AHEAD)

    with pytest.raises(
        RuleViolation, match=re.escape(f"occurred_at {iso(TOO_FAR_AHEAD)} lies in the future")
    ):
        decide(given(declared(), note_added()), command)


def test_given_note_when_redact_then_note_redacted() -> None:
    command = RedactNote(
        incident_id=INCIDENT_ID, at=NOW, note_id=NOTE_ID, reason="contained a token"
    )

    assert decide(given(declared(), note_added()), command) == [
        NoteRedacted(occurred_at=NOW, note_id=NOTE_ID, reason="contained a token")
    ]


@pytest.mark.parametrize(
    "command",
    [
        AmendNote(incident_id=INCIDENT_ID, at=NOW, note_id=OTHER_NOTE_ID, text="x"),
        RedactNote(incident_id=INCIDENT_ID, at=NOW, note_id=OTHER_NOTE_ID, reason="pii"),
    ],
    ids=lambda cmd: type(cmd).__name__,
)
def test_given_note_when_touch_unknown_note_then_entry_not_found(command: Command) -> None:
    with pytest.raises(
        EntryNotFound, match=re.escape(f"incident {INCIDENT_ID} has no note {OTHER_NOTE_ID}")
    ):
        decide(given(declared(), note_added()), command)


@pytest.mark.parametrize(
    "command",
    [
        AmendNote(incident_id=INCIDENT_ID, at=NOW, note_id=NOTE_ID, text="x"),
        RedactNote(incident_id=INCIDENT_ID, at=NOW, note_id=NOTE_ID, reason="again"),
    ],
    ids=lambda cmd: type(cmd).__name__,
)
def test_given_redacted_note_when_touch_it_then_refused(command: Command) -> None:
    with pytest.raises(
        RuleViolation, match=re.escape(f"note {NOTE_ID} was redacted and cannot change")
    ):
        decide(given(declared(), note_added(), note_redacted()), command)


def test_given_redacted_note_when_touch_another_note_then_accepted() -> None:
    command = AmendNote(incident_id=INCIDENT_ID, at=NOW, note_id=OTHER_NOTE_ID, text="still live")

    assert decide(
        given(declared(), note_added(), note_added(OTHER_NOTE_ID), note_redacted()), command
    ) == [NoteAmended(occurred_at=NOW, note_id=OTHER_NOTE_ID, text="still live")]


# --- evolve / fold ------------------------------------------------------------------------

ONE_OF_EACH: list[DomainEvent] = [
    declared(),
    acknowledged(),
    status_changed(Status.INVESTIGATING, Status.IDENTIFIED),
    IncidentSeverityChanged(
        occurred_at=DECLARED, from_severity=Severity.SEV2, to_severity=Severity.SEV1
    ),
    note_added(),
    NoteAmended(occurred_at=DECLARED, note_id=NOTE_ID, text="fixed typo"),
    note_redacted(),
]


def test_fold_of_nothing_is_a_fresh_incident() -> None:
    state = given()

    assert state == Incident()
    assert state.version == 0
    assert not state.exists


@pytest.mark.parametrize("event", ONE_OF_EACH, ids=lambda ev: type(ev).__name__)
def test_evolve_increments_version_by_exactly_one(event: DomainEvent) -> None:
    before = given(declared(), note_added(OTHER_NOTE_ID), note_added())

    after = evolve(before, event)

    assert before.version == 3
    assert after.version == 4


def test_evolve_does_not_change_the_given_state() -> None:
    before = given(declared())

    evolve(before, acknowledged())

    assert before == given(declared())
    assert before.acknowledged_at is None


def test_fold_counts_every_event_and_sets_state_fields() -> None:
    acked = NOW - timedelta(minutes=20)
    events = [
        declared(title="  Checkout is down  ", severity=Severity.SEV3),
        acknowledged(acked),
        status_changed(Status.INVESTIGATING, Status.IDENTIFIED),
        IncidentSeverityChanged(
            occurred_at=DECLARED, from_severity=Severity.SEV3, to_severity=Severity.SEV1
        ),
        note_added(),
        note_added(OTHER_NOTE_ID),
        NoteAmended(occurred_at=DECLARED, note_id=OTHER_NOTE_ID, text="fixed typo"),
        note_redacted(),
    ]

    state = given(*events)

    assert state == Incident(
        version=len(events),
        id=INCIDENT_ID,
        title="Checkout is down",
        severity=Severity.SEV1,
        status=Status.IDENTIFIED,
        started_at=STARTED,
        detected_at=DETECTED,
        acknowledged_at=acked,
        resolved_at=None,
        notes=frozenset({NOTE_ID, OTHER_NOTE_ID}),
        redacted_notes=frozenset({NOTE_ID}),
        note_contents={OTHER_NOTE_ID: Note("fixed typo", DECLARED)},
        services=("checkout",),
    )
    assert state.exists


def test_fold_continues_from_a_given_state() -> None:
    first = given(declared(), note_added())

    state = fold([acknowledged(DETECTED)], first)

    assert state == dataclasses.replace(first, version=3, acknowledged_at=DETECTED)


def test_note_amended_changes_only_the_note_and_the_version() -> None:
    before = given(declared(), note_added())

    after = evolve(before, NoteAmended(occurred_at=NOW, note_id=NOTE_ID, text="new"))
    moved = evolve(after, NoteAmended(occurred_at=NOW, note_id=NOTE_ID, note_occurred_at=STARTED))

    assert after == dataclasses.replace(
        before, version=before.version + 1, note_contents={NOTE_ID: Note("new", DECLARED)}
    )
    assert moved.note_contents == {NOTE_ID: Note("new", STARTED)}


def test_incident_state_is_frozen() -> None:
    state = given(declared())

    with pytest.raises(dataclasses.FrozenInstanceError):
        state.title = "changed"  # type: ignore[misc]


# --- validation ---------------------------------------------------------------------------

NAIVE = datetime(2026, 1, 1, 12, 0)  # noqa: DTZ001 - deliberately naive


@pytest.mark.parametrize(
    ("model", "fields"),
    [
        pytest.param(
            AcknowledgeIncident, {"incident_id": INCIDENT_ID, "at": NAIVE}, id="command-at"
        ),
        pytest.param(
            DeclareIncident,
            {
                "incident_id": INCIDENT_ID,
                "at": NOW,
                "title": "t",
                "severity": "SEV1",
                "started_at": NAIVE,
            },
            id="command-started_at",
        ),
        pytest.param(
            AddNote,
            {
                "incident_id": INCIDENT_ID,
                "at": NOW,
                "note_id": NOTE_ID,
                "text": "t",
                "occurred_at": NAIVE,
            },
            id="command-occurred_at",
        ),
        pytest.param(IncidentAcknowledged, {"occurred_at": NAIVE}, id="event-occurred_at"),
        pytest.param(
            IncidentDeclared,
            {
                "occurred_at": NOW,
                "incident_id": INCIDENT_ID,
                "title": "t",
                "severity": "SEV1",
                "started_at": STARTED,
                "detected_at": NAIVE,
            },
            id="event-detected_at",
        ),
        pytest.param(
            NoteAmended,
            {"occurred_at": NOW, "note_id": NOTE_ID, "note_occurred_at": NAIVE},
            id="event-note_occurred_at",
        ),
    ],
)
def test_naive_datetimes_are_refused(model: type[BaseModel], fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="timezone_aware"):
        model(**fields)


def test_aware_datetimes_are_normalised_to_utc() -> None:
    local = datetime(2026, 1, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))

    event = IncidentAcknowledged(occurred_at=local)

    assert event.occurred_at.tzinfo is UTC
    assert event.occurred_at == NOW


def test_severity_is_sev1_to_sev5() -> None:
    assert [s.value for s in Severity] == ["SEV1", "SEV2", "SEV3", "SEV4", "SEV5"]


@pytest.mark.parametrize("value", ["SEV1", "SEV2", "SEV3", "SEV4", "SEV5"])
def test_valid_severity_is_accepted(value: str) -> None:
    command = ChangeSeverity(incident_id=INCIDENT_ID, at=NOW, severity=value)

    assert command.severity is Severity(value)


@pytest.mark.parametrize("value", ["SEV0", "SEV6", "sev1", "P1", "1", ""])
def test_invalid_severity_is_refused(value: str) -> None:
    with pytest.raises(ValidationError, match="severity"):
        ChangeSeverity(incident_id=INCIDENT_ID, at=NOW, severity=value)
    with pytest.raises(ValidationError, match="severity"):
        declared(severity=value)


@pytest.mark.parametrize("title", ["", "   ", "x" * 201], ids=["empty", "blank", "too-long"])
def test_bad_title_is_refused(title: str) -> None:
    with pytest.raises(ValidationError, match="title"):
        DeclareIncident(incident_id=INCIDENT_ID, at=NOW, title=title, severity=Severity.SEV1)
    with pytest.raises(ValidationError, match="title"):
        declared(title=title)


@pytest.mark.parametrize("service", ["", "check out", "a,b"], ids=["empty", "space", "comma"])
def test_bad_service_name_is_refused(service: str) -> None:
    with pytest.raises(ValidationError, match="services"):
        DeclareIncident(
            incident_id=INCIDENT_ID, at=NOW, title="t", severity=Severity.SEV1, services=(service,)
        )


@pytest.mark.parametrize(
    ("model", "field", "value"),
    [
        pytest.param(
            ChangeSeverity(incident_id=INCIDENT_ID, at=NOW, severity=Severity.SEV1),
            "severity",
            Severity.SEV2,
            id="command",
        ),
        pytest.param(declared(), "title", "changed", id="event"),
        pytest.param(note_added(), "text", "changed", id="note-event"),
    ],
)
def test_models_are_frozen(model: BaseModel, field: str, value: object) -> None:
    with pytest.raises(ValidationError, match="frozen_instance"):
        setattr(model, field, value)
    assert getattr(model, field) != value


@pytest.mark.parametrize(
    ("model", "fields"),
    [
        pytest.param(AcknowledgeIncident, {"incident_id": INCIDENT_ID, "at": NOW}, id="command"),
        pytest.param(IncidentAcknowledged, {"occurred_at": NOW}, id="event"),
    ],
)
def test_unknown_fields_are_refused(model: type[BaseModel], fields: dict[str, Any]) -> None:
    assert model.model_validate(fields)
    with pytest.raises(ValidationError, match="extra_forbidden"):
        model.model_validate({**fields, "extra": 1})
