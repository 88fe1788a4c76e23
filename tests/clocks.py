"""A stepping clock for tests that need exact, repeatable times."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta


class FakeClock:
    """Returns ``now`` and then moves it on by ``step`` (a fixed delta or a function giving one);
    set ``now`` to jump."""

    def __init__(
        self,
        start: datetime,
        step: timedelta | Callable[[], timedelta] = timedelta(seconds=1),
    ) -> None:
        self.now = start
        self._step = step

    def __call__(self) -> datetime:
        current = self.now
        self.now = current + (self._step if isinstance(self._step, timedelta) else self._step())
        return current
