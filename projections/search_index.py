"""The full-text index over ``search_documents``: FTS5 on SQLite, a tsvector on PostgreSQL.

Neither is a SQLAlchemy table or column, so both live outside the MetaData:

- SQLite: ``search_documents_fts``, an FTS5 table over (title, body) whose content is
  ``search_documents`` itself (its rowid is ``ordinal``, so FTS5 walks the matches
  newest first without sorting them), kept in step by triggers.
  Every change to a document, a redaction's DELETE included, reaches the index in the
  same transaction, whoever writes the row.
- PostgreSQL: ``document``, a generated tsvector column (title weight A, body weight B)
  with a GIN index; the database computes it whenever a row is written. ASCII
  punctuation is read as spaces there (``PUNCTUATION``), as FTS5 reads it.

Both fold case and diacritics and stem nothing, so the same words find the same
documents on both backends: ``unicode61 remove_diacritics 2`` on SQLite; on PostgreSQL
the ``incident_search`` configuration, the ``simple`` one (no stemming, no stop words)
behind ``unaccent`` (a copy of ``simple`` alone where the extension is missing).

Migration 0007 creates these for the live table. A rebuild fills its shadow table
without them and builds the index once over the whole table, as it does indexes: the
FTS5 table after the swap, the GIN index on the shadow before (named after it, renamed
by the swap). The tsvector column is part of the shadow from its creation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Table, event

from projections.search_tables import search_documents
from projections.shadow_tables import made_after_swap

CONFIGURATION = "incident_search"
"""The PostgreSQL text search configuration documents and queries are parsed with."""

TOKENIZER = "unicode61 remove_diacritics 2"
"""The FTS5 tokenizer: Unicode word characters, case and diacritics folded."""

PUNCTUATION = "[!-/:-@[-`{-~]+"
"""ASCII punctuation, as a regular expression (Python's and PostgreSQL's alike).

PostgreSQL's parser reads "service-17" as "service" and "-17", "3.5" as one number and
an address as one token, where FTS5 reads words of letters and digits only. Text is
indexed and queried with this punctuation made spaces, so that "17" finds "service-17"
on both backends."""

DOCUMENT = (
    f"setweight(to_tsvector('{CONFIGURATION}'::regconfig,"
    f" regexp_replace(title, '{PUNCTUATION}', ' ', 'g')), 'A')"
    f" || setweight(to_tsvector('{CONFIGURATION}'::regconfig,"
    f" regexp_replace(body, '{PUNCTUATION}', ' ', 'g')), 'B')"
)
"""The generated tsvector: title words weigh A, body words B."""

FTS_SUFFIX = "_fts"
GIN_INDEX = "ix_search_documents_document"
"""The GIN index's name: named after its table, as a rebuild's shadow's is after it."""

_FTS5_SHADOWS = ("", "_data", "_idx", "_docsize", "_config")
"""The tables FTS5 keeps for one full-text table, by suffix of its name."""


def gin_index(table: Table) -> str:
    """The GIN index over ``table``'s tsvector (PostgreSQL): GIN_INDEX for the live table."""
    return f"ix_{table.name}_document"


def fts_table(table: Table) -> str:
    """The FTS5 table indexing ``table`` (SQLite)."""
    return table.name + FTS_SUFFIX


# Names in these statements come from the table definitions, never from input.
def _triggers(name: str, fts: str) -> list[str]:
    # An external-content FTS5 table forgets a row only when told the values it indexed.
    forget = (
        f'INSERT INTO "{fts}"("{fts}", rowid, title, body)'  # noqa: S608
        " VALUES ('delete', old.ordinal, old.title, old.body);"
    )
    remember = f'INSERT INTO "{fts}"(rowid, title, body) VALUES (new.ordinal, new.title, new.body);'  # noqa: S608
    return [
        f'CREATE TRIGGER "{fts}_insert" AFTER INSERT ON "{name}" BEGIN {remember} END',
        f'CREATE TRIGGER "{fts}_delete" AFTER DELETE ON "{name}" BEGIN {forget} END',
        # An upsert rewrites every column: only a changed text (or a draft written anew,
        # under a new ordinal) is indexed again.
        f'CREATE TRIGGER "{fts}_update" AFTER UPDATE ON "{name}"'
        " WHEN old.title IS NOT new.title OR old.body IS NOT new.body"
        " OR old.ordinal IS NOT new.ordinal"
        f" BEGIN {forget} {remember} END",
    ]


def build_text_index(conn: Connection, table: Table) -> None:
    """Index every row of ``table`` from scratch and keep the index in step from now on."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(
            f'CREATE INDEX "{gin_index(table)}" ON "{table.name}" USING gin (document)'
        )
        return
    fts = fts_table(table)
    # The previous table's index: its triggers went with that table. Dropped with
    # secure_delete on, as every connection has it: until its segments merge, it may
    # still hold the words of a redacted note.
    conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{fts}"')
    conn.exec_driver_sql(
        f'CREATE VIRTUAL TABLE "{fts}" USING fts5(title, body,'
        f" content='{table.name}', content_rowid='ordinal', tokenize='{TOKENIZER}')"
    )
    # In ordinal order: FTS5 writes its doclists rowid by rowid, and its own 'rebuild' reads
    # the table in key order, which costs it four times as long.
    conn.exec_driver_sql(
        f'INSERT INTO "{fts}"(rowid, title, body)'  # noqa: S608
        f' SELECT ordinal, title, body FROM "{table.name}" ORDER BY ordinal'
    )
    for trigger in _triggers(table.name, fts):
        conn.exec_driver_sql(trigger)


def _document_column(target: Table, connection: Connection, **_: Any) -> None:
    """Give a newly created copy of the table (a rebuild's shadow) its tsvector column."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(
            f'ALTER TABLE "{target.name}" ADD COLUMN IF NOT EXISTS document tsvector'
            f" GENERATED ALWAYS AS ({DOCUMENT}) STORED"
        )


# Propagated: Table.to_metadata then copies it, so a rebuild's shadow gets the column too.
event.listen(search_documents, "after_create", _document_column, propagate=True)
made_after_swap(search_documents, build_text_index)


def outside_metadata(name: str | None, type_: str, parent_names: Mapping[str, Any]) -> bool:
    """Whether a database object is part of this index (for comparing the schema with the
    MetaData, as Alembic's ``include_name`` hook asks)."""
    table = search_documents.name
    if type_ == "table":
        return name in {table + FTS_SUFFIX + suffix for suffix in _FTS5_SHADOWS}
    if type_ == "column":
        return name == "document" and parent_names.get("table_name") == table
    if type_ == "index":
        return name == GIN_INDEX
    return False
