"""``incidents migrate``: bring the database schema to this release's."""

from __future__ import annotations

from application.bootstrap import database_engine
from application.schema_migrations import migrate as upgrade
from cli.database import DatabaseOption, settings_for
from cli.output import console


def migrate(database_url: DatabaseOption = None) -> None:
    """Upgrade the database schema to the newest version."""
    engine = database_engine(settings_for(database_url))
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    console.print(f"[green]database is up to date[/] ({engine.url.render_as_string()})")
