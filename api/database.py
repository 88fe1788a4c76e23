"""Schema migrations: Alembic is the only way tables are created."""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from eventstore.engine import normalise_url


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
