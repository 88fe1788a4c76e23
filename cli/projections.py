"""``incidents project`` and ``rebuild``: keeping the read models up to date with the log."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Sequence
from typing import Annotated

import typer
from rich.markup import escape
from sqlalchemy import Engine

from application.logging_config import configure_logging
from cli.database import DatabaseOption, opened, settings_for
from cli.output import console, pace
from cli.progress import rate_progress
from projections.base import Projection
from projections.rebuild import rebuild as rebuild_projection
from projections.runner import default_projections
from projections.worker import ProjectionWorker


def rebuild_with_progress(engine: Engine, projections: Sequence[Projection], total: int) -> int:
    """Rebuild ``projections`` from the whole log (``total`` events) with a progress bar."""
    started = time.perf_counter()
    with rate_progress(console, "rebuilding") as progress:
        task = progress.add_task("rebuild", total=total or None, rate="-")

        def advance(count: int) -> None:
            done = progress.tasks[0].completed + count
            rate = done / max(time.perf_counter() - started, 1e-9)
            progress.update(task, advance=count, rate=f"{rate:,.0f}")

        return rebuild_projection(engine, projections, advance)


def rebuild(
    names: Annotated[
        list[str] | None, typer.Argument(help="Projections to rebuild (default: all).")
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Replay the log into fresh tables and swap them in; reads keep working meanwhile."""
    settings = settings_for(database_url)
    known = {p.name for p in default_projections()}
    unknown = sorted(set(names or ()) - known)
    if unknown:
        console.print(
            f"[red]unknown projection(s):[/] {escape(', '.join(unknown))}; known: {sorted(known)}"
        )
        raise typer.Exit(2)
    with opened(settings) as runtime:
        chosen = [p for p in runtime.projections if not names or p.name in names]
        total = runtime.store.head_position()
        started = time.perf_counter()
        position = rebuild_with_progress(runtime.engine, chosen, total)
        elapsed = time.perf_counter() - started
    console.print(
        f"[green]rebuilt[/] {', '.join(p.name for p in chosen)} to position {position}"
        f" {pace(total, elapsed)}"
    )


def project(
    once: Annotated[bool, typer.Option(help="Catch up once and exit.")] = False,
    batch_size: Annotated[int, typer.Option(min=1, max=10_000)] = 500,
    database_url: DatabaseOption = None,
) -> None:
    """Run a projection worker: follow the log and keep the read models up to date."""
    settings = settings_for(database_url)
    configure_logging(settings)
    with opened(settings) as runtime:
        engine = runtime.engine
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        worker = ProjectionWorker(
            engine,
            runtime.projections,
            batch_size=batch_size,
            rebuild=lambda projection: rebuild_projection(engine, projection),
        )
        console.print(f"projection worker started on {engine.url.render_as_string()}")
        delivering = None
        if settings.webhooks_deliver and not once:
            # Outbound webhooks follow the log beside the read models, in this process.
            delivering = threading.Thread(
                target=runtime.deliverer.run, args=(stop,), name="webhooks", daemon=True
            )
            delivering.start()
        worker.run(stop, once=once)
        if delivering is not None:
            runtime.deliverer.wake()
            delivering.join()
        elif settings.webhooks_deliver:
            runtime.deliverer.deliver_once()
