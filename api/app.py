"""The composition root: settings in, a ready FastAPI application out."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI

from api import docs, openapi, problems
from api.auth import AuthCheck, require, require_ingest
from api.limits import BodyLimits
from api.metrics import Metrics
from api.middleware import Failures, RequestContext
from api.routers import (
    action_items,
    events,
    health,
    hooks,
    incidents,
    integrations,
    lifecycle,
    pagerduty,
    postmortem,
)
from application.alert_ingestion import Generations
from application.database_health import WriteHealth
from application.integrations import IntegrationStore
from application.log_setup import configure_logging
from application.service import IncidentService
from application.settings import Settings
from application.tokens import Scope, TokenStore
from eventstore import EventStore
from eventstore.engine import create_engine
from monitoring.mapping import SeverityMap
from projections.rebuild import rebuild_outdated
from projections.runner import ProjectionRunner, default_projections


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the engine, store, projections and routes; nothing connects until first use."""
    settings = settings or Settings()
    configure_logging(settings)
    engine = create_engine(
        settings.database_url,
        sqlite_synchronous=settings.sqlite_synchronous,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        # Error messages (logged) never carry bound values: idempotency keys, names.
        hide_parameters=True,
    )
    write_health = WriteHealth()
    write_health.watch(engine)

    projections = default_projections()
    inline = settings.projection_mode == "inline"

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if settings.admin_token:
            tokens.ensure("admin", {Scope.ADMIN}, settings.admin_token)
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
        # /docs is served from the packaged Swagger UI (api.docs); no docs page loads a CDN.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.store = EventStore(engine)
    app.state.projections = projections
    metrics = Metrics(engine, projections)
    app.state.metrics = metrics
    app.state.write_health = write_health
    tokens = TokenStore(engine)
    app.state.tokens = tokens

    def appended(count: int) -> None:
        metrics.events_appended.inc(count)
        write_health.succeeded()  # a committed append: writes work again

    app.state.service = IncidentService(
        app.state.store,
        ProjectionRunner(projections) if inline else None,
        retries=settings.command_retries,
        on_appended=appended,
    )
    app.state.integrations = IntegrationStore(engine)
    app.state.alert_generations = Generations()
    app.state.severities = SeverityMap(settings.severity_map)
    problems.install(app)
    docs.install(app)
    app.include_router(health.public)
    # Which auth check guards each route (by id), for the validation error handler too:
    # FastAPI validates a body before it runs dependencies, and credentials come first.
    app.state.auth_checks = {}

    def include(router: APIRouter, check: AuthCheck) -> None:
        app.include_router(router, dependencies=[Depends(check)])
        app.state.auth_checks.update(dict.fromkeys(map(id, router.routes), check))

    authenticated = require()
    include(health.router, authenticated)
    include(incidents.router, authenticated)
    include(lifecycle.router, authenticated)
    include(action_items.router, authenticated)
    include(postmortem.router, authenticated)
    include(events.router, authenticated)
    include(hooks.router, require_ingest())
    app.include_router(hooks.signed)  # authenticated by the request's HMAC signature
    app.include_router(pagerduty.router)  # authenticated by the event's routing key
    include(integrations.router, require(Scope.ADMIN))
    # PagerDuty's route limits its body itself, and refuses in PagerDuty's own words.
    app.add_middleware(BodyLimits, exempt=(pagerduty.PATH,))
    openapi.install(app, body_exempt=(pagerduty.PATH,))
    app.add_middleware(Failures)  # inside RequestContext: the access line has the real status
    app.add_middleware(RequestContext, metrics=metrics)
    return app
