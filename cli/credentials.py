"""``incidents credentials copy``: bring API tokens and integrations to another database."""

from __future__ import annotations

from typing import Annotated

import typer

from application.credentials_copy import CredentialConflict, copy_credentials
from application.settings import Settings
from cli.database import opened, refusals, settings_for
from cli.output import console

credentials_app = typer.Typer(
    help="API tokens and integrations across databases (the log's export leaves them out).",
    no_args_is_help=True,
)


@credentials_app.command("copy")
def copy(
    source_url: Annotated[
        str, typer.Option("--from", help="The database to copy from (the old one).")
    ],
    database_url: Annotated[
        str | None,
        typer.Option("--database-url", help="The database to copy into; INCIDENTS_DATABASE_URL."),
    ] = None,
) -> None:
    """Copy every token and integration (hashes and secrets as stored) into this database.

    Tokens and routing keys keep working unchanged; so do generic integrations, whose
    secrets go database to database and never into a file. Run it after ``incidents
    import`` and before the new database's first ``incidents serve``.
    """
    into = settings_for(database_url)
    with (
        opened(Settings(database_url=source_url)) as source,
        opened(into) as target,
        refusals(CredentialConflict, url=into.database_url),
    ):
        result = copy_credentials(source.engine, target.engine)
    console.print(
        f"[green]copied[/] {result.tokens} tokens and {result.integrations} integrations"
        f" ({result.already_there} already there)",
        soft_wrap=True,
    )
