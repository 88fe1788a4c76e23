"""Every error as ``application/problem+json`` (RFC 9457), with a precise ``detail``."""

from __future__ import annotations

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
from monitoring.mapping import PayloadRefused

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
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] is Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return allowed


def install(app: FastAPI) -> None:
    """Register the handlers that turn every failure into a problem document."""

    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        return problem(_domain_status(exc), exc.detail)

    @app.exception_handler(ConcurrencyError)
    async def _conflict(_: Request, exc: ConcurrencyError) -> JSONResponse:
        return problem(409, f"{exc}; read the incident again and retry")

    @app.exception_handler(EventIdConflict)
    async def _event_id(_: Request, exc: EventIdConflict) -> JSONResponse:
        return problem(409, str(exc))

    @app.exception_handler(InvalidEventData)
    async def _invalid_data(_: Request, exc: InvalidEventData) -> JSONResponse:
        return problem(422, str(exc))

    @app.exception_handler(IdempotencyMismatch)
    async def _idempotency(_: Request, exc: IdempotencyMismatch) -> JSONResponse:
        return problem(422, str(exc))

    @app.exception_handler(PreconditionFailed)
    async def _precondition(_: Request, exc: PreconditionFailed) -> JSONResponse:
        response = problem(412, str(exc), current_version=exc.actual)
        response.headers["ETag"] = f'"{exc.actual}"'
        return response

    @app.exception_handler(RequestValidationError)
    async def _request_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        refused = await refused_credentials(request)
        if refused is not None:  # who may ask comes before what was asked
            return await _http(request, refused)
        unreadable = json_invalid(exc.errors())
        if unreadable is not None:  # no field to name: the body as a whole cannot be read
            return problem(400, unreadable)
        errors = _field_errors(exc.errors())
        detail = "; ".join(f"{'.'.join(map(str, e['location']))}: {e['message']}" for e in errors)
        return problem(422, detail or "invalid request", errors=errors)

    @app.exception_handler(PayloadRefused)
    async def _payload_refused(request: Request, exc: PayloadRefused) -> JSONResponse:
        return await _request_invalid(request, RequestValidationError(exc.errors))

    @app.exception_handler(ValidationError)
    async def _model_invalid(_: Request, exc: ValidationError) -> JSONResponse:
        errors = _field_errors(exc.errors())
        detail = "; ".join(f"{'.'.join(map(str, e['location']))}: {e['message']}" for e in errors)
        return problem(422, detail or "invalid input", errors=errors)

    @app.exception_handler(StarletteHTTPException)
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

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("request.failed")
        return problem(500, "the server failed to handle this request; it has been logged")
