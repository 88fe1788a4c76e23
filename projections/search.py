"""The search read model: the documents of projections/search_documents.py, full-text indexed.

The index itself (projections/search_index.py) follows the documents table on its own,
so a note's redaction, which deletes its document, takes its words out of the index in
the transaction that applies the redaction event.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import Connection, Table, delete, insert, select

# Imported for what it registers: the index beside the documents table, on both backends.
import projections.search_index  # noqa: F401
from projections.base import Envelope
from projections.new_rows import insert_new
from projections.search_documents import (
    APPLIERS,
    Documents,
    Row,
    apply_to_documents,
    earlier_keys,
)
from projections.search_tables import search_alert_names, search_documents
from projections.sql import upsert


class SearchProjection:
    name = "search"
    version = 2  # 2: documents have an ordinal, the SQLite index's rowid

    def __init__(
        self,
        documents: Table = search_documents,
        alert_names: Table = search_alert_names,
        *,
        rebuilding: bool = False,
        stored: set[int] | None = None,
    ) -> None:
        self.documents = documents
        self.alert_names = alert_names
        self.rebuilding = rebuilding
        """Writing a rebuild's shadow tables: documents not read back are new to them."""
        self.stored = stored
        """In a replay from the first event into empty tables, the keys of the documents
        this instance has stored: every other document is new to the table and is
        COPYed rather than upserted (a section's draft, written whole, most of all).
        None where other writers came first (another process's partition, say)."""

    @property
    def tables(self) -> tuple[Table, ...]:
        return (self.documents, self.alert_names)

    def using(self, tables: Mapping[str, Table]) -> SearchProjection:
        # A rebuild starts from empty tables: at first nothing is stored.
        return SearchProjection(
            tables[search_documents.name],
            tables[search_alert_names.name],
            rebuilding=True,
            stored=set(),
        )

    def resumed(self) -> SearchProjection:
        """The same rebuild going on from rows that other processes wrote."""
        return SearchProjection(self.documents, self.alert_names, rebuilding=True)

    def apply(self, conn: Connection, batch: Sequence[Envelope]) -> None:
        relevant = [env for env in batch if type(env.event) in APPLIERS]
        if not relevant:
            return
        t = self.documents
        docs = Documents()
        earlier = earlier_keys(relevant)
        if self.stored is not None:
            earlier &= self.stored
        if earlier:
            query = select(t).where(t.c.doc_key.in_(earlier))
            docs.rows.update({row.doc_key: dict(row._mapping) for row in conn.execute(query)})
        stored = set(docs.rows)
        for env in relevant:
            apply_to_documents(docs, env)
        removed = [key for key, row in docs.rows.items() if row is None]
        if removed:
            conn.execute(delete(t).where(t.c.doc_key.in_(removed)))
        kept = [(key, row) for key in sorted(docs.rows) if (row := docs.rows[key]) is not None]
        if self.stored is not None:
            known = self.stored
            again: list[Row] = []
            new: list[Row] = []
            for key, row in kept:
                (again if key in known else new).append(row)
            upsert(conn, t, again)
            insert_new(conn, t, new)
            known.difference_update(removed)
            known.update(row["doc_key"] for row in new)
        elif self.rebuilding:
            # Each event is applied once, so a document neither read back nor rewritten
            # whole is not stored yet.
            maybe_stored = stored | docs.replaced
            upsert(conn, t, [row for key, row in kept if key in maybe_stored])
            insert_new(conn, t, [row for key, row in kept if key not in maybe_stored])
        else:
            upsert(conn, t, [row for _, row in kept])
        self._add_alert_names(conn, docs)

    def _add_alert_names(self, conn: Connection, docs: Documents) -> None:
        # A name joins an incident's document once, so each pair is new to the table.
        if docs.alert_names:
            rows = [{"incident_id": i, "name": n} for i, n in sorted(docs.alert_names)]
            conn.execute(insert(self.alert_names), rows)
