"""``incidents integrations``: create, list and revoke monitoring integrations."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from application.integrations import IntegrationExists, IntegrationKind, IntegrationStore
from application.settings import Settings
from cli.database import migrated_engine

integrations_app = typer.Typer(
    help="Integrations: PagerDuty routing keys and generic webhook secrets.",
    no_args_is_help=True,
)
console = Console(stderr=True)

DatabaseOption = Annotated[
    str | None, typer.Option("--database-url", help="Overrides INCIDENTS_DATABASE_URL.")
]


def _store(database_url: str | None) -> IntegrationStore:
    return IntegrationStore(migrated_engine(database_url or Settings().database_url, console))


@integrations_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="Who sends through it; recorded as the actor.")],
    kind: Annotated[IntegrationKind, typer.Option("--kind", help="pagerduty or generic.")],
    service: Annotated[
        str | None, typer.Option(help="The service of its incidents unless an alert names one.")
    ] = None,
    routing_key: Annotated[
        str | None,
        typer.Option(help="pagerduty: keep this existing 32-character routing key."),
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Create an integration; its routing key (pagerduty) or secret (generic) is printed once."""
    try:
        created = _store(database_url).create(name, kind, service, routing_key=routing_key)
    except (IntegrationExists, ValueError) as exc:  # InvalidName is a ValueError
        console.print(f"[red]{escape(str(exc))}[/]", soft_wrap=True)
        raise typer.Exit(1) from exc
    integration = created.integration
    if kind is IntegrationKind.PAGERDUTY:
        console.print(
            f"integration {integration.name} ({integration.integration_id}): routing key for"
            " POST /hooks/pagerduty/v2/enqueue (shown only now):",
            soft_wrap=True,
        )
    else:
        console.print(
            f"integration {integration.name} ({integration.integration_id}): HMAC secret for"
            " POST /hooks/generic (shown only now):",
            soft_wrap=True,
        )
    typer.echo(created.credential)


@integrations_app.command("list")
def list_(database_url: DatabaseOption = None) -> None:
    """List integrations (never their keys or secrets)."""
    table = Table("name", "id", "kind", "service", "created", "revoked")
    for found in _store(database_url).list():
        table.add_row(
            found.name,
            str(found.integration_id),
            found.kind.value,
            found.service or "",
            found.created_at.isoformat(timespec="seconds"),
            found.revoked_at.isoformat(timespec="seconds") if found.revoked_at else "",
        )
    Console().print(table)


@integrations_app.command("revoke")
def revoke(name: str, database_url: DatabaseOption = None) -> None:
    """Revoke an integration by name (running servers notice within a few seconds)."""
    if not _store(database_url).revoke(name):
        console.print(f"[red]no live integration named {name!r}[/]")
        raise typer.Exit(1)
    console.print(f"revoked {name}")
