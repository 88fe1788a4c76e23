"""Wake followers of the log promptly: LISTEN/NOTIFY on PostgreSQL, polling elsewhere."""

from __future__ import annotations

import time
from types import TracebackType
from typing import Any

from sqlalchemy import Engine

CHANNEL = "incident_ledger_events"


class Listener:
    """``wait(timeout)`` returns early when the log grows (PostgreSQL), else after timeout."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._raw: Any = None

    def __enter__(self) -> Listener:
        if self.engine.dialect.name == "postgresql":
            self._raw = self.engine.raw_connection()
            driver = self._raw.driver_connection
            driver.autocommit = True
            driver.execute(f"LISTEN {CHANNEL}")
        return self

    def wait(self, timeout: float) -> bool:
        """Block up to ``timeout`` seconds; True when a notification arrived."""
        if self._raw is None:
            time.sleep(timeout)
            return False
        driver = self._raw.driver_connection
        received = False
        for _ in driver.notifies(timeout=timeout, stop_after=1):
            received = True
        return received

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._raw is not None:
            driver = self._raw.driver_connection
            driver.execute(f"UNLISTEN {CHANNEL}")
            # Not returned to the pool: its autocommit flag and LISTEN state are ours.
            self._raw.invalidate()
            self._raw = None
