"""The log's proofs: a signed checkpoint of its hash chain now, the checkpoints the service
stored (on its schedule and at each postmortem publication), and the key that signs them.

Keep checkpoints outside the service (in a ticket, a repository, another company's
storage): ``incidents verify --checkpoint FILE`` later proves the log still holds the
history each one saw.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse
from sqlalchemy import Engine

from api.schemas.log import CheckpointPage, LogCheckpoint, StoredLogCheckpoint
from application.log_checkpoints import LogSigner, public_pem
from application.stored_checkpoints import checkpoints_after
from eventstore.reads import MAX_POSITION

router = APIRouter(prefix="/log", tags=["log"])
PEM = "application/x-pem-file"
PEM_EXAMPLE = (
    "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n"
    "-----END PUBLIC KEY-----\n"
)


def _signer(request: Request) -> LogSigner:
    signer: LogSigner = request.app.state.runtime.signer
    return signer


@router.get(
    "/checkpoint",
    summary="The log's head now, signed with the service's Ed25519 key",
    response_model=LogCheckpoint,
)
def checkpoint(request: Request) -> dict[str, Any]:
    """The newest position of the hash chain and its hash, signed. Keep the answer where
    the database's owner cannot change it; `incidents verify --checkpoint FILE` later
    proves the log still holds the history it saw."""
    return _signer(request).checkpoint().document()


@router.get(
    "/checkpoints",
    summary="The checkpoints the service stored, oldest first, a page at a time",
    responses={422: {"description": "Invalid paging"}},
)
def stored_checkpoints(
    request: Request,
    after: Annotated[
        int,
        Query(ge=0, le=MAX_POSITION, description="Start after this checkpoint id (0: the first)."),
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=1000, description="Checkpoints per page at most.")] = 100,
) -> CheckpointPage:
    """Signed heads stored every INCIDENTS_CHECKPOINT_MINUTES while the log moves, and right
    after each postmortem publication. They prove nothing while they stay here: copy each
    new page out of the service, then `incidents verify --checkpoint FILE` on the copies."""
    engine: Engine = request.app.state.engine
    with engine.connect() as conn:
        found = checkpoints_after(conn, after, limit)
    next_after = found[-1].id if found else after
    return CheckpointPage(
        checkpoints=[StoredLogCheckpoint(**stored.document()) for stored in found],
        next_after=next_after,
        next_url=str(request.url.include_query_params(after=next_after)),
    )


@router.get(
    "/public-key",
    summary="The public key that verifies checkpoints (PEM)",
    response_class=PlainTextResponse,
    responses={200: {"content": {PEM: {"example": PEM_EXAMPLE}}}},
)
def public_key(request: Request) -> PlainTextResponse:
    """The Ed25519 public key, as PEM (SubjectPublicKeyInfo), that verifies every
    checkpoint's signature: give it to auditors with the checkpoints."""
    return PlainTextResponse(public_pem(_signer(request).public_key), media_type=PEM)
