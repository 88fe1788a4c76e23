"""Puts the web interface on the service's HTTP application: its pages under /ui, its
files under /ui/static, ``/`` sending people to the incident list, and the headers that
keep pages from running anything the service did not send."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from web import error_pages
from web.history import RefusalsStayPut
from web.routes import (
    action_items,
    incident,
    incident_classification,
    incident_forms,
    incidents,
    insights,
    postmortem,
    search,
    sign_in,
    webhooks,
)
from web.security_headers import SecurityHeaders
from web.templating import STATIC

PREFIX = "/ui"


def _home() -> RedirectResponse:
    return RedirectResponse(f"{PREFIX}/incidents", status_code=307)


def install(app: FastAPI) -> None:
    error_pages.install(app, PREFIX)
    app.add_api_route("/", _home, include_in_schema=False)
    pages = (sign_in, incidents, incident, incident_forms, incident_classification, postmortem)
    for module in (*pages, action_items, insights, search, webhooks):
        app.include_router(module.router)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC), name="web-static")
    app.add_middleware(SecurityHeaders, prefixes=(f"{PREFIX}/",))
    app.add_middleware(RefusalsStayPut, prefix=f"{PREFIX}/")
