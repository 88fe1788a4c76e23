"""``POST /hooks/pagerduty/v2/enqueue``: PagerDuty's Events API v2, answered as PagerDuty does.

The routing key in the event is the credential (no bearer token). Every refusal is
PagerDuty's 400 document, and nothing is stored; the body limit is PagerDuty's 512 KB.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from api import exact_json
from api.hook_requests import documented_body, hook_context, ingestor, severities
from application.integrations import Integration, IntegrationStore
from domain.errors import DomainError
from eventstore import InvalidEventData
from monitoring import pagerduty as pd

PATH = "/hooks/pagerduty/v2/enqueue"

router = APIRouter(tags=["monitoring"])


def _accepted(dedup_key: str) -> JSONResponse:
    return JSONResponse(pd.Accepted(dedup_key=dedup_key).model_dump(), status_code=202)


def _invalid(*errors: str) -> JSONResponse:
    return JSONResponse(pd.Invalid(errors=list(errors)).model_dump(), status_code=400)


async def _read(request: Request, limit: int) -> bytes | None:
    """The body, or None when it is larger than ``limit`` (read no further than that)."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _apply(request: Request, event: pd.Event, integration: Integration) -> JSONResponse:
    context = hook_context(request, "pagerduty", actor=integration.actor)
    try:
        dedup_key, _ = pd.handle(
            ingestor(request), event, integration, severities(request), context
        )
    except (DomainError, InvalidEventData) as refused:
        return _invalid(str(refused))
    except ValidationError as exc:
        return _invalid(*pd.validation_errors(exc))
    return _accepted(dedup_key)


@router.post(
    PATH,
    status_code=202,
    summary="PagerDuty Events API v2 (trigger, acknowledge, resolve)",
    response_model=pd.Accepted,
    responses={400: {"model": pd.Invalid, "description": "Invalid event; nothing stored"}},
    openapi_extra=documented_body(pd.Event),
)
async def enqueue(request: Request) -> Any:
    """Accepts PagerDuty Events API v2 events from any PagerDuty client, authenticated by the
    integration's routing key. Answers as PagerDuty does: 202 or a 400 document; nothing is stored
    on a 400."""
    raw = await _read(request, pd.MAX_EVENT_BYTES)
    if raw is None:
        return _invalid(f"Event object is larger than {pd.MAX_EVENT_BYTES // 1024} KB")
    try:
        data = exact_json.loads(raw)
    except orjson.JSONDecodeError:
        return _invalid("Event object is not valid JSON")
    except exact_json.InexactInteger as exc:
        return _invalid(f"'{exc.where}' {exc}")
    if not isinstance(data, dict):
        return _invalid("Event object must be a JSON object")
    routing_key = data.get("routing_key") or request.headers.get("x-routing-key")
    if not isinstance(routing_key, str) or not routing_key.strip():
        return _invalid("'routing_key' is missing or blank")
    store: IntegrationStore = request.app.state.integrations
    integration = await run_in_threadpool(store.by_routing_key, routing_key)
    if integration is None:
        return _invalid("Invalid routing key")
    try:
        event = pd.Event.model_validate({**data, "routing_key": routing_key})
    except ValidationError as exc:
        return _invalid(*pd.validation_errors(exc))
    return await run_in_threadpool(_apply, request, event, integration)
