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

from application.postmortem_digest import NotAPostmortem
from application.postmortem_verification import Mismatch, verify_document
from cli.database import DatabaseOption, opened, settings_for
from cli.output import console
from cli.verifying_key import given_key, own_key
from cli.verifying_key import unreadable as _unreadable


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
    key = given_key(public_key)
    with opened(settings_for(database_url)) as runtime:
        key = key or own_key(runtime.signer)
        try:
            with runtime.engine.connect() as conn:
                verified = verify_document(conn, document, key)
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
