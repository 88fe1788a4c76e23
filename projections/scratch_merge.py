"""Moving the rows that rebuild workers wrote into scratch SQLite files into the log's database."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Engine, Table

from eventstore.engine import WRITE


def _copy(conn: Connection, table: Table) -> None:
    # Names from the table definitions in projections/tables.py, never from input.
    columns = ", ".join(f'"{column.name}"' for column in table.columns)
    # In key order, the rows go into the primary key's index page after page.
    key = ", ".join(f'"{column.name}"' for column in table.primary_key.columns)
    source = f'scratch."{table.name}"'
    copy = f'INSERT INTO main."{table.name}" ({columns}) SELECT {columns} FROM {source}'  # noqa: S608
    conn.exec_driver_sql(f"{copy} ORDER BY {key}")


def merge_scratch_files(engine: Engine, paths: Sequence[str], tables: Sequence[Table]) -> None:
    """Append every row of ``tables`` in each file to the same tables of ``engine``'s database.

    The files hold disjoint sets of incidents, so their rows never share a key. SQLite
    copies them itself, one transaction per file, without a value passing through Python.
    """
    with engine.connect().execution_options(**WRITE) as conn:
        driver = conn.connection.dbapi_connection
        if driver is None:
            raise RuntimeError("the connection to the log's database is closed")
        cursor = driver.cursor()
        try:
            for path in paths:
                # ATTACH and DETACH are refused inside a transaction: outside SQLAlchemy's.
                cursor.execute("ATTACH DATABASE ? AS scratch", (path,))
                try:
                    with conn.begin():
                        for table in tables:
                            _copy(conn, table)
                finally:
                    cursor.execute("DETACH DATABASE scratch")
        finally:
            cursor.close()
