"""The copies of read-model tables that a rebuild fills before swapping them in."""

from __future__ import annotations

from sqlalchemy import MetaData, Table

SUFFIX = "__rebuild"


def shadow_of(table: Table) -> Table:
    """An index-less copy of ``table`` under another name (indexes come after the swap)."""
    shadow = table.to_metadata(
        MetaData(naming_convention=table.metadata.naming_convention), name=table.name + SUFFIX
    )
    shadow.indexes.clear()
    shadow.primary_key.name = f"pk_{shadow.name}"
    return shadow
