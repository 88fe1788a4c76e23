"""What the command line says when a command fails on something the operator gave it: one
line and exit 1, never a traceback, and never a setting's value (it may be a secret).

Commands refuse what they expect themselves (cli/database.py, each command's own
refusals); this catches the rest where every command ends: settings that do not
validate, a database URL that does not parse or names a driver that is not installed,
a schema newer than this release, files that cannot be read or written.
"""

from __future__ import annotations

from collections.abc import Callable

from alembic.util.exc import CommandError
from pydantic import ValidationError
from pydantic_settings import SettingsError
from rich.markup import escape
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from application.bootstrap import SecretKeyMissing
from cli.database import first_line
from cli.output import console
from eventstore.sealed_text import SealedTextUnavailable

ENV_PREFIX = "INCIDENTS_"


def _settings(error: ValidationError) -> str:
    # Without the input: a session key or token too short is still a secret.
    problems = [
        f"{ENV_PREFIX}{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}"
        for e in error.errors(include_input=False, include_url=False)
    ]
    return "invalid settings: " + "; ".join(problems)


def _database(error: SQLAlchemyError | ModuleNotFoundError) -> str:
    if isinstance(error, ModuleNotFoundError):
        return (
            f"the database URL needs a driver that is not installed ({error.name}):"
            " use sqlite:///PATH or postgresql+psycopg://USER@HOST/NAME"
        )
    if isinstance(error, ArgumentError | NoSuchModuleError):
        return (
            f"not a database URL this service can use ({error}): use sqlite:///PATH"
            " or postgresql+psycopg://USER@HOST/NAME"
        )
    return f"the database cannot be used: {first_line(error)}"


def _file(error: OSError) -> str:
    where = f"{error.filename}: " if error.filename is not None else ""
    return f"{where}{error.strerror or error}"


def one_line(error: BaseException) -> str | None:
    """The line to say for ``error``; None for an error that is the program's own fault."""
    if isinstance(error, ValidationError):
        return _settings(error)
    if isinstance(error, SettingsError):
        return f"invalid settings: {error}"
    if isinstance(error, SQLAlchemyError | ModuleNotFoundError):
        return _database(error)
    if isinstance(error, CommandError):
        return f"the database's schema cannot be migrated by this release: {error}"
    if isinstance(error, SealedTextUnavailable | SecretKeyMissing):
        return str(error)
    if isinstance(error, OSError):
        return _file(error)
    return None


def said_in_one_line(command: Callable[[], None]) -> None:
    """Run ``command`` (the app), turning an operator's error into one line and exit 1."""
    try:
        command()
    except Exception as error:
        line = one_line(error)
        if line is None:
            raise
        console.print(f"[red]{escape(line)}[/]", soft_wrap=True)
        raise SystemExit(1) from error
