"""``incidents scrub``: make erased text leave the database's files now."""

from __future__ import annotations

from application.erasure_scrub import scrub as scrub_database
from cli.database import DatabaseOption, opened, settings_for
from cli.output import console


def scrub(database_url: DatabaseOption = None) -> None:
    """After redactions: merge the search index, checkpoint SQLite's log or VACUUM
    PostgreSQL's tables, so erased text and deleted keys leave the files now."""
    with opened(settings_for(database_url)) as runtime:
        done = scrub_database(runtime.engine)
    for statement in done:
        console.print(f"ran: {statement}", soft_wrap=True)
    console.print(
        "[green]OK[/] erased text and keys have left this database's files;"
        " backups taken before the redactions still hold them"
    )
