"""Request bodies: at most 1 MiB, and JSON; refused before any route sees them."""

from __future__ import annotations

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 1024 * 1024
BODY_METHODS = {"POST", "PUT", "PATCH"}


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


async def _problem(send: Send, status: int, title: str, detail: str) -> None:
    body = orjson.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail})
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimits:
    """413 for a body over 1 MiB (declared or streamed), 415 for a body that is not JSON."""

    def __init__(
        self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES, exempt: tuple[str, ...] = ()
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.exempt = frozenset(exempt)
        """Paths whose routes check the size and type of their bodies themselves."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in BODY_METHODS
            or scope["path"] in self.exempt
        ):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _problem(
                send,
                413,
                "Content Too Large",
                f"request bodies are limited to {self.max_bytes} bytes",
            )
            return
        content_type = headers.get(b"content-type", b"").decode("latin-1")
        has_body = declared not in (None, b"0") or b"transfer-encoding" in headers
        if has_body and content_type and not _is_json(content_type):
            await _problem(
                send,
                415,
                "Unsupported Media Type",
                f"send application/json, not {content_type.split(';')[0]!r}",
            )
            return
        if declared is not None:
            # The server holds the client to its declared length, which is within limits.
            await self.app(scope, receive, send)
            return
        # No declared length (chunked): read up to the limit first, then hand it on.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await _problem(
                    send,
                    413,
                    "Content Too Large",
                    f"request bodies are limited to {self.max_bytes} bytes",
                )
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        buffered: Message = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return buffered
            return await receive()

        await self.app(scope, replay, send)
