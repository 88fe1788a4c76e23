"""``incidents scrub``: make erased text leave the database's files now."""

from __future__ import annotations

from typing import Annotated

import typer

from application.erasure_scrub import ScrubIncomplete
from application.erasure_scrub import scrub as scrub_database
from cli.database import DatabaseOption, opened, settings_for
from cli.output import console, refuse

WaitOption = Annotated[
    float,
    typer.Option(
        "--wait",
        min=0,
        help="SQLite: seconds to wait for readers to let go of the write-ahead log",
    ),
]


def scrub(database_url: DatabaseOption = None, wait: WaitOption = 30.0) -> None:
    """After redactions: merge the search index, checkpoint SQLite's log or VACUUM
    PostgreSQL's tables, so erased text and deleted keys leave the files now. Exits 1 if
    readers kept SQLite's log in use for longer than --wait."""
    with opened(settings_for(database_url)) as runtime:
        try:
            done = scrub_database(runtime.engine, wait_seconds=wait)
        except ScrubIncomplete as exc:
            refuse(exc)
    for statement in done:
        console.print(f"ran: {statement}", soft_wrap=True)
    console.print(
        "[green]OK[/] erased text and keys have left this database's files;"
        " backups taken before the redactions still hold them"
    )
