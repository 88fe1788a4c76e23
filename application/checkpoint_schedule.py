"""Signed checkpoints stored every INCIDENTS_CHECKPOINT_MINUTES while the log moves, so an
auditor who copies them out regularly holds heads no later rewrite of the log can match.

The rule lives in the database, not in one process: a step stores a checkpoint only when
the newest scheduled one is at least the interval old and the log's head has moved past
the newest stored one (of any reason). Several servers on one database then store one
checkpoint per interval between them, and an idle log stores none.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import Engine

from application.log_checkpoints import SIGNED_AT_FORMAT, LogSigner
from application.stored_checkpoints import (
    StoredCheckpoint,
    newest_checkpoint,
    store_checkpoint,
    under_append_lock,
)
from eventstore.chain import last_link

_log = structlog.get_logger()

LONGEST_POLL_SECONDS = 60.0
"""A server looks whether a checkpoint is due at least this often (and ten times per
interval for shorter ones), so one is stored at most this late."""


def _signed_time(text: str) -> datetime:
    return datetime.strptime(text, SIGNED_AT_FORMAT).replace(tzinfo=UTC)


class CheckpointSchedule:
    """Stores a signed checkpoint of the log when one is due (``step``); ``run`` steps
    until told to stop."""

    def __init__(
        self,
        engine: Engine,
        signer: LogSigner,
        minutes: float,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.engine = engine
        self.signer = signer
        self.interval = timedelta(minutes=minutes)
        self.clock = clock or (lambda: datetime.now(UTC))

    @property
    def enabled(self) -> bool:
        return self.interval > timedelta(0)

    @property
    def poll_seconds(self) -> float:
        return min(LONGEST_POLL_SECONDS, self.interval.total_seconds() / 10)

    def step(self) -> StoredCheckpoint | None:
        """Store a signed checkpoint if one is due and the head moved; it, or None."""
        now = self.clock()
        with under_append_lock(self.engine) as conn:
            scheduled = newest_checkpoint(conn, "scheduled")
            if scheduled is not None and now - _signed_time(scheduled.checkpoint.signed_at) < (
                self.interval
            ):
                return None
            newest = newest_checkpoint(conn)
            position, digest = last_link(conn)
            if position == 0 or (newest is not None and newest.checkpoint.position >= position):
                return None  # nothing new to vouch for
            stored = store_checkpoint(conn, self.signer.sign(position, digest, now), "scheduled")
        _log.info("log.checkpoint_stored", position=position, checkpoint_id=stored.id)
        return stored

    def run(self, stop: threading.Event) -> None:
        """Step every ``poll_seconds`` until ``stop`` is set; a failed step is logged and
        tried again at the next one."""
        while not stop.wait(self.poll_seconds):
            try:
                self.step()
            except Exception:
                _log.warning("log.checkpoint_failed", exc_info=True)
