"""Which stored text can be erased, and which event erases it.

Free text written by people or sent by monitoring can hold what must not be kept (a
customer's e-mail address pasted into a note, a token in an alert annotation). Those
fields are stored sealed, each event's under a data key of its own; every key belongs to
a *scope* — one note with all its amendments, one alert of one incident — and an erasing
event deletes every key of its scope in the transaction that records it. The event store
applies this table; the events themselves never change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from domain.values import UtcDatetime

SEALED_FIELDS: Mapping[str, tuple[str, ...]] = {
    "timeline.note_added": ("text",),
    "timeline.note_amended": ("text",),
    "alert.fired": ("summary", "annotations", "details"),
}
"""Event type -> the fields of its ``data`` stored sealed (null and empty ones too, so an
erasure always leaves its placeholder in them)."""

EMPTIED_WHEN_ERASED: Mapping[str, frozenset[str]] = {
    "alert.fired": frozenset({"annotations", "details"}),
}
"""Sealed fields that read as ``{}`` once erased, where the placeholder would not fit their
type or could be mistaken for what a sender sent: the event's other sealed field
(an alert's ``summary``) carries the placeholder saying who erased the text, when and
why. A sender's summary is text, so an erased alert is known by it alone."""


def _note(stream_id: str, data: Mapping[str, Any]) -> str:
    # The stream too: a note id made from a reused idempotency key can recur elsewhere.
    return f"note:{stream_id}:{data['note_id']}"


def _alert(stream_id: str, data: Mapping[str, Any]) -> str:
    return f"alert:{stream_id}:{data['alert_key']}"


SEALING_SCOPES: Mapping[str, Callable[[str, Mapping[str, Any]], str]] = {
    "timeline.note_added": _note,
    "timeline.note_amended": _note,
    "alert.fired": _alert,
}
"""Event type -> the scope its data key belongs to, from its stream and data."""

ERASING_SCOPES: Mapping[str, Callable[[str, Mapping[str, Any]], str]] = {
    "timeline.note_redacted": _note,
    "alert.text_redacted": _alert,
}
"""Event type -> the scope whose keys the event erases (its ``reason`` says why)."""


def sealing_scope(stream_id: str, type_: str, data: Mapping[str, Any]) -> str | None:
    """The scope of a sealed event's key (None: the type seals nothing)."""
    scope = SEALING_SCOPES.get(type_)
    return None if scope is None else scope(stream_id, data)


def erasing_scope(stream_id: str, type_: str, data: Mapping[str, Any]) -> str | None:
    """The scope an erasing event erases (None: the type erases nothing)."""
    scope = ERASING_SCOPES.get(type_)
    return None if scope is None else scope(stream_id, data)


class RedactedText(BaseModel):
    """What a reader finds where erased text was: who erased it, when and why."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    redacted: Literal[True] = True
    redacted_at: UtcDatetime
    redacted_by: str | None = None
    reason: str
