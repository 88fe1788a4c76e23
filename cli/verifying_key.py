"""The public key ``incidents verify`` and ``verify-postmortem`` check signatures with: the
file given, or the service's own signing key, which a check never makes.

A signing key that is missing where the settings say (a relative path read from another
directory, a typo) would otherwise be made on the spot, and every genuine checkpoint
would then fail as "not signed by this key". Exit 2, as for any input that cannot be
read.
"""

from __future__ import annotations

from pathlib import Path

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from rich.markup import escape

from application.log_checkpoints import CheckpointError, LogSigner, load_public_key
from cli.output import console

UNREADABLE = 2


def unreadable(message: str) -> typer.Exit:
    """Say that ``message``'s input cannot be read; the exit to raise."""
    console.print(f"[red]cannot read[/] {escape(message)}", soft_wrap=True)
    return typer.Exit(UNREADABLE)


def given_key(public_key: Path | None) -> Ed25519PublicKey | None:
    """The key in the file given with --public-key (None: none given)."""
    if public_key is None:
        return None
    try:
        return load_public_key(public_key.read_bytes())
    except (OSError, CheckpointError) as error:
        raise unreadable(f"{public_key}: {error}") from error


def own_key(signer: LogSigner) -> Ed25519PublicKey:
    """The service's signing key's public half, if its file is there and holds one."""
    if not signer.key_file.is_file():
        raise unreadable(
            f"{signer.key_file}: no signing key there (INCIDENTS_LOG_SIGNING_KEY_FILE, relative"
            " to the directory the command runs in); give --public-key with the key"
            " GET /log/public-key serves"
        )
    try:
        return signer.public_key
    except (OSError, ValueError, TypeError, CheckpointError) as error:
        raise unreadable(f"{signer.key_file}: {error}") from error
