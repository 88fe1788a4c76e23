"""Action item rules (domain/action_items.py), as given-events / when-command / then-events."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import pytest
from pydantic import ValidationError

from domain.action_items import NEXT_ACTION_STATUSES
from domain.commands import (
    AddActionItem,
    ChangeActionItemStatus,
    Command,
    LinkTicket,
    ReassignActionItem,
    ReprioritizeActionItem,
    RescheduleActionItem,
    RetitleActionItem,
    UnlinkTicket,
)
from domain.errors import EntryNotFound, IncidentNotFound, InvalidTransition, RuleViolation
from domain.events import (
    ActionItemAdded,
    ActionItemReassigned,
    ActionItemReprioritized,
    ActionItemRescheduled,
    ActionItemRetitled,
    ActionItemStatusChanged,
    ActionItemTicketLinked,
    DomainEvent,
    decode,
    encode,
    schema_version,
)
from domain.incident import decide, evolve
from domain.state import ActionItem
from domain.values import ActionKind, ActionStatus, Priority
from tests.domain.scenario import DECLARED, INCIDENT_ID, NOW, STARTED, declared, given

ITEM_ID = UUID("00000000-0000-4000-8000-0000000000b1")
OTHER_ITEM_ID = UUID("00000000-0000-4000-8000-0000000000b2")

START_DAY = STARTED.date()
DAY_BEFORE_START = START_DAY - timedelta(days=1)
DUE = date(2026, 1, 15)
TICKET = "https://tracker.example.com/browse/OPS-1234"
OTHER_TICKET = "https://tracker.example.com/browse/OPS-1300"
TITLE = "Alert on connection pool saturation"


def item_added(item_id: UUID = ITEM_ID, **overrides: Any) -> ActionItemAdded:
    fields: dict[str, Any] = {
        "occurred_at": DECLARED,
        "item_id": item_id,
        "title": "Alert on connection pool saturation",
        "kind": ActionKind.PREVENTATIVE,
        "owner": "alice",
        "due_date": DUE,
        "priority": Priority.P2,
    }
    fields.update(overrides)
    return ActionItemAdded(**fields)


def status_changed(
    from_status: ActionStatus, to_status: ActionStatus, reason: str | None = None
) -> ActionItemStatusChanged:
    return ActionItemStatusChanged(
        occurred_at=DECLARED,
        item_id=ITEM_ID,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
    )


def history_to(status: ActionStatus) -> tuple[DomainEvent, ...]:
    """Events giving a declared incident one action item in ``status``."""
    start: tuple[DomainEvent, ...] = (declared(), item_added())
    if status is ActionStatus.OPEN:
        return start
    reason = "superseded" if status is ActionStatus.WONT_DO else None
    return (*start, status_changed(ActionStatus.OPEN, status, reason))


def add(**overrides: Any) -> AddActionItem:
    fields: dict[str, Any] = {
        "incident_id": INCIDENT_ID,
        "at": NOW,
        "item_id": ITEM_ID,
        "title": "Alert on connection pool saturation",
        "kind": ActionKind.PREVENTATIVE,
        "owner": "alice",
        "due_date": DUE,
    }
    fields.update(overrides)
    return AddActionItem(**fields)


def change_status(status: ActionStatus, reason: str | None = None) -> ChangeActionItemStatus:
    return ChangeActionItemStatus(
        incident_id=INCIDENT_ID, at=NOW, item_id=ITEM_ID, status=status, reason=reason
    )


# The lifecycle as specified: open and in_progress move freely and may finish; a finished
# item (done or wont_do) can only be reopened.
EXPECTED_NEXT: dict[ActionStatus, set[ActionStatus]] = {
    ActionStatus.OPEN: {ActionStatus.IN_PROGRESS, ActionStatus.DONE, ActionStatus.WONT_DO},
    ActionStatus.IN_PROGRESS: {ActionStatus.OPEN, ActionStatus.DONE, ActionStatus.WONT_DO},
    ActionStatus.DONE: {ActionStatus.OPEN},
    ActionStatus.WONT_DO: {ActionStatus.OPEN},
}
ALLOWED = [(a, b) for a in ActionStatus for b in ActionStatus if b in EXPECTED_NEXT[a]]
REFUSED = [
    (a, b) for a in ActionStatus for b in ActionStatus if a is not b and b not in EXPECTED_NEXT[a]
]


def pair_id(pair: tuple[ActionStatus, ActionStatus]) -> str:
    return f"{pair[0].value}->{pair[1].value}"


# --- unknown incident / unknown item ------------------------------------------------------

ITEM_COMMANDS: list[Command] = [
    ReassignActionItem(incident_id=INCIDENT_ID, at=NOW, item_id=OTHER_ITEM_ID, owner="bob"),
    RescheduleActionItem(incident_id=INCIDENT_ID, at=NOW, item_id=OTHER_ITEM_ID, due_date=DUE),
    RetitleActionItem(incident_id=INCIDENT_ID, at=NOW, item_id=OTHER_ITEM_ID, title="New"),
    ReprioritizeActionItem(
        incident_id=INCIDENT_ID, at=NOW, item_id=OTHER_ITEM_ID, priority=Priority.P1
    ),
    ChangeActionItemStatus(
        incident_id=INCIDENT_ID, at=NOW, item_id=OTHER_ITEM_ID, status=ActionStatus.DONE
    ),
    LinkTicket(incident_id=INCIDENT_ID, at=NOW, item_id=OTHER_ITEM_ID, ticket_url=TICKET),
    UnlinkTicket(incident_id=INCIDENT_ID, at=NOW, item_id=OTHER_ITEM_ID),
]


@pytest.mark.parametrize("command", [add(), *ITEM_COMMANDS], ids=lambda cmd: type(cmd).__name__)
def test_given_nothing_when_any_action_item_command_then_incident_not_found(
    command: Command,
) -> None:
    with pytest.raises(IncidentNotFound, match=re.escape(f"incident {INCIDENT_ID} does not exist")):
        decide(given(), command)


@pytest.mark.parametrize("command", ITEM_COMMANDS, ids=lambda cmd: type(cmd).__name__)
def test_given_item_when_command_on_unknown_item_then_entry_not_found(command: Command) -> None:
    with pytest.raises(
        EntryNotFound,
        match=re.escape(f"incident {INCIDENT_ID} has no action item {OTHER_ITEM_ID}"),
    ):
        decide(given(declared(), item_added()), command)


@pytest.mark.parametrize("command", ITEM_COMMANDS, ids=lambda cmd: type(cmd).__name__)
def test_given_no_items_when_item_command_then_entry_not_found(command: Command) -> None:
    with pytest.raises(
        EntryNotFound,
        match=re.escape(f"incident {INCIDENT_ID} has no action item {OTHER_ITEM_ID}"),
    ):
        decide(given(declared()), command)


# --- add ----------------------------------------------------------------------------------


def test_given_declared_when_add_item_then_added_with_every_field() -> None:
    command = add(
        title="  Alert on connection pool saturation  ",
        kind=ActionKind.CORRECTIVE,
        owner=" alice ",
        priority=Priority.P1,
        ticket_url=TICKET,
    )

    assert decide(given(declared()), command) == [
        ActionItemAdded(
            occurred_at=NOW,
            item_id=ITEM_ID,
            title="Alert on connection pool saturation",
            kind=ActionKind.CORRECTIVE,
            owner="alice",
            due_date=DUE,
            priority=Priority.P1,
            ticket_url=TICKET,
        )
    ]


def test_given_declared_when_add_item_without_priority_or_ticket_then_p3_and_no_ticket() -> None:
    [event] = decide(given(declared()), add())

    assert isinstance(event, ActionItemAdded)
    assert (event.priority, event.ticket_url) == (Priority.P3, None)


def test_given_declared_when_add_item_due_on_start_day_then_accepted() -> None:
    [event] = decide(given(declared()), add(due_date=START_DAY))

    assert isinstance(event, ActionItemAdded)
    assert event.due_date == START_DAY


def test_given_declared_when_add_item_due_before_start_then_refused() -> None:
    with pytest.raises(
        RuleViolation,
        match=re.escape(
            f"due date {DAY_BEFORE_START.isoformat()} is before the incident started"
            f" ({START_DAY.isoformat()})"
        ),
    ):
        decide(given(declared()), add(due_date=DAY_BEFORE_START))


def test_given_item_when_add_same_item_id_then_refused() -> None:
    with pytest.raises(RuleViolation, match=re.escape(f"action item {ITEM_ID} already exists")):
        decide(given(declared(), item_added()), add(title="Something else"))


def test_given_item_when_add_another_item_then_accepted() -> None:
    [event] = decide(given(declared(), item_added()), add(item_id=OTHER_ITEM_ID))

    assert isinstance(event, ActionItemAdded)
    assert event.item_id == OTHER_ITEM_ID


@pytest.mark.parametrize(
    "url",
    [
        "ftp://tracker.example.com/OPS-1",
        "tracker.example.com/OPS-1",
        "OPS-1234",
        "https://",
        "https://tracker.example.com/OPS 1",
        "",
    ],
    ids=["ftp", "no-scheme", "ticket-key", "scheme-only", "space", "empty"],
)
def test_non_http_ticket_url_is_refused(url: str) -> None:
    with pytest.raises(ValidationError, match="ticket_url"):
        add(ticket_url=url)
    with pytest.raises(ValidationError, match="ticket_url"):
        LinkTicket(incident_id=INCIDENT_ID, at=NOW, item_id=ITEM_ID, ticket_url=url)
    with pytest.raises(ValidationError, match="ticket_url"):
        item_added(ticket_url=url)


@pytest.mark.parametrize("url", ["http://tracker.example.com/OPS-1", TICKET], ids=["http", "https"])
def test_http_and_https_ticket_urls_are_accepted(url: str) -> None:
    assert add(ticket_url=f" {url} ").ticket_url == url


def test_item_added_sets_an_open_item_in_state() -> None:
    state = given(declared(), item_added(ticket_url=TICKET), item_added(OTHER_ITEM_ID, owner="bob"))

    assert dict(state.action_items) == {
        ITEM_ID: ActionItem(
            owner="alice",
            due_date=DUE,
            status=ActionStatus.OPEN,
            ticket_url=TICKET,
            title=TITLE,
            priority=Priority.P2,
        ),
        OTHER_ITEM_ID: ActionItem(
            owner="bob", due_date=DUE, status=ActionStatus.OPEN, title=TITLE, priority=Priority.P2
        ),
    }


def test_an_item_state_without_title_or_priority_defaults_to_empty_and_p3() -> None:
    item = ActionItem(owner="alice", due_date=DUE, status=ActionStatus.OPEN)

    assert (item.title, item.priority) == ("", Priority.P3)


# --- retitle ------------------------------------------------------------------------------


def retitle(title: str) -> RetitleActionItem:
    return RetitleActionItem(incident_id=INCIDENT_ID, at=NOW, item_id=ITEM_ID, title=title)


def test_given_item_when_retitle_then_previous_title_recorded() -> None:
    command = retitle("  Page on connection pool saturation  ")

    assert decide(given(declared(), item_added()), command) == [
        ActionItemRetitled(
            occurred_at=NOW,
            item_id=ITEM_ID,
            title="Page on connection pool saturation",
            previous=TITLE,
        )
    ]


def test_given_retitled_item_when_retitle_again_then_previous_is_current_title() -> None:
    first = ActionItemRetitled(
        occurred_at=DECLARED, item_id=ITEM_ID, title="Second title", previous=TITLE
    )

    assert decide(given(declared(), item_added(), first), retitle("Third title")) == [
        ActionItemRetitled(
            occurred_at=NOW, item_id=ITEM_ID, title="Third title", previous="Second title"
        )
    ]


@pytest.mark.parametrize("title", [TITLE, f" {TITLE} "], ids=["same", "same-padded"])
def test_given_item_when_retitle_to_same_title_then_refused(title: str) -> None:
    with pytest.raises(
        RuleViolation, match=re.escape(f"action item {ITEM_ID} is already titled '{TITLE}'")
    ):
        decide(given(declared(), item_added()), retitle(title))


@pytest.mark.parametrize("title", ["", "   ", "x" * 201], ids=["empty", "blank", "too-long"])
def test_retitle_to_an_invalid_title_is_refused(title: str) -> None:
    with pytest.raises(ValidationError, match="title"):
        retitle(title)


def test_retitled_sets_title_of_that_item_only() -> None:
    state = given(
        declared(),
        item_added(),
        item_added(OTHER_ITEM_ID),
        ActionItemRetitled(occurred_at=NOW, item_id=ITEM_ID, title="New", previous=TITLE),
    )

    assert state.action_items[ITEM_ID].title == "New"
    assert state.action_items[OTHER_ITEM_ID].title == TITLE


# --- reprioritise -------------------------------------------------------------------------


def reprioritize(priority: Priority) -> ReprioritizeActionItem:
    return ReprioritizeActionItem(
        incident_id=INCIDENT_ID, at=NOW, item_id=ITEM_ID, priority=priority
    )


@pytest.mark.parametrize("priority", [Priority.P1, Priority.P4], ids=["P1", "P4"])
def test_given_item_when_reprioritize_then_previous_priority_recorded(priority: Priority) -> None:
    assert decide(given(declared(), item_added()), reprioritize(priority)) == [
        ActionItemReprioritized(
            occurred_at=NOW, item_id=ITEM_ID, priority=priority, previous=Priority.P2
        )
    ]


def test_given_reprioritized_item_when_reprioritize_again_then_previous_is_current() -> None:
    first = ActionItemReprioritized(
        occurred_at=DECLARED, item_id=ITEM_ID, priority=Priority.P1, previous=Priority.P2
    )

    assert decide(given(declared(), item_added(), first), reprioritize(Priority.P3)) == [
        ActionItemReprioritized(
            occurred_at=NOW, item_id=ITEM_ID, priority=Priority.P3, previous=Priority.P1
        )
    ]


def test_given_item_when_reprioritize_to_same_priority_then_refused() -> None:
    with pytest.raises(
        RuleViolation, match=re.escape(f"action item {ITEM_ID} already has priority P2")
    ):
        decide(given(declared(), item_added()), reprioritize(Priority.P2))


def test_reprioritize_to_an_unknown_priority_is_refused() -> None:
    with pytest.raises(ValidationError, match="priority"):
        ReprioritizeActionItem(
            incident_id=INCIDENT_ID,
            at=NOW,
            item_id=ITEM_ID,
            priority="P0",  # type: ignore[arg-type]
        )


def test_reprioritized_sets_priority_of_that_item_only() -> None:
    state = given(
        declared(),
        item_added(),
        item_added(OTHER_ITEM_ID),
        ActionItemReprioritized(
            occurred_at=NOW, item_id=ITEM_ID, priority=Priority.P1, previous=Priority.P2
        ),
    )

    assert state.action_items[ITEM_ID].priority is Priority.P1
    assert state.action_items[OTHER_ITEM_ID].priority is Priority.P2


# --- reassign -----------------------------------------------------------------------------


def test_given_item_when_reassign_then_previous_owner_recorded() -> None:
    command = ReassignActionItem(incident_id=INCIDENT_ID, at=NOW, item_id=ITEM_ID, owner=" bob ")

    assert decide(given(declared(), item_added()), command) == [
        ActionItemReassigned(occurred_at=NOW, item_id=ITEM_ID, owner="bob", previous_owner="alice")
    ]


def test_given_reassigned_item_when_reassign_again_then_previous_is_current_owner() -> None:
    first = ActionItemReassigned(
        occurred_at=DECLARED, item_id=ITEM_ID, owner="bob", previous_owner="alice"
    )
    command = ReassignActionItem(incident_id=INCIDENT_ID, at=NOW, item_id=ITEM_ID, owner="carol")

    assert decide(given(declared(), item_added(), first), command) == [
        ActionItemReassigned(occurred_at=NOW, item_id=ITEM_ID, owner="carol", previous_owner="bob")
    ]


def test_given_item_when_reassign_to_same_owner_then_refused() -> None:
    command = ReassignActionItem(incident_id=INCIDENT_ID, at=NOW, item_id=ITEM_ID, owner="alice")

    with pytest.raises(
        RuleViolation, match=re.escape(f"action item {ITEM_ID} is already owned by alice")
    ):
        decide(given(declared(), item_added()), command)


def test_reassigned_sets_owner_of_that_item_only() -> None:
    state = given(
        declared(),
        item_added(),
        item_added(OTHER_ITEM_ID),
        ActionItemReassigned(occurred_at=NOW, item_id=ITEM_ID, owner="bob", previous_owner="alice"),
    )

    assert state.action_items[ITEM_ID].owner == "bob"
    assert state.action_items[OTHER_ITEM_ID].owner == "alice"


# --- reschedule ---------------------------------------------------------------------------


@pytest.mark.parametrize("due", [START_DAY, date(2026, 2, 1)], ids=["start-day", "later"])
def test_given_item_when_reschedule_then_previous_due_date_recorded(due: date) -> None:
    command = RescheduleActionItem(incident_id=INCIDENT_ID, at=NOW, item_id=ITEM_ID, due_date=due)

    assert decide(given(declared(), item_added()), command) == [
        ActionItemRescheduled(occurred_at=NOW, item_id=ITEM_ID, due_date=due, previous_due_date=DUE)
    ]


def test_given_item_when_reschedule_to_same_date_then_refused() -> None:
    command = RescheduleActionItem(incident_id=INCIDENT_ID, at=NOW, item_id=ITEM_ID, due_date=DUE)

    with pytest.raises(
        RuleViolation, match=re.escape(f"action item {ITEM_ID} is already due on {DUE.isoformat()}")
    ):
        decide(given(declared(), item_added()), command)


def test_given_item_when_reschedule_before_start_then_refused() -> None:
    command = RescheduleActionItem(
        incident_id=INCIDENT_ID, at=NOW, item_id=ITEM_ID, due_date=DAY_BEFORE_START
    )

    with pytest.raises(
        RuleViolation,
        match=re.escape(
            f"due date {DAY_BEFORE_START.isoformat()} is before the incident started"
            f" ({START_DAY.isoformat()})"
        ),
    ):
        decide(given(declared(), item_added()), command)


def test_rescheduled_sets_due_date_in_state() -> None:
    later = date(2026, 2, 1)

    state = given(
        declared(),
        item_added(),
        ActionItemRescheduled(
            occurred_at=NOW, item_id=ITEM_ID, due_date=later, previous_due_date=DUE
        ),
    )

    assert state.action_items[ITEM_ID].due_date == later


# --- status -------------------------------------------------------------------------------


def test_next_action_statuses_match_the_specified_lifecycle() -> None:
    assert {status: set(nxt) for status, nxt in NEXT_ACTION_STATUSES.items()} == EXPECTED_NEXT


@pytest.mark.parametrize(("from_status", "to_status"), ALLOWED, ids=[pair_id(p) for p in ALLOWED])
def test_given_item_status_when_allowed_change_then_status_changed(
    from_status: ActionStatus, to_status: ActionStatus
) -> None:
    reason = "superseded by the autoscaler" if to_status is ActionStatus.WONT_DO else None

    assert decide(given(*history_to(from_status)), change_status(to_status, reason)) == [
        ActionItemStatusChanged(
            occurred_at=NOW,
            item_id=ITEM_ID,
            from_status=from_status,
            to_status=to_status,
            reason=reason,
        )
    ]


@pytest.mark.parametrize(("from_status", "to_status"), REFUSED, ids=[pair_id(p) for p in REFUSED])
def test_given_item_status_when_disallowed_change_then_invalid_transition(
    from_status: ActionStatus, to_status: ActionStatus
) -> None:
    command = change_status(to_status, reason="because")

    with pytest.raises(
        InvalidTransition,
        match=re.escape(
            f"cannot change action item status from {from_status.value} to {to_status.value}"
        ),
    ):
        decide(given(*history_to(from_status)), command)


@pytest.mark.parametrize("status", list(ActionStatus), ids=lambda s: s.value)
def test_given_item_status_when_change_to_same_status_then_refused(status: ActionStatus) -> None:
    command = change_status(status, reason="because")

    with pytest.raises(
        InvalidTransition, match=re.escape(f"action item {ITEM_ID} is already {status.value}")
    ):
        decide(given(*history_to(status)), command)


@pytest.mark.parametrize(
    "from_status", [ActionStatus.OPEN, ActionStatus.IN_PROGRESS], ids=lambda s: s.value
)
def test_given_item_when_wont_do_without_reason_then_refused(from_status: ActionStatus) -> None:
    with pytest.raises(
        RuleViolation,
        match=re.escape("an action item is only abandoned (wont_do) with a reason"),
    ):
        decide(given(*history_to(from_status)), change_status(ActionStatus.WONT_DO))


@pytest.mark.parametrize(
    "from_status", [ActionStatus.DONE, ActionStatus.WONT_DO], ids=lambda s: s.value
)
def test_given_finished_item_when_reopen_then_open_again(from_status: ActionStatus) -> None:
    history = history_to(from_status)
    command = change_status(ActionStatus.OPEN, reason="the fix did not hold")

    events = decide(given(*history), command)

    assert events == [
        ActionItemStatusChanged(
            occurred_at=NOW,
            item_id=ITEM_ID,
            from_status=from_status,
            to_status=ActionStatus.OPEN,
            reason="the fix did not hold",
        )
    ]
    assert given(*history, *events).action_items[ITEM_ID].status is ActionStatus.OPEN


def test_status_changes_set_status_of_that_item_only() -> None:
    state = given(
        declared(),
        item_added(),
        item_added(OTHER_ITEM_ID),
        status_changed(ActionStatus.OPEN, ActionStatus.IN_PROGRESS),
        status_changed(ActionStatus.IN_PROGRESS, ActionStatus.DONE),
    )

    assert state.action_items[ITEM_ID].status is ActionStatus.DONE
    assert state.action_items[OTHER_ITEM_ID].status is ActionStatus.OPEN


# --- link ticket --------------------------------------------------------------------------


def test_given_item_without_ticket_when_link_then_linked() -> None:
    command = LinkTicket(incident_id=INCIDENT_ID, at=NOW, item_id=ITEM_ID, ticket_url=TICKET)

    assert decide(given(declared(), item_added()), command) == [
        ActionItemTicketLinked(occurred_at=NOW, item_id=ITEM_ID, ticket_url=TICKET)
    ]


LINKED = [
    pytest.param((declared(), item_added(ticket_url=TICKET)), id="linked-on-add"),
    pytest.param(
        (
            declared(),
            item_added(),
            ActionItemTicketLinked(occurred_at=DECLARED, item_id=ITEM_ID, ticket_url=TICKET),
        ),
        id="linked-later",
    ),
]
"""Histories in which the item carries a ticket link: given when added, or linked later."""


def test_given_item_with_ticket_when_link_other_then_linked() -> None:
    command = LinkTicket(incident_id=INCIDENT_ID, at=NOW, item_id=ITEM_ID, ticket_url=OTHER_TICKET)

    assert decide(given(declared(), item_added(ticket_url=TICKET)), command) == [
        ActionItemTicketLinked(occurred_at=NOW, item_id=ITEM_ID, ticket_url=OTHER_TICKET)
    ]


@pytest.mark.parametrize("history", LINKED)
def test_given_item_with_ticket_when_link_same_url_then_refused(
    history: tuple[DomainEvent, ...],
) -> None:
    command = LinkTicket(incident_id=INCIDENT_ID, at=NOW, item_id=ITEM_ID, ticket_url=f" {TICKET} ")

    with pytest.raises(
        RuleViolation, match=re.escape(f"action item {ITEM_ID} is already linked to {TICKET}")
    ):
        decide(given(*history), command)


def test_ticket_linked_sets_ticket_url_in_state() -> None:
    state = given(
        declared(),
        item_added(ticket_url=TICKET),
        ActionItemTicketLinked(occurred_at=NOW, item_id=ITEM_ID, ticket_url=OTHER_TICKET),
    )

    assert state.action_items[ITEM_ID].ticket_url == OTHER_TICKET


# --- unlink ticket ------------------------------------------------------------------------

UNLINK = UnlinkTicket(incident_id=INCIDENT_ID, at=NOW, item_id=ITEM_ID)


def unlinked(at: Any = NOW) -> ActionItemTicketLinked:
    return ActionItemTicketLinked(occurred_at=at, item_id=ITEM_ID, ticket_url=None)


@pytest.mark.parametrize("history", LINKED)
def test_given_linked_item_when_unlink_then_link_removed(
    history: tuple[DomainEvent, ...],
) -> None:
    assert decide(given(*history), UNLINK) == [unlinked()]


@pytest.mark.parametrize(
    "history",
    [
        pytest.param((declared(), item_added()), id="never-linked"),
        pytest.param(
            (declared(), item_added(ticket_url=TICKET), unlinked(DECLARED)), id="already-unlinked"
        ),
    ],
)
def test_given_item_without_ticket_when_unlink_then_refused(
    history: tuple[DomainEvent, ...],
) -> None:
    with pytest.raises(
        RuleViolation, match=re.escape(f"action item {ITEM_ID} has no ticket linked")
    ):
        decide(given(*history), UNLINK)


def test_link_removed_clears_ticket_url_in_state_and_a_new_link_may_follow() -> None:
    state = given(declared(), item_added(ticket_url=TICKET), unlinked())

    assert state.action_items[ITEM_ID].ticket_url is None
    relink = LinkTicket(incident_id=INCIDENT_ID, at=NOW, item_id=ITEM_ID, ticket_url=TICKET)
    assert decide(state, relink) == [
        ActionItemTicketLinked(occurred_at=NOW, item_id=ITEM_ID, ticket_url=TICKET)
    ]


def test_ticket_linked_is_version_2_and_stores_a_removed_link_as_null() -> None:
    event = unlinked()

    assert schema_version(event) == 2
    assert encode(event) == {"item_id": str(ITEM_ID), "ticket_url": None}
    assert decode("action_item.ticket_linked", 2, encode(event), NOW) == event


def test_a_version_1_ticket_link_still_decodes() -> None:
    stored = {"item_id": str(ITEM_ID), "ticket_url": TICKET}

    assert decode("action_item.ticket_linked", 1, stored, NOW) == ActionItemTicketLinked(
        occurred_at=NOW, item_id=ITEM_ID, ticket_url=TICKET
    )


def test_a_ticket_link_must_say_which_ticket_or_null() -> None:
    with pytest.raises(ValidationError):
        decode("action_item.ticket_linked", 2, {"item_id": str(ITEM_ID)}, NOW)
    with pytest.raises(ValidationError):
        decode("action_item.ticket_linked", 1, {"item_id": str(ITEM_ID), "ticket_url": "x"}, NOW)


# --- evolve -------------------------------------------------------------------------------

ITEM_EVENTS: list[DomainEvent] = [
    item_added(OTHER_ITEM_ID),
    ActionItemReassigned(occurred_at=NOW, item_id=ITEM_ID, owner="bob", previous_owner="alice"),
    ActionItemRescheduled(
        occurred_at=NOW, item_id=ITEM_ID, due_date=date(2026, 2, 1), previous_due_date=DUE
    ),
    status_changed(ActionStatus.OPEN, ActionStatus.IN_PROGRESS),
    ActionItemTicketLinked(occurred_at=NOW, item_id=ITEM_ID, ticket_url=TICKET),
    unlinked(),
]


@pytest.mark.parametrize("event", ITEM_EVENTS, ids=lambda ev: type(ev).__name__)
def test_item_events_increment_version_and_leave_the_given_state_alone(
    event: DomainEvent,
) -> None:
    before = given(declared(), item_added())
    snapshot = given(declared(), item_added())

    after = evolve(before, event)

    assert after.version == before.version + 1
    assert before == snapshot
    assert before.action_items == snapshot.action_items


def test_action_items_in_state_cannot_be_changed_in_place() -> None:
    state = given(declared(), item_added())

    with pytest.raises(TypeError):
        state.action_items[OTHER_ITEM_ID] = state.action_items[ITEM_ID]  # type: ignore[index]
    assert set(state.action_items) == {ITEM_ID}
