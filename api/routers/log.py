"""The log's proofs: a signed checkpoint of its hash chain now, and the key that signs them.

Keep checkpoints outside the service (in a ticket, a repository, another company's
storage): ``incidents verify --checkpoint FILE`` later proves the log still holds the
history each one saw.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from application.log_checkpoints import LogSigner, public_pem

router = APIRouter(prefix="/log", tags=["log"])


def _signer(request: Request) -> LogSigner:
    signer: LogSigner = request.app.state.runtime.signer
    return signer


@router.get("/checkpoint", summary="The log's head now, signed with the service's Ed25519 key")
def checkpoint(request: Request) -> dict[str, Any]:
    """`{position, chain_hash, signed_at, signature, key_id, algorithm}`; the signature
    (base64) covers `{"chain_hash","position","signed_at"}` as canonical JSON."""
    return _signer(request).checkpoint().document()


@router.get(
    "/public-key",
    summary="The public key that verifies checkpoints (PEM)",
    response_class=PlainTextResponse,
)
def public_key(request: Request) -> PlainTextResponse:
    return PlainTextResponse(
        public_pem(_signer(request).public_key), media_type="application/x-pem-file"
    )
