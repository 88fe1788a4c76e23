"""Per-request context: a request id bound to every log line, one access-log line, metrics."""

from __future__ import annotations

import time
import uuid

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.correlation import is_usable_id
from api.metrics import Metrics
from api.problems import database_unavailable, unexpected_failure
from application.database_faults import classify, describe

log = structlog.get_logger("access")

REQUEST_ID_HEADER = b"x-request-id"
REQUEST_ID_RULE = "X-Request-ID must be 1 to 200 visible ASCII characters (no spaces)"


class RequestContext:
    """Pure ASGI middleware (cheaper than BaseHTTPMiddleware on every request)."""

    def __init__(self, app: ASGIApp, metrics: Metrics | None = None) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(REQUEST_ID_HEADER, b"").decode("latin-1")
        # An unusable id is replaced, not refused: proxies and load balancers set this
        # header, and a request must not fail over it. The answer carries the new id.
        usable = is_usable_id(incoming)
        request_id = incoming if usable else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        if incoming and not usable:
            # Its length, not its text: the value is whatever the client put there.
            log.info("request_id.replaced", reason=REQUEST_ID_RULE, sent_length=len(incoming))
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append(
                    (REQUEST_ID_HEADER, request_id.encode("latin-1"))
                )
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            # Authentication runs in a worker thread on a copy of the context, so the
            # actor is read from the request state it leaves behind.
            principal = scope.get("state", {}).get("principal")
            log.info(
                "request",
                actor=getattr(principal, "name", None),
                method=scope["method"],
                path=scope["path"],
                status=status,
                duration_ms=round(seconds * 1000, 2),
            )
            if self.metrics is not None:
                route = getattr(scope.get("route"), "path", None) or "unmatched"
                self.metrics.observe(scope["method"], route, status, seconds)


class Failures:
    """Every exception a route lets through becomes a complete problem response.

    A database fault is a 503 naming its cause; anything else a 500, logged here.
    Starlette's own last-resort handler would answer and then re-raise, and the server,
    seeing the exception, would drop the keep-alive connection without a
    ``Connection: close``, failing the client's next request too. Here the exception
    ends with the answer, so the connection stays usable.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception as exc:
            if started:  # too late for an answer of our own; the server ends the response
                raise
            cause = classify(exc)
            if cause is None:
                log.exception("request.failed", method=scope["method"], path=scope["path"])
                response = unexpected_failure()
            else:
                log.warning(
                    "request.database_fault",
                    cause=cause.value,
                    error=describe(exc),
                    method=scope["method"],
                    path=scope["path"],
                )
                response = database_unavailable(cause)
            await response(scope, receive, send)
