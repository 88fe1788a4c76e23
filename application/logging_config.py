"""structlog, configured once at start-up: JSON in production, readable on a terminal.

The standard library's records (uvicorn's, SQLAlchemy's) go through the same chain, so
every line, whoever writes it, is rendered alike and scrubbed of credentials alike.
"""

from __future__ import annotations

import logging
import sys

import orjson
import structlog
from structlog.tracebacks import ExceptionDictTransformer

from application.log_lines import LineWriter, writer_for
from application.log_redaction import redact_secrets
from application.settings import Settings


def _json(value: object, **_: object) -> str:
    # orjson: a fraction of the standard library's cost, on a line written per request.
    return orjson.dumps(value, default=repr).decode()


class _StdlibHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The root handler this module installs (and replaces when configured again).

    Its lines go through the same writer as structlog's, so the two stay in order.
    """

    def __init__(self, writer: LineWriter) -> None:
        super().__init__(writer.stream)
        self.writer = writer

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:
            self.handleError(record)
            return
        if record.levelno >= logging.WARNING:
            self.writer.now(line)
        else:
            self.writer.queue(line)


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
    # Frame locals are never rendered: a request's scope, with its Authorization header,
    # is a local of every frame between the server and the route.
    exceptions: structlog.typing.Processor
    renderer: structlog.typing.Processor
    if as_json:
        exceptions = structlog.processors.ExceptionRenderer(
            ExceptionDictTransformer(show_locals=False)
        )
        renderer = structlog.processors.JSONRenderer(serializer=_json)
    else:
        exceptions = structlog.processors.format_exc_info
        renderer = structlog.dev.ConsoleRenderer()
    # Written by a thread of its own: a slow reader of stderr never stalls a request.
    writer = writer_for(sys.stderr)
    level = logging.getLevelNamesMapping().get(settings.log_level.upper(), logging.INFO)
    structlog.configure(
        processors=[*shared, exceptions, redact_secrets, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=lambda *_: writer,
        # Not cached: create_app may configure again (tests, embedding) and loggers
        # bound at import time must follow the newest configuration.
        cache_logger_on_first_use=False,
    )
    handler = _StdlibHandler(writer)
    handler.setLevel(level)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                exceptions,
                redact_secrets,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _StdlibHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
