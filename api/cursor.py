"""Opaque keyset cursors for paginated lists."""

from __future__ import annotations

import base64
from datetime import datetime
from uuid import UUID

from fastapi import HTTPException


def encode_cursor(at: datetime, key: UUID) -> str:
    raw = f"{at.isoformat()}|{key}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    """The (time, id) a cursor points after; 400 when it was not made by this service."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, key = raw.split("|")
        parsed = datetime.fromisoformat(at)
        if parsed.tzinfo is None:
            raise ValueError("naive time")
        return parsed, UUID(key)
    except ValueError as exc:
        raise HTTPException(400, f"cursor {cursor!r} is not valid") from exc
