"""Small SQL helpers shared by projections."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from operator import itemgetter
from typing import Any
from uuid import UUID

from sqlalchemy import JSON, Connection, Dialect, Table, Uuid
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert
from sqlalchemy.types import TypeEngine

from eventstore.stored_times import stored_text
from eventstore.types import UtcDateTime

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class _PreparedUpsert:
    """An upsert compiled to the driver's SQL once, with each column's bind processor."""

    sql: str
    columns: tuple[str, ...]
    processors: tuple[Processor, ...]
    positional: bool

    def parameters(self, rows: Sequence[dict[str, Any]]) -> list[Any]:
        # Values taken in one C call per row; only the columns with a processor are touched.
        columns = self.columns
        take = itemgetter(*columns) if len(columns) > 1 else lambda row: (row[columns[0]],)
        converted = [(i, p) for i, p in enumerate(self.processors) if p is not None]
        parameters: list[Any] = []
        for row in rows:
            values = list(take(row))
            for i, process in converted:
                values[i] = process(values[i])
            parameters.append(
                tuple(values) if self.positional else dict(zip(columns, values, strict=True))
            )
        return parameters


def _upsert_statement(dialect: str, table: Table, columns: tuple[str, ...]) -> Insert:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table)
    keys = [column.name for column in table.primary_key.columns]
    updates = {name: statement.excluded[name] for name in columns if name not in keys}
    return statement.on_conflict_do_update(index_elements=keys, set_=updates)


@lru_cache(maxsize=256)
def _prepared(dialect: Dialect, table: Table, columns: tuple[str, ...]) -> _PreparedUpsert:
    # Compiled once per table and column set. Going through SQLAlchemy's execute for a
    # batch of rows costs more in per-row parameter handling than the database spends
    # writing them; the same processors run here, once per value, and nothing else.
    statement = _upsert_statement(dialect.name, table, columns)
    compiled = statement.compile(dialect=dialect, column_keys=list(columns))
    positional = bool(compiled.positional)
    order = tuple(compiled.positiontup or ()) if positional else columns
    processors = tuple(bind_processor(table.c[name].type, dialect) for name in order)
    return _PreparedUpsert(compiled.string, order, processors, positional)


def bind_processor(type_: TypeEngine[Any], dialect: Dialect) -> Processor:
    """The column type's bind processor; a quicker one for JSON null, and on SQLite for
    UUIDs and times.

    A rebuild writes a few hundred thousand of each. The quick ones give the very text
    SQLAlchemy's would (32 hex digits; ``YYYY-MM-DD HH:MM:SS.ffffff`` in UTC, which
    queries compare as text; for a time just read from the log, the text it was read
    from) and hand anything unusual to SQLAlchemy's.
    """
    general = type_.dialect_impl(dialect).bind_processor(dialect)
    if general is None:
        return general
    if isinstance(type_, JSON):
        # Most documents a rebuild writes have no JSON value: its text (JSON null) taken
        # once, rather than serialised again for each row at several microseconds.
        null = general(None)

        def json_text(value: Any) -> Any:
            return null if value is None else general(value)

        return json_text
    if dialect.name != "sqlite":
        return general
    if isinstance(type_, Uuid):

        def uuid_hex(value: Any) -> Any:
            # What UUID.hex gives, without its call into Python.
            return "%032x" % value.int if type(value) is UUID else general(value)  # noqa: UP031

        return uuid_hex
    if isinstance(type_, UtcDateTime):

        def utc_text(value: Any) -> Any:
            if type(value) is datetime:
                text = stored_text(value)
                if text is not None:
                    return text
                if value.tzinfo is UTC:
                    return value.isoformat(" ", "microseconds")[:-6]  # without "+00:00"
            return general(value)

        return utc_text
    return general


def upsert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows, replacing those whose primary key exists (both backends speak ON CONFLICT)."""
    if not rows:
        return
    prepared = _prepared(conn.dialect, table, tuple(rows[0]))
    conn.exec_driver_sql(prepared.sql, prepared.parameters(rows))
