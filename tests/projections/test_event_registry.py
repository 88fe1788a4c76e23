"""Every event type the log can hold has its place in the read models' registries.

The summary and the timeline dispatch on the event's class through dictionaries; an
event type missing from one would fail only when such an event is first applied, in
production. These tests fail first, naming the event.
"""

from __future__ import annotations

from typing import get_args

import pytest

from domain import alert_events
from domain.event_base import DomainEvent
from domain.events import Event
from projections import summary, timeline

EVENT_TYPES: tuple[type[DomainEvent], ...] = get_args(get_args(Event)[0])
"""Every member of the discriminated union the log is decoded with."""

ALERT_EVENT_TYPES = tuple(
    value
    for value in vars(alert_events).values()
    if isinstance(value, type) and issubclass(value, DomainEvent) and value is not DomainEvent
)


def _name(event_type: type[DomainEvent]) -> str:
    return str(event_type.model_fields["type"].default)


def test_the_union_holds_every_alert_event() -> None:
    missing = [_name(cls) for cls in ALERT_EVENT_TYPES if cls not in EVENT_TYPES]
    assert ALERT_EVENT_TYPES, "no alert events found in domain.alert_events"
    assert not missing, f"alert events missing from domain.events.Event: {missing}"


@pytest.mark.parametrize("event_type", EVENT_TYPES, ids=_name)
def test_every_event_has_a_summary_applier(event_type: type[DomainEvent]) -> None:
    assert event_type in summary.APPLIERS, (
        f"{_name(event_type)} ({event_type.__name__}) has no applier in projections.summary.APPLIERS"
    )


@pytest.mark.parametrize("event_type", EVENT_TYPES, ids=_name)
def test_every_event_has_a_timeline_description(event_type: type[DomainEvent]) -> None:
    assert event_type in timeline.APPLIERS, (
        f"{_name(event_type)} ({event_type.__name__}) has no entry in projections.timeline.APPLIERS"
        " (a description in projections.timeline_descriptions.DESCRIBERS, or an applier of its own)"
    )
