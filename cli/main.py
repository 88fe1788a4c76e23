"""The ``incidents`` command line."""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Annotated, Any, BinaryIO

import typer
import uvicorn
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from application.credential_names import InvalidName
from application.log_setup import configure_logging
from application.migrations import migrate as run_migrations
from application.settings import Settings
from application.tokens import Scope, TokenExists, TokenStore
from cli import serve as cli_serve
from cli.credentials import credentials_app
from cli.database import migrated_engine, unreachable
from cli.integrations import integrations_app
from cli.transfer_files import export_target, import_source, position_progress, rate_progress
from domain.events import CURRENT_VERSIONS
from eventstore.engine import create_engine
from eventstore.store import EventStore
from eventstore.transfer.bulk_insert import BulkInsertRefused
from eventstore.transfer.export import export_log
from eventstore.transfer.format import LogFileError
from eventstore.transfer.import_log import DatabaseNotEmpty, import_log
from projections.base import Projection
from projections.rebuild import rebuild as rebuild_projection
from projections.runner import default_projections
from projections.worker import ProjectionWorker

app = typer.Typer(help="Incident Ledger: event-sourced incident tracking.", no_args_is_help=True)
console = Console(stderr=True)


def _settings(database_url: str | None) -> Settings:
    settings = Settings()
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    return settings


DatabaseOption = Annotated[
    str | None, typer.Option("--database-url", help="Overrides INCIDENTS_DATABASE_URL.")
]


@app.command()
def migrate(database_url: DatabaseOption = None) -> None:
    """Upgrade the database schema to the newest version."""
    settings = _settings(database_url)
    engine = create_engine(settings.database_url)
    try:
        run_migrations(engine)
    finally:
        engine.dispose()
    console.print(f"[green]database is up to date[/] ({engine.url.render_as_string()})")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    database_url: DatabaseOption = None,
    workers: Annotated[
        int, typer.Option(min=1, help="Server processes, each with its own request threads.")
    ] = 1,
) -> None:
    """Migrate, then serve the HTTP API."""
    settings = _settings(database_url)
    settings = settings.model_copy(
        update={"host": host or settings.host, "port": port or settings.port}
    )
    sock = cli_serve.listen(settings.host, settings.port, console)
    with sock:
        cli_serve.prepare_database(settings.database_url, console)
        credential = cli_serve.first_admin_token(settings, database_url, console)
        # log_config=None: uvicorn's records go through the app's chain (scrubbed, JSON).
        options: dict[str, Any] = {"log_level": "warning", "log_config": None}
        if workers == 1:
            from api.app import create_app

            config = uvicorn.Config(create_app(settings), **options)
        else:
            # Each worker process builds its own app from the environment, so the options
            # given here travel as the INCIDENTS_* variables Settings reads.
            os.environ["INCIDENTS_DATABASE_URL"] = settings.database_url
            config = uvicorn.Config("api.app:create_app", factory=True, workers=workers, **options)
        cli_serve.announce(f"http://{settings.host}:{settings.port}", credential, console)
        cli_serve.run(config, sock)


def _rebuild_with_progress(engine: Engine, projections: list[Projection], total: int) -> int:
    started = time.perf_counter()
    with rate_progress(console, "rebuilding") as progress:
        task = progress.add_task("rebuild", total=total or None, rate="-")

        def advance(count: int) -> None:
            done = progress.tasks[0].completed + count
            rate = done / max(time.perf_counter() - started, 1e-9)
            progress.update(task, advance=count, rate=f"{rate:,.0f}")

        return rebuild_projection(engine, projections, advance)


@app.command()
def rebuild(
    names: Annotated[
        list[str] | None, typer.Argument(help="Projections to rebuild (default: all).")
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Replay the log into fresh tables and swap them in; reads keep working meanwhile."""
    settings = _settings(database_url)
    projections = default_projections()
    known = {p.name for p in projections}
    unknown = sorted(set(names or ()) - known)
    if unknown:
        console.print(
            f"[red]unknown projection(s):[/] {', '.join(unknown)}; known: {sorted(known)}"
        )
        raise typer.Exit(2)
    engine = migrated_engine(settings.database_url, console)
    chosen = [p for p in projections if not names or p.name in names]
    total = EventStore(engine).head_position()
    started = time.perf_counter()
    position = _rebuild_with_progress(engine, chosen, total)
    elapsed = time.perf_counter() - started
    console.print(
        f"[green]rebuilt[/] {', '.join(p.name for p in chosen)} to position {position}"
        f" in {elapsed:.1f}s ({total / max(elapsed, 1e-9):,.0f} events/s)"
    )
    engine.dispose()


@app.command()
def project(
    once: Annotated[bool, typer.Option(help="Catch up once and exit.")] = False,
    batch_size: Annotated[int, typer.Option(min=1, max=10_000)] = 500,
    database_url: DatabaseOption = None,
) -> None:
    """Run a projection worker: follow the log and keep the read models up to date."""
    settings = _settings(database_url)
    configure_logging(settings)
    engine = migrated_engine(settings.database_url, console)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    worker = ProjectionWorker(
        engine,
        default_projections(),
        batch_size=batch_size,
        rebuild=lambda projection: rebuild_projection(engine, projection),
    )
    console.print(f"projection worker started on {engine.url.render_as_string()}")
    try:
        worker.run(stop, once=once)
    finally:
        engine.dispose()


@app.command("export")
def export_command(
    file: Annotated[str, typer.Argument(help="Where to write; - for standard output.")] = "-",
    database_url: DatabaseOption = None,
) -> None:
    """Write the whole log as JSON lines, ending with its event count and SHA-256."""
    engine = migrated_engine(_settings(database_url).database_url, console)
    started = time.perf_counter()
    try:
        with export_target(file) as out, position_progress(console, "exporting") as progress:
            result = export_log(engine, out, progress=progress)
    except (SQLAlchemyError, OSError) as exc:
        console.print(f"[red]export failed:[/] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    elapsed = time.perf_counter() - started
    console.print(
        f"[green]exported[/] {result.events:,} events (head position {result.head_position})"
        f" to {'standard output' if file == '-' else escape(file)} in {elapsed:.1f}s"
        f" ({result.events / max(elapsed, 1e-9):,.0f} events/s), sha256 {result.sha256}",
        soft_wrap=True,
    )


@app.command("import")
def import_command(
    file: Annotated[
        str, typer.Argument(help="A file from incidents export; - for standard input.")
    ],
    database_url: DatabaseOption = None,
) -> None:
    """Load an export into an empty database, all or nothing, then rebuild every read model.

    API tokens and integrations are not in the log: ``incidents credentials copy`` brings
    them from the old database.
    """
    url = _settings(database_url).database_url
    try:
        # The file is opened before the database is touched, so a mistyped name leaves
        # no new database file behind.
        with import_source(file) as lines:
            engine = create_engine(url)
            try:
                _import_and_rebuild(engine, lines)
            finally:
                engine.dispose()
    except (LogFileError, DatabaseNotEmpty, BulkInsertRefused, OSError) as exc:
        reason = str(exc)
        if isinstance(exc, OSError) and exc.filename is not None:
            reason = f"{exc.filename}: {exc.strerror}"
        message = f"[red]import refused:[/] {escape(reason)}\nNothing was imported."
        console.print(message, soft_wrap=True)
        raise typer.Exit(1) from exc
    except SQLAlchemyError as exc:
        console.print(unreachable(url, exc), soft_wrap=True)
        raise typer.Exit(1) from exc


def _import_and_rebuild(engine: Engine, lines: BinaryIO) -> None:
    run_migrations(engine)
    started = time.perf_counter()
    with position_progress(console, "importing") as progress:
        result = import_log(engine, lines, known_types=CURRENT_VERSIONS, progress=progress)
    elapsed = time.perf_counter() - started
    console.print(
        f"[green]imported[/] {result.events:,} events (head position {result.head_position},"
        f" exported from {result.source_backend}) in {elapsed:.1f}s"
        f" ({result.events / max(elapsed, 1e-9):,.0f} events/s); checksum verified",
        soft_wrap=True,
    )
    _rebuild_with_progress(engine, default_projections(), result.head_position)
    console.print("[green]read models rebuilt[/]")


tokens_app = typer.Typer(help="API tokens: create, list, revoke.", no_args_is_help=True)
app.add_typer(tokens_app, name="tokens")
app.add_typer(integrations_app, name="integrations")
app.add_typer(credentials_app, name="credentials")


def _token_store(database_url: str | None) -> TokenStore:
    return TokenStore(migrated_engine(_settings(database_url).database_url, console))


@tokens_app.command("create")
def tokens_create(
    name: Annotated[str, typer.Argument(help="Who or what uses it; recorded as the actor.")],
    scope: Annotated[
        list[Scope], typer.Option("--scope", "-s", help="read, write, ingest or admin; repeat.")
    ],
    database_url: DatabaseOption = None,
) -> None:
    """Create a token; it is printed once and stored only as a hash."""
    try:
        token = _token_store(database_url).create(name, set(scope))
    except (InvalidName, TokenExists) as exc:
        console.print(f"[red]{escape(str(exc))}[/]", soft_wrap=True)
        raise typer.Exit(1) from exc
    typer.echo(token)


@tokens_app.command("list")
def tokens_list(database_url: DatabaseOption = None) -> None:
    """List tokens (names, scopes, dates; never the tokens themselves)."""
    table = Table("name", "scopes", "created", "revoked")
    for info in _token_store(database_url).list():
        table.add_row(
            info.name,
            ",".join(s.value for s in info.scopes),
            info.created_at.isoformat(timespec="seconds"),
            info.revoked_at.isoformat(timespec="seconds") if info.revoked_at else "",
        )
    Console().print(table)


@tokens_app.command("revoke")
def tokens_revoke(name: str, database_url: DatabaseOption = None) -> None:
    """Revoke a token by name (takes effect within a few seconds on running servers)."""
    if not _token_store(database_url).revoke(name):
        console.print(f"[red]no live token named {name!r}[/]")
        raise typer.Exit(1)
    console.print(f"revoked {name}")


def main() -> None:
    app()
