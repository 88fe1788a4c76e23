"""Large read-model documents written straight to JSON, in their response model's shape.

A timeline page holds up to 500 entries. Its rows come from the read model with the
response's types already, so it is written with orjson instead of being validated into
models twice (by the endpoint and again by FastAPI against the response model). The
output is what the response model documents: the same fields in the same order, UUIDs
as strings and UTC times in RFC 3339 with ``Z``; tests compare it with the model.
"""

from __future__ import annotations

from typing import Any

import orjson

_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS


def dump_json(document: Any) -> bytes:
    """``document`` as JSON; datetimes must be timezone-aware."""
    return orjson.dumps(document, option=_OPTIONS)


def timeline_entry_json(row: dict[str, Any]) -> dict[str, Any]:
    """A timeline row as ``TimelineEntry`` presents it."""
    return {
        "id": row["entry_id"],
        "kind": row["kind"],
        "text": row["text"],
        "actor": row["actor"],
        "details": row["details"],
        "occurred_at": row["occurred_at"],
        "recorded_at": row["recorded_at"],
        "amended_at": row["amended_at"],
        "position": row["position"],
    }
