"""Request bodies: at most 1 MiB whatever the method, and JSON (or a form, under the web
interface's paths) where the method takes one; refused before any route sees them."""

from __future__ import annotations

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import problem

MAX_BODY_BYTES = 1024 * 1024
BODY_METHODS = {"POST", "PUT", "PATCH"}


FORM = "application/x-www-form-urlencoded"


def _media(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _is_json(content_type: str) -> bool:
    media = _media(content_type)
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


class BodyLimits:
    """413 for a body over 1 MiB (declared or streamed), 415 for a body that is not JSON."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int = MAX_BODY_BYTES,
        exempt: tuple[str, ...] = (),
        forms_under: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.exempt = frozenset(exempt)
        """Paths whose routes check the size and type of their bodies themselves."""
        self.forms_under = forms_under
        """Path prefixes whose routes take HTML forms (urlencoded) instead of JSON."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        typed = scope["method"] in BODY_METHODS
        if not typed and declared is None and b"transfer-encoding" not in headers:
            await self.app(scope, receive, send)  # no body to hold to the limit
            return
        forms = scope["path"].startswith(self.forms_under) if self.forms_under else False
        refusal = self._refusal(headers, declared, forms=forms, typed=typed)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        if declared is not None:
            # The server holds the client to its declared length, which is within limits.
            await self.app(scope, receive, send)
            return
        # No declared length (chunked): read up to the limit first, then hand it on.
        buffered = await self._read_within_limit(receive)
        if buffered is None:
            return  # the client went away
        if isinstance(buffered, JSONResponse):
            await buffered(scope, receive, send)
            return
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return buffered
            return await receive()

        await self.app(scope, replay, send)

    def _too_large(self) -> JSONResponse:
        # RFC 9110's name for 413; Python before 3.13 still says "Request Entity Too Large".
        title = "Content Too Large"
        return problem(413, f"request bodies are limited to {self.max_bytes} bytes", title=title)

    def _refusal(
        self, headers: dict[bytes, bytes], declared: bytes | None, *, forms: bool, typed: bool
    ) -> JSONResponse | None:
        """The answer the headers alone call for: a declared length too large, or, where
        the method takes a body (``typed``), not JSON (nor, where ``forms``, a form)."""
        if (
            declared is not None
            and declared.isascii()
            and declared.isdigit()
            and int(declared) > self.max_bytes
        ):
            return self._too_large()
        content_type = headers.get(b"content-type", b"").decode("latin-1")
        has_body = declared not in (None, b"0") or b"transfer-encoding" in headers
        accepted = _is_json(content_type) or (forms and _media(content_type) == FORM)
        if typed and has_body and content_type and not accepted:
            return problem(415, f"send application/json, not {content_type.split(';')[0]!r}")
        return None

    async def _read_within_limit(self, receive: Receive) -> Message | JSONResponse | None:
        """The whole body as one message, a 413 once it passes the limit, None on a disconnect."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return self._too_large()
            chunks.append(chunk)
            if not message.get("more_body", False):
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
