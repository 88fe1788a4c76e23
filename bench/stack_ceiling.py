"""The stack's ceiling for a note command: bare FastAPI, one driver INSERT per request.

What ``POST /incidents/{id}/notes`` could cost if our code cost nothing beyond the web
stack and the database: the same uvicorn settings as ``incidents serve`` (cli/serve.py),
the same note body parsed by pydantic, then one row in its own transaction through the
bare driver into ``raw_events`` (bench/raw_driver.py, a copy of the ``events`` table).
No authentication, no domain, no version check, no projections.

- SQLite: sqlite3 with WAL and the ``synchronous`` level eventstore/engine.py sets,
  ``BEGIN IMMEDIATE`` / INSERT / COMMIT on one connection.
- PostgreSQL: psycopg 3, BEGIN / ``pg_advisory_xact_lock(APPEND_LOCK_KEY)`` (the lock our
  store takes so positions become visible in order) / INSERT ... RETURNING / COMMIT.

.venv/bin/python -m bench.stack_ceiling serve --backend sqlite --url sqlite:////tmp/x.db
.venv/bin/python -m bench.stack_ceiling serve --backend postgresql \
    --url postgresql://postgres@127.0.0.1:5432/db --port 8001
"""

from __future__ import annotations

import argparse
import itertools
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, Literal

import uvicorn
from fastapi import FastAPI
from pydantic import AwareDatetime, BaseModel, ConfigDict
from sqlalchemy import inspect

from bench.ceiling_writers import Writer, writer_for
from bench.common import engine_for
from bench.raw_driver import RAW_TABLE, create_raw_table, is_sqlite
from cli.serve import BACKLOG
from domain.values import NoteText, NoteVisibility


class NoteBody(BaseModel):
    """The fields and constraints of api/schemas/timeline.py's NoteRequest."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: NoteText
    occurred_at: AwareDatetime | None = None
    visibility: NoteVisibility = NoteVisibility.INTERNAL


def create_app(writer: Writer, last_version: int = 0) -> FastAPI:
    """The one route, answering as ours does: 201 with the new note's id and position.

    Versions count on from ``last_version``, the highest in the table: nothing reads the
    stream, yet (stream_id, version) must stay unique across restarts on one table.
    """

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await writer.close()

    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None, lifespan=lifespan)
    versions = itertools.count(last_version + 1)

    @app.post("/incidents/{incident_id}/notes", status_code=201)
    async def add_note(incident_id: uuid.UUID, body: NoteBody) -> dict[str, Any]:
        note_id = uuid.uuid4()
        version = next(versions)
        request_id = uuid.uuid4().hex
        # The row ours stores for a note, field for field.
        position = await writer.append(
            {
                "stream_id": f"incident-{incident_id}",
                "version": version,
                "type": "timeline.note_added",
                "schema_version": 2,
                "data": {
                    "note_id": str(note_id),
                    "text": body.text,
                    "visibility": body.visibility.value,
                },
                "metadata": {
                    "actor": "bench",
                    "source": "api",
                    "request_id": request_id,
                    "correlation_id": request_id,
                },
                "event_id": uuid.uuid4(),
                "occurred_at": body.occurred_at or datetime.now(UTC),
            }
        )
        return {"id": incident_id, "version": version, "position": position, "note_id": note_id}

    return app


def prepare_table(url: str) -> int:
    """Create ``raw_events`` unless it is there; the highest version it holds."""
    engine = engine_for(url)
    try:
        if not inspect(engine).has_table(RAW_TABLE):
            create_raw_table(engine)
        with engine.connect() as conn:
            return int(conn.exec_driver_sql(f"SELECT MAX(version) FROM {RAW_TABLE}").scalar() or 0)
    finally:
        engine.dispose()


def serve(url: str, host: str, port: int, mode: Literal["loop", "threads"], pool: int) -> None:
    """Serve as cli/serve.py does with one worker: uvicorn's defaults (uvloop, httptools)
    with log_level warning and no log configuration, on a socket bound beforehand."""
    last_version = prepare_table(url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(BACKLOG)
    config = uvicorn.Config(
        create_app(writer_for(url, mode, pool), last_version), log_level="warning", log_config=None
    )
    uvicorn.Server(config).run(sockets=[sock])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serving = commands.add_parser("serve", help="serve the ceiling route")
    serving.add_argument("--backend", choices=["sqlite", "postgresql"], required=True)
    serving.add_argument("--url", required=True, help="SQLAlchemy-style database URL")
    serving.add_argument("--host", default="127.0.0.1")
    serving.add_argument("--port", type=int, default=8001)
    serving.add_argument(
        "--mode",
        choices=["loop", "threads"],
        default="loop",
        help="loop: async route, the insert on the event loop (default);"
        " threads: the insert in a worker thread with a connection per thread",
    )
    serving.add_argument(
        "--pool", type=int, default=8, help="PostgreSQL connections in loop mode (default 8)"
    )
    args = parser.parse_args()
    if is_sqlite(args.url) != (args.backend == "sqlite"):
        parser.error(f"--url is not a {args.backend} URL")
    serve(args.url, args.host, args.port, args.mode, args.pool)


if __name__ == "__main__":
    main()
