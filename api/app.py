"""The composition root: settings in, a ready FastAPI application out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import problems
from api.logging import configure_logging
from api.middleware import RequestContext
from api.routers import health, incidents
from api.service import IncidentService
from api.settings import Settings
from eventstore import EventStore
from eventstore.engine import create_engine
from projections.runner import ProjectionRunner


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the engine, store, projections and routes; nothing connects until first use."""
    settings = settings or Settings()
    configure_logging(settings)
    engine = create_engine(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    app = FastAPI(
        title="Incident Ledger",
        version="0.1.0",
        description="Event-sourced incident tracking and postmortems.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.store = EventStore(engine)
    app.state.service = IncidentService(
        app.state.store, ProjectionRunner(), retries=settings.command_retries
    )
    problems.install(app)
    app.include_router(health.router)
    app.include_router(incidents.router)
    app.add_middleware(RequestContext)
    return app
