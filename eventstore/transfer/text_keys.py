"""The data keys of sealed text in a log file, and the erasures that deleted some.

An export carries every event as stored — sealed fields as envelopes, which the chain
covers — so the text that is still readable needs its keys beside it. After the events
come one line per live data key and one per erasure, sorted, then the trailer::

    {"text_key":{"key":"<32 bytes, base64>","key_id":"<32 hex>","scope":"note:…"}}
    {"text_erasure":{"erased_at":"…","erased_by":"alice","position":48213,"reason":"…","scope":"note:…"}}

Keys are written unwrapped, so the file opens on a service with another secret key:
import wraps them again with its own. An erased note has no key line: its text is in
no export made after the redaction. The trailer's digest covers these lines too.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, select

from eventstore.schema import text_erasures, text_keys
from eventstore.sealed_text import SealedTextUnavailable, TextVault, vault_of
from eventstore.transfer.format import format_time

_SORTED_LINE = orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE
_KEY_ID = re.compile(r"[0-9a-f]{32}")
_PAGE = 5000
KEY_LINE = "text_key"
ERASURE_LINE = "text_erasure"
SCOPE_MAX = 400
"""An alert scope is 52 characters and a key of up to 255; the columns hold 400."""


@dataclass(frozen=True, slots=True)
class KeyRecord:
    scope: str
    key_id: str
    key: bytes


@dataclass(frozen=True, slots=True)
class ErasureRecord:
    scope: str
    position: int
    erased_at: datetime
    erased_by: str | None
    reason: str


def _vault(conn: Connection) -> TextVault:
    vault = vault_of(conn.engine)
    if vault is None:
        raise SealedTextUnavailable(
            "the log holds sealed text, but no text vault is installed on this engine:"
            " set INCIDENTS_SECRET_KEY to the key it was sealed with"
        )
    return vault


def key_lines(conn: Connection) -> Iterator[bytes]:
    """Every live key (unwrapped) and every erasure, as log-file lines, sorted; read in
    pages (a server-side cursor on PostgreSQL), so memory does not grow with them."""
    keys = conn.execution_options(yield_per=_PAGE).execute(
        select(text_keys.c.scope, text_keys.c.key_id, text_keys.c.wrapped_key).order_by(
            text_keys.c.scope, text_keys.c.key_id
        )
    )
    vault: TextVault | None = None
    for scope, key_id, wrapped in keys:
        vault = vault or _vault(conn)
        key = base64.b64encode(vault.unwrap(bytes(wrapped), key_id)).decode("ascii")
        line = {KEY_LINE: {"scope": scope, "key_id": key_id, "key": key}}
        yield orjson.dumps(line, option=_SORTED_LINE)
    erased = conn.execution_options(yield_per=_PAGE).execute(
        select(text_erasures).order_by(text_erasures.c.scope)
    )
    for row in erased:
        record = {
            "scope": row.scope,
            "position": row.position,
            "erased_at": format_time(row.erased_at),
            "erased_by": row.erased_by,
            "reason": row.reason,
        }
        yield orjson.dumps({ERASURE_LINE: record}, option=_SORTED_LINE)


def is_key_line(document: Any) -> bool:
    return isinstance(document, dict) and (KEY_LINE in document or ERASURE_LINE in document)


def _text(value: Any, name: str, *, most: int = SCOPE_MAX) -> str:
    if not isinstance(value, str) or not value or len(value) > most:
        raise ValueError(f"{name} must be text of 1 to {most} characters")
    return value


def _time(value: Any) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValueError("a text erasure's erased_at must be an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise ValueError("a text erasure's erased_at must carry a UTC offset")
    return moment.astimezone(UTC)


def parse_key_line(document: dict[str, Any]) -> KeyRecord | ErasureRecord:
    """One key or erasure line's record; ValueError saying what is wrong when it is not one."""
    if set(document) == {KEY_LINE} and isinstance(document[KEY_LINE], dict):
        item = document[KEY_LINE]
        if set(item) != {"scope", "key_id", "key"}:
            raise ValueError("a text key line has scope, key_id and key")
        try:
            key = base64.b64decode(_text(item["key"], "key"), validate=True)
        except binascii.Error:
            raise ValueError("a text key's key is not base64") from None
        if len(key) != 32:
            raise ValueError("a text key's key is not 32 bytes")
        key_id = item["key_id"]
        if not isinstance(key_id, str) or _KEY_ID.fullmatch(key_id) is None:
            raise ValueError(
                "a text key's key_id must be its event's id as 32 lowercase hex digits"
            )
        return KeyRecord(_text(item["scope"], "scope"), key_id, key)
    if set(document) == {ERASURE_LINE} and isinstance(document[ERASURE_LINE], dict):
        item = document[ERASURE_LINE]
        if set(item) != {"scope", "position", "erased_at", "erased_by", "reason"}:
            raise ValueError(
                "a text erasure line has scope, position, erased_at, erased_by and reason"
            )
        position = item["position"]
        if not isinstance(position, int) or isinstance(position, bool) or position < 1:
            raise ValueError("a text erasure's position must be a positive integer")
        erased_by = item["erased_by"]
        if erased_by is not None:
            erased_by = _text(erased_by, "erased_by", most=200)
        reason = item["reason"]
        if not isinstance(reason, str):
            raise ValueError("a text erasure's reason must be text")
        return ErasureRecord(
            _text(item["scope"], "scope"),
            position,
            _time(item["erased_at"]),
            erased_by,
            reason,
        )
    raise ValueError("not a text key or text erasure line")


def store_key_records(
    conn: Connection,
    records: list[KeyRecord | ErasureRecord],
    positions: Mapping[tuple[str, str], int],
) -> None:
    """Insert the file's keys (wrapped under this service's key), each under the position
    of its event (``positions``: by scope and key id), and erasures."""
    keys = [r for r in records if isinstance(r, KeyRecord)]
    erasures = [r for r in records if isinstance(r, ErasureRecord)]
    if keys:
        vault = _vault(conn)
        conn.execute(
            text_keys.insert(),
            [
                {
                    "position": positions[k.scope, k.key_id],
                    "key_id": k.key_id,
                    "scope": k.scope,
                    "wrapped_key": vault.wrap(k.key, k.key_id),
                }
                for k in keys
            ],
        )
    if erasures:
        conn.execute(
            text_erasures.insert(),
            [
                {
                    "scope": e.scope,
                    "position": e.position,
                    "erased_at": e.erased_at,
                    "erased_by": e.erased_by,
                    "reason": e.reason,
                }
                for e in erasures
            ],
        )
