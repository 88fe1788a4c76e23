"""Readying a rebuild's shadow tables on PostgreSQL before the swap, several at a time.

Once the replay has reached the head, each shadow still has to be made LOGGED (one
rewrite of the table into the WAL), get its indexes and what its owner keeps beside it
(the full-text index), and be ANALYZEd. Each of those works on one table, mostly on one
CPU. Done one table after another, as part of the swap, they left the other CPUs idle
and held the append lock while the indexes were built; here every table is finished on
a connection of its own, as many at once as the rebuild had worker processes, before
the lock is taken. The swap then only renames (projections/rebuild.py).

What is made on a shadow is named after it (``ix_timeline_entries__rebuild_incident``),
and the swap gives every such name the live table's in its place.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Connection, Engine, Index, Table

from eventstore.engine import WRITE
from projections.shadow_tables import make_companions
from projections.spare_connections import spare_engine


def shadow_index(index: Index, live: Table, shadow: Table) -> Index:
    """``index`` of the live table, made on its shadow under the shadow's name."""
    name = str(index.name).replace(live.name, shadow.name, 1)
    columns = [shadow.c[column.name] for column in index.columns]
    return Index(name, *columns, unique=index.unique, **index.dialect_kwargs)


def _finish(engine: Engine, live: Table, shadow: Table) -> None:
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        conn.exec_driver_sql(f'ALTER TABLE "{shadow.name}" SET LOGGED')
        # After SET LOGGED, which would otherwise rewrite each index with the table.
        for index in live.indexes:
            shadow_index(index, live, shadow).create(conn)
        make_companions(conn, live, shadow)
        # A new table has no statistics until autovacuum comes by: until then the
        # planner guesses, and a search for common words may sort every match.
        conn.exec_driver_sql(f'ANALYZE "{shadow.name}"')


def finish_shadows(engine: Engine, pairs: Sequence[tuple[Table, Table]], workers: int) -> None:
    """Make each (live, shadow) pair's shadow ready to be swapped in, ``workers`` at once,
    on connections outside ``engine``'s pool (projections/spare_connections.py)."""
    with spare_engine(engine) as spare:
        _finish_all(spare, pairs, workers)


def _finish_all(engine: Engine, pairs: Sequence[tuple[Table, Table]], workers: int) -> None:
    with engine.connect() as conn:
        sizes = {
            shadow.name: conn.exec_driver_sql(
                "SELECT pg_total_relation_size(%(table)s::regclass)", {"table": shadow.name}
            ).scalar_one()
            for _, shadow in pairs
        }
    # The biggest tables first, so that no big one starts last while the others idle.
    ordered = sorted(pairs, key=lambda pair: -sizes[pair[1].name])
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for done in [pool.submit(_finish, engine, live, shadow) for live, shadow in ordered]:
            done.result()


def take_live_names(conn: Connection, live: Table, shadow: Table) -> None:
    """Rename what was made on ``shadow`` (now named ``live``) after the live table."""
    conn.exec_driver_sql(
        f'ALTER TABLE "{live.name}" RENAME CONSTRAINT "{shadow.primary_key.name}"'
        f' TO "pk_{live.name}"'
    )
    made = conn.exec_driver_sql(
        "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
        " AND tablename = %(table)s AND indexname LIKE %(named)s",
        {"table": live.name, "named": f"%{shadow.name}%"},
    ).scalars()
    for name in [name for name in made if shadow.name in name]:
        renamed = name.replace(shadow.name, live.name, 1)
        conn.exec_driver_sql(f'ALTER INDEX "{name}" RENAME TO "{renamed}"')
