"""The incident page's forms for its labels, its kind and the incidents it relates to: each
posts one command, then goes back to the page (303), or shows the page again with the
refusal next to the form that was sent (422), as the page's other forms do."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import TypeAdapter, ValidationError

from application.service import IncidentService
from domain import commands as c
from domain.values import LabelKey, LabelValue
from web.commands import FormInvalid, Refusal, form_values, run
from web.routes.incident import Failed, render
from web.viewer import WriterDep

router = APIRouter(prefix="/ui/incidents/{incident_id}", include_in_schema=False)

ANCHOR = "classification"
"""Where the page opens after a change: the card with labels, kind and relations."""

Values = dict[str, str]
Build = Callable[[IncidentService, UUID, Values, datetime], c.Command]

_KEY: TypeAdapter[str] = TypeAdapter(LabelKey)
_VALUE: TypeAdapter[str] = TypeAdapter(LabelValue)
_SEPARATORS = re.compile(r"[\s,]+")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _valid(adapter: TypeAdapter[str], text: str) -> bool:
    try:
        return adapter.validate_python(text) == text
    except ValidationError:
        return False


def label_pairs(text: str, field: str = "labels") -> dict[str, str]:
    """``key=value`` pairs separated by commas or spaces (a value holds neither)."""
    parts = [part for part in _SEPARATORS.split(text) if part]
    if not parts:
        raise FormInvalid(field, "Write each label as key=value, such as team=payments")
    pairs: dict[str, str] = {}
    for part in parts:
        key, equals, value = part.partition("=")
        if not equals or not key or not value:
            raise FormInvalid(
                field, "{label}: “{part}” is not key=value, such as team=payments", part=part
            )
        if not _valid(_KEY, key):
            raise FormInvalid(
                field,
                "{label}: “{key}” cannot be a label's key: a letter or _, then letters,"
                " digits, _, . or - (at most 63 characters)",
                key=key,
            )
        if not _valid(_VALUE, value):
            raise FormInvalid(
                field,
                "{label}: the value of {key} may not hold = and has at most 100 characters",
                key=key,
            )
        pairs[key] = value
    return pairs


def incident_reference(text: str, field: str) -> UUID:
    """An incident's id, typed as it is or inside its page's address."""
    found = _UUID.search(text)
    if found is None:
        raise FormInvalid(field, "{label}: give the other incident's id, or its page's address")
    return UUID(found.group(0))


def _labels(
    service: IncidentService, incident_id: UUID, values: Values, now: datetime
) -> c.Command:
    pairs = label_pairs(values.get("labels", ""))
    return c.ChangeLabels(incident_id=incident_id, at=now, labels=pairs)


def _remove_label(
    service: IncidentService, incident_id: UUID, values: Values, now: datetime
) -> c.Command:
    key = values.get("key", "")
    return c.ChangeLabels(incident_id=incident_id, at=now, removed=(key,))


def _kind(service: IncidentService, incident_id: UUID, values: Values, now: datetime) -> c.Command:
    return c.ChangeKind(incident_id=incident_id, at=now, kind=values.get("kind", ""))


def _relate(
    service: IncidentService, incident_id: UUID, values: Values, now: datetime
) -> c.Command:
    field = "other_incident_id"
    other = incident_reference(values.get(field, ""), field)
    # The domain sees one stream only: whether the other incident exists is asked here,
    # as the API does, so a mistyped id is refused rather than recorded.
    if other != incident_id and not service.load(other).exists:
        raise FormInvalid(field, "{label}: no incident has the id {other}", other=other)
    return c.RelateIncident(
        incident_id=incident_id,
        at=now,
        other_incident_id=other,
        relation=values.get("relation", ""),
    )


def _unrelate(
    service: IncidentService, incident_id: UUID, values: Values, now: datetime
) -> c.Command:
    other = incident_reference(values.get("other_incident_id", ""), "other_incident_id")
    return c.UnrelateIncident(incident_id=incident_id, at=now, other_incident_id=other)


FORMS: tuple[tuple[str, str, Build], ...] = (
    ("/labels", "labels", _labels),
    ("/labels/remove", "label-remove", _remove_label),
    ("/kind", "kind", _kind),
    ("/relations", "relation", _relate),
    ("/relations/remove", "unrelate", _unrelate),
)
"""Path, form name (its errors' key) and command, as in ``incident_forms``."""


def _route(form: str, build: Build) -> Callable[..., Awaitable[Response]]:
    """The route that runs one form's command as the signed-in viewer."""

    async def route(request: Request, incident_id: UUID, viewer: WriterDep) -> Response:
        values = await form_values(request)
        service: IncidentService = request.app.state.service
        now = service.now()
        outcome = await run(
            request, viewer, lambda: build(service, incident_id, values, now), form=form
        )
        if isinstance(outcome, Refusal):
            failed = Failed(form, values, outcome)
            return await render(request, viewer, incident_id, failed=failed, status=422)
        return RedirectResponse(f"/ui/incidents/{incident_id}#{ANCHOR}", status_code=303)

    route.__name__ = route.__qualname__ = f"post_{form.replace('-', '_')}"
    return route


for path, name, build in FORMS:
    router.add_api_route(path, _route(name, build), methods=["POST"])
