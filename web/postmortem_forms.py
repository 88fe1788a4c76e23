"""The postmortem page's form fields, held to the rules the API's bodies follow
(``application.text_fields``): browsers end a textarea's lines with CRLF, stored as LF, and
control characters are refused as the form's own refusal, naming the field."""

from __future__ import annotations

from datetime import date

from pydantic_core import PydanticCustomError

from application.text_fields import multi_line, single_line
from web.commands import FormInvalid


def multi_line_field(text: str, field: str) -> str:
    """``text`` with LF line ends; FormInvalid naming ``field`` when it holds a control character."""
    try:
        return multi_line(text)
    except PydanticCustomError as exc:
        raise FormInvalid.of(field, exc) from None


def reviewers_field(text: str, field: str) -> tuple[str, ...]:
    """The names typed in one line, separated by commas; at least one."""
    try:
        names = tuple(name.strip() for name in single_line(text).split(",") if name.strip())
    except PydanticCustomError as exc:
        raise FormInvalid.of(field, exc) from None
    if not names:
        raise FormInvalid(field, "{label}: name at least one reviewer, such as bob, carol")
    return names


def comment_field(text: str, field: str) -> str | None:
    """A reviewer's optional comment; None when left empty."""
    return multi_line_field(text, field).strip() or None


def required_comment(text: str, field: str) -> str:
    """A reviewer's comment that must say something: what should change."""
    comment = comment_field(text, field)
    if comment is None:
        raise FormInvalid(field, "Say what should change")
    return comment


def due_date_field(text: str, field: str) -> date | None:
    """A ``date`` field; None when empty (the default rule applies again)."""
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise FormInvalid(
            field, "{label}: “{text}” is not a date (YYYY-MM-DD)", text=text
        ) from None
