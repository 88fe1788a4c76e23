"""Schema migrations: Alembic is the only way tables are created."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from eventstore.engine import create_engine, normalise_url


def alembic_config(url: str) -> Config:
    """An Alembic configuration for this service's migrations and the given database."""
    config = Config()
    config.set_main_option("script_location", str(resources.files("migrations")))
    rendered = normalise_url(url).render_as_string(hide_password=False)
    # Alembic's config parser interpolates "%": a URL-encoded password must be escaped.
    config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return config


def migrate(engine: Engine) -> None:
    """Upgrade the database behind ``engine`` to the newest schema."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


class NotMigrated(Exception):
    """The database has no schema, or an older one than this release needs."""


def head_revision() -> str:
    """The newest schema revision this release knows."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None  # the migrations package always has a head
    return head


def sqlite_file(url: str) -> Path | None:
    """The file behind a SQLite URL (None for another backend or an in-memory database)."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at; None when it was never migrated.

    A SQLite file that does not exist is never migrated, and is not created by asking:
    connecting would create it (and create_engine its directory).
    """
    path = sqlite_file(engine.url.render_as_string(hide_password=False))
    if path is not None and not path.exists():
        return None
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def check_migrated(url: str) -> None:
    """Raise NotMigrated, with what to run, unless the database has this release's schema.

    Call it before ``create_engine(url)``, which creates a SQLite file's directory.
    """
    shown = normalise_url(url).render_as_string()  # the password hidden
    path = sqlite_file(url)
    if path is not None and not path.exists():
        raise NotMigrated(
            f"no database at {path}: create it with `incidents migrate` (or `incidents serve`),"
            " or point INCIDENTS_DATABASE_URL or --database-url at an existing one"
        )
    engine = create_engine(url)
    try:
        revision = current_revision(engine)
    finally:
        engine.dispose()
    if revision is None:
        raise NotMigrated(f"the database {shown} was never migrated: run `incidents migrate` first")
    script = ScriptDirectory.from_config(alembic_config(url))
    if revision not in {known.revision for known in script.walk_revisions()}:
        raise NotMigrated(
            f"the database {shown} is at schema revision {revision}, newer than this release"
            " knows: use a newer release"
        )
    if revision != head_revision():
        raise NotMigrated(
            f"the database {shown} is at schema revision {revision}, this release needs"
            f" {head_revision()}: run `incidents migrate` first"
        )
