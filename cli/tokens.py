"""``incidents tokens``: create, list and revoke API tokens."""

from __future__ import annotations

from typing import Annotated

import typer

from application.credential_names import InvalidName
from application.tokens import Scope, TokenExists, TokenInfo
from cli.database import DatabaseOption, opened, settings_for
from cli.output import moment, refuse, revoked, show_table

tokens_app = typer.Typer(help="API tokens: create, list, revoke.", no_args_is_help=True)


@tokens_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="Who or what uses it; recorded as the actor.")],
    scope: Annotated[
        list[Scope], typer.Option("--scope", "-s", help="read, write, ingest or admin; repeat.")
    ],
    database_url: DatabaseOption = None,
) -> None:
    """Create a token; it is printed once and stored only as a hash."""
    with opened(settings_for(database_url)) as runtime:
        try:
            token = runtime.tokens.create(name, set(scope))
        except (InvalidName, TokenExists) as exc:
            refuse(exc)
    typer.echo(token)


@tokens_app.command("list")
def list_(database_url: DatabaseOption = None) -> None:
    """List tokens (names, scopes, dates; never the tokens themselves)."""
    with opened(settings_for(database_url)) as runtime:
        found = runtime.tokens.list()
    show_table(("name", "scopes", "created", "revoked"), map(_row, found))


def _row(info: TokenInfo) -> tuple[str, ...]:
    scopes = ",".join(s.value for s in info.scopes)
    return info.name, scopes, moment(info.created_at), moment(info.revoked_at)


@tokens_app.command("revoke")
def revoke(name: str, database_url: DatabaseOption = None) -> None:
    """Revoke a token by name (takes effect within a few seconds on running servers)."""
    with opened(settings_for(database_url)) as runtime:
        done = runtime.tokens.revoke(name)
    revoked(done, "token", name)
