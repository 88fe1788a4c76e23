"""Writing rows a table cannot hold yet: COPY on PostgreSQL, the usual upsert elsewhere.

A rebuild fills empty shadow tables, where most rows are written once and never read
back. On PostgreSQL a COPY of them costs the client and the server a fraction of an
``INSERT ... ON CONFLICT`` per row. A row that is there after all makes the COPY fail
(a duplicate key) rather than overwrite anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Connection, Table

from projections.sql import bind_processor, upsert


def insert_new(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows whose primary keys ``table`` does not hold."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        upsert(conn, table, rows)
        return
    names = tuple(rows[0])
    take = itemgetter(*names) if len(names) > 1 else lambda row: (row[names[0]],)
    # JSON values go through the column's own processor, as in an upsert (None is JSON
    # null there, not SQL NULL). The driver takes every other value as it is: the
    # projections give only aware datetimes.
    json = [
        (i, processor)
        for i, name in enumerate(names)
        if isinstance(table.c[name].type, JSON)
        and (processor := bind_processor(table.c[name].type, conn.dialect)) is not None
    ]
    columns = ", ".join(f'"{name}"' for name in names)
    driver: Any = conn.connection.dbapi_connection
    with (
        driver.cursor() as cursor,
        cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy,
    ):
        for row in rows:
            values = list(take(row))
            for i, process in json:
                values[i] = process(values[i])
            copy.write_row(values)
