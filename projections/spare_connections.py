"""Connections a rebuild opens beside its own, outside the pool of the engine it rebuilds on.

The server rebuilds on the engine that serves its requests. That pool may be as small as
``INCIDENTS_DB_POOL_SIZE=1`` (one connection and one of overflow), which the rebuild's
own connection and its lock's already fill on PostgreSQL, and requests need it
meanwhile. What a rebuild does on further connections (sampling the log's streams,
finishing shadows several at once) goes through an engine of its own without a pool.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.pool import NullPool

from eventstore.engine import create_engine


@contextmanager
def spare_engine(engine: Engine) -> Iterator[Engine]:
    """An engine on ``engine``'s database whose connections close when given back."""
    spare = create_engine(engine.url, poolclass=NullPool)
    try:
        yield spare
    finally:
        spare.dispose()
