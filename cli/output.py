"""What the commands print: messages on standard error, results and tables on standard out."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Column, Table
from rich.text import Text

console = Console(stderr=True)
"""Messages and progress; standard output carries only what a script may capture."""


def refuse(exc: Exception) -> NoReturn:
    """Exit 1 with the exception's message as one red line."""
    console.print(f"[red]{escape(str(exc))}[/]", soft_wrap=True)
    raise typer.Exit(1) from exc


def show_table(columns: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    """A table on standard output: its cells as they are, never read as markup (a token may
    be named ``dependabot[bot]``), ids whole however narrow the terminal."""
    table = Table(*(Column(name, overflow="fold") for name in columns))
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    Console().print(table)


def moment(at: datetime | None) -> str:
    """A date in a listing, to the second; empty for none."""
    return at.isoformat(timespec="seconds") if at else ""


def revoked(done: bool, what: str, name: str) -> None:
    """Say that ``name`` was revoked, or exit 1 when there was no live ``what`` of that name."""
    if not done:
        console.print(f"[red]no live {what} named {escape(repr(name))}[/]")
        raise typer.Exit(1)
    console.print(f"revoked {escape(name)}")


def pace(events: int, seconds: float) -> str:
    """How long a run over the log took, and its events per second."""
    return f"in {seconds:.1f}s ({events / max(seconds, 1e-9):,.0f} events/s)"
