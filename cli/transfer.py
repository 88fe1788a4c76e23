"""``incidents export`` and ``import``: the whole log to a file and back, checksummed, its hash
chain carried along and its head signed with the service's key."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, BinaryIO

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from rich.markup import escape
from sqlalchemy.exc import SQLAlchemyError

from application.bootstrap import Runtime, build
from application.log_checkpoints import (
    CheckpointError,
    LogSigner,
    checkpoint_of,
    key_id,
    verify_signature,
)
from application.schema_migrations import migrate
from cli.database import DatabaseOption, opened, settings_for, unreachable
from cli.output import console, pace
from cli.progress import position_progress
from cli.projections import rebuild_with_progress
from cli.verifying_key import given_key
from domain.events import CURRENT_VERSIONS
from eventstore.engine import normalise_url
from eventstore.transfer.bulk_insert import BulkInsertRefused
from eventstore.transfer.export import SignHead, export_log
from eventstore.transfer.format import LogFileError
from eventstore.transfer.import_log import (
    AcceptHead,
    DatabaseNotEmpty,
    ImportResult,
    import_log,
)
from eventstore.transfer.pages import UnchainedEvent
from eventstore.transfer.trailer import SignedHead

READ_BUFFER = 1 << 20


def export_command(
    file: Annotated[str, typer.Argument(help="Where to write; - for standard output.")] = "-",
    database_url: DatabaseOption = None,
) -> None:
    """Write the whole log as JSON lines with its hash chain, ending with its event count,
    SHA-256 and a signed checkpoint of its head."""
    with opened(settings_for(database_url)) as runtime:
        started = time.perf_counter()
        sign = head_signer(runtime.signer)
        try:
            with (
                export_target(file, runtime.settings.database_url) as out,
                position_progress(console, "exporting") as progress,
            ):
                result = export_log(runtime.engine, out, sign=sign, progress=progress)
        except (SQLAlchemyError, OSError, UnchainedEvent, ExportTargetRefused) as exc:
            console.print(f"[red]export failed:[/] {escape(str(exc))}", soft_wrap=True)
            raise typer.Exit(1) from exc
    elapsed = time.perf_counter() - started
    signed = "" if result.checkpoint is None else f", signed by key {result.checkpoint.key_id}"
    console.print(
        f"[green]exported[/] {result.events:,} events (head position {result.head_position})"
        f" to {'standard output' if file == '-' else escape(file)} {pace(result.events, elapsed)}"
        f", sha256 {result.sha256}, chain {result.chain_hash}{signed}",
        soft_wrap=True,
    )


def head_signer(signer: LogSigner) -> SignHead | None:
    """Signs an export's head as ``GET /log/checkpoint`` signs the log's (made here, not by
    ``signer.checkpoint()``: the head is the export snapshot's, which appends may have
    passed since). None, said on the terminal, when the key cannot be used."""
    try:
        signer.private_key  # noqa: B018 (read now: a key that cannot be used is said up front)
    except (OSError, ValueError, TypeError) as exc:  # TypeError: a key file with a password
        console.print(
            f"[yellow]the export will not be signed:[/] the signing key {escape(str(signer.key_file))}"
            f" cannot be used ({escape(type(exc).__name__)}: {escape(str(exc))})",
            soft_wrap=True,
        )
        return None

    def sign(position: int, chain_hash: str) -> SignedHead:
        signed = signer.sign(position, bytes.fromhex(chain_hash))
        return SignedHead(position, chain_hash, signed.signed_at, signed.signature, signed.key_id)

    return sign


def import_command(
    file: Annotated[
        str, typer.Argument(help="A file from incidents export; - for standard input.")
    ],
    database_url: DatabaseOption = None,
    public_key: Annotated[
        Path | None,
        typer.Option(
            help="Import only a file whose head this PEM public key signed (GET /log/public-key).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Load an export into an empty database, all or nothing, then rebuild every read model.

    API tokens and integrations are not in the log: ``incidents credentials copy`` brings
    them from the old database.
    """
    settings = settings_for(database_url)
    key = given_key(public_key)
    try:
        # The file is opened before the database is touched, so a mistyped name leaves
        # no new database file behind.
        with import_source(file) as lines:
            runtime = build(settings)
            try:
                _import_and_rebuild(runtime, lines, key)
            finally:
                runtime.close()
    except (LogFileError, DatabaseNotEmpty, BulkInsertRefused, OSError) as exc:
        reason = str(exc)
        if isinstance(exc, OSError) and exc.filename is not None:
            reason = f"{exc.filename}: {exc.strerror}"
        message = f"[red]import refused:[/] {escape(reason)}\nNothing was imported."
        console.print(message, soft_wrap=True)
        raise typer.Exit(1) from exc
    except SQLAlchemyError as exc:
        console.print(unreachable(settings.database_url, exc), soft_wrap=True)
        raise typer.Exit(1) from exc


def _signed_by(key: Ed25519PublicKey) -> AcceptHead:
    """Refuses a file whose signed head ``key`` did not sign, or that has none."""

    def accept(signed: SignedHead | None) -> None:
        if signed is None:
            raise LogFileError(
                "the file carries no signed checkpoint of its head: nothing shows that the"
                " service holding the key wrote it"
            )
        try:
            verify_signature(checkpoint_of(signed.document()), key)
        except CheckpointError as error:
            raise LogFileError(f"the file's signed checkpoint: {error}") from error

    return accept


def _head_said(result: ImportResult, key: Ed25519PublicKey | None) -> str:
    """What the import showed of who signed the file's head, as markup.

    The signature covers neither ``key_id`` nor anything but the head: what the file
    says of them is escaped, and the key named is the one that checked the signature."""
    signed = result.checkpoint
    if signed is None:
        return "the file carries no signed checkpoint"
    if key is None:
        claimed = escape(signed.key_id)
        return f"its signed checkpoint (key {claimed}) was not checked: --public-key checks it"
    return f"signed by key {key_id(key)} at {escape(signed.signed_at)}, signature verified"


def _import_and_rebuild(
    runtime: Runtime, lines: BinaryIO, key: Ed25519PublicKey | None = None
) -> None:
    migrate(runtime.engine)
    started = time.perf_counter()
    accept = None if key is None else _signed_by(key)
    with position_progress(console, "importing") as progress:
        result = import_log(
            runtime.engine,
            lines,
            known_types=CURRENT_VERSIONS,
            progress=progress,
            accept_head=accept,
        )
    elapsed = time.perf_counter() - started
    console.print(
        f"[green]imported[/] {result.events:,} events (head position {result.head_position},"
        f" exported from {escape(result.source_backend)}) {pace(result.events, elapsed)};"
        f" checksum verified, hash chain {'verified' if result.chain_checked else 'computed'}"
        f" (head {result.chain_hash}); {_head_said(result, key)}",
        soft_wrap=True,
    )
    rebuild_with_progress(runtime.engine, runtime.projections, result.head_position)
    console.print("[green]read models rebuilt[/]")


SQLITE_HEADER = b"SQLite format 3\x00"


class ExportTargetRefused(ValueError):
    """The name given to ``incidents export`` is one it will not write to."""


def _refuse_target(target: Path, database_url: str) -> None:
    """ExportTargetRefused when writing to ``target`` would destroy a database."""
    url = normalise_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        database = Path(url.database).resolve()
        if target in {
            database.with_name(database.name + end) for end in ("", "-wal", "-shm", "-journal")
        }:
            raise ExportTargetRefused(f"{target} is the database being exported (or its log)")
    if target.is_file():
        with target.open("rb") as existing:
            if existing.read(len(SQLITE_HEADER)) == SQLITE_HEADER:
                raise ExportTargetRefused(f"{target} is a SQLite database: it is not overwritten")


@contextmanager
def export_target(name: str, database_url: str) -> Iterator[BinaryIO]:
    """Standard output for ``-``; otherwise a file that appears only once complete.

    The export goes to ``NAME.partial`` beside the file a link names and is renamed at
    the end, so a failed or interrupted export never leaves a file under the name that
    was asked for; a ``NAME.partial`` already there is left alone and the export refused.
    A pipe or a device is written to as it is. A database file, the one exported above
    all, is never a target.
    """
    if name == "-":
        if sys.stdout is None:
            raise ExportTargetRefused("standard output is closed")
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    if not name.strip():
        raise ExportTargetRefused("the file name is empty (- writes to standard output)")
    target = Path(name).resolve()
    _refuse_target(target, database_url)
    if target.exists() and not target.is_file():
        if target.is_dir():
            raise ExportTargetRefused(f"{target} is a directory")
        with target.open("wb") as out:  # a pipe, a terminal, a device: no rename possible
            yield out
        return
    partial = target.with_name(target.name + ".partial")
    try:
        # Owner only, as the secret key's file: the export holds the keys of the log's text.
        # Made anew, never opened as it is: it may be another export's, still being written.
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ExportTargetRefused(
            f"{partial} exists: another export is writing it, or one was cut off (remove it"
            " once no export is running)"
        ) from None
    try:
        with os.fdopen(descriptor, "wb") as out:
            yield out
        os.replace(partial, target)
    except BaseException:
        # Only ours, only on failure: once renamed, the name may be another export's.
        partial.unlink(missing_ok=True)
        raise


@contextmanager
def import_source(name: str) -> Iterator[BinaryIO]:
    """Standard input for ``-``; otherwise the file, read in large buffered chunks."""
    if name == "-":
        yield sys.stdin.buffer
        return
    with Path(name).open("rb", buffering=READ_BUFFER) as source:
        yield source
