"""Rules for the facts of an incident (domain/facts.py), as given-events / when-command / then-events."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from domain.commands import (
    AddParticipant,
    AssignRole,
    ChangeServices,
    Command,
    MarkMitigated,
    UpdateImpact,
    UpdateResolution,
    UpdateRootCause,
)
from domain.errors import IncidentNotFound, RuleViolation
from domain.events import (
    DomainEvent,
    ImpactUpdated,
    IncidentMitigated,
    IncidentStatusChanged,
    ParticipantAdded,
    PostmortemPublished,
    PostmortemReviewRequested,
    PostmortemSectionEdited,
    ResolutionUpdated,
    RoleAssigned,
    RootCauseUpdated,
    ServicesChanged,
)
from domain.incident import CLOCK_SKEW, decide, evolve
from domain.values import Role, Section, Status
from tests.domain.scenario import (
    DECLARED,
    INCIDENT_ID,
    NOW,
    STARTED,
    TOO_FAR_AHEAD,
    declared,
    given,
    iso,
)

# --- unknown incident ---------------------------------------------------------------------

FACT_COMMANDS: list[Command] = [
    UpdateImpact(incident_id=INCIDENT_ID, at=NOW, impact="checkouts fail"),
    UpdateRootCause(incident_id=INCIDENT_ID, at=NOW, root_cause="bad deploy"),
    UpdateResolution(incident_id=INCIDENT_ID, at=NOW, resolution="rolled back"),
    MarkMitigated(incident_id=INCIDENT_ID, at=NOW),
    AssignRole(incident_id=INCIDENT_ID, at=NOW, role=Role.SCRIBE, person="alice"),
    AddParticipant(incident_id=INCIDENT_ID, at=NOW, person="alice"),
    ChangeServices(incident_id=INCIDENT_ID, at=NOW, services=("checkout",)),
]


@pytest.mark.parametrize("command", FACT_COMMANDS, ids=lambda cmd: type(cmd).__name__)
def test_given_nothing_when_any_fact_command_then_incident_not_found(command: Command) -> None:
    with pytest.raises(IncidentNotFound, match=re.escape(f"incident {INCIDENT_ID} does not exist")):
        decide(given(), command)


# --- impact / root cause / resolution -----------------------------------------------------

TEXT_FACTS = [
    pytest.param(
        UpdateImpact, "impact", ImpactUpdated, "30% of checkouts failed for 42 minutes", id="impact"
    ),
    pytest.param(
        UpdateRootCause,
        "root_cause",
        RootCauseUpdated,
        "Deploy 42 halved the connection pool",
        id="root_cause",
    ),
    pytest.param(
        UpdateResolution,
        "resolution",
        ResolutionUpdated,
        "Rolled back deploy 42",
        id="resolution",
    ),
]


def seeded(field: str, text: str, at: datetime = NOW, revision: int = 1) -> PostmortemSectionEdited:
    """The draft section a fact of that name writes."""
    return PostmortemSectionEdited(
        occurred_at=at, revision=revision, section=Section(field), text=text
    )


@pytest.mark.parametrize(("command_type", "field", "event_type", "text"), TEXT_FACTS)
def test_given_declared_when_update_text_fact_then_updated_and_the_draft_seeded(
    command_type: type[Command], field: str, event_type: type[DomainEvent], text: str
) -> None:
    command = command_type(incident_id=INCIDENT_ID, at=NOW, **{field: f"  {text}  "})

    assert decide(given(declared()), command) == [
        event_type(occurred_at=NOW, **{field: text}),
        seeded(field, text),
    ]


@pytest.mark.parametrize(("command_type", "field", "event_type", "text"), TEXT_FACTS)
def test_given_text_fact_when_update_with_other_text_then_updated(
    command_type: type[Command], field: str, event_type: type[DomainEvent], text: str
) -> None:
    earlier = event_type(occurred_at=DECLARED, **{field: "first guess"})
    command = command_type(incident_id=INCIDENT_ID, at=NOW, **{field: text})

    # The section still said the earlier fact: it follows the new one.
    assert decide(given(declared(), earlier, seeded(field, "first guess", DECLARED)), command) == [
        event_type(occurred_at=NOW, **{field: text}),
        seeded(field, text),
    ]


@pytest.mark.parametrize(("command_type", "field", "event_type", "text"), TEXT_FACTS)
def test_given_a_section_written_by_hand_when_update_fact_then_the_section_is_kept(
    command_type: type[Command], field: str, event_type: type[DomainEvent], text: str
) -> None:
    earlier = event_type(occurred_at=DECLARED, **{field: "first guess"})
    by_hand = seeded(field, "The full story, as the review found it", DECLARED)
    command = command_type(incident_id=INCIDENT_ID, at=NOW, **{field: text})

    assert decide(given(declared(), earlier, by_hand), command) == [
        event_type(occurred_at=NOW, **{field: text})
    ]


@pytest.mark.parametrize(("command_type", "field", "event_type", "text"), TEXT_FACTS)
def test_given_the_section_already_says_it_when_update_fact_then_no_section_edit(
    command_type: type[Command], field: str, event_type: type[DomainEvent], text: str
) -> None:
    command = command_type(incident_id=INCIDENT_ID, at=NOW, **{field: text})

    assert decide(given(declared(), seeded(field, text, DECLARED)), command) == [
        event_type(occurred_at=NOW, **{field: text})
    ]


def reviewed(*, published: bool) -> list[DomainEvent]:
    events: list[DomainEvent] = [
        seeded("summary", "Checkout failed", DECLARED),
        PostmortemReviewRequested(occurred_at=DECLARED, revision=1),
    ]
    if published:
        events.append(PostmortemPublished(occurred_at=DECLARED, revision=1))
    return events


@pytest.mark.parametrize("published", [False, True], ids=["in-review", "published"])
@pytest.mark.parametrize(("command_type", "field", "event_type", "text"), TEXT_FACTS)
def test_given_a_postmortem_past_its_draft_when_update_fact_then_it_is_not_touched(
    command_type: type[Command],
    field: str,
    event_type: type[DomainEvent],
    text: str,
    published: bool,
) -> None:
    command = command_type(incident_id=INCIDENT_ID, at=NOW, **{field: text})

    assert decide(given(declared(), *reviewed(published=published)), command) == [
        event_type(occurred_at=NOW, **{field: text})
    ]


def test_given_a_new_draft_revision_when_update_fact_then_that_revision_is_seeded() -> None:
    history = [*reviewed(published=True), seeded("summary", "Checkout failed twice", DECLARED, 2)]
    command = UpdateRootCause(incident_id=INCIDENT_ID, at=NOW, root_cause="Pool halved")

    events = decide(given(declared(), *history), command)

    assert events[-1] == seeded("root_cause", "Pool halved", revision=2)
    state = given(declared(), *history, *events)
    assert state.postmortem.sections[Section.ROOT_CAUSE] == "Pool halved"
    assert state.root_cause == "Pool halved"


@pytest.mark.parametrize(("command_type", "field", "event_type", "text"), TEXT_FACTS)
def test_given_text_fact_when_update_with_same_text_then_refused(
    command_type: type[Command], field: str, event_type: type[DomainEvent], text: str
) -> None:
    earlier = event_type(occurred_at=DECLARED, **{field: text})
    command = command_type(incident_id=INCIDENT_ID, at=NOW, **{field: f" {text} "})

    with pytest.raises(RuleViolation, match=re.escape(f"{field} already says exactly this")):
        decide(given(declared(), earlier), command)


@pytest.mark.parametrize(("command_type", "field", "event_type", "text"), TEXT_FACTS)
def test_text_fact_event_sets_the_state_field(
    command_type: type[Command], field: str, event_type: type[DomainEvent], text: str
) -> None:
    state = given(
        declared(),
        event_type(occurred_at=DECLARED, **{field: "first guess"}),
        event_type(occurred_at=NOW, **{field: text}),
    )

    assert getattr(state, field) == text


# --- mitigate -----------------------------------------------------------------------------


def test_given_declared_when_mitigate_then_mitigated_at_command_time() -> None:
    command = MarkMitigated(incident_id=INCIDENT_ID, at=NOW)

    assert decide(given(declared()), command) == [IncidentMitigated(occurred_at=NOW)]


@pytest.mark.parametrize(
    "when",
    [STARTED, NOW - timedelta(minutes=10), NOW + CLOCK_SKEW],
    ids=["at-start", "between", "at-clock-skew"],
)
def test_given_declared_when_mitigate_with_time_then_that_time(when: datetime) -> None:
    command = MarkMitigated(incident_id=INCIDENT_ID, at=NOW, occurred_at=when)

    assert decide(given(declared()), command) == [IncidentMitigated(occurred_at=when)]


def test_given_mitigated_when_mitigate_again_then_refused() -> None:
    first = NOW - timedelta(minutes=10)
    command = MarkMitigated(incident_id=INCIDENT_ID, at=NOW)

    with pytest.raises(
        RuleViolation, match=re.escape(f"incident was already mitigated at {iso(first)}")
    ):
        decide(given(declared(), IncidentMitigated(occurred_at=first)), command)


def test_given_declared_when_mitigate_before_start_then_refused() -> None:
    when = STARTED - timedelta(seconds=1)
    command = MarkMitigated(incident_id=INCIDENT_ID, at=NOW, occurred_at=when)

    with pytest.raises(
        RuleViolation,
        match=re.escape(f"mitigated at {iso(when)} is before started_at {iso(STARTED)}"),
    ):
        decide(given(declared()), command)


def test_given_declared_when_mitigate_in_future_then_refused() -> None:
    command = MarkMitigated(incident_id=INCIDENT_ID, at=NOW, occurred_at=TOO_FAR_AHEAD)

    with pytest.raises(
        RuleViolation, match=re.escape(f"occurred_at {iso(TOO_FAR_AHEAD)} lies in the future")
    ):
        decide(given(declared()), command)


RESOLVED_AT = NOW - timedelta(minutes=5)


def resolved_history(*, closed: bool = False) -> list[DomainEvent]:
    events: list[DomainEvent] = [
        declared(),
        IncidentStatusChanged(
            occurred_at=RESOLVED_AT, from_status=Status.INVESTIGATING, to_status=Status.RESOLVED
        ),
    ]
    if closed:
        events.append(
            IncidentStatusChanged(
                occurred_at=NOW, from_status=Status.RESOLVED, to_status=Status.CLOSED
            )
        )
    return events


@pytest.mark.parametrize("closed", [False, True], ids=["resolved", "closed"])
def test_given_resolved_when_mitigate_now_then_refused(closed: bool) -> None:
    command = MarkMitigated(incident_id=INCIDENT_ID, at=NOW)

    with pytest.raises(
        RuleViolation,
        match=re.escape(
            f"incident was resolved at {iso(RESOLVED_AT)}; a mitigation now would come after"
            " the resolution: give occurred_at at or before it"
        ),
    ):
        decide(given(*resolved_history(closed=closed)), command)


def test_given_resolved_when_mitigate_after_the_resolution_then_refused() -> None:
    when = RESOLVED_AT + timedelta(seconds=1)
    command = MarkMitigated(incident_id=INCIDENT_ID, at=NOW, occurred_at=when)

    with pytest.raises(
        RuleViolation,
        match=re.escape(f"mitigated at {iso(when)} is after resolved_at {iso(RESOLVED_AT)}"),
    ):
        decide(given(*resolved_history()), command)


@pytest.mark.parametrize("offset", [timedelta(0), -timedelta(minutes=20)], ids=["at", "before"])
def test_given_resolved_when_mitigate_at_or_before_the_resolution_then_accepted(
    offset: timedelta,
) -> None:
    when = RESOLVED_AT + offset
    command = MarkMitigated(incident_id=INCIDENT_ID, at=NOW, occurred_at=when)

    assert decide(given(*resolved_history()), command) == [IncidentMitigated(occurred_at=when)]


def test_given_reopened_when_mitigate_now_then_accepted() -> None:
    reopened = IncidentStatusChanged(
        occurred_at=NOW, from_status=Status.RESOLVED, to_status=Status.INVESTIGATING
    )
    command = MarkMitigated(incident_id=INCIDENT_ID, at=NOW)

    assert decide(given(*resolved_history(), reopened), command) == [
        IncidentMitigated(occurred_at=NOW)
    ]


def test_mitigated_event_sets_mitigated_at_in_state() -> None:
    when = NOW - timedelta(minutes=10)

    state = given(declared(), IncidentMitigated(occurred_at=when))

    assert state.mitigated_at == when


# --- roles --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_given_declared_when_assign_role_then_assigned_without_previous(role: Role) -> None:
    command = AssignRole(incident_id=INCIDENT_ID, at=NOW, role=role, person="  alice  ")

    assert decide(given(declared()), command) == [
        RoleAssigned(occurred_at=NOW, role=role, person="alice", previous=None)
    ]


def test_given_role_assigned_when_reassign_then_previous_recorded() -> None:
    first = RoleAssigned(occurred_at=DECLARED, role=Role.INCIDENT_COMMANDER, person="alice")
    command = AssignRole(
        incident_id=INCIDENT_ID, at=NOW, role=Role.INCIDENT_COMMANDER, person="bob"
    )

    assert decide(given(declared(), first), command) == [
        RoleAssigned(occurred_at=NOW, role=Role.INCIDENT_COMMANDER, person="bob", previous="alice")
    ]


def test_given_role_assigned_when_assign_same_person_then_refused() -> None:
    first = RoleAssigned(occurred_at=DECLARED, role=Role.SCRIBE, person="alice")
    command = AssignRole(incident_id=INCIDENT_ID, at=NOW, role=Role.SCRIBE, person="alice")

    with pytest.raises(RuleViolation, match=re.escape("alice is already scribe")):
        decide(given(declared(), first), command)


def test_given_role_assigned_when_same_person_takes_another_role_then_accepted() -> None:
    first = RoleAssigned(occurred_at=DECLARED, role=Role.SCRIBE, person="alice")
    command = AssignRole(
        incident_id=INCIDENT_ID, at=NOW, role=Role.COMMUNICATIONS_LEAD, person="alice"
    )

    assert decide(given(declared(), first), command) == [
        RoleAssigned(occurred_at=NOW, role=Role.COMMUNICATIONS_LEAD, person="alice")
    ]


def test_role_assigned_events_set_roles_in_state() -> None:
    state = given(
        declared(),
        RoleAssigned(occurred_at=DECLARED, role=Role.INCIDENT_COMMANDER, person="alice"),
        RoleAssigned(occurred_at=DECLARED, role=Role.SCRIBE, person="carol"),
        RoleAssigned(occurred_at=NOW, role=Role.INCIDENT_COMMANDER, person="bob", previous="alice"),
    )

    assert dict(state.roles) == {Role.INCIDENT_COMMANDER: "bob", Role.SCRIBE: "carol"}


# --- participants -------------------------------------------------------------------------


def test_given_declared_when_add_participant_then_added() -> None:
    command = AddParticipant(incident_id=INCIDENT_ID, at=NOW, person=" alice ")

    assert decide(given(declared()), command) == [ParticipantAdded(occurred_at=NOW, person="alice")]


def test_given_participant_when_add_same_person_then_refused() -> None:
    command = AddParticipant(incident_id=INCIDENT_ID, at=NOW, person="alice")

    with pytest.raises(RuleViolation, match=re.escape("alice is already a participant")):
        decide(given(declared(), ParticipantAdded(occurred_at=DECLARED, person="alice")), command)


def test_participant_added_events_set_participants_in_state() -> None:
    state = given(
        declared(),
        ParticipantAdded(occurred_at=DECLARED, person="alice"),
        ParticipantAdded(occurred_at=NOW, person="bob"),
    )

    assert state.participants == frozenset({"alice", "bob"})


# --- services -----------------------------------------------------------------------------


def test_given_declared_when_change_services_then_changed() -> None:
    command = ChangeServices(incident_id=INCIDENT_ID, at=NOW, services=("checkout", "payments"))

    assert decide(given(declared(services=("checkout",))), command) == [
        ServicesChanged(occurred_at=NOW, services=("checkout", "payments"))
    ]


def test_given_declared_when_change_services_with_duplicates_then_deduplicated_in_order() -> None:
    command = ChangeServices(
        incident_id=INCIDENT_ID,
        at=NOW,
        services=("payments", "checkout", "payments", " checkout ", "db"),
    )

    assert decide(given(declared(services=("checkout",))), command) == [
        ServicesChanged(occurred_at=NOW, services=("payments", "checkout", "db"))
    ]


@pytest.mark.parametrize(
    "services",
    [("checkout", "payments"), ("checkout", "payments", "checkout"), (" checkout", "payments ")],
    ids=["same", "same-after-dedup", "same-after-strip"],
)
def test_given_services_when_change_to_same_services_then_refused(
    services: tuple[str, ...],
) -> None:
    command = ChangeServices(incident_id=INCIDENT_ID, at=NOW, services=services)

    with pytest.raises(
        RuleViolation, match=re.escape("the incident already affects exactly these services")
    ):
        decide(given(declared(services=("checkout", "payments"))), command)


def test_given_services_changed_when_change_back_then_compared_to_current() -> None:
    changed = ServicesChanged(occurred_at=DECLARED, services=("payments",))
    command = ChangeServices(incident_id=INCIDENT_ID, at=NOW, services=("checkout",))

    assert decide(given(declared(services=("checkout",)), changed), command) == [
        ServicesChanged(occurred_at=NOW, services=("checkout",))
    ]


def test_services_changed_event_sets_services_in_state() -> None:
    state = given(declared(), ServicesChanged(occurred_at=NOW, services=("payments", "db")))

    assert state.services == ("payments", "db")


# --- evolve -------------------------------------------------------------------------------

FACT_EVENTS: list[DomainEvent] = [
    ImpactUpdated(occurred_at=NOW, impact="checkouts fail"),
    RootCauseUpdated(occurred_at=NOW, root_cause="bad deploy"),
    ResolutionUpdated(occurred_at=NOW, resolution="rolled back"),
    IncidentMitigated(occurred_at=NOW),
    RoleAssigned(occurred_at=NOW, role=Role.SCRIBE, person="alice"),
    ParticipantAdded(occurred_at=NOW, person="alice"),
    ServicesChanged(occurred_at=NOW, services=("payments",)),
]


@pytest.mark.parametrize("event", FACT_EVENTS, ids=lambda ev: type(ev).__name__)
def test_fact_events_increment_version_and_leave_the_given_state_alone(event: DomainEvent) -> None:
    before = given(declared())

    after = evolve(before, event)

    assert after.version == before.version + 1
    assert before == given(declared())


def test_fold_of_facts_sets_every_state_field() -> None:
    mitigated = NOW - timedelta(minutes=10)
    state = given(
        declared(),
        ImpactUpdated(occurred_at=NOW, impact="checkouts fail"),
        RootCauseUpdated(occurred_at=NOW, root_cause="bad deploy"),
        ResolutionUpdated(occurred_at=NOW, resolution="rolled back"),
        IncidentMitigated(occurred_at=mitigated),
        RoleAssigned(occurred_at=NOW, role=Role.SCRIBE, person="alice"),
        ParticipantAdded(occurred_at=NOW, person="bob"),
        ServicesChanged(occurred_at=NOW, services=("payments",)),
    )

    assert state.version == 8
    assert (state.impact, state.root_cause, state.resolution) == (
        "checkouts fail",
        "bad deploy",
        "rolled back",
    )
    assert state.mitigated_at == mitigated
    assert dict(state.roles) == {Role.SCRIBE: "alice"}
    assert state.participants == frozenset({"bob"})
    assert state.services == ("payments",)


def test_roles_in_state_cannot_be_changed_in_place() -> None:
    state = given(declared(), RoleAssigned(occurred_at=NOW, role=Role.SCRIBE, person="alice"))

    with pytest.raises(TypeError):
        state.roles[Role.SCRIBE] = "mallory"  # type: ignore[index]
    assert state.roles[Role.SCRIBE] == "alice"
