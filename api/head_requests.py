"""HEAD wherever GET is (RFC 9110 9.3.2): the GET route answers, and its status and
headers are sent without its body.

FastAPI routes take only the methods they declare, so every GET route refused HEAD with
405. Here a HEAD request is routed as a GET; once the answer's headers are out, the
request is over for the route: its body goes nowhere, and the route is told the client
has gone, so an endless answer (GET /events/stream) stops instead of running on unseen.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DISCONNECT: Message = {"type": "http.disconnect"}
BODY_MESSAGES = frozenset(
    {"http.response.body", "http.response.pathsend", "http.response.zerocopysend"}
)
"""The ways an answer's body is sent (the last two are ASGI extensions for files)."""


class HeadAsGet:
    """Pure ASGI middleware: HEAD is answered by the GET route, headers only."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        # A copy: the server reads the method from its own scope to send no body, and the
        # access line names the method the client used.
        as_get = {**scope, "method": "GET"}
        answered = False

        async def headers_only(message: Message) -> None:
            nonlocal answered
            if message["type"] not in BODY_MESSAGES:
                await send(message)
            elif not answered:
                answered = True
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        async def until_answered() -> Message:
            # ASGI: once the response is complete, receive reports a disconnect. A route
            # already waiting in receive hears it from the server the same way.
            if answered:
                return DISCONNECT
            return await receive()

        try:
            await self.app(as_get, until_answered, headers_only)
        finally:
            if "route" in as_get:  # the route matched, for the request metrics' label
                scope["route"] = as_get["route"]
