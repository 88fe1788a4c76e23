"""Every error as ``application/problem+json`` (RFC 9457), with a precise ``detail``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from api.auth import refused_credentials
from api.body_errors import json_invalid, unparseable
from application.database_faults import RETRY_AFTER, Cause
from application.idempotency import IdempotencyMismatch
from application.service import PreconditionFailed
from domain.errors import (
    DomainError,
    EntryNotFound,
    IncidentAlreadyExists,
    IncidentNotFound,
)
from eventstore import ConcurrencyError, EventIdConflict, InvalidEventData
from eventstore.sealed_text import SealedTextUnavailable
from monitoring.mapping import PayloadRefused
from projections.keysets import InvalidCursor

PROBLEM_JSON = "application/problem+json"

log = structlog.get_logger()


def problem(status: int, detail: str, *, title: str | None = None, **extra: Any) -> JSONResponse:
    """A problem+json response."""
    body = {
        "type": "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def database_unavailable(cause: Cause, detail: str | None = None) -> JSONResponse:
    """503 for a database fault: the cause, and how long to wait before retrying."""
    seconds = RETRY_AFTER[cause]
    response = problem(
        503,
        detail or f"{cause}: the request could not be carried out; retry in {seconds} seconds",
        cause=cause.value,
    )
    response.headers["Retry-After"] = str(seconds)
    return response


def unexpected_failure() -> JSONResponse:
    """500 for a bug; the connection stays usable (the response is complete)."""
    return problem(500, "the server failed to handle this request; it has been logged")


def _domain_status(error: DomainError) -> int:
    if isinstance(error, IncidentNotFound | EntryNotFound):
        return 404
    if isinstance(error, IncidentAlreadyExists):
        return 409
    return 422


def _field_errors(errors: Any) -> list[dict[str, Any]]:
    return [
        {
            "location": list(err.get("loc", ())),
            "message": err.get("msg", ""),
            "type": err.get("type"),
        }
        for err in errors
    ]


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route accepts on this path (routers may be nested, so ask each)."""
    allowed = []
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"):
        # HEAD is answered by the GET route (api.head_requests).
        scope = {**request.scope, "method": "GET" if method == "HEAD" else method}
        if any(route.matches(scope)[0] is Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return allowed


async def _domain(_: Request, exc: DomainError) -> JSONResponse:
    return problem(_domain_status(exc), exc.detail)


async def _conflict(_: Request, exc: ConcurrencyError) -> JSONResponse:
    return problem(409, f"{exc}; read the incident again and retry")


async def _conflict_as_is(_: Request, exc: Exception) -> JSONResponse:
    return problem(409, str(exc))


async def _unprocessable_as_is(_: Request, exc: Exception) -> JSONResponse:
    return problem(422, str(exc))


async def _precondition(_: Request, exc: PreconditionFailed) -> JSONResponse:
    response = problem(412, str(exc), current_version=exc.actual)
    response.headers["ETag"] = f'"{exc.actual}"'
    return response


async def _request_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
    refused = await refused_credentials(request)
    if refused is not None:  # who may ask comes before what was asked
        return await _http(request, refused)
    unreadable = json_invalid(exc.errors())
    if unreadable is not None:  # no field to name: the body as a whole cannot be read
        return problem(400, unreadable)
    return _invalid_fields(exc.errors(), "invalid request")


async def _payload_refused(request: Request, exc: PayloadRefused) -> JSONResponse:
    return await _request_invalid(request, RequestValidationError(exc.errors))


async def _cursor_invalid(request: Request, exc: InvalidCursor) -> JSONResponse:
    """A 422 naming the ``cursor`` query value, like every other bad query value."""
    error = {
        "loc": ("query", "cursor"),
        "msg": str(exc),
        "type": "cursor_invalid",
        "input": exc.cursor,
    }
    return await _request_invalid(request, RequestValidationError([error]))


async def _model_invalid(_: Request, exc: ValidationError) -> JSONResponse:
    return _invalid_fields(exc.errors(), "invalid input")


def _invalid_fields(raw_errors: Any, fallback: str) -> JSONResponse:
    errors = _field_errors(raw_errors)
    detail = "; ".join(f"{'.'.join(map(str, e['location']))}: {e['message']}" for e in errors)
    return problem(422, detail or fallback, errors=errors)


async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    detail = str(exc.detail)
    unreadable = unparseable(exc) if exc.status_code == 400 else None
    if unreadable is not None:  # FastAPI's bare 400 for a body it could not parse
        refused = await refused_credentials(request)
        if refused is not None:
            return await _http(request, refused)
        detail = unreadable
    response = problem(exc.status_code, detail)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    if exc.status_code == 405:
        # Starlette names only the first route whose path matched; RFC 9110 wants all.
        response.headers["Allow"] = ", ".join(_allowed_methods(request))
    return response


async def _sealed_text(_: Request, exc: SealedTextUnavailable) -> JSONResponse:
    # The service's configuration, not the request: the operator must set the right key.
    log.error("sealed_text.unavailable", error=str(exc))
    return problem(503, str(exc), title="Sealed text cannot be opened")


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("request.failed")
    return unexpected_failure()


HANDLERS: tuple[tuple[type[Exception], Callable[..., Awaitable[JSONResponse]]], ...] = (
    (DomainError, _domain),
    (ConcurrencyError, _conflict),
    (EventIdConflict, _conflict_as_is),
    (InvalidEventData, _unprocessable_as_is),
    (IdempotencyMismatch, _unprocessable_as_is),
    (PreconditionFailed, _precondition),
    (RequestValidationError, _request_invalid),
    (PayloadRefused, _payload_refused),
    (InvalidCursor, _cursor_invalid),
    (ValidationError, _model_invalid),
    (StarletteHTTPException, _http),
    (SealedTextUnavailable, _sealed_text),
    (Exception, _unexpected),
)
"""Each failure and the handler that turns it into a problem document."""


def install(app: FastAPI) -> None:
    """Register the handlers that turn every failure into a problem document."""
    for error, handler in HANDLERS:
        app.add_exception_handler(error, handler)
