"""Read the whole log through the bare driver, JSON parsed: the floor under any replay.

Imports only the drivers and orjson (no SQLAlchemy), so a child process running it
measures the driver's own speed and memory.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import orjson
import psycopg

_COLUMNS = (
    "position, stream_id, version, event_id, type, schema_version, {data}, {metadata},"
    " occurred_at, recorded_at"
)


def driver_target(url: str) -> tuple[str, str]:
    """("sqlite", file path) or ("postgresql", libpq URL) from a SQLAlchemy URL."""
    scheme, _, rest = url.partition("://")
    if scheme.startswith("sqlite"):
        return "sqlite", rest[1:]  # sqlite:///relative or sqlite:////absolute
    return "postgresql", f"postgresql://{rest}"


def read_log(url: str, batch: int = 2000) -> Iterator[tuple[Any, ...]]:
    """Every row of ``events`` in position order, data and metadata parsed.

    Streams in batches (a server-side cursor on PostgreSQL) so memory stays flat.
    """
    backend, target = driver_target(url)
    if backend == "sqlite":
        conn = sqlite3.connect(target)
        try:
            cursor = conn.execute(
                f"SELECT {_COLUMNS.format(data='data', metadata='metadata')}"
                " FROM events ORDER BY position"
            )
            while rows := cursor.fetchmany(batch):
                for row in rows:
                    yield (*row[:6], orjson.loads(row[6]), orjson.loads(row[7]), *row[8:])
        finally:
            conn.close()
        return
    with psycopg.connect(target) as pg, pg.cursor(name="raw_log") as server_side:
        server_side.itersize = batch
        server_side.execute(
            # As text, so both backends parse the same JSON with the same parser.
            f"SELECT {_COLUMNS.format(data='data::text', metadata='metadata::text')}"
            " FROM events ORDER BY position"
        )
        for row in server_side:
            yield (*row[:6], orjson.loads(row[6]), orjson.loads(row[7]), *row[8:])
