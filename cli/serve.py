"""``incidents serve``: listen, migrate, tell how to start, then serve the HTTP API.

The port is bound before anything else, so a port in use is reported (and the command
exits 1) before a database is created and before "listening" is printed. What is
printed then works as pasted: the curl example carries a token whenever one is known.
"""

from __future__ import annotations

import errno
import os
import secrets
import socket
from dataclasses import dataclass
from typing import Annotated, Any

import typer
import uvicorn
from rich.markup import escape
from sqlalchemy import Engine
from uvicorn.supervisors import Multiprocess

from application.bootstrap import build, make_secret_key_file
from application.schema_migrations import current_revision, head_revision, migrate
from application.settings import Settings
from application.tokens import Scope, TokenStore
from cli.database import DatabaseOption, refusals, settings_for
from cli.output import console
from eventstore.engine import normalise_url

BACKLOG = 2048
"""Pending connections, as uvicorn's default."""
EXAMPLE_BODY = '{"title": "Checkout returns 502", "severity": "SEV2", "services": ["checkout"]}'


def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(min=1, max=65535, help="Port to listen on.")] = None,
    database_url: DatabaseOption = None,
    workers: Annotated[
        int, typer.Option(min=1, help="Server processes, each with its own request threads.")
    ] = 1,
) -> None:
    """Migrate, then serve the HTTP API."""
    settings = settings_for(database_url)
    settings = settings.model_copy(
        update={"host": host or settings.host, "port": port or settings.port}
    )
    with listen(settings.host, settings.port) as sock:
        credential = prepare(settings, database_url)
        config = server_config(settings, workers)
        announce(f"http://{settings.host}:{settings.port}", credential)
        run(config, sock)


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` for the server; exit 1 with one line if it cannot be."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    # As uvicorn does: a restart may bind while the old server's connections linger.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        # Listening now, not when uvicorn starts: until then another server could bind
        # the same port too (both with SO_REUSEADDR) and only one would ever answer.
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            message = (
                f"port {port} on {host} is already in use (another server is running?):"
                " stop it, or choose another port with --port or INCIDENTS_PORT"
            )
        else:
            message = f"cannot listen on {host}:{port}: {exc.strerror or exc}"
        console.print(f"[red]{escape(message)}[/]", soft_wrap=True)
        raise typer.Exit(1) from exc
    sock.set_inheritable(True)
    return sock


@dataclass(frozen=True, slots=True)
class Credential:
    """How the printed example authenticates: a literal token or a shell variable."""

    header: str
    note: str | None = None


def prepare(settings: Settings, database_option: str | None) -> Credential:
    """Migrate the database, and learn (or make) the token the example request shows."""
    key_file = make_secret_key_file(settings)
    runtime = build(settings)
    try:
        prepare_database(runtime.engine, settings.database_url)
        if key_file is not None:
            console.print(
                f"[green]created the secret key[/] {escape(str(key_file))}: it seals note and"
                " alert text and webhook secrets; back it up apart from the database (text"
                " sealed under it cannot be read without it)",
                soft_wrap=True,
            )
        return first_admin_token(runtime.tokens, settings, database_option)
    finally:
        runtime.close()


def prepare_database(engine: Engine, url: str) -> None:
    """Migrate, saying whether the database was created now or was there already."""
    shown = normalise_url(url).render_as_string()
    with refusals(url=url):
        created = current_revision(engine) is None
        migrate(engine)
    if created:
        console.print(
            f"[green]created the database[/] {escape(shown)} (schema {head_revision()})",
            soft_wrap=True,
        )
    else:
        console.print(f"[green]database is up to date[/] ({escape(shown)})", soft_wrap=True)


def first_admin_token(
    tokens: TokenStore, settings: Settings, database_option: str | None
) -> Credential:
    """On a database without tokens, create an admin token and show it this once."""
    if settings.admin_token:
        # Never echoed: it came from the environment, where the shell can expand it.
        return Credential('-H "Authorization: Bearer $INCIDENTS_ADMIN_TOKEN"')
    if tokens.list():
        # A password in the URL is not printed: this line may end up in a log.
        shown = normalise_url(database_option).render_as_string() if database_option else ""
        option = f" --database-url '{shown}'" if shown else ""
        return Credential(
            '-H "Authorization: Bearer $TOKEN"',
            "Tokens are shown only when they are created. For a new admin token:"
            f" TOKEN=$(incidents tokens create NAME --scope admin{option})",
        )
    token = tokens.create("admin", {Scope.ADMIN})
    console.print(
        "[bold yellow]Created the first admin token (shown only now; store it safely):[/]\n"
        f"  {token}\n"
        "More tokens: incidents tokens create NAME --scope read|write|ingest|admin",
        soft_wrap=True,
    )
    return Credential(f"-H 'Authorization: Bearer {token}'")


def server_config(settings: Settings, workers: int) -> uvicorn.Config:
    """uvicorn's configuration: this process's app, or ``workers`` processes building theirs."""
    # log_config=None: uvicorn's records go through the app's chain (scrubbed, JSON).
    options: dict[str, Any] = {"log_level": "warning", "log_config": None}
    if workers == 1:
        from cli.server_process import server_app

        return uvicorn.Config(server_app(settings), **options)
    # Each worker process builds its own app from the environment, so the options
    # given here travel as the INCIDENTS_* variables Settings reads.
    os.environ["INCIDENTS_DATABASE_URL"] = settings.database_url
    # One key for every worker, or a browser session would hold only on the worker
    # that signed it in.
    os.environ["INCIDENTS_SESSION_KEY"] = settings.session_key or secrets.token_urlsafe(32)
    return uvicorn.Config("cli.server_process:server_app", factory=True, workers=workers, **options)


def announce(url: str, credential: Credential) -> None:
    """The line saying the server listens, and a request that works as pasted."""
    console.print(
        f"[bold]Incident Ledger[/] listening on {url}  (API docs: {url}/docs)", soft_wrap=True
    )
    console.print(
        f"Web interface: {url}/ (sign in with an API token)", soft_wrap=True, highlight=False
    )
    if credential.note:
        console.print(credential.note, soft_wrap=True, markup=False, highlight=False)
    console.print(
        f"Try: curl -s -X POST {url}/incidents {credential.header}"
        f" -H 'Content-Type: application/json' -d '{EXAMPLE_BODY}'",
        soft_wrap=True,
        markup=False,
        highlight=False,
    )


def run(config: uvicorn.Config, sock: socket.socket) -> None:
    """Serve on the socket bound by ``listen``, in one process or ``config.workers``."""
    if config.workers > 1:
        Multiprocess(config, sockets=[sock]).run()
        return
    server = uvicorn.Server(config)
    server.run(sockets=[sock])
    if not server.started:
        raise typer.Exit(3)  # uvicorn's own startup-failure code; the app logged why
