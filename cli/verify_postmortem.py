"""``incidents verify-postmortem FILE``: a downloaded postmortem JSON document checked against
its publication proof, the signing key and the log (application/postmortem_verification.py).

Exit 0 with what was proven; exit 1 naming what does not match (the document edited, the
signature invalid, the log rewritten); exit 2 when the file or the key cannot be read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.markup import escape

from application.log_checkpoints import CheckpointError, load_public_key
from application.postmortem_digest import NotAPostmortem
from application.postmortem_verification import Mismatch, verify_document
from cli.database import DatabaseOption, opened, settings_for
from cli.output import console

UNREADABLE = 2


def _unreadable(message: str) -> typer.Exit:
    console.print(f"[red]cannot read[/] {escape(message)}", soft_wrap=True)
    return typer.Exit(UNREADABLE)


def verify_postmortem(
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE",
            help="A postmortem JSON document (GET /incidents/{id}/postmortem?revision=N).",
        ),
    ],
    public_key: Annotated[
        Path | None,
        typer.Option(help="The PEM public key that signs checkpoints (GET /log/public-key)."),
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Check a published postmortem's document, its signed proof and the log it came from."""
    try:
        document = orjson.loads(file.read_bytes())
    except (OSError, orjson.JSONDecodeError) as error:
        raise _unreadable(f"{file}: {error}") from error
    try:
        key = load_public_key(public_key.read_bytes()) if public_key is not None else None
    except (OSError, CheckpointError) as error:
        raise _unreadable(f"{public_key}: {error}") from error
    with opened(settings_for(database_url)) as runtime:
        try:
            with runtime.engine.connect() as conn:
                verified = verify_document(conn, document, key or runtime.signer.public_key)
        except NotAPostmortem as error:
            raise _unreadable(f"{file}: {error}") from error
        except Mismatch as error:
            console.print(f"[red]FAILED:[/] {escape(str(error))}", soft_wrap=True)
            raise typer.Exit(1) from error
    checkpoint = verified.checkpoint
    console.print(
        f"[green]OK[/] revision {verified.revision} of incident {verified.incident_id}:"
        f" document SHA-256 {verified.document_sha256}, published at log position"
        f" {verified.published_position}, contained in the checkpoint at position"
        f" {checkpoint.position} (chain {checkpoint.chain_hash}, signed {checkpoint.signed_at},"
        f" key {checkpoint.key_id})",
        soft_wrap=True,  # a hash broken over two lines could not be compared or copied
    )
