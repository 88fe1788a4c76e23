"""The log's proofs: a signed checkpoint of its hash chain now, and the key that signs them.

Keep checkpoints outside the service (in a ticket, a repository, another company's
storage): ``incidents verify --checkpoint FILE`` later proves the log still holds the
history each one saw.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from api.schemas.log import LogCheckpoint
from application.log_checkpoints import LogSigner, public_pem

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
    "/public-key",
    summary="The public key that verifies checkpoints (PEM)",
    response_class=PlainTextResponse,
    responses={200: {"content": {PEM: {"example": PEM_EXAMPLE}}}},
)
def public_key(request: Request) -> PlainTextResponse:
    """The Ed25519 public key, as PEM (SubjectPublicKeyInfo), that verifies every
    checkpoint's signature: give it to auditors with the checkpoints."""
    return PlainTextResponse(public_pem(_signer(request).public_key), media_type=PEM)
