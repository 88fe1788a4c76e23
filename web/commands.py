"""Running a form's command: the command built from what was typed, executed as the
signed-in token, and a refusal in words for the form when a rule or a field says no.

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
from starlette.concurrency import run_in_threadpool

from application.service import CommandContext, IncidentService, Outcome, PreconditionFailed
from domain.commands import Command
from domain.errors import DomainError
from eventstore.errors import ConcurrencyError
from web.viewer import Viewer


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a form's command was not carried out; ``field`` names the form field at fault."""

    message: str
    field: str | None = None


class FormInvalid(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.refusal = Refusal(message, field)


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
        raise FormInvalid(name, f"{name}: {text!r} is not a date and time") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _validation_refusal(exc: ValidationError) -> Refusal:
    error = exc.errors()[0]
    field = ".".join(str(part) for part in error["loc"]) or None
    message = error["msg"].removeprefix("Value error, ")
    return Refusal(f"{field}: {message}" if field else message, field)


def _execute(
    service: IncidentService,
    context: CommandContext,
    build: Callable[[], Command | Sequence[Command]],
) -> Outcome | Refusal:
    try:
        return service.execute(build(), context)
    except FormInvalid as exc:
        return exc.refusal
    except ValidationError as exc:
        return _validation_refusal(exc)
    except DomainError as exc:
        return Refusal(exc.detail)
    except (PreconditionFailed, ConcurrencyError) as exc:
        return Refusal(f"the incident changed meanwhile: reload and retry ({exc})")


async def run(
    request: Request, viewer: Viewer, build: Callable[[], Command | Sequence[Command]]
) -> Outcome | Refusal:
    """Build the command(s) and execute them as ``viewer``; the outcome or a refusal."""
    request_id = getattr(request.state, "request_id", None)
    metadata: dict[str, Any] = {
        "actor": viewer.name,
        "source": "web",
        "request_id": request_id,
        "correlation_id": request_id,
    }
    service: IncidentService = request.app.state.service
    return await run_in_threadpool(_execute, service, CommandContext(metadata=metadata), build)
