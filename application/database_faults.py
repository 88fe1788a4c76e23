"""Database faults: errors that come from the database's state, not from a bug or a client.

They are answered with 503 and ``Retry-After`` (a client can only wait), named by their
cause, so an operator reading one answer knows whether to look at the network, the disk
or the server's mode. Anything not recognised here stays a 500: a bug to be fixed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from enum import StrEnum

import psycopg
from sqlalchemy import exc as sa


class Cause(StrEnum):
    UNREACHABLE = "database unreachable"
    FULL = "database full"
    READ_ONLY = "database read-only"
    BUSY = "database busy"
    IO_ERROR = "database I/O error"


WRITE_CAUSES = frozenset({Cause.FULL, Cause.READ_ONLY, Cause.IO_ERROR})
"""Causes that leave reads working: /readyz reports them until a write succeeds again."""

RETRY_AFTER = {
    Cause.UNREACHABLE: 5,
    Cause.BUSY: 2,
    # An operator has to free space or switch the server back: no point in hurrying.
    Cause.FULL: 30,
    Cause.READ_ONLY: 30,
    Cause.IO_ERROR: 30,
}
"""Seconds a client is asked to wait before retrying."""

# SQLite's primary result codes (the low byte of an extended code).
_SQLITE = {
    5: Cause.BUSY,  # SQLITE_BUSY: the busy timeout ran out
    6: Cause.BUSY,  # SQLITE_LOCKED
    8: Cause.READ_ONLY,  # SQLITE_READONLY
    10: Cause.IO_ERROR,  # SQLITE_IOERR
    13: Cause.FULL,  # SQLITE_FULL: "database or disk is full"
    14: Cause.UNREACHABLE,  # SQLITE_CANTOPEN
}

# PostgreSQL SQLSTATEs, by exact code or by class (first two characters).
_POSTGRES = {
    "53100": Cause.FULL,  # disk_full
    "25006": Cause.READ_ONLY,  # read_only_sql_transaction (also a hot standby)
    "57P01": Cause.UNREACHABLE,  # admin_shutdown
    "57P02": Cause.UNREACHABLE,  # crash_shutdown
    "57P03": Cause.UNREACHABLE,  # cannot_connect_now (starting up, shutting down)
    "53200": Cause.BUSY,  # out_of_memory
    "53300": Cause.BUSY,  # too_many_connections
    "55P03": Cause.BUSY,  # lock_not_available
    "57014": Cause.BUSY,  # query_canceled (statement timeout)
    "58030": Cause.IO_ERROR,  # io_error
}
_POSTGRES_CLASSES = {"08": Cause.UNREACHABLE}  # connection_exception


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error, the driver's error it wraps, and what caused either."""
    seen: set[int] = set()
    pending = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen or len(seen) > 20:
            continue
        seen.add(id(current))
        yield current
        origin = getattr(current, "orig", None)
        for linked in (origin, current.__cause__, current.__context__):
            if isinstance(linked, BaseException):
                pending.append(linked)


def _sqlite(error: sqlite3.Error) -> Cause | None:
    code = getattr(error, "sqlite_errorcode", None)
    if isinstance(code, int):
        return _SQLITE.get(code & 0xFF)
    return None


def _postgres(error: psycopg.Error) -> Cause | None:
    state = error.sqlstate
    if state is None:
        # Raised by the client library itself: refused, reset, or a closed connection.
        if isinstance(error, psycopg.OperationalError | psycopg.InterfaceError):
            return Cause.UNREACHABLE
        return None
    return _POSTGRES.get(state) or _POSTGRES_CLASSES.get(state[:2])


def classify(error: BaseException) -> Cause | None:
    """The database fault behind ``error``, or None when it is not one (a bug: a 500)."""
    for current in _chain(error):
        if isinstance(current, sa.TimeoutError):  # no pooled connection came free in time
            return Cause.BUSY
        found: Cause | None = None
        if isinstance(current, sqlite3.Error):
            found = _sqlite(current)
        elif isinstance(current, psycopg.Error):
            found = _postgres(current)
        elif isinstance(current, sa.DBAPIError) and current.connection_invalidated:
            found = Cause.UNREACHABLE
        if found is not None:
            return found
    return None


def describe(error: BaseException) -> str:
    """The driver's first line about ``error``, for a log line: no SQL, no parameters."""
    origin = getattr(error, "orig", None)
    source = origin if isinstance(origin, BaseException) else error
    lines = str(source).strip().splitlines()
    return f"{type(source).__name__}: {lines[0] if lines else ''}".strip()
