"""When a failed delivery is tried again: the Standard Webhooks schedule, with jitter.

Attempts follow at once, then after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h; an
event still failing after that is tried every 10 h, because delivery follows the log:
the subscription's later events wait behind it and none is ever skipped. A subscription
failing for ``FAILING_LIMIT`` is disabled, saying why; enabling it again resumes at the
event it stopped on.
"""

from __future__ import annotations

import random
from datetime import timedelta

SCHEDULE_SECONDS = (0.0, 5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)
"""The delay before attempt n + 1 (index n - 1 after n failed attempts); the first is 0."""
JITTER = 0.1
"""Each delay is drawn within ±10 %, so endpoints that failed together are not retried together."""
RETRY_AFTER_CAP_SECONDS = 86_400.0
FAILING_LIMIT = timedelta(days=3)
"""A subscription whose deliveries have failed for this long is disabled."""
GONE = 410
"""The receiver says the endpoint is gone for good: the subscription is disabled at once."""


def delay_after(failed: int, retry_after: float | None, rng: random.Random) -> float:
    """Seconds to wait after ``failed`` failed attempts of one event (``failed`` >= 1).

    A ``Retry-After`` from a 429 or 503 is what the receiver asked for: it replaces the
    schedule's delay (capped at a day)."""
    if retry_after is not None:
        return min(max(retry_after, 0.0), RETRY_AFTER_CAP_SECONDS)
    scheduled = SCHEDULE_SECONDS[min(failed, len(SCHEDULE_SECONDS) - 1)]
    return scheduled * rng.uniform(1 - JITTER, 1 + JITTER)
