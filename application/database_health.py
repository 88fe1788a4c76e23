"""Whether writes are failing: reads can work on a full or read-only database, so
/readyz cannot learn it from a ``SELECT 1``; it remembers the last write failure."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import uuid4

from sqlalchemy import Engine, event, text
from sqlalchemy.engine import ExceptionContext

from application.database_faults import WRITE_CAUSES, Cause, classify
from application.tokens import api_tokens
from eventstore.engine import WRITE


@dataclass(frozen=True, slots=True)
class WriteFailure:
    cause: Cause
    at: datetime
    monotonic: float


class WriteHealth:
    """The newest write failure of this process's engine, until a write succeeds."""

    def __init__(self, probe_after_seconds: float = 30.0) -> None:
        self.probe_after_seconds = probe_after_seconds
        """How long a failure stands before /readyz tries a write of its own: a small
        probe may fit on a disk where the write that failed did not, so it is not
        allowed to overrule a fresh failure, only a stale one."""
        self._lock = threading.Lock()
        self._failure: WriteFailure | None = None

    @property
    def failure(self) -> WriteFailure | None:
        with self._lock:
            return self._failure

    def failed(self, cause: Cause) -> None:
        with self._lock:
            self._failure = WriteFailure(cause, datetime.now(UTC), time.monotonic())

    def due_for_probe(self) -> bool:
        failure = self.failure
        return failure is not None and (
            time.monotonic() - failure.monotonic >= self.probe_after_seconds
        )

    def succeeded(self, *_: object) -> None:
        """A write committed (takes and ignores a count, to serve as an append callback)."""
        if self._failure is not None:
            with self._lock:
                self._failure = None

    def watch(self, engine: Engine) -> None:
        """Record every write fault the engine sees, whichever code path ran into it."""

        @event.listens_for(engine, "handle_error")
        def _on_error(context: ExceptionContext) -> None:
            cause = classify(context.original_exception)
            if cause in WRITE_CAUSES:
                assert cause is not None
                self.failed(cause)

    def probe(self, engine: Engine) -> None:
        """Commit a real write that leaves nothing behind; clears the failure if it works.

        Without traffic no write would ever succeed again, and a process that /readyz
        takes out of rotation gets no traffic: so readiness tries one now and then. The row is
        inserted and deleted in one transaction (nobody ever sees it), but the change is
        written to the journal (a full disk or a read-only server refuses it).
        """
        probe_id = uuid4()
        row = {
            "token_id": probe_id,
            "name": f"readiness probe {probe_id}",  # a space: never a real token's name
            "scopes": "",
            "token_hash": uuid4().hex + uuid4().hex,
            "created_at": datetime.now(UTC),
        }
        with engine.connect().execution_options(**WRITE) as conn, conn.begin():
            conn.execute(api_tokens.insert(), row)
            conn.execute(api_tokens.delete().where(api_tokens.c.token_id == probe_id))
        self.succeeded()


def ping(engine: Engine) -> None:
    """Raise the database's fault, if it has one, before a long answer starts."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
