"""Reaching the database from a command: which one, and one clear line when it cannot be used."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.markup import escape
from sqlalchemy.exc import SQLAlchemyError

from application.bootstrap import Runtime, build
from application.schema_migrations import NotMigrated, check_migrated
from application.settings import Settings
from cli.output import console, refuse
from eventstore.engine import normalise_url

DatabaseOption = Annotated[
    str | None, typer.Option("--database-url", help="Overrides INCIDENTS_DATABASE_URL.")
]


def settings_for(database_url: str | None) -> Settings:
    """The settings from the environment, on ``database_url`` when one is given."""
    settings = Settings()
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    return settings


@contextmanager
def refusals(*expected: type[Exception], url: str) -> Iterator[None]:
    """Exit 1 with one line for an ``expected`` error or a database that cannot be used."""
    try:
        yield
    except expected as exc:
        refuse(exc)
    except SQLAlchemyError as exc:
        console.print(unreachable(url, exc), soft_wrap=True)
        raise typer.Exit(1) from exc


@contextmanager
def opened(settings: Settings) -> Iterator[Runtime]:
    """The service's parts on a database that has this release's schema; otherwise exit 1.

    Checked before the engine exists: a SQLite engine creates its file's directory, and
    its first connection the file, and a command that only reads must leave no trace of
    a mistyped path behind.
    """
    with refusals(NotMigrated, url=settings.database_url):
        check_migrated(settings.database_url)
    runtime = build(settings)
    try:
        yield runtime
    finally:
        runtime.close()


def unreachable(url: str, exc: SQLAlchemyError) -> str:
    """One line for a database the command could not use, its password hidden."""
    shown = normalise_url(url).render_as_string()
    return f"[red]cannot use the database {escape(shown)}:[/] {escape(first_line(exc))}"


def first_line(exc: SQLAlchemyError) -> str:
    """The driver's own message, first line: what the database said, without the SQL."""
    cause = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return cause[0] if cause else type(exc).__name__
