"""What ``incidents export`` and ``import`` need around the event store: files and progress."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

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

READ_BUFFER = 1 << 20


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


@contextmanager
def export_target(name: str) -> Iterator[BinaryIO]:
    """Standard output for ``-``; otherwise a file that appears only once complete.

    The export goes to ``NAME.partial`` and is renamed at the end, so a failed or
    interrupted export never leaves a file under the name that was asked for.
    """
    if name == "-":
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    target = Path(name)
    partial = target.with_name(target.name + ".partial")
    try:
        with partial.open("wb") as out:
            yield out
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


@contextmanager
def import_source(name: str) -> Iterator[BinaryIO]:
    """Standard input for ``-``; otherwise the file, read in large buffered chunks."""
    if name == "-":
        yield sys.stdin.buffer
        return
    with Path(name).open("rb", buffering=READ_BUFFER) as source:
        yield source
