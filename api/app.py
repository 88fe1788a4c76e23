"""The HTTP application: settings in, the service's parts built (application.bootstrap),
and a ready FastAPI application on top of them out."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import fields

from fastapi import APIRouter, Depends, FastAPI

from api import docs, openapi, problems
from api.auth import AuthCheck, require, require_ingest
from api.declared_inputs import declared_inputs_only
from api.event_stream import StreamSlots
from api.head_requests import HeadAsGet
from api.limits import BodyLimits
from api.metrics import Metrics
from api.middleware import Failures, RequestContext
from api.routers import (
    action_items,
    classification,
    events,
    facts,
    health,
    hooks,
    incidents,
    insights,
    integrations,
    log,
    pagerduty,
    postmortem,
    postmortems,
    search,
    similar,
    webhooks,
)
from application.bootstrap import Runtime, build
from application.log_lines import flush_all
from application.logging_config import configure_logging
from application.settings import Settings
from application.tokens import Scope
from monitoring.mapping import SeverityMap
from web import install as web


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service's parts and the routes over them; nothing connects until first use."""
    settings = settings or Settings()
    configure_logging(settings)
    metrics = Metrics()
    runtime = build(settings, on_appended=metrics.events_appended.inc)
    metrics.watch_projections(runtime.engine, runtime.projections)
    app = FastAPI(
        title="Incident Ledger",
        version="0.1.0",
        description="Event-sourced incident tracking and postmortems.",
        lifespan=_lifespan(runtime),
        # /docs is served from the packaged Swagger UI (api.docs); no docs page loads a CDN.
        docs_url=None,
        redoc_url=None,
    )
    _keep_on_state(app, runtime, metrics)
    # Through app.state: the service there is the one whose clock commands follow.
    metrics.watch_open_work(runtime.engine, lambda: app.state.service.now())
    problems.install(app)
    docs.install(app)
    _include_routers(app)
    web.install(app)  # the pages for people, under /ui, on the same parts
    # PagerDuty's route limits its body itself, and refuses in PagerDuty's own words.
    # The web interface's pages post HTML forms.
    app.add_middleware(BodyLimits, exempt=(pagerduty.PATH,), forms_under=(web.PREFIX + "/",))
    openapi.install(app, body_exempt=(pagerduty.PATH,))
    app.add_middleware(HeadAsGet)  # every GET route, pages included, answers HEAD too
    app.add_middleware(Failures)  # inside RequestContext: the access line has the real status
    app.add_middleware(RequestContext, metrics=metrics)
    return app


def _lifespan(runtime: Runtime) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            with runtime.serving():
                yield
        finally:
            flush_all()  # the lines of a server that stops are written before it is gone

    return lifespan


def _keep_on_state(app: FastAPI, runtime: Runtime, metrics: Metrics) -> None:
    """The runtime on app.state, each of its parts under its own name (where api.dependencies
    and the routers look them up), and the parts only HTTP has."""
    state = app.state
    state.runtime = runtime
    for part in fields(runtime):
        setattr(state, part.name, getattr(runtime, part.name))
    state.metrics = metrics
    state.stream_slots = StreamSlots(runtime.settings.events_stream_max_clients)
    # The monitoring formats' severity labels: monitoring sits above the application layer.
    state.severities = SeverityMap(runtime.settings.severity_map)
    # Which auth check guards each route (by id), for the validation error handler too:
    # FastAPI validates a body before it runs dependencies, and credentials come first.
    state.auth_checks = {}
    # What each route reads from a request (by id), for api.declared_inputs.
    state.declared_inputs = {}


def _include_routers(app: FastAPI) -> None:
    # After the auth check: who may ask comes before what was asked.
    only_declared = Depends(declared_inputs_only)
    app.include_router(health.public, dependencies=[only_declared])
    checks: dict[int, AuthCheck] = app.state.auth_checks

    def include(router: APIRouter, check: AuthCheck) -> None:
        app.include_router(router, dependencies=[Depends(check), only_declared])
        checks.update(dict.fromkeys(map(id, router.routes), check))

    authenticated = require()
    include(health.router, authenticated)
    include(incidents.router, authenticated)
    include(facts.router, authenticated)
    include(classification.router, authenticated)
    include(action_items.router, authenticated)
    include(postmortem.router, authenticated)
    include(postmortems.router, authenticated)
    include(events.router, authenticated)
    include(log.router, authenticated)
    include(search.router, authenticated)
    include(similar.router, authenticated)
    include(insights.router, authenticated)
    include(hooks.router, require_ingest())
    # Authenticated by the request's HMAC signature.
    app.include_router(hooks.signed, dependencies=[only_declared])
    # Authenticated by the event's routing key; every refusal in PagerDuty's own words.
    app.include_router(pagerduty.router)
    include(integrations.router, require(Scope.ADMIN))
    include(webhooks.router, require(Scope.ADMIN))
