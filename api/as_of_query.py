"""``?as_of=``: the query parameter naming a past moment, and the app's cache of replays."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.exceptions import RequestValidationError

from projections.as_of import AsOf, parse_as_of
from projections.decoded_streams import DecodedStreams

AS_OF_DESCRIPTION = (
    "Answer as the service stood at a past moment. A non-negative integer is a log"
    " position: the events at or before it. An RFC 3339 time (with a timezone; write `+`"
    " as `%2B`) means everything the service had **recorded** by then (`recorded_at <="
    " as_of`), not what had **occurred** by then: a note recorded at 15:00 about something"
    " that happened at 14:00 is not part of `as_of=14:30`, because at 14:30 nobody had"
    " written it yet. A time in the future gives the current state; a moment before the"
    " incident was declared is 404."
)

AS_OF_EXAMPLES = ["2026-03-02T10:30:00Z", "1234"]


def invalid_query(name: str, value: str, message: str) -> RequestValidationError:
    """A 422 naming the query parameter, like FastAPI's own validation errors."""
    if " " in value and "T" in value.upper():
        message += " (a '+' in a URL query means a space: write it as %2B)"
    error = {"loc": ("query", name), "msg": message, "type": "value_error", "input": value}
    return RequestValidationError([error])


def as_of_query(
    as_of: Annotated[
        str | None,
        Query(min_length=1, max_length=64, description=AS_OF_DESCRIPTION, examples=AS_OF_EXAMPLES),
    ] = None,
) -> AsOf | None:
    """The ``as_of`` query parameter; 422 when it is neither a position nor an RFC 3339 time."""
    if as_of is None:
        return None
    parsed = parse_as_of(as_of)
    if parsed is None:
        raise invalid_query(
            "as_of",
            as_of,
            "as_of must be a log position (a non-negative integer below 2^63) or an RFC 3339"
            " time with a timezone, such as 2026-03-02T10:30:00Z",
        )
    return parsed


async def decoded_streams(request: Request) -> DecodedStreams:
    """The app's recently replayed streams (see projections/decoded_streams.py).

    Made on first use and kept on ``app.state``; this runs on the event loop (it is
    async), so two first requests cannot each make one.
    """
    state = request.app.state
    streams: DecodedStreams | None = getattr(state, "decoded_streams", None)
    if streams is None:
        streams = state.decoded_streams = DecodedStreams()
    return streams


AsOfDep = Annotated[AsOf | None, Depends(as_of_query)]
DecodedStreamsDep = Annotated[DecodedStreams, Depends(decoded_streams)]
