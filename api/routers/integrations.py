"""Integrations (admin): PagerDuty routing keys and generic webhook secrets."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, HTTPException, Path, Request, status
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from application.credential_names import CredentialName
from application.integrations import (
    Integration,
    IntegrationExists,
    IntegrationKind,
    IntegrationStore,
)
from domain.values import ServiceName

router = APIRouter(prefix="/integrations", tags=["integrations"])


class IntegrationRequest(BaseModel):
    """A new integration: a PagerDuty routing key or a signed generic sender."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [{"name": "alertmanager-prod", "kind": "pagerduty", "service": "payments"}]
        },
    )

    name: CredentialName = Field(
        description="A name for the integration: printable, no spaces, 1 to 100 characters."
    )
    kind: IntegrationKind = Field(
        description="Which sender: pagerduty (a routing key) or generic (an HMAC secret)."
    )
    service: ServiceName | None = Field(
        default=None, description="The service of its incidents unless an alert names one."
    )
    routing_key: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{32}$")] | None = Field(
        default=None, description="pagerduty only: keep an existing routing key (else generated)."
    )


class IntegrationInfo(BaseModel):
    """An integration, without its routing key or secret."""

    id: UUID = Field(description="The integration's id.")
    name: str = Field(description="The integration's name.")
    kind: IntegrationKind = Field(description="Which sender it is for.")
    service: str | None = Field(
        description="The service its incidents are declared for; null for the default."
    )
    created_at: datetime = Field(description="When it was created.")
    revoked_at: datetime | None = Field(description="When it was revoked; null while it works.")

    @classmethod
    def of(cls, integration: Integration) -> IntegrationInfo:
        return cls(
            id=integration.integration_id,
            name=integration.name,
            kind=integration.kind,
            service=integration.service,
            created_at=integration.created_at,
            revoked_at=integration.revoked_at,
        )


class CreatedIntegration(IntegrationInfo):
    """The new integration with its credential, shown this once and never again."""

    routing_key: str | None = Field(
        description="pagerduty: the routing key for /hooks/pagerduty/v2/enqueue; shown only now."
    )
    secret: str | None = Field(
        description="generic: the HMAC secret signing /hooks/generic requests; shown only now."
    )


def _store(request: Request) -> IntegrationStore:
    store: IntegrationStore = request.app.state.integrations
    return store


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create an integration; its routing key or secret is shown only in this answer",
    responses={409: {"description": "An integration with this name or routing key exists"}},
)
def create_integration(body: IntegrationRequest, request: Request) -> CreatedIntegration:
    """Creates a PagerDuty (routing key) or generic (HMAC secret) integration; the key or secret is
    in this answer only. Needs an admin token."""
    if body.routing_key is not None and body.kind is not IntegrationKind.PAGERDUTY:
        raise HTTPException(422, "only pagerduty integrations have a routing key")
    try:
        created = _store(request).create(
            body.name, body.kind, body.service, routing_key=body.routing_key
        )
    except IntegrationExists as exc:
        raise HTTPException(409, str(exc)) from exc
    pagerduty = body.kind is IntegrationKind.PAGERDUTY
    return CreatedIntegration(
        **IntegrationInfo.of(created.integration).model_dump(),
        routing_key=created.credential if pagerduty else None,
        secret=None if pagerduty else created.credential,
    )


LISTED_EXAMPLE = [
    {
        "id": "feb1b217-155e-4c1e-9a51-0f5ad8f0f0a1",
        "name": "alertmanager-prod",
        "kind": "pagerduty",
        "service": "payments",
        "created_at": "2026-11-27T04:33:38Z",
        "revoked_at": None,
    }
]


@router.get(
    "",
    summary="List integrations (never their keys or secrets)",
    responses={200: {"content": {"application/json": {"example": LISTED_EXAMPLE}}}},
)
def list_integrations(request: Request) -> list[IntegrationInfo]:
    """Every integration with its kind and service, never its routing key or secret. Needs an admin
    token."""
    return [IntegrationInfo.of(integration) for integration in _store(request).list()]


@router.delete(
    "/{name:path}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke an integration: its routing key or secret stops working",
    responses={404: {"description": "No live integration has this name"}},
)
def revoke_integration(
    name: Annotated[str, Path(min_length=1, max_length=200, examples=["alertmanager-prod"])],
    request: Request,
) -> None:
    """Its routing key or secret stops working; the incidents it recorded stay. Needs an admin
    token."""
    # This process forgets the credential at once; other server processes (and a request
    # of this one that was already looking it up) may accept it for up to their cache
    # time, a few seconds.
    if not _store(request).revoke(name):
        raise HTTPException(404, f"no live integration is named {name!r}")
