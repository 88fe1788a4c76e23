"""``incidents credentials copy``: bring API tokens and integrations to another database."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy.exc import SQLAlchemyError

from application.credentials_copy import CredentialConflict, copy_credentials
from application.settings import Settings
from cli.database import migrated_engine, unreachable

credentials_app = typer.Typer(
    help="API tokens and integrations across databases (the log's export leaves them out).",
    no_args_is_help=True,
)
console = Console(stderr=True)


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
    target_url = database_url or Settings().database_url
    source = migrated_engine(source_url, console)
    target = migrated_engine(target_url, console)
    try:
        result = copy_credentials(source, target)
    except CredentialConflict as exc:
        console.print(f"[red]{escape(str(exc))}[/]", soft_wrap=True)
        raise typer.Exit(1) from exc
    except SQLAlchemyError as exc:
        console.print(unreachable(target_url, exc), soft_wrap=True)
        raise typer.Exit(1) from exc
    finally:
        source.dispose()
        target.dispose()
    console.print(
        f"[green]copied[/] {result.tokens} tokens and {result.integrations} integrations"
        f" ({result.already_there} already there)",
        soft_wrap=True,
    )
