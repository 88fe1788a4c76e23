"""Why a request body could not be read, in words a client can act on.

FastAPI answers a truncated JSON body with a 422 "JSON decode error" at a character
offset, and invalid UTF-8 or nesting deeper than the parser recurses with a bare 400
"There was an error parsing the body". A body that cannot be parsed is not a field
with a wrong value: every such body is a 400 that says what is wrong with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.exceptions import HTTPException

FASTAPI_PARSE_ERROR = "There was an error parsing the body"


def json_invalid(errors: Sequence[Any]) -> str | None:
    """The detail for FastAPI's ``json_invalid`` error, if that is among ``errors``."""
    for error in errors:
        if error.get("type") == "json_invalid":
            loc = error.get("loc", ())
            where = (
                f" at character {loc[1] + 1}" if len(loc) > 1 and isinstance(loc[1], int) else ""
            )
            reason = (error.get("ctx") or {}).get("error") or "not JSON"
            return f"the body is not valid JSON: {reason}{where}"
    return None


def unparseable(exc: HTTPException) -> str | None:
    """The detail FastAPI's bare 400 for a body it could not parse should have had."""
    if exc.detail != FASTAPI_PARSE_ERROR:
        return None
    cause = exc.__cause__
    if isinstance(cause, UnicodeDecodeError):
        byte = cause.object[cause.start : cause.start + 1].hex()
        return (
            f"the body is not valid UTF-8: byte 0x{byte} at offset {cause.start}"
            f" ({cause.reason}); send JSON encoded as UTF-8"
        )
    if isinstance(cause, RecursionError):
        return "the body nests arrays and objects too deeply to be parsed"
    return f"the body could not be parsed: {cause}"
