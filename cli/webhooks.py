"""``incidents webhooks``: outbound subscriptions, their signing secrets, and the secret key."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Annotated
from uuid import UUID

import typer
from cryptography.fernet import Fernet
from rich.markup import escape

from application.bootstrap import Runtime
from application.settings import Settings
from cli.database import DatabaseOption, opened, settings_for
from cli.output import console, moment, show_table
from outbound.address_guard import UnsafeDestination, check_url
from outbound.subscriptions import Subscription, SubscriptionError, SubscriptionStore

webhooks_app = typer.Typer(
    help="Outbound webhooks: subscriptions, their signing secrets, and the key sealing them.",
    no_args_is_help=True,
)

INVALID_INPUT = 2
"""The exit status of a refused value, as for a mistyped option."""

CLI_ACTOR = "cli"
"""Who created a subscription from the command line (the API records the token's name)."""
RECENT_DELIVERIES = 50
"""Attempts looked through for a subscription's last failure in a listing."""


class Format(StrEnum):
    STANDARD = "standard"
    SLACK = "slack"


IdArgument = Annotated[UUID, typer.Argument(metavar="ID", help="The subscription's id.")]


@contextmanager
def _refusing_invalid() -> Iterator[None]:
    """A refused value exits 2 with its message, which names the field (``types[1]: ...``)."""
    try:
        yield
    except (SubscriptionError, UnsafeDestination) as exc:
        console.print(f"[red]{escape(str(exc))}[/]", soft_wrap=True)
        raise typer.Exit(INVALID_INPUT) from exc


def _checked_url(settings: Settings, url: str) -> str:
    return check_url(
        url,
        allow_http=settings.webhooks_allow_http,
        allow_private=settings.webhooks_allow_private,
    )


def _unknown(subscription_id: UUID) -> typer.Exit:
    console.print(f"[red]no webhook subscription has the id {escape(str(subscription_id))}[/]")
    return typer.Exit(1)


@webhooks_app.command("create")
def create(
    url: Annotated[str, typer.Option("--url", help="Where messages are posted (https://).")],
    types: Annotated[
        list[str],
        typer.Option(
            "--type", help="An event type, or a prefix ending in '.' (incident.); repeatable."
        ),
    ],
    format_: Annotated[
        Format, typer.Option("--format", help="standard (signed JSON) or slack.")
    ] = Format.STANDARD,
    description: Annotated[str, typer.Option(help="What the subscription is for.")] = "",
    severity: Annotated[
        list[str] | None,
        typer.Option("--severity", help="Only incidents of this severity; repeatable."),
    ] = None,
    services: Annotated[
        list[str] | None,
        typer.Option("--service", help="Only incidents of this service; repeatable."),
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Subscribe an address to events; prints its id, then its signing secret (shown only now)."""
    settings = settings_for(database_url)
    with _refusing_invalid():
        checked = _checked_url(settings, url)
        with opened(settings) as runtime:
            subscription, secret = runtime.webhooks.create(
                url=checked,
                types=types,
                format=format_.value,
                description=description,
                severity=severity or [],
                services=services or [],
                actor=CLI_ACTOR,
                now=runtime.service.now(),
            )
    console.print(
        f"webhook subscription to {escape(subscription.url)}: its id, then its signing secret"
        " (shown only now):",
        soft_wrap=True,
    )
    typer.echo(str(subscription.subscription_id))
    typer.echo(secret)


@webhooks_app.command("list")
def list_(database_url: DatabaseOption = None) -> None:
    """List subscriptions with their checkpoint and last failure (never their secrets)."""
    with opened(settings_for(database_url)) as runtime:
        store = runtime.webhooks
        rows = [_row(found, _last_failure(store, found)) for found in store.list()]
    show_table(("id", "url", "types", "format", "enabled", "position", "last failure"), rows)


def _last_failure(store: SubscriptionStore, found: Subscription) -> str:
    """The most recent failed attempt among the latest ones: when, and the status or error."""
    for delivery in store.deliveries(found.subscription_id, limit=RECENT_DELIVERIES):
        if not delivery.succeeded:
            why = (
                f"HTTP {delivery.status_code}"
                if delivery.status_code is not None
                else delivery.error or "failed"
            )
            return f"{moment(delivery.attempted_at)} {why}"
    return ""


def _row(found: Subscription, last_failure: str) -> tuple[str, ...]:
    enabled = "yes" if found.enabled else f"no ({found.disabled_reason or 'disabled'})"
    return (
        str(found.subscription_id),
        found.url,
        ", ".join(found.types),
        found.format,
        enabled,
        str(found.position),
        last_failure,
    )


def _set_enabled(runtime: Runtime, subscription_id: UUID, enabled: bool) -> None:
    changed = runtime.webhooks.update(subscription_id, now=runtime.service.now(), enabled=enabled)
    if changed is None:
        raise _unknown(subscription_id)


@webhooks_app.command("disable")
def disable(subscription_id: IdArgument, database_url: DatabaseOption = None) -> None:
    """Stop delivering to a subscription; its checkpoint stays where it is."""
    with opened(settings_for(database_url)) as runtime:
        _set_enabled(runtime, subscription_id, False)
    console.print(f"disabled {subscription_id}")


@webhooks_app.command("enable")
def enable(subscription_id: IdArgument, database_url: DatabaseOption = None) -> None:
    """Resume delivering to a subscription from its checkpoint, at once."""
    with opened(settings_for(database_url)) as runtime:
        _set_enabled(runtime, subscription_id, True)
    console.print(f"enabled {subscription_id}")


@webhooks_app.command("delete")
def delete(subscription_id: IdArgument, database_url: DatabaseOption = None) -> None:
    """Delete a subscription and its delivery log."""
    with opened(settings_for(database_url)) as runtime:
        gone = runtime.webhooks.delete(subscription_id)
    if not gone:
        raise _unknown(subscription_id)
    console.print(f"deleted {subscription_id}")


@webhooks_app.command("rotate")
def rotate(
    subscription_id: IdArgument,
    key_replaced: Annotated[
        bool,
        typer.Option(
            "--key-replaced",
            help="INCIDENTS_SECRET_KEY was replaced on purpose: the old secret, sealed"
            " under the old key, stops signing at once",
        ),
    ] = False,
    database_url: DatabaseOption = None,
) -> None:
    """Give a subscription a new signing secret (printed once); the old one signs beside it
    for 24 hours."""
    with opened(settings_for(database_url)) as runtime:
        opens = runtime.webhooks.opens(subscription_id)
        if opens is False and not key_replaced:
            # A mistyped key would seal the new secret where the service cannot open it.
            console.print(
                "[red]this INCIDENTS_SECRET_KEY does not open the subscription's secret:[/]"
                " run rotate with the key the service uses, or, if that key was replaced on"
                " purpose, with --key-replaced",
                soft_wrap=True,
            )
            raise typer.Exit(1)
        rotated = runtime.webhooks.rotate(
            subscription_id, runtime.service.now(), key_replaced=key_replaced
        )
    if rotated is None:
        raise _unknown(subscription_id)
    subscription, secret = rotated
    overlap = (
        f"the old one also signs until {moment(subscription.previous_secret_until)}"
        if subscription.previous_secret_until is not None
        else "the old one no longer signs"
    )
    console.print(
        f"new signing secret of {subscription_id} (shown only now); {overlap}:", soft_wrap=True
    )
    typer.echo(secret)


@webhooks_app.command("new-key")
def new_key() -> None:
    """Print a new Fernet key for INCIDENTS_SECRET_KEY, which seals the signing secrets."""
    typer.echo(Fernet.generate_key().decode("ascii"))
