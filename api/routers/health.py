"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from api.problems import PROBLEM_JSON
from api.schemas_examples import HEALTHZ, METRICS, READYZ, answers
from api.settings import Settings
from projections.status import statuses

public = APIRouter(tags=["health"])
"""Routes that need no token: only liveness."""

router = APIRouter(tags=["health"])


@public.get("/healthz", summary="Liveness: the process answers", responses=answers(HEALTHZ))
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Readiness: the database answers and the read models are caught up",
    responses={
        **answers(READYZ),
        503: {"description": "Not ready", "content": {PROBLEM_JSON: {}}},
    },
)
def readyz(request: Request) -> Any:
    engine: Engine = request.app.state.engine
    settings: Settings = request.app.state.settings
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        found = statuses(engine, request.app.state.projections)
    except SQLAlchemyError as exc:
        body = {
            "type": "about:blank",
            "title": "Service Unavailable",
            "status": 503,
            "detail": f"database unreachable: {type(exc).__name__}",
        }
        return JSONResponse(body, status_code=503, media_type=PROBLEM_JSON)
    projections = [
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
    problems = [
        f"{s.name} is {s.lag} events behind" for s in found if s.lag > settings.ready_max_lag
    ] + [f"{s.name} is being rebuilt for version {s.version}" for s in found if s.outdated]
    body = {
        "status": "ready" if not problems else "not ready",
        "database": "ok",
        "projection_mode": settings.projection_mode,
        "projections": projections,
    }
    if problems:
        return JSONResponse(
            {
                "type": "about:blank",
                "title": "Service Unavailable",
                "status": 503,
                "detail": "; ".join(problems),
                **body,
            },
            status_code=503,
            media_type=PROBLEM_JSON,
        )
    return body


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=PlainTextResponse,
    responses=answers(METRICS, CONTENT_TYPE_LATEST),
)
def metrics(request: Request) -> Response:
    registry = request.app.state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
