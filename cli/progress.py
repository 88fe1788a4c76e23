"""Progress bars for the commands that go through the whole log, with events per second."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

PositionProgress = Callable[[int, int], None]
"""Called with the position reached and the head position the run goes to."""


@contextmanager
def position_progress(console: Console, label: str) -> Iterator[PositionProgress]:
    """A bar from position 0 to the head, with events per second.

    Positions can have gaps (a rolled-back append leaves one on PostgreSQL), so the
    bar follows positions, whose total is known from the start, rather than events.
    """
    started = time.perf_counter()
    with rate_progress(console, label) as progress:
        task = progress.add_task(label, total=None, rate="-")

        def update(position: int, head: int) -> None:
            rate = position / max(time.perf_counter() - started, 1e-9)
            progress.update(task, completed=position, total=max(head, 1), rate=f"{rate:,.0f}")

        yield update


def rate_progress(console: Console, label: str) -> Progress:
    """A rich progress bar with the count and its events per second (field ``rate``)."""
    return Progress(
        TextColumn(f"[bold]{label}[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]} events/s"),
        TimeElapsedColumn(),
        console=console,
    )
