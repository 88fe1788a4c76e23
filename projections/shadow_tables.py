"""The copies of read-model tables that a rebuild fills before swapping them in."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, MetaData, Table

SUFFIX = "__rebuild"

Companion = Callable[[Connection, Table], None]
"""Makes what an owner keeps beside a table outside the MetaData (a full-text index)."""

_COMPANIONS: dict[str, Companion] = {}


def shadow_of(table: Table) -> Table:
    """An index-less copy of ``table`` under another name (indexes come after the swap)."""
    shadow = table.to_metadata(
        MetaData(naming_convention=table.metadata.naming_convention), name=table.name + SUFFIX
    )
    shadow.indexes.clear()
    shadow.primary_key.name = f"pk_{shadow.name}"
    return shadow


def made_after_swap(table: Table, make: Companion) -> None:
    """Have every rebuild call ``make`` on the table that will be swapped in as ``table``.

    Like indexes, such structures are made once over the whole table rather than kept up
    row by row during the replay. On SQLite they are made on the table once swapped in;
    on PostgreSQL on the shadow before (projections/shadow_finish.py), named after the
    table they are given, and the swap renames every name of the shadow's.
    """
    _COMPANIONS[table.name] = make


def make_companions(conn: Connection, live: Table, target: Table | None = None) -> None:
    """Make what belongs beside ``live``, if anything does, on ``target``: the table
    itself once swapped in (the default), or its shadow before (named after it)."""
    make = _COMPANIONS.get(live.name)
    if make is not None:
        make(conn, live if target is None else target)
