"""structlog, configured once at start-up: JSON in production, readable on a terminal."""

from __future__ import annotations

import logging
import sys

import structlog

from api.settings import Settings


def configure_logging(settings: Settings) -> None:
    """Route structlog and the standard library through one processor chain."""
    as_json = settings.log_format == "json" or (
        settings.log_format == "auto" and not sys.stderr.isatty()
    )
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.typing.Processor
    if as_json:
        shared.append(structlog.processors.dict_tracebacks)
        renderer = structlog.processors.JSONRenderer()
    else:
        renderer = structlog.dev.ConsoleRenderer()
    level = logging.getLevelNamesMapping().get(settings.log_level.upper(), logging.INFO)
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        # Not cached: create_app may configure again (tests, embedding) and loggers
        # bound at import time must follow the newest configuration.
        cache_logger_on_first_use=False,
    )
