"""The composition root: settings in, a ready FastAPI application out."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import problems
from api.logging import configure_logging
from api.middleware import RequestContext
from api.routers import action_items, health, incidents, lifecycle, postmortem
from api.service import IncidentService
from api.settings import Settings
from eventstore import EventStore
from eventstore.engine import create_engine
from projections.rebuild import rebuild_outdated
from projections.runner import ProjectionRunner, default_projections


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the engine, store, projections and routes; nothing connects until first use."""
    settings = settings or Settings()
    configure_logging(settings)
    engine = create_engine(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)

    projections = default_projections()
    inline = settings.projection_mode == "inline"

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        rebuilder = None
        if inline:
            # Read models whose code changed are rebuilt beside the live tables and
            # swapped in; until then the old tables keep answering.
            rebuilder = threading.Thread(
                target=rebuild_outdated, args=(engine, projections), daemon=True
            )
            rebuilder.start()
        yield
        if rebuilder is not None:
            rebuilder.join(timeout=5)
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
    app.state.projections = projections
    app.state.service = IncidentService(
        app.state.store,
        ProjectionRunner(projections) if inline else None,
        retries=settings.command_retries,
    )
    problems.install(app)
    app.include_router(health.router)
    app.include_router(incidents.router)
    app.include_router(lifecycle.router)
    app.include_router(action_items.router)
    app.include_router(postmortem.router)
    app.add_middleware(RequestContext)
    return app
