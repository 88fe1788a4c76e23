"""Small SQL helpers shared by projections."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert


@lru_cache(maxsize=256)
def _upsert_statement(dialect: str, table: Table, columns: tuple[str, ...]) -> Insert:
    # Built once per table and column set: constructing the statement (and its
    # "excluded" alias) costs more than executing it on every inline append.
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table)
    keys = [column.name for column in table.primary_key.columns]
    updates = {name: statement.excluded[name] for name in columns if name not in keys}
    return statement.on_conflict_do_update(index_elements=keys, set_=updates)


def upsert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows, replacing those whose primary key exists (both backends speak ON CONFLICT)."""
    if not rows:
        return
    statement = _upsert_statement(conn.dialect.name, table, tuple(rows[0]))
    conn.execute(statement, rows)
