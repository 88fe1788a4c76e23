"""Outbound webhooks (admin): subscriptions, their signing secrets and their deliveries."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, NoReturn
from uuid import UUID

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError

from api.schemas.webhooks import (
    EVENT_ID,
    SUBSCRIPTION_ID,
    DeliveryPage,
    DeliveryRecord,
    Webhook,
    WebhookList,
    WebhookPatch,
    WebhookRequest,
    WebhookWithSecret,
)
from application.settings import Settings
from application.tokens import Principal
from outbound.address_guard import UnsafeDestination, check_url
from outbound.http_sender import Sender
from outbound.manual_delivery import redeliver, send_test
from outbound.secret_box import SecretKeyMismatch
from outbound.subscriptions import Subscription, SubscriptionError, SubscriptionStore

LARGEST_DELIVERY_ID = 2**63 - 1
"""Delivery ids are 64-bit: a larger `before` could not be compared with one."""

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

SubscriptionId = Annotated[
    UUID,
    Path(
        description="The subscription's id, as returned when it was created.",
        examples=[SUBSCRIPTION_ID],
    ),
]
EventId = Annotated[
    UUID,
    Path(
        description="The id of an event of the log (GET /events shows them).", examples=[EVENT_ID]
    ),
]

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such subscription"}}
INVALID: dict[int | str, dict[str, Any]] = {
    422: {"description": "A field is invalid, or the url may not be used; `errors` names it"}
}
UNSIGNABLE: dict[int | str, dict[str, Any]] = {
    409: {"description": "A stored secret does not open with the configured INCIDENTS_SECRET_KEY"}
}

_FIELD = re.compile(
    r"^(?P<path>[a-z_]+(?:\[\d+\])?(?:\.[a-z_]+(?:\[\d+\])?)*): (?P<message>.+)$", re.S
)
_STEP = re.compile(r"([a-z_]+)(?:\[(\d+)\])?", re.ASCII)


def _invalid(exc: ValueError, kind: str) -> NoReturn:
    """A 422 naming the body field that ``exc``'s message starts with (``types[1]: ...``).

    Raised as a validation error, so the answer is the one pydantic's refusals get: a
    detail ``body.types.1: ...`` and an ``errors`` entry a form can put beside its field.
    """
    text = str(exc)
    found = _FIELD.match(text)
    location: list[str | int] = ["body"]
    message = text
    if found is not None:
        for name, index in _STEP.findall(found["path"]):
            location.append(name)
            if index:
                location.append(int(index))
        message = found["message"]
    raise RequestValidationError([{"loc": tuple(location), "msg": message, "type": kind}]) from exc


def _store(request: Request) -> SubscriptionStore:
    store: SubscriptionStore = request.app.state.webhooks
    return store


def _now(request: Request) -> datetime:
    """The service's clock, which every stored time follows."""
    now: datetime = request.app.state.service.now()
    return now


def _checked_url(request: Request, url: str) -> str:
    """The URL in normal form once webhooks may be sent to it; else a 422 naming ``url``."""
    settings: Settings = request.app.state.settings
    try:
        return check_url(
            url,
            allow_http=settings.webhooks_allow_http,
            allow_private=settings.webhooks_allow_private,
        )
    except UnsafeDestination as exc:
        _invalid(exc, "unsafe_destination")


def _found(request: Request, subscription_id: UUID) -> Subscription:
    subscription = _store(request).get(subscription_id)
    if subscription is None:
        raise HTTPException(404, f"no webhook subscription has the id {subscription_id}")
    return subscription


def _sender(request: Request) -> Sender:
    sender: Sender = request.app.state.deliverer.sender
    return sender


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Subscribe an address to events; its signing secret is shown only in this answer",
    responses=INVALID,
)
def create_webhook(body: WebhookRequest, request: Request, response: Response) -> WebhookWithSecret:
    """Creates an enabled subscription that hears the events appended from now on; `Location`
    names it. The signing secret is in this answer only. Needs an admin token."""
    url = _checked_url(request, body.url)
    principal: Principal = request.state.principal
    try:
        subscription, secret = _store(request).create(
            url=url,
            types=body.types,
            format=body.format,
            description=body.description,
            severity=[severity.value for severity in body.filter.severity],
            services=body.filter.services,
            actor=principal.name,
            now=_now(request),
        )
    except SubscriptionError as exc:
        _invalid(exc, "subscription_invalid")
    response.headers["Location"] = f"/webhooks/{subscription.subscription_id}"
    return WebhookWithSecret.with_secret(subscription, secret)


@router.get("", summary="List subscriptions (never their secrets)")
def list_webhooks(request: Request) -> WebhookList:
    """Every subscription, oldest first, with its checkpoint and whether it is failing; never a
    signing secret. Needs an admin token."""
    return WebhookList(items=[Webhook.of(found) for found in _store(request).list()])


@router.get("/{subscription_id}", summary="Read a subscription", responses=NOT_FOUND)
def get_webhook(subscription_id: SubscriptionId, request: Request) -> Webhook:
    """The subscription with its checkpoint, retry state and secret rotation, never the secret
    itself. Needs an admin token."""
    return Webhook.of(_found(request, subscription_id))


@router.patch(
    "/{subscription_id}",
    summary="Change, disable or enable a subscription",
    responses={**NOT_FOUND, **INVALID},
)
def patch_webhook(subscription_id: SubscriptionId, body: WebhookPatch, request: Request) -> Webhook:
    """Changes the given fields; absent ones are kept. `enabled: false` stops deliveries and
    `enabled: true` resumes them from the checkpoint, at once. Needs an admin token."""
    url = _checked_url(request, body.url) if body.url is not None else None
    chosen = body.filter
    try:
        changed = _store(request).update(
            subscription_id,
            now=_now(request),
            url=url,
            types=body.types,
            description=body.description,
            severity=None
            if chosen is None or chosen.severity is None
            else [severity.value for severity in chosen.severity],
            services=None if chosen is None else chosen.services,
            enabled=body.enabled,
        )
    except SubscriptionError as exc:
        _invalid(exc, "subscription_invalid")
    if changed is None:
        raise HTTPException(404, f"no webhook subscription has the id {subscription_id}")
    return Webhook.of(changed)


@router.delete(
    "/{subscription_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a subscription and its delivery log",
    responses=NOT_FOUND,
)
def delete_webhook(subscription_id: SubscriptionId, request: Request) -> None:
    """Nothing more is sent to it; its delivery records go with it. Needs an admin token."""
    if not _store(request).delete(subscription_id):
        raise HTTPException(404, f"no webhook subscription has the id {subscription_id}")


@router.post(
    "/{subscription_id}/rotate-secret",
    summary="Give a subscription a new signing secret, shown only in this answer",
    responses=NOT_FOUND,
)
def rotate_secret(subscription_id: SubscriptionId, request: Request) -> WebhookWithSecret:
    """A new signing secret; until `previous_secret_until` (24 hours) messages carry a
    signature under the old one too, so receivers can switch without losing any. Needs an
    admin token."""
    rotated = _store(request).rotate(subscription_id, _now(request))
    if rotated is None:
        raise HTTPException(404, f"no webhook subscription has the id {subscription_id}")
    subscription, secret = rotated
    return WebhookWithSecret.with_secret(subscription, secret)


@router.get(
    "/{subscription_id}/deliveries",
    summary="A subscription's delivery log, newest first",
    responses=NOT_FOUND,
)
def list_deliveries(
    subscription_id: SubscriptionId,
    request: Request,
    limit: Annotated[
        int, Query(ge=1, le=200, description="At most this many attempts on the page.")
    ] = 50,
    before: Annotated[
        int | None,
        Query(
            ge=1,
            le=LARGEST_DELIVERY_ID,
            description="Only attempts older than this delivery_id: the previous `next_before`.",
        ),
    ] = None,
) -> DeliveryPage:
    """Every attempt with its status, duration and error: deliveries that followed the log,
    redeliveries and tests. Needs an admin token."""
    _found(request, subscription_id)
    found = _store(request).deliveries(subscription_id, limit=limit + 1, before=before)
    page = found[:limit]
    more = len(found) > limit
    return DeliveryPage(
        items=[DeliveryRecord.of(delivery) for delivery in page],
        next_before=page[-1].delivery_id if more else None,
    )


@router.post(
    "/{subscription_id}/deliveries/{event_id}/redeliver",
    summary="Send one event of the log to a subscription again",
    responses={
        404: {"description": "No such subscription, or no such event in the log"},
        **UNSIGNABLE,
    },
)
def redeliver_event(
    subscription_id: SubscriptionId, event_id: EventId, request: Request
) -> DeliveryRecord:
    """Sends the event now, with its own `webhook-id` (receivers that saw it drop the copy), and
    answers the attempt's record. The subscription's checkpoint does not move. Needs an admin
    token."""
    subscription = _found(request, subscription_id)
    settings: Settings = request.app.state.settings
    try:
        delivery = redeliver(
            _store(request),
            _sender(request),
            subscription,
            event_id,
            settings.base_url,
            _now(request),
        )
    except SecretKeyMismatch as exc:
        raise HTTPException(409, str(exc)) from exc
    if delivery is None:
        raise HTTPException(404, f"the log has no event with the id {event_id}")
    return DeliveryRecord.of(delivery)


@router.post(
    "/{subscription_id}/test",
    summary="Send a signed webhook.test message to a subscription",
    responses={**NOT_FOUND, **UNSIGNABLE},
)
def test_webhook(subscription_id: SubscriptionId, request: Request) -> DeliveryRecord:
    """Sends a `webhook.test` message now, signed like every other, and answers the attempt's
    record: whether the receiver answered 2xx, and how fast. Needs an admin token."""
    subscription = _found(request, subscription_id)
    settings: Settings = request.app.state.settings
    try:
        delivery = send_test(
            _store(request), _sender(request), subscription, settings.base_url, _now(request)
        )
    except SecretKeyMismatch as exc:
        raise HTTPException(409, str(exc)) from exc
    return DeliveryRecord.of(delivery)
