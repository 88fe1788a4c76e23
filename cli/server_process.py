"""The app as a server process runs it: built, then the garbage collector set for serving.

A server holds a large, long-lived heap (modules, routes, schemas, the incident state
cache) and allocates many short-lived objects per request. With the interpreter's
default thresholds a young collection runs every 700 allocations and every few
hundred requests a full one walks the whole heap, holding up every request in flight:
those pauses were most of the p99 of note commands under load. Everything built at
start-up is frozen (never scanned again), and collections run after far more
allocations; cycles are still collected, just in fewer, larger passes.
"""

from __future__ import annotations

import gc

from fastapi import FastAPI

from api.app import create_app
from application.settings import Settings

YOUNG_THRESHOLD = 100_000
"""Allocations (less deallocations) of tracked objects between young collections."""
OLDER_THRESHOLDS = (50, 100)
"""Young collections per middle one, and middle ones per full one."""


def server_app(settings: Settings | None = None) -> FastAPI:
    """``create_app`` with the collector tuned for a long-running server (also uvicorn's
    factory for worker processes, which read their settings from the environment)."""
    app = create_app(settings)
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *OLDER_THRESHOLDS)
    return app
