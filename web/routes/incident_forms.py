"""The incident page's forms: each posts one command, then goes back to the page (303), or
shows the page again with the refusal next to the form that was sent (422)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime
from uuid import UUID, uuid4

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic_core import PydanticCustomError

from application.service import IncidentService
from application.text_fields import multi_line, single_line
from domain import commands as c
from domain.state import Incident
from web.commands import FormInvalid, Refusal, form_time, form_values, optional, run
from web.routes.incident import Failed, render
from web.viewer import Viewer, WriterDep

router = APIRouter(prefix="/ui/incidents/{incident_id}", include_in_schema=False)

Values = dict[str, str]
Build = Callable[[UUID, Values, datetime], c.Command]


def _checked(name: str, text: str, check: Callable[[str], str]) -> str:
    try:
        return check(text)
    except PydanticCustomError as exc:
        raise FormInvalid.of(name, exc) from None


def line(values: Values, name: str) -> str:
    """A one-line field, refused when it holds a line break or a control character."""
    return _checked(name, values.get(name, ""), single_line)


def lines(values: Values, name: str) -> str:
    """A multi-line field with its line ends as ``\\n``, refused with control characters."""
    return _checked(name, values.get(name, ""), multi_line)


def optional_lines(values: Values, name: str) -> str | None:
    return lines(values, name) if optional(values, name) else None


def day(values: Values, name: str) -> date:
    text = values.get(name, "")
    try:
        return date.fromisoformat(text)
    except ValueError:
        if not text:
            raise FormInvalid(name, "{label}: give a date") from None
        raise FormInvalid(name, "{label}: “{text}” is not a date (YYYY-MM-DD)", text=text) from None


def _note(incident_id: UUID, values: Values, now: datetime) -> c.Command:
    return c.AddNote(
        incident_id=incident_id,
        at=now,
        note_id=uuid4(),
        text=lines(values, "text"),
        occurred_at=form_time(values, "occurred_at"),
    )


def _note_id(values: Values) -> UUID:
    try:
        return UUID(values.get("note_id", ""))
    except ValueError:
        raise FormInvalid("note_id", "{label}: not a note of this incident") from None


def _amendment(incident_id: UUID, values: Values, now: datetime, state: Incident) -> c.Command:
    """A note's new text and/or time. The form shows both as they are; what is sent back
    unchanged (the time as shown, to the second) is left out of the amendment."""
    note_id = _note_id(values)
    text: str | None = lines(values, "text")
    occurred_at = form_time(values, "occurred_at")
    note = state.note_contents.get(note_id)
    if note is not None:  # an unknown or redacted note is refused by the rule itself
        if occurred_at == note.occurred_at.replace(microsecond=0):
            occurred_at = None
        if text == note.text and occurred_at is not None:
            text = None
    return c.AmendNote(
        incident_id=incident_id, at=now, note_id=note_id, text=text, occurred_at=occurred_at
    )


def _redaction(incident_id: UUID, values: Values, now: datetime) -> c.Command:
    """A note erased for good: its text's key is deleted, a reason is recorded."""
    return c.RedactNote(
        incident_id=incident_id, at=now, note_id=_note_id(values), reason=line(values, "reason")
    )


def _erasure(incident_id: UUID, values: Values, now: datetime) -> c.Command:
    """An alert's text (summary, annotations, details of every firing so far) erased."""
    return c.RedactAlertText(
        incident_id=incident_id,
        at=now,
        alert_key=line(values, "alert_key"),
        reason=line(values, "reason"),
    )


def _status(incident_id: UUID, values: Values, now: datetime) -> c.Command:
    return c.ChangeStatus(
        incident_id=incident_id,
        at=now,
        status=values.get("status", ""),
        occurred_at=form_time(values, "occurred_at"),
    )


def _severity(incident_id: UUID, values: Values, now: datetime) -> c.Command:
    return c.ChangeSeverity(
        incident_id=incident_id,
        at=now,
        severity=values.get("severity", ""),
        reason=optional_lines(values, "reason"),
    )


def _acknowledge(incident_id: UUID, values: Values, now: datetime) -> c.Command:
    occurred_at = form_time(values, "occurred_at")
    return c.AcknowledgeIncident(incident_id=incident_id, at=now, occurred_at=occurred_at)


def _mitigate(incident_id: UUID, values: Values, now: datetime) -> c.Command:
    occurred_at = form_time(values, "occurred_at")
    return c.MarkMitigated(incident_id=incident_id, at=now, occurred_at=occurred_at)


def _impact(incident_id: UUID, values: Values, now: datetime) -> c.Command:
    return c.UpdateImpact(incident_id=incident_id, at=now, impact=lines(values, "impact"))


def _root_cause(incident_id: UUID, values: Values, now: datetime) -> c.Command:
    text = lines(values, "root_cause")
    return c.UpdateRootCause(incident_id=incident_id, at=now, root_cause=text)


def _resolution(incident_id: UUID, values: Values, now: datetime) -> c.Command:
    text = lines(values, "resolution")
    return c.UpdateResolution(incident_id=incident_id, at=now, resolution=text)


def _role(incident_id: UUID, values: Values, now: datetime) -> c.Command:
    return c.AssignRole(
        incident_id=incident_id,
        at=now,
        role=values.get("role", ""),
        person=line(values, "person"),
    )


def _action_item(incident_id: UUID, values: Values, now: datetime) -> c.Command:
    return c.AddActionItem(
        incident_id=incident_id,
        at=now,
        item_id=uuid4(),
        title=line(values, "title"),
        kind=values.get("kind", ""),
        owner=line(values, "owner"),
        due_date=day(values, "due_date"),
        priority=values.get("priority") or c.AddActionItem.model_fields["priority"].default,
        ticket_url=line(values, "ticket_url") if optional(values, "ticket_url") else None,
    )


FORMS: tuple[tuple[str, str, Build], ...] = (
    ("/notes", "note", _note),
    ("/note-redactions", "redaction", _redaction),
    ("/alert-erasures", "erasure", _erasure),
    ("/status", "status", _status),
    ("/severity", "severity", _severity),
    ("/acknowledge", "acknowledge", _acknowledge),
    ("/mitigate", "mitigate", _mitigate),
    ("/impact", "impact", _impact),
    ("/root-cause", "root-cause", _root_cause),
    ("/resolution", "resolution", _resolution),
    ("/roles", "role", _role),
    ("/action-items", "action-item", _action_item),
)
"""Path, form name (its ``id`` without ``-form``, and its errors' key) and command."""


async def _answer(
    request: Request,
    viewer: Viewer,
    incident_id: UUID,
    form: str,
    values: Values,
    build: Callable[[], c.Command],
) -> Response:
    """Run the command: back to the page (303), or the page with the refusal (422)."""
    outcome = await run(request, viewer, build, form=form)
    if isinstance(outcome, Refusal):
        failed = Failed(form, values, outcome)
        return await render(request, viewer, incident_id, failed=failed, status=422)
    return RedirectResponse(f"/ui/incidents/{incident_id}#timeline", status_code=303)


def _route(form: str, build: Build) -> Callable[..., Awaitable[Response]]:
    """The route that runs one form's command as the signed-in viewer."""

    async def route(request: Request, incident_id: UUID, viewer: WriterDep) -> Response:
        values = await form_values(request)
        now = request.app.state.service.now()
        return await _answer(
            request, viewer, incident_id, form, values, lambda: build(incident_id, values, now)
        )

    route.__name__ = route.__qualname__ = f"post_{form.replace('-', '_')}"
    return route


for path, name, build in FORMS:
    router.add_api_route(path, _route(name, build), methods=["POST"])


@router.post("/note-amendments")
async def post_amendment(request: Request, incident_id: UUID, viewer: WriterDep) -> Response:
    """A note amended from its entry, compared with the note as it stands."""
    values = await form_values(request)
    service: IncidentService = request.app.state.service
    now = service.now()

    def build() -> c.Command:
        return _amendment(incident_id, values, now, service.load(incident_id))

    return await _answer(request, viewer, incident_id, "amendment", values, build)
