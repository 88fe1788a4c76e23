"""The webhooks pages, for admins: the subscriptions with their state and last attempt, the
form that adds one, and each one's page with its actions and its delivery log.

A signing secret is shown once, in the answer to the form that made it (adding, or
rotating): never in an address, a log line or any later page, and that answer is marked
not to be stored by the browser.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic_core import PydanticCustomError
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool

from application.settings import Settings
from application.text_fields import single_line
from application.tokens import Scope
from domain.events import CURRENT_VERSIONS
from domain.values import Severity
from eventstore.schema import events
from outbound.address_guard import UnsafeDestination, check_url
from outbound.http_sender import Sender
from outbound.manual_delivery import send_test
from outbound.secret_box import SecretKeyMismatch
from outbound.subscriptions import (
    FORMATS,
    Delivery,
    Subscription,
    SubscriptionError,
    SubscriptionStore,
)
from web.commands import Refusal, form_values
from web.errors import PageError
from web.templating import templates
from web.viewer import Viewer, ViewerDep, WriterDep

router = APIRouter(prefix="/ui/webhooks", include_in_schema=False)

LIST = "/ui/webhooks"
LOG_SIZE = 20
"""Attempts a subscription's page shows, newest first."""
MAX_DESCRIPTION = 500
ENABLED = {"true": True, "false": False}
_SEPARATORS = re.compile(r"[\s,]+")
_INDEX = re.compile(r"\[\d+\]", re.ASCII)
# A page holding a secret must not be kept by the browser or any cache on the way.
_SECRET_HEADERS = {"Cache-Control": "no-store"}


def _admin(viewer: Viewer) -> Viewer:
    if not viewer.principal.allows(Scope.ADMIN):
        raise PageError(403, f"the token {viewer.name!r} lacks the 'admin' scope for this page")
    return viewer


async def admin_viewer(viewer: ViewerDep) -> Viewer:
    """A signed-in admin; 403 for any other token."""
    return _admin(viewer)


async def admin_writer(viewer: WriterDep) -> Viewer:
    """A signed-in admin on a request carrying the session's anti-forgery value."""
    return _admin(viewer)


AdminDep = Annotated[Viewer, Depends(admin_viewer)]
AdminWriterDep = Annotated[Viewer, Depends(admin_writer)]


@dataclass(frozen=True, slots=True)
class Row:
    """A subscription as the list shows it, with its latest attempt."""

    subscription: Subscription
    last: Delivery | None


@dataclass(frozen=True, slots=True)
class Shown:
    """What an action's answer shows once: a new secret, a test's delivery, or a refusal."""

    secret: str | None = None
    tested: Delivery | None = None
    refusal: Refusal | None = None
    form: str | None = None
    """The form the refusal belongs to."""


class FieldInvalid(ValueError):
    """A field of the add form that cannot be used; the message starts with its name."""


def _store(request: Request) -> SubscriptionStore:
    store: SubscriptionStore = request.app.state.webhooks
    return store


def _log_head(store: SubscriptionStore) -> int:
    with store.engine.connect() as conn:
        head = conn.execute(select(func.coalesce(func.max(events.c.position), 0))).scalar()
    return int(head or 0)


def _field_of(message: str) -> str:
    """The form field a message is about: ``filter.severity[0]: ...`` is ``severity``."""
    name = _INDEX.sub("", message.partition(":")[0])
    return name.removeprefix("filter.")


def _words(text: str) -> list[str]:
    """Comma- or space-separated names (event types and services hold neither)."""
    return [word for word in _SEPARATORS.split(text) if word]


def _one_line(values: dict[str, str], field: str) -> str:
    """A field's text, refused with a line break or a control character (a NUL among the
    services would otherwise reach PostgreSQL's JSONB, which cannot hold it)."""
    text = values.get(field, "")
    try:
        return single_line(text)
    except PydanticCustomError as exc:
        raise FieldInvalid(f"{field}: {exc.message()}") from None


def _description(values: dict[str, str]) -> str:
    text = _one_line(values, "description")
    if len(text) > MAX_DESCRIPTION:
        raise FieldInvalid(f"description: at most {MAX_DESCRIPTION} characters")
    return text


def _create(
    store: SubscriptionStore,
    settings: Settings,
    values: dict[str, str],
    severity: Sequence[str],
    actor: str,
    now: datetime,
) -> tuple[Subscription, str] | Refusal:
    """A new subscription and its secret, or why the form's fields cannot make one."""
    try:
        url = check_url(
            values.get("url", ""),
            allow_http=settings.webhooks_allow_http,
            allow_private=settings.webhooks_allow_private,
        )
        return store.create(
            url=url,
            types=_words(_one_line(values, "types")),
            format=values.get("format", ""),
            description=_description(values),
            severity=severity,
            services=_words(_one_line(values, "services")),
            actor=actor,
            now=now,
        )
    except (UnsafeDestination, SubscriptionError, FieldInvalid) as exc:
        return Refusal(str(exc), _field_of(str(exc)))


def _list_page(
    request: Request,
    viewer: Viewer,
    *,
    values: dict[str, str] | None = None,
    severity: Sequence[str] = (),
    refusal: Refusal | None = None,
    created: tuple[Subscription, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    store = _store(request)
    subscriptions = store.list()
    rows = [
        Row(s, next(iter(store.deliveries(s.subscription_id, limit=1)), None))
        for s in subscriptions
    ]
    context: dict[str, Any] = {
        "viewer": viewer,
        "section": "webhooks",
        "rows": rows,
        "head": _log_head(store),
        "formats": FORMATS,
        "severities": [s.value for s in Severity],
        "event_types": sorted(CURRENT_VERSIONS),
        "values": values or {"types": "incident.", "format": FORMATS[0]},
        "chosen_severity": set(severity),
        "errors": {"add": refusal} if refusal else {},
        "created": created,
    }
    headers = _SECRET_HEADERS if created else None
    return templates.TemplateResponse(
        request, "webhooks.html", context, status_code=status, headers=headers
    )


def _detail_page(
    request: Request,
    viewer: Viewer,
    subscription_id: UUID,
    shown: Shown | None = None,
    *,
    status: int = 200,
) -> HTMLResponse:
    store = _store(request)
    subscription = store.get(subscription_id)
    if subscription is None:
        raise PageError(404, f"there is no webhook subscription {subscription_id}")
    shown = shown or Shown()
    page = f"{LIST}/{subscription_id}"
    context: dict[str, Any] = {
        "viewer": viewer,
        "section": "webhooks",
        "subscription": subscription,
        "deliveries": store.deliveries(subscription_id, limit=LOG_SIZE),
        "log_size": LOG_SIZE,
        "head": _log_head(store),
        "page": page,
        "shown": shown,
        "errors": {shown.form: shown.refusal} if shown.refusal and shown.form else {},
    }
    # An answer to a POST that is a page of its own: the address bar shows the page, so a
    # reload asks for it (GET) rather than for the action's path.
    headers = {"HX-Push-Url": page}
    if shown.secret:
        headers.update(_SECRET_HEADERS)
    return templates.TemplateResponse(
        request, "webhooks.html", context, status_code=status, headers=headers
    )


@router.get("")
def webhooks_page(request: Request, viewer: AdminDep) -> HTMLResponse:
    return _list_page(request, viewer)


@router.post("")
async def add_webhook(request: Request, viewer: AdminWriterDep) -> Response:
    values = await form_values(request)
    severity = [v for v in (await request.form()).getlist("severity") if isinstance(v, str)]
    settings: Settings = request.app.state.settings
    now = request.app.state.service.now()
    store = _store(request)
    made = await run_in_threadpool(_create, store, settings, values, severity, viewer.name, now)
    if isinstance(made, Refusal):
        return await run_in_threadpool(
            _list_page,
            request,
            viewer,
            values=values,
            severity=severity,
            refusal=made,
            status=422,
        )
    return await run_in_threadpool(_list_page, request, viewer, created=made)


@router.get("/{subscription_id}")
def webhook_page(request: Request, viewer: AdminDep, subscription_id: UUID) -> HTMLResponse:
    return _detail_page(request, viewer, subscription_id)


@router.post("/{subscription_id}/enabled")
async def set_enabled(request: Request, viewer: AdminWriterDep, subscription_id: UUID) -> Response:
    """The one-field form behind Enable and Disable."""
    values = await form_values(request)
    enabled = ENABLED.get(values.get("enabled", ""))
    if enabled is None:
        refusal = Refusal("enabled: true or false", "enabled")
        shown = Shown(refusal=refusal, form="enabled")
        return await run_in_threadpool(
            _detail_page, request, viewer, subscription_id, shown, status=422
        )
    now = request.app.state.service.now()
    store = _store(request)
    changed = await run_in_threadpool(store.update, subscription_id, now=now, enabled=enabled)
    if changed is None:
        raise PageError(404, f"there is no webhook subscription {subscription_id}")
    return RedirectResponse(f"{LIST}/{subscription_id}", status_code=303)


@router.post("/{subscription_id}/delete")
async def delete_webhook(
    request: Request, viewer: AdminWriterDep, subscription_id: UUID
) -> Response:
    if not await run_in_threadpool(_store(request).delete, subscription_id):
        raise PageError(404, f"there is no webhook subscription {subscription_id}")
    return RedirectResponse(LIST, status_code=303)


@router.post("/{subscription_id}/rotate")
async def rotate_secret(
    request: Request, viewer: AdminWriterDep, subscription_id: UUID
) -> Response:
    now = request.app.state.service.now()
    rotated = await run_in_threadpool(_store(request).rotate, subscription_id, now)
    if rotated is None:
        raise PageError(404, f"there is no webhook subscription {subscription_id}")
    shown = Shown(secret=rotated[1])
    return await run_in_threadpool(_detail_page, request, viewer, subscription_id, shown)


def _test(request: Request, subscription_id: UUID) -> Shown:
    """Send a ``webhook.test`` message now; its delivery, or why it could not be signed."""
    store = _store(request)
    subscription = store.get(subscription_id)
    if subscription is None:
        raise PageError(404, f"there is no webhook subscription {subscription_id}")
    sender: Sender = request.app.state.deliverer.sender
    settings: Settings = request.app.state.settings
    now = request.app.state.service.now()
    try:
        delivery = send_test(store, sender, subscription, settings.base_url, now)
    except SecretKeyMismatch as exc:
        return Shown(refusal=Refusal(str(exc)), form="test")
    return Shown(tested=delivery)


@router.post("/{subscription_id}/test")
async def test_webhook(request: Request, viewer: AdminWriterDep, subscription_id: UUID) -> Response:
    shown = await run_in_threadpool(_test, request, subscription_id)
    status = 409 if shown.refusal else 200
    return await run_in_threadpool(
        _detail_page, request, viewer, subscription_id, shown, status=status
    )
