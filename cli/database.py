"""Opening the database for a command that needs its schema: one clear line when it cannot."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from application.migrations import NotMigrated, check_migrated
from eventstore.engine import create_engine, normalise_url


def migrated_engine(url: str, console: Console) -> Engine:
    """An engine on a database that has this release's schema; otherwise exit 1.

    Checked before the engine exists: a SQLite engine creates its file's directory, and
    its first connection the file, and a command that only reads must leave no trace of
    a mistyped path behind.
    """
    try:
        check_migrated(url)
    except NotMigrated as exc:
        console.print(f"[red]{escape(str(exc))}[/]", soft_wrap=True)
        raise typer.Exit(1) from exc
    except SQLAlchemyError as exc:
        console.print(unreachable(url, exc), soft_wrap=True)
        raise typer.Exit(1) from exc
    return create_engine(url)


def unreachable(url: str, exc: SQLAlchemyError) -> str:
    """One line for a database the command could not use, its password hidden."""
    cause = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    shown = normalise_url(url).render_as_string()
    return f"[red]cannot use the database {escape(shown)}:[/] {escape(cause[0] if cause else '')}"
