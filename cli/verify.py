"""``incidents verify``: the log against its hash chain, and against checkpoints kept elsewhere.

Exit 0 with the head when every event matches its chain hash and every checkpoint given
is a prefix of the log; exit 1 naming the first position that does not match, or the
checkpoint the log no longer contains.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.markup import escape

from application.log_checkpoints import (
    Checkpoint,
    CheckpointError,
    checkpoint_of,
    verify_signature,
)
from cli.database import DatabaseOption, opened, settings_for
from cli.output import console
from cli.verifying_key import given_key, own_key
from eventstore.chain_verify import verify_chain


def _checkpoints(files: list[Path]) -> list[Checkpoint]:
    found = []
    for path in files:
        try:
            document = orjson.loads(path.read_bytes())
        except (OSError, orjson.JSONDecodeError) as error:
            console.print(
                f"[red]cannot read the checkpoint {escape(str(path))}:[/] {escape(str(error))}",
                soft_wrap=True,  # a path broken over two lines cannot be copied
            )
            raise typer.Exit(2) from error
        for item in document if isinstance(document, list) else [document]:
            try:
                found.append(checkpoint_of(item))
            except CheckpointError as error:
                console.print(f"[red]{escape(str(path))}:[/] {escape(str(error))}", soft_wrap=True)
                raise typer.Exit(2) from error
    return found


def _processes() -> int:
    """The CPUs this process may use, up to four: a SQLite log walks in that many ranges."""
    return max(1, min(4, len(os.sched_getaffinity(0))))


def verify(
    checkpoint: Annotated[
        list[Path] | None,
        typer.Option(help="A checkpoint file (GET /log/checkpoint's answer, or a list of them)."),
    ] = None,
    public_key: Annotated[
        Path | None,
        typer.Option(help="The PEM public key that signed the checkpoints (GET /log/public-key)."),
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Walk the log against its hash chain, and check checkpoints kept elsewhere."""
    kept = _checkpoints(checkpoint or [])
    given = given_key(public_key)
    settings = settings_for(database_url)
    with opened(settings) as runtime:
        key = (given or own_key(runtime.signer)) if kept else None
        for held in kept:
            assert key is not None
            try:
                verify_signature(held, key)
            except CheckpointError as error:
                console.print(f"[red]FAILED:[/] {escape(str(error))}")
                raise typer.Exit(1) from error
        started = time.perf_counter()
        with runtime.engine.connect() as conn:
            positions = {held.position for held in kept}
            verdict = verify_chain(conn, positions=positions, processes=_processes())
        took = time.perf_counter() - started
    if not verdict.ok:
        console.print(
            f"[red]FAILED at position {verdict.bad_position}:[/] {verdict.reason}", soft_wrap=True
        )
        raise typer.Exit(1)
    for held in kept:
        found = verdict.at.get(held.position)
        if found is None or found.hex() != held.chain_hash:
            console.print(
                f"[red]FAILED:[/] the checkpoint at position {held.position}"
                f" (signed {held.signed_at}) is not a prefix of this log: history was rewritten",
                soft_wrap=True,
            )
            raise typer.Exit(1)
    rate = verdict.events / took if took > 0 else 0.0
    console.print(
        f"[green]OK[/] {verdict.events:,} events, head position {verdict.head_position},"
        f" chain {verdict.head_hash.hex()}; {len(kept)} checkpoint(s) contained"
        f" ({took:.2f} s, {rate:,.0f} events/s)",
        soft_wrap=True,  # a hash broken over two lines could not be compared or copied
    )
