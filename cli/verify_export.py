"""``incidents verify-export FILE --public-key KEY``: an export checked offline, with no database.

Every line is read and checked as an import would, the hash chain is recomputed from the
genesis hash over every event line and compared with each line's ``chain_hash``, the
trailer's count, SHA-256 and chain head must match, and its signed checkpoint must be
signed by KEY and name the recomputed head. Checkpoints kept elsewhere (``--checkpoint``)
must be signed by KEY too, and each must be a prefix of the export's chain.

Exit 0 with the head; exit 1 naming the first bad line or position, or the checkpoint that
fails; exit 2 when the file, the key or a checkpoint cannot be read at all.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import orjson
import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from rich.markup import escape

from application.log_checkpoints import (
    Checkpoint,
    CheckpointError,
    checkpoint_of,
    load_public_key,
    verify_signature,
)
from cli.output import console
from cli.transfer import import_source
from eventstore.transfer.format import LogFileError
from eventstore.transfer.verify_file import FileVerdict, open_log_file, verify_log_file

UNREADABLE = 2

T = TypeVar("T")


def verify_export(
    file: Annotated[
        str, typer.Argument(help="A file from incidents export; - for standard input.")
    ],
    public_key: Annotated[
        Path,
        typer.Option(
            help="The service's PEM public key (GET /log/public-key).", show_default=False
        ),
    ],
    checkpoint: Annotated[
        list[Path] | None,
        typer.Option(help="A checkpoint kept elsewhere (GET /log/checkpoint's answer, or a list)."),
    ] = None,
) -> None:
    """Check an export offline: every line, its hash chain and its signed head."""
    key = _unreadable_unless(lambda: load_public_key(public_key.read_bytes()), public_key)
    kept = [held for path in checkpoint or [] for held in _checkpoints(path)]
    for held in kept:
        _fail_unless_signed(held, key, "a kept checkpoint")
    verdict = _walk(file, {held.position for held in kept})
    if verdict.checkpoint is None:
        _fail("the export carries no signed checkpoint: nothing shows the service wrote it")
    signed = checkpoint_of(verdict.checkpoint.document())
    _fail_unless_signed(signed, key, "the export's trailer")
    for held in kept:
        if held.position > verdict.head_position:
            _fail(
                f"the kept checkpoint at position {held.position} is beyond the export's head"
                f" ({verdict.head_position}): the export does not reach it"
            )
        if verdict.at.get(held.position) != held.chain_hash:
            _fail(
                f"the kept checkpoint at position {held.position} (signed {held.signed_at}) is"
                " not a prefix of this export's chain: history was rewritten"
            )
    console.print(
        f"[green]OK:[/] {verdict.events} events, head position {verdict.head_position},"
        f" chain {verdict.head_hash}; signed by key {signed.key_id} at {signed.signed_at};"
        f" {len(kept)} kept checkpoint(s) contained",
        soft_wrap=True,  # a hash broken over two lines could not be compared or copied
    )


def _walk(file: str, positions: set[int]) -> FileVerdict:
    try:
        with import_source(file) as lines:
            try:
                reader = open_log_file(lines)
            except LogFileError as error:
                _unreadable(f"{file}: {error}", error)
            try:
                return verify_log_file(reader, positions)
            except LogFileError as error:
                _fail(str(error), error, at_line=error.line is not None)
    except OSError as error:
        _unreadable(f"{error.filename or file}: {error.strerror or error}", error)


def _checkpoints(path: Path) -> list[Checkpoint]:
    document = _unreadable_unless(lambda: orjson.loads(path.read_bytes()), path)
    items = document if isinstance(document, list) else [document]
    return _unreadable_unless(lambda: [checkpoint_of(item) for item in items], path)


def _unreadable_unless(read: Callable[[], T], path: Path) -> T:
    try:
        return read()
    except (OSError, orjson.JSONDecodeError, CheckpointError) as error:
        reason = error.strerror if isinstance(error, OSError) else str(error)
        _unreadable(f"{path}: {reason}", error)


def _fail_unless_signed(held: Checkpoint, key: Ed25519PublicKey, whose: str) -> None:
    try:
        verify_signature(held, key)
    except CheckpointError as error:
        _fail(f"{error} ({whose})", error)


def _fail(reason: str, cause: Exception | None = None, *, at_line: bool = False) -> NoReturn:
    # A file's error already starts "line N: ", which reads on as "FAILED at line N: ".
    console.print(f"[red]FAILED{' at' if at_line else ':'}[/] {escape(reason)}", soft_wrap=True)
    raise typer.Exit(1) from cause


def _unreadable(reason: str, cause: Exception) -> NoReturn:
    console.print(f"[red]cannot read[/] {escape(reason)}", soft_wrap=True)
    raise typer.Exit(UNREADABLE) from cause
