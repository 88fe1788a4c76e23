"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from api.auth import optional_principal
from api.problems import PROBLEM_JSON, database_unavailable, problem
from api.schemas.examples import HEALTHZ, METRICS, READYZ, answers
from application.database_faults import WRITE_CAUSES, classify, describe
from application.database_health import WriteFailure, WriteHealth, ping
from application.settings import Settings
from projections.status import statuses

public = APIRouter(tags=["health"])
"""Routes that need no token: liveness and readiness (probes carry none)."""

router = APIRouter(tags=["health"])


@public.get("/healthz", summary="Liveness: the process answers", responses=answers(HEALTHZ))
async def healthz() -> dict[str, str]:
    """Answers 200 while the process runs, without touching the database: restart the process when
    it fails."""
    return {"status": "ok"}


@public.get(
    "/readyz",
    summary="Readiness: the database answers, writes succeed, the read models are caught up",
    description=(
        "Needs no token (for probes). With a valid bearer token (read scope) the answer "
        "also lists each read model's position and lag."
    ),
    responses={
        **answers(READYZ),
        503: {"description": "Not ready", "content": {PROBLEM_JSON: {}}},
    },
)
async def readyz(request: Request) -> Any:
    detailed = await optional_principal(request) is not None
    return await run_in_threadpool(_readiness, request.app, detailed)


def _readiness(app: Any, detailed: bool) -> Any:
    engine: Engine = app.state.engine
    settings: Settings = app.state.settings
    health: WriteHealth = app.state.write_health
    try:
        ping(engine)
        if health.due_for_probe():
            # Reads may work on a full or read-only database: only a write can tell.
            health.probe(engine)
        failure = health.failure
        if failure is not None:
            return _writes_failing(failure)
        found = statuses(engine, app.state.projections)
    except SQLAlchemyError as exc:
        cause = classify(exc)
        if cause is None:  # e.g. a database that was never migrated
            return problem(503, f"database not usable: {describe(exc)}")
        failure = health.failure
        if cause in WRITE_CAUSES and failure is not None:
            return _writes_failing(failure)
        return database_unavailable(cause)
    lagging = [
        f"{s.name} is {s.lag} events behind" for s in found if s.lag > settings.ready_max_lag
    ] + [f"{s.name} is being rebuilt for version {s.version}" for s in found if s.outdated]
    body: dict[str, Any] = {"status": "ready" if not lagging else "not ready", "database": "ok"}
    if detailed:
        body["projection_mode"] = settings.projection_mode
        body["projections"] = [
            {
                "name": s.name,
                "version": s.version,
                "stored_version": s.stored_version,
                "position": s.position,
                "lag": s.lag,
                "rebuilding": s.outdated,
            }
            for s in found
        ]
    if lagging:
        detail = "; ".join(lagging) if detailed else "the read models are not caught up yet"
        body.pop("status")  # a problem document's status is the HTTP status
        return problem(503, detail, **body)
    return body


def _writes_failing(failure: WriteFailure) -> JSONResponse:
    when = failure.at.isoformat(timespec="seconds")
    return database_unavailable(failure.cause, f"{failure.cause}: writes are failing (at {when})")


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=PlainTextResponse,
    responses=answers(METRICS, CONTENT_TYPE_LATEST),
)
def metrics(request: Request) -> Response:
    """Prometheus text format: requests, events appended, projection lag; needs a token with the
    read scope."""
    registry = request.app.state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
