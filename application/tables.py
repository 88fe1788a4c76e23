"""Every table of the service, on the one MetaData that migrations compare against.

Each table is declared beside the code that owns it, and declaring it registers it on
``eventstore.schema.metadata``. Only what is imported is registered, so this module
imports every owner: Alembic reads this one place, and a new owner is added here.
"""

from __future__ import annotations

from types import ModuleType

from sqlalchemy import MetaData

import application.checkpoint_tables
import application.idempotency
import application.integrations
import application.tokens
import eventstore.schema
import outbound.tables
import projections.insight_tables
import projections.search_tables
import projections.tables

OWNERS: tuple[ModuleType, ...] = (
    eventstore.schema,
    projections.tables,
    projections.insight_tables,
    projections.search_tables,
    application.idempotency,
    application.integrations,
    application.tokens,
    application.checkpoint_tables,
    outbound.tables,
)
"""The modules that declare tables: the log, the read models, keys and credentials."""


def all_metadata() -> MetaData:
    """The MetaData with every owner's tables registered on it."""
    return eventstore.schema.metadata
