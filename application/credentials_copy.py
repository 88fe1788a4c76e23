"""Moving API tokens and integrations to another database, beside the log's export.

The exported log holds events only, and its file is meant to be shared (a backup, a
migration to PostgreSQL, a support case). Credentials stay out of it: a generic
integration's HMAC secret must be kept in clear to check signatures, and no plaintext
secret belongs in such a file. So they are copied database to database, rows as they
are: token and routing-key hashes, scopes, dates, revocations, and the generic secrets,
which never touch a file on the way. Revoked credentials are copied too: their names
stay taken, because events name them as their actors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Table, select

from application.integrations import integrations
from application.tokens import api_tokens
from eventstore.engine import WRITE

TABLES: tuple[tuple[Table, str, tuple[str, ...]], ...] = (
    (api_tokens, "token_id", ("name", "token_hash")),
    (integrations, "integration_id", ("name", "routing_key_hash")),
)
"""Each table with its key and the unique columns a different row could already hold."""


class CredentialConflict(Exception):
    """The target holds a different credential under a name (or hash) being copied."""


@dataclass(frozen=True, slots=True)
class CopyResult:
    tokens: int
    integrations: int
    already_there: int


def copy_credentials(source: Engine, target: Engine) -> CopyResult:
    """Copy every token and integration row from ``source`` into ``target``, all or nothing.

    A row the target already holds unchanged is left alone, so running it twice is
    harmless; any other clash raises CredentialConflict and copies nothing.
    """
    with source.connect() as conn:
        found = {table.name: _rows(conn, table) for table, _, _ in TABLES}
    copied: dict[str, int] = {}
    already_there = 0
    with target.connect().execution_options(**WRITE) as conn, conn.begin():
        for table, key, unique in TABLES:
            new = _not_there(conn, table, key, unique, found[table.name])
            already_there += len(found[table.name]) - len(new)
            if new:
                conn.execute(table.insert(), new)
            copied[table.name] = len(new)
    return CopyResult(copied[api_tokens.name], copied[integrations.name], already_there)


def _not_there(
    conn: Connection, table: Table, key: str, unique: tuple[str, ...], rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The rows the target lacks; CredentialConflict for one it holds differently."""
    new = []
    for row in rows:
        existing = _existing(conn, table, key, unique, row)
        if existing is None:
            new.append(row)
        elif existing != row:
            raise CredentialConflict(_conflict(table, existing["name"]))
    return new


def _rows(conn: Connection, table: Table) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in conn.execute(select(table))]


def _existing(
    conn: Connection, table: Table, key: str, unique: tuple[str, ...], row: dict[str, Any]
) -> dict[str, Any] | None:
    for column in (key, *unique):
        if row[column] is None:
            continue
        match = conn.execute(select(table).where(table.c[column] == row[column])).first()
        if match is not None:
            return dict(match._mapping)
    return None


def _conflict(table: Table, name: str) -> str:
    kind = "token" if table is api_tokens else "integration"
    message = f"the target already has another {kind} named {name!r}: nothing was copied"
    if table is api_tokens and name == "admin":
        # The usual cause: the new database was served before the copy.
        message += (
            "; the first `incidents serve` of an empty database creates a token named admin,"
            " so copy before serving it, into the database import created"
        )
    return message
