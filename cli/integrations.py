"""``incidents integrations``: create, list and revoke monitoring integrations."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from application.integrations import Integration, IntegrationExists, IntegrationKind
from cli.database import DatabaseOption, opened, settings_for
from cli.output import console, moment, refuse, revoked, show_table

integrations_app = typer.Typer(
    help="Integrations: PagerDuty routing keys and generic webhook secrets.",
    no_args_is_help=True,
)

RECEIVERS = {
    IntegrationKind.PAGERDUTY: "routing key for POST /hooks/pagerduty/v2/enqueue",
    IntegrationKind.GENERIC: "HMAC secret for POST /hooks/generic",
}
"""What an integration's credential is, and where it is sent."""


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
    with opened(settings_for(database_url)) as runtime:
        try:
            created = runtime.integrations.create(name, kind, service, routing_key=routing_key)
        except (IntegrationExists, ValueError) as exc:  # InvalidName is a ValueError
            refuse(exc)
    integration = created.integration
    console.print(
        f"integration {escape(integration.name)} ({integration.integration_id}): {RECEIVERS[kind]}"
        " (shown only now):",
        soft_wrap=True,
    )
    typer.echo(created.credential)


@integrations_app.command("list")
def list_(database_url: DatabaseOption = None) -> None:
    """List integrations (never their keys or secrets)."""
    with opened(settings_for(database_url)) as runtime:
        found = runtime.integrations.list()
    show_table(("name", "id", "kind", "service", "created", "revoked"), map(_row, found))


def _row(found: Integration) -> tuple[str, ...]:
    return (
        found.name,
        str(found.integration_id),
        found.kind.value,
        found.service or "",
        moment(found.created_at),
        moment(found.revoked_at),
    )


@integrations_app.command("revoke")
def revoke(name: str, database_url: DatabaseOption = None) -> None:
    """Revoke an integration by name (running servers notice within a few seconds)."""
    with opened(settings_for(database_url)) as runtime:
        done = runtime.integrations.revoke(name)
    revoked(done, "integration", name)
