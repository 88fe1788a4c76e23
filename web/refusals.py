"""A refused form in the page's own words: each field named by the label its form shows, and
what pydantic, the text rules or the domain said about it made plain ("Ticket link must
start with http:// or https://" rather than a pattern).

The JSON API keeps its exact wording: its problem details name fields as its bodies do.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from domain import values
from web.templating import when

LABELS: Mapping[str, str] = {
    "title": "Title",
    "severity": "Severity",
    "services": "Services",
    "summary": "Summary",
    "started_at": "Started at",
    "detected_at": "Detected at",
    "occurred_at": "Time",
    "text": "Text",
    "reason": "Why",
    "status": "Status",
    "impact": "Impact",
    "root_cause": "Root cause",
    "resolution": "Resolution",
    "role": "Role",
    "person": "Person",
    "kind": "Kind",
    "owner": "Owner",
    "due_date": "Due",
    "priority": "Priority",
    "ticket_url": "Ticket link",
    "labels": "Labels",
    "key": "Label",
    "relation": "This incident is",
    "other_incident_id": "Other incident",
    "reviewers": "Reviewers",
    "comment": "Comment",
    "note_id": "Note",
    "alert_key": "Alert",
}
"""What the forms call each field."""

FORM_LABELS: Mapping[str, Mapping[str, str]] = {
    "note": {"text": "Note", "occurred_at": "Happened at"},
    "amendment": {"occurred_at": "Happened at"},
    "status": {"occurred_at": "At"},
    "acknowledge": {"occurred_at": "Acknowledge"},
    "mitigate": {"occurred_at": "Impact stopped"},
    "action-item": {"title": "What is to be done"},
    "item-status": {"status": "New status", "reason": "Reason"},
    "due-date": {"due_date": "Due on"},
    "declare": {"started_at": "Started at"},
}
"""A form's labels where they differ from the others' (the names of its ``errors`` key)."""

_EMPTY: Mapping[str, str] = {
    "title": "Give a title",
    "text": "Write something",
    "reason": "Say why",
    "person": "Give the person's name",
    "owner": "Give the owner's name",
    "impact": "Describe the impact",
    "root_cause": "Describe the root cause",
    "resolution": "Describe the resolution",
    "comment": "Say what should change",
}
_FORM_EMPTY: Mapping[tuple[str, str], str] = {
    ("note", "text"): "Write the note",
    ("action-item", "title"): "Say what is to be done",
}

_BY_FIELD: Mapping[tuple[str, str], str] = {
    ("ticket_url", "string_pattern_mismatch"): (
        "{label} must start with http:// or https:// and hold no spaces"
    ),
    ("services", "string_pattern_mismatch"): (
        "{label}: a service's name holds no spaces; separate services with commas"
    ),
    ("key", "string_pattern_mismatch"): (
        "{label}: a key starts with a letter or _, then letters, digits, _, . or -"
    ),
}
_BY_KIND: Mapping[str, str] = {
    "missing": "{label} is missing",
    "string_too_long": "{label} can be at most {max_length} characters long",
    "string_pattern_mismatch": "{label} is not written as expected",
    "enum": "{label}: choose one of the values offered",
    "literal_error": "{label}: choose one of the values offered",
    "uuid_parsing": "{label} is not an id",
    "uuid_type": "{label} is not an id",
    "date_parsing": "{label} is not a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "{label} is not a date (YYYY-MM-DD)",
    "datetime_parsing": "{label} is not a date and time",
    "datetime_from_date_parsing": "{label} is not a date and time",
    "timezone_aware": "{label} needs a time zone",
    "control_character": "{label} holds a control character ({code}, character {at}): remove it",
    "nul_character": "{label} holds a NUL character (character {at}): remove it",
    "unpaired_surrogate": "{label} holds a broken character (character {at}): remove it",
}
"""Pydantic's error types (and the text rules', ``application.text_fields``) in plain words."""

_WORDS: Mapping[str, str] = {
    "started_at": "the start",
    "detected_at": "detection",
    "acknowledged_at": "acknowledgement",
    "mitigated_at": "mitigation",
    "resolved_at": "resolution",
    "occurred_at": "the time given",
    "wont_do": "won't do",
}
"""The domain's names (a time field the form does not have, a value) as the pages say them;
any other of the service's names is said with spaces, and a ``snake_case`` word someone
typed (a label key) as written."""

_OWN_WORDS = frozenset(
    {*LABELS, *_WORDS}
    | {
        member.value
        for kind in vars(values).values()
        if isinstance(kind, type) and issubclass(kind, StrEnum) and kind is not StrEnum
        for member in kind
    }
)
"""The service's own snake_case names (fields, roles, sections, statuses): said in words."""

_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})", re.ASCII)
_FUTURE = re.compile(rf"(\w+) ({_TIME.pattern}) lies in the future", re.ASCII)
_SNAKE = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b", re.ASCII)
_FIRST_WORD = re.compile(r"[a-z]+\b", re.ASCII)


def _shown(text: str) -> str:
    """An ISO time of the service's wording as every page shows times (what only looks
    like one, month 13 say, as it was written)."""
    try:
        return when(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        return text


def _sentence(text: str) -> str:
    """``text`` with its first word capitalised when that is a plain lower-case word."""
    return text[0].upper() + text[1:] if _FIRST_WORD.match(text) else text


class Wording:
    """How one form names its fields, and its refusals in those names."""

    def __init__(self, form: str | None) -> None:
        self.form = form or ""
        self.own = FORM_LABELS.get(self.form, {})
        self.labels = {**LABELS, **self.own}

    def label(self, field: str) -> str:
        return self.labels.get(field) or _sentence(field.replace("_", " "))

    def field_error(
        self, field: str | None, kind: str, context: Mapping[str, Any], said: str
    ) -> str:
        """A field's error (pydantic's or a text rule's ``kind``), ``said`` its own wording."""
        if field is None:
            return _sentence(said)
        if kind == "string_too_short" and context.get("min_length") == 1:
            empty = _FORM_EMPTY.get((self.form, field)) or _EMPTY.get(field)
            return empty or f"{self.label(field)} cannot be empty"
        template = _BY_FIELD.get((field, kind)) or _BY_KIND.get(kind)
        if template is not None:
            try:
                return template.format(label=self.label(field), **context)
            except (KeyError, IndexError):
                pass
        return f"{self.label(field)}: {said}"

    def rule(self, detail: str, names: frozenset[str] = frozenset()) -> str:
        """A domain rule's refusal with its field names and times in the page's words; it
        starts with a capital unless it starts with one of ``names`` (a person's, as typed)."""
        future = _FUTURE.fullmatch(detail)
        if future:
            field, moment = future.group(1), future.group(2)
            name = self.own.get(field) or _sentence(_WORDS.get(field, field))
            return f"{name}: {_shown(moment)} is in the future; give a time up to now (UTC)"
        # A refusal that starts with what someone typed (a person's name) keeps it as typed.
        typed = max((n for n in names if n and detail.startswith(n)), key=len, default="")
        worded = _TIME.sub(lambda m: _shown(m.group(0)), detail[len(typed) :])
        worded = _SNAKE.sub(self._named, worded)
        return typed + worded if typed else _sentence(worded)

    def _named(self, found: re.Match[str]) -> str:
        # Only the service's own names: a label key or a name someone typed (on_call)
        # is quoted in the refusal as it was written.
        word = found.group(0)
        if word in self.own:
            return f"“{self.own[word]}”"
        return _WORDS.get(word) or (word.replace("_", " ") if word in _OWN_WORDS else word)
