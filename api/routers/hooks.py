"""Monitoring webhooks: Alertmanager and Grafana (ingest token), generic (HMAC-signed).

Each notification is recorded in its alert group's incident, declared by the first one;
a redelivery, or a duplicate delivered concurrently, records nothing more. The body is
read only after the sender is authenticated.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Header, HTTPException, Request
from pydantic import BaseModel

from api.hook_requests import (
    HookResult,
    RawBody,
    documented_body,
    hook_context,
    hook_result,
    ingestor,
    parse,
    severities,
)
from application.alert_ingestion import AlertBatch
from application.integrations import Integration, IntegrationStore
from application.settings import Settings
from monitoring.mapping import SeverityMap, from_alertmanager, from_generic, from_grafana
from monitoring.payloads import AlertmanagerPayload, GenericEvent, GrafanaPayload
from monitoring.signing import SignatureRefused, verify

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "The body is not JSON"},
    401: {"description": "No valid credentials"},
    413: {"description": "The body is larger than 1 MiB"},
    422: {"description": "The document lacks a field, or a field has the wrong type"},
}

router = APIRouter(prefix="/hooks", tags=["monitoring"], responses=ERRORS)
"""Routes for senders with an API token (ingest scope): bearer, or as a basic-auth password."""

signed = APIRouter(prefix="/hooks", tags=["monitoring"], responses=ERRORS)
"""Routes whose requests are signed with an integration's secret instead."""

M = TypeVar("M", bound=BaseModel)

SIGNATURE_CHALLENGE = {"WWW-Authenticate": 'HMAC-SHA256 realm="incident-ledger"'}


def _record(
    request: Request,
    body: bytes,
    payload: type[M],
    to_batch: Callable[[M, SeverityMap], AlertBatch],
    source: str,
) -> HookResult:
    """Record a token-authenticated sender's notification, the sender's name as the source."""
    batch = to_batch(parse(body, payload), severities(request))
    return hook_result(ingestor(request).record(batch, hook_context(request, source)))


@router.post(
    "/alertmanager",
    summary="Prometheus Alertmanager webhook (payload version 4)",
    openapi_extra=documented_body(AlertmanagerPayload),
)
def alertmanager(request: Request, body: RawBody) -> HookResult:
    """One alert group per incident: ``(receiver, groupKey)``, and a new, linked incident
    when the group fires again after its incident was resolved or closed."""
    return _record(request, body, AlertmanagerPayload, from_alertmanager, "alertmanager")


@router.post(
    "/grafana",
    summary="Grafana alerting webhook contact point (payload version 1)",
    openapi_extra=documented_body(GrafanaPayload),
)
def grafana(request: Request, body: RawBody) -> HookResult:
    """Each notification is recorded in its alert group's incident, declared by the first one; a
    redelivery records nothing more."""
    return _record(request, body, GrafanaPayload, from_grafana, "grafana")


def signing_integration(
    request: Request,
    body: RawBody,
    x_incidents_integration: Annotated[
        str | None, Header(description="The integration's id or name.")
    ] = None,
    x_incidents_timestamp: Annotated[
        str | None, Header(description="Unix time in seconds; at most 5 minutes old.")
    ] = None,
    x_incidents_signature: Annotated[
        str | None,
        Header(description='"sha256=" and the hex HMAC-SHA256 of f"{timestamp}.{body}".'),
    ] = None,
) -> Integration:
    """The integration that signed the request; 401 unless signature and timestamp are valid."""
    if not (x_incidents_integration and x_incidents_timestamp and x_incidents_signature):
        raise HTTPException(
            401,
            "X-Incidents-Integration, X-Incidents-Timestamp and X-Incidents-Signature are required",
            headers=SIGNATURE_CHALLENGE,
        )
    store: IntegrationStore = request.app.state.integrations
    settings: Settings = request.app.state.settings
    try:
        return verify(
            store.by_reference(x_incidents_integration),
            x_incidents_timestamp,
            x_incidents_signature,
            body,
            now=time.time(),
            max_age=settings.hook_signature_max_age_seconds,
        )
    except SignatureRefused as refused:
        raise HTTPException(401, refused.detail, headers=SIGNATURE_CHALLENGE) from refused


SignedBy = Annotated[Integration, Depends(signing_integration)]


@signed.post(
    "/generic",
    summary="Generic webhook, signed with an integration's secret (HMAC-SHA256)",
    openapi_extra=documented_body(GenericEvent),
)
def generic(request: Request, body: RawBody, integration: SignedBy) -> HookResult:
    """For any sender that can sign its request: the body names the alert, its state and severity.
    Refused with 401 unless the signature and timestamp are valid."""
    now = request.app.state.service.now()
    batch = from_generic(parse(body, GenericEvent), integration, severities(request), now)
    context = hook_context(request, "generic", actor=integration.actor)
    return hook_result(ingestor(request).record(batch, context))
