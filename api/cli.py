"""The ``incidents`` command line."""

from __future__ import annotations

import time
from typing import Annotated

import typer
import uvicorn
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from api.database import migrate as run_migrations
from api.settings import Settings
from eventstore.engine import create_engine
from eventstore.store import EventStore
from projections.runner import ProjectionRunner

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
) -> None:
    """Migrate, then serve the HTTP API."""
    settings = _settings(database_url)
    settings = settings.model_copy(
        update={"host": host or settings.host, "port": port or settings.port}
    )
    migrate(settings.database_url)
    from api.app import create_app

    url = f"http://{settings.host}:{settings.port}"
    console.print(
        f"[bold]Incident Ledger[/] listening on {url}  (API docs: {url}/docs)", soft_wrap=True
    )
    console.print(
        f"Try: curl -s -X POST {url}/incidents -H 'Content-Type: application/json'"
        ' -d \'{"title": "Checkout returns 502", "severity": "SEV2", "services": ["checkout"]}\'',
        soft_wrap=True,
    )
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="warning")


@app.command()
def rebuild(database_url: DatabaseOption = None) -> None:
    """Empty the read models and replay the whole log into them."""
    settings = _settings(database_url)
    engine = create_engine(settings.database_url)
    total = EventStore(engine).head_position()
    started = time.perf_counter()
    with Progress(
        TextColumn("rebuilding"),
        BarColumn(),
        TextColumn("{task.completed:,} events"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("rebuild", total=total or None)
        position = ProjectionRunner().rebuild(engine, lambda n: progress.advance(task, n))
    elapsed = time.perf_counter() - started
    engine.dispose()
    console.print(f"[green]rebuilt[/] up to position {position} in {elapsed:.1f}s")


def main() -> None:
    app()
