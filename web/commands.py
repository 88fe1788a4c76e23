"""Running a form's command: the command built from what was typed, executed as the
signed-in token, and a refusal in words for the form when a rule or a field says no, naming
fields by the form's labels (``web.refusals``).

A refusal stores nothing, exactly as the API's 4xx answers: the command is built (and so
validated) before it reaches the service, and the service appends nothing it refuses.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from pydantic import ValidationError
from pydantic_core import PydanticCustomError
from starlette.concurrency import run_in_threadpool

from application.service import CommandContext, IncidentService, Outcome, PreconditionFailed
from domain.commands import Command
from domain.errors import DomainError
from eventstore.errors import ConcurrencyError
from web.refusals import Wording
from web.viewer import Viewer


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a form's command was not carried out; ``field`` names the form field at fault."""

    message: str
    field: str | None = None


class FormInvalid(Exception):
    """A field the form's own reading refused: ``template`` says why in plain words, naming
    the field ``{label}`` (its label on the form) and what was typed through ``context``."""

    def __init__(self, field: str, template: str, /, **context: object) -> None:
        super().__init__(_filled(template, field, context))
        self.field = field
        self.template = template
        self.context = context
        self.kind: str | None = None

    @classmethod
    def of(cls, field: str, error: PydanticCustomError) -> FormInvalid:
        """A text rule's refusal of ``field`` (``application.text_fields``), worded by its kind."""
        said = error.message()
        invalid = cls(field, "{label}: {said}", said=said)
        invalid.kind = error.type
        invalid.context = {**(error.context or {}), "said": said}
        return invalid

    def refusal(self, wording: Wording) -> Refusal:
        if self.kind is not None:
            said = str(self.context["said"])
            message = wording.field_error(self.field, self.kind, self.context, said)
        else:
            message = _filled(self.template, wording.label(self.field), self.context)
        return Refusal(message, self.field)


def _filled(template: str, label: str, context: dict[str, object]) -> str:
    try:
        return template.format(label=label, **context)
    except (KeyError, IndexError, ValueError):  # braces of its own, not a template
        return template


async def form_values(request: Request) -> dict[str, str]:
    """The submitted form's text fields, trimmed, with a browser's CRLF line ends as the
    LF the API stores (a form sends every field, empty or not)."""
    form = await request.form()
    return {k: v.replace("\r\n", "\n").strip() for k, v in form.items() if isinstance(v, str)}


def optional(values: dict[str, str], name: str) -> str | None:
    """A field's text, or None when it was left empty."""
    return values.get(name) or None


def form_time(values: dict[str, str], name: str) -> datetime | None:
    """A ``datetime-local`` field, read as UTC (every page shows UTC); None when empty."""
    text = values.get(name)
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise FormInvalid(name, "{label}: “{text}” is not a date and time", text=text) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _validation_refusal(exc: ValidationError, wording: Wording) -> Refusal:
    error = exc.errors()[0]
    field = str(error["loc"][0]) if error["loc"] else None
    said = error["msg"].removeprefix("Value error, ")
    message = wording.field_error(field, error["type"], error.get("ctx") or {}, said)
    return Refusal(message, field)


def _typed(built: Command | Sequence[Command]) -> frozenset[str]:
    """The texts a command carries (names, above all), which a refusal quotes as they are."""
    found: set[str] = set()
    for command in [built] if isinstance(built, Command) else built:
        for value in command.model_dump().values():
            values = value if isinstance(value, tuple | list) else (value,)
            found.update(v for v in values if isinstance(v, str))
    return frozenset(found)


def _execute(
    service: IncidentService,
    context: CommandContext,
    build: Callable[[], Command | Sequence[Command]],
    wording: Wording,
) -> Outcome | Refusal:
    built: Command | Sequence[Command] = ()
    try:
        built = build()
        return service.execute(built, context)
    except FormInvalid as exc:
        return exc.refusal(wording)
    except ValidationError as exc:
        return _validation_refusal(exc, wording)
    except DomainError as exc:
        return Refusal(wording.rule(exc.detail, names=_typed(built)))
    except (PreconditionFailed, ConcurrencyError):
        return Refusal("The incident changed meanwhile: reload the page and try again")


async def run(
    request: Request,
    viewer: Viewer,
    build: Callable[[], Command | Sequence[Command]],
    *,
    form: str | None = None,
) -> Outcome | Refusal:
    """Build the command(s) and execute them as ``viewer``; the outcome or a refusal, worded
    with the labels of ``form`` (the name of its errors' key, ``web.refusals.FORM_LABELS``)."""
    request_id = getattr(request.state, "request_id", None)
    metadata: dict[str, Any] = {
        "actor": viewer.name,
        "source": "web",
        "request_id": request_id,
        "correlation_id": request_id,
    }
    service: IncidentService = request.app.state.service
    context = CommandContext(metadata=metadata)
    return await run_in_threadpool(_execute, service, context, build, Wording(form))
