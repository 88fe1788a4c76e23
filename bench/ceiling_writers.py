"""How the ceiling (bench/stack_ceiling.py) writes one row per request, per backend and mode.

``loop``: the route is ``async``. On SQLite the insert runs on the event loop itself,
through one connection: SQLite has one writer at a time anyway, and its commit under WAL
with ``synchronous=NORMAL`` does not wait for the disk, so a hand-off to a thread would
cost more than the insert. On PostgreSQL each request borrows one of ``pool`` async
connections, so a request's round trips overlap with other requests' parsing.

``threads``: the route hands the insert to Starlette's thread pool, with one
connection per thread, as FastAPI runs a synchronous route.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

import psycopg
from starlette.concurrency import run_in_threadpool

from bench.raw_driver import (
    POSTGRES_INSERT,
    RawAppender,
    is_sqlite,
    postgres_conninfo,
    postgres_params,
)
from eventstore.store import APPEND_LOCK_KEY

LOCK = f"SELECT pg_advisory_xact_lock({APPEND_LOCK_KEY})"
"""The lock our store takes before it draws a position (eventstore/store.py)."""

Row = Mapping[str, Any]


class Writer(Protocol):
    async def append(self, row: Row) -> int: ...

    async def close(self) -> None: ...


def _pg_append(conn: psycopg.Connection[Any], row: Row) -> int:
    with conn.transaction():
        conn.execute(LOCK)
        fetched = conn.execute(POSTGRES_INSERT, postgres_params(row, datetime.now(UTC))).fetchone()
    return int(fetched[0]) if fetched else 0


class SqliteOnLoop:
    def __init__(self, url: str) -> None:
        self._raw = RawAppender(url)

    async def append(self, row: Row) -> int:
        return self._raw.append(row)

    async def close(self) -> None:
        self._raw.close()


class PostgresPool:
    """``size`` async connections, opened on first use (they belong to the server's loop)."""

    def __init__(self, url: str, size: int) -> None:
        self._conninfo = postgres_conninfo(url)
        self._size = size
        self._idle: asyncio.Queue[psycopg.AsyncConnection[Any]] | None = None
        self._opened: list[psycopg.AsyncConnection[Any]] = []

    async def append(self, row: Row) -> int:
        if self._idle is None:
            self._idle = asyncio.Queue()
            for _ in range(self._size):
                conn = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
                self._opened.append(conn)
                self._idle.put_nowait(conn)
        conn = await self._idle.get()
        try:
            async with conn.transaction():
                await conn.execute(LOCK)
                cursor = await conn.execute(
                    POSTGRES_INSERT, postgres_params(row, datetime.now(UTC))
                )
                fetched = await cursor.fetchone()
        finally:
            self._idle.put_nowait(conn)
        return int(fetched[0]) if fetched else 0

    async def close(self) -> None:
        for conn in self._opened:
            await conn.close()


class InThreads:
    """One connection per worker thread of Starlette's pool, opened on the thread's first use."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._sqlite = is_sqlite(url)
        self._local = threading.local()

    def _append(self, row: Row) -> int:
        if self._sqlite:
            raw: RawAppender | None = getattr(self._local, "raw", None)
            if raw is None:
                raw = self._local.raw = RawAppender(self._url)
            return raw.append(row)
        conn: psycopg.Connection[Any] | None = getattr(self._local, "pg", None)
        if conn is None:
            conn = self._local.pg = psycopg.connect(postgres_conninfo(self._url), autocommit=True)
        return _pg_append(conn, row)

    async def append(self, row: Row) -> int:
        return await run_in_threadpool(self._append, row)

    async def close(self) -> None:
        """Nothing: a connection belongs to its thread; the process's exit closes them."""


def writer_for(url: str, mode: Literal["loop", "threads"], pool: int) -> Writer:
    if mode == "threads":
        return InThreads(url)
    if is_sqlite(url):
        return SqliteOnLoop(url)
    return PostgresPool(url, pool)
