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
    """Have every rebuild call ``make`` once a shadow is swapped in as ``table``.

    Like indexes, such structures are made once over the whole table rather than kept up
    row by row during the replay, and they take the live table's names.
    """
    _COMPANIONS[table.name] = make


def make_companions(conn: Connection, table: Table) -> None:
    """Make what belongs beside ``table`` (just swapped in), if anything does."""
    make = _COMPANIONS.get(table.name)
    if make is not None:
        make(conn, table)
