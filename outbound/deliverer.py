"""The deliverer: follows the log for each subscription and delivers, in position order,
at least once.

Each subscription is owned by one deliverer at a time (the projections' ownership:
an advisory lock on PostgreSQL, a file lock on SQLite) and delivers one event at a
time, so its receiver sees its events in log order. Subscriptions are delivered to
side by side, up to ``concurrency`` at once: a slow or failing endpoint holds back only
its own subscription. After each attempt the attempt's record and the subscription's
checkpoint change in one transaction; a crash after sending and before that commit
sends the event again (the same ``webhook-id``), never skips it.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from uuid import UUID

import structlog
from sqlalchemy import Connection, Engine, insert, update

from eventstore.records import RecordedEvent
from eventstore.store import read_all_in
from outbound.http_sender import Attempt, Sender
from outbound.messages import Message, facts_of, incident_of, message_for, summarised_position
from outbound.payloads import IncidentFacts
from outbound.retry_schedule import FAILING_LIMIT, GONE, delay_after
from outbound.signing import standard_headers
from outbound.subscriptions import Subscription, SubscriptionStore
from outbound.tables import webhook_deliveries, webhook_subscriptions
from projections.ownership import Ownership

log = structlog.get_logger()

USER_AGENT = "IncidentLedger-Webhooks/1"
BATCH = 200
"""Events read from the log at a time, per subscription."""
OWNER_PREFIX = "webhook:"


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt did to its subscription."""

    delivered: bool
    disabled_reason: str | None = None


def json_headers(message: Message, secrets: list[str]) -> dict[str, str]:
    """Standard Webhooks headers; ``webhook-timestamp`` is the wall-clock time of this attempt
    (receivers refuse one more than minutes away from theirs), whatever clock schedules it."""
    return standard_headers(secrets, message.message_id, int(time.time()), message.body)


TROUBLE_WAIT_CAP_SECONDS = 300.0
"""The longest wait before a subscription whose delivery raised is tried again."""


class Deliverer:
    """Delivers every subscription it can own; ``run`` until ``stop`` is set."""

    def __init__(
        self,
        engine: Engine,
        subscriptions: SubscriptionStore,
        sender: Sender,
        *,
        base_url: str,
        concurrency: int = 8,
        poll_seconds: float = 0.25,
        clock: Callable[[], datetime] = utc_now,
        rng: random.Random | None = None,
    ) -> None:
        self.engine = engine
        self.subscriptions = subscriptions
        self.sender = sender
        self.base_url = base_url
        self.poll_seconds = poll_seconds
        self.clock = clock
        self.rng = rng or random.Random()
        self.concurrency = concurrency
        self._pool: ThreadPoolExecutor | None = None
        self._busy: dict[UUID, Future[None]] = {}
        self._troubled: dict[UUID, tuple[int, datetime, datetime]] = {}
        """Subscriptions whose delivery raised (a secret that no longer opens, say): how
        many times in a row, when to try again, and the subscription's ``updated_at``
        then (a change to it, a rotated secret, ends the wait). Kept in memory: it is
        this process's trouble, not an attempt the receiver saw."""
        self._wakeup = threading.Event()
        # SQLite has one writer at a time and its waiting is sleeping, so this process's
        # deliveries take turns here instead.
        sqlite = engine.dialect.name == "sqlite"
        self._writing: AbstractContextManager[object] = (
            threading.Lock() if sqlite else nullcontext()
        )

    def wake(self) -> None:
        """New events are in the log (an append of this process): look now."""
        self._wakeup.set()

    def run(self, stop: threading.Event) -> None:
        """Deliver until ``stop`` is set; owned subscriptions are released at the end."""
        try:
            while not stop.is_set():
                try:
                    self._follow(stop)
                except Exception as error:  # the database is away: claim again when it is back
                    log.warning("webhook_deliverer_waiting", error=type(error).__name__)
                    stop.wait(max(self.poll_seconds, 1.0))
        finally:
            self._shut()

    def _follow(self, stop: threading.Event) -> None:
        # Ownership lives on this connection: on PostgreSQL its advisory locks end with it.
        with self.engine.connect() as lock_conn:
            ownership = Ownership(lock_conn)
            try:
                while not stop.is_set():
                    self.dispatch(ownership)
                    self._wakeup.wait(self.poll_seconds)
                    self._wakeup.clear()
            finally:
                for running in list(self._busy.values()):
                    running.result()  # an owned subscription is let go only once idle
                ownership.release_all()

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="webhooks")
        return self._pool

    def _shut(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._busy.clear()

    def dispatch(self, ownership: Ownership) -> list[Future[None]]:
        """Start delivering every due subscription this deliverer owns and is not already
        delivering; the futures of those started."""
        now = self.clock()
        started = []
        listed = self.subscriptions.list()
        for gone in self._troubled.keys() - {s.subscription_id for s in listed}:
            self._troubled.pop(gone, None)
        for subscription in listed:
            key = subscription.subscription_id
            running = self._busy.get(key)
            if running is not None and not running.done():
                continue
            if not subscription.enabled:
                continue
            if subscription.next_attempt_at is not None and subscription.next_attempt_at > now:
                continue
            trouble = self._troubled.get(key)
            if trouble is not None and trouble[1] > now and trouble[2] == subscription.updated_at:
                # Let go while waiting: another process (one whose key opens the secret,
                # say) may deliver it meanwhile.
                ownership.release(f"{OWNER_PREFIX}{key}")
                continue
            if not ownership.try_claim(f"{OWNER_PREFIX}{key}"):
                continue
            future = self._executor().submit(self._deliver_logged, key)
            self._busy[key] = future
            started.append(future)
        return started

    def deliver_once(self) -> None:
        """Deliver every due subscription this process can own until each is caught up or
        waiting for a retry, then return (``incidents project --once``, tests)."""
        with self.engine.connect() as lock_conn:
            ownership = Ownership(lock_conn)
            try:
                self.deliver_all(ownership)
            finally:
                ownership.release_all()
                self._shut()

    def deliver_all(self, ownership: Ownership) -> None:
        """One pass over every due subscription, waiting for it (tests, ``--once``)."""
        for future in self.dispatch(ownership):
            future.result()

    def _deliver_logged(self, subscription_id: UUID) -> None:
        try:
            self.deliver(subscription_id)
        except Exception:
            # Tried again after a wait that doubles, not at every poll: what failed here
            # (a key, the database) seldom mends within a quarter of a second, and each
            # try would log the same traceback again.
            failures = self._troubled.get(subscription_id, (0,))[0] + 1
            doubled = 2 ** min(failures - 1, 16)  # past the cap long before, and never too big
            wait = min(TROUBLE_WAIT_CAP_SECONDS, max(self.poll_seconds, 1.0) * doubled)
            now = self.clock()
            updated = self._updated_at(subscription_id)
            self._troubled[subscription_id] = (failures, now + timedelta(seconds=wait), updated)
            log.exception(
                "webhook_delivery_failed",
                subscription_id=str(subscription_id),
                failures_in_a_row=failures,
                next_try_in_s=wait,
            )
        else:
            self._troubled.pop(subscription_id, None)

    def _updated_at(self, subscription_id: UUID) -> datetime:
        """When the subscription last changed; the earliest time there is when that cannot
        be read (then the first listing of it ends the wait, as a change would)."""
        try:
            found = self.subscriptions.get(subscription_id)
        except Exception:  # the database may be what failed
            found = None
        return found.updated_at if found is not None else datetime.min.replace(tzinfo=UTC)

    def deliver(self, subscription_id: UUID) -> None:
        """Deliver the subscription's events in order until it is caught up, or an attempt
        fails (then it waits for its next attempt's time)."""
        while True:
            with self.engine.connect() as conn:
                subscription = self.subscriptions.get_in(conn, subscription_id)
                if subscription is None or not subscription.enabled:
                    return
                now = self.clock()
                if subscription.next_attempt_at is not None and subscription.next_attempt_at > now:
                    return
                limit = summarised_position(conn)
                found = [
                    event
                    for event in read_all_in(conn, subscription.position, BATCH)
                    if event.position <= limit
                ]
                if not found:
                    return
                planned = self._plan(conn, subscription, found)
                secrets = self.subscriptions.signing_secrets(conn, subscription_id, now)
                conn.rollback()
            passed = subscription.position
            for position, message in planned:
                if message is not None:
                    delivered = self._attempt(subscription, message, passed, secrets)
                    if delivered is None:
                        return
                    subscription = delivered
                passed = position
            if passed > subscription.position and not self._pass_over(subscription, passed):
                return

    def _plan(
        self, conn: Connection, subscription: Subscription, found: list[RecordedEvent]
    ) -> list[tuple[int, Message | None]]:
        """Each event of ``found`` with the message the subscription is sent for it (None:
        passed over). The summary has read at least this far, so each message's incident
        facts are as new as its event or newer."""
        facts: dict[UUID, IncidentFacts | None] = {}
        planned: list[tuple[int, Message | None]] = []
        for event in found:
            incident = None
            if subscription.wants_type(event.type):
                incident_id = incident_of(event)
                if incident_id not in facts:
                    facts[incident_id] = facts_of(conn, incident_id)
                incident = facts[incident_id]
            message = message_for(subscription, event, incident, self.base_url)
            planned.append((event.position, message))
        return planned

    def _pass_over(self, subscription: Subscription, position: int) -> bool:
        """Move the checkpoint over events the subscription does not want; False when
        another deliverer moved it first."""
        with self._writing, self.engine.begin() as conn:
            moved = conn.execute(
                update(webhook_subscriptions)
                .where(
                    webhook_subscriptions.c.subscription_id == subscription.subscription_id,
                    webhook_subscriptions.c.position == subscription.position,
                )
                .values(position=position)
            )
            return moved.rowcount == 1

    def _attempt(
        self, subscription: Subscription, message: Message, passed: int, secrets: list[str]
    ) -> Subscription | None:
        """Send ``message`` and record the attempt with the checkpoint; the subscription as
        it now stands when delivered, else None (failed, or another deliverer moved on)."""
        now = self.clock()
        headers = (
            json_headers(message, secrets)
            if subscription.format == "standard"
            else {"content-type": "application/json", "user-agent": USER_AGENT}
        )
        attempt = self.sender.post(subscription.url, headers, message.body)
        # A wait (Retry-After above all) counts from the answer, not from the sending.
        answered = self.clock()
        number = subscription.attempts + 1
        outcome = self._outcome(subscription, attempt, now)
        values: dict[str, object] = {}
        if outcome.delivered:
            values.update(
                position=message.position, attempts=0, next_attempt_at=None, failing_since=None
            )
        else:
            wait = delay_after(number, attempt.retry_after, self.rng)
            values.update(
                position=passed,
                attempts=number,
                next_attempt_at=answered + timedelta(seconds=wait),
                failing_since=subscription.failing_since or now,
            )
            if outcome.disabled_reason is not None:
                values.update(enabled=False, disabled_reason=outcome.disabled_reason)
        with self._writing, self.engine.begin() as conn:
            conn.execute(
                insert(webhook_deliveries).values(
                    subscription_id=subscription.subscription_id,
                    message_id=message.message_id,
                    event_type=message.event_type,
                    position=message.position,
                    attempt=number,
                    trigger="log",
                    attempted_at=now,
                    status_code=attempt.status,
                    duration_ms=attempt.duration_ms,
                    error=attempt.error,
                )
            )
            moved = conn.execute(
                update(webhook_subscriptions)
                .where(
                    webhook_subscriptions.c.subscription_id == subscription.subscription_id,
                    webhook_subscriptions.c.position == subscription.position,
                )
                .values(**values)
            )
            if moved.rowcount != 1:  # another deliverer got there first: its record stands
                conn.rollback()
                return None
        log.info(
            "webhook_attempt",
            subscription_id=str(subscription.subscription_id),
            message_id=message.message_id,
            position=message.position,
            attempt=number,
            status=attempt.status,
            error=attempt.error,
        )
        if not outcome.delivered or message.position is None:
            return None
        return replace(
            subscription,
            position=message.position,
            attempts=0,
            next_attempt_at=None,
            failing_since=None,
        )

    @staticmethod
    def _outcome(subscription: Subscription, attempt: Attempt, now: datetime) -> Outcome:
        if attempt.status is not None and 200 <= attempt.status < 300:
            return Outcome(delivered=True)
        if attempt.status == GONE:
            return Outcome(False, "the receiver answered 410 Gone: the endpoint no longer exists")
        since = subscription.failing_since or now
        if now - since >= FAILING_LIMIT:
            return Outcome(
                False,
                f"deliveries failed for {FAILING_LIMIT.days} days, since"
                f" {since.isoformat(timespec='seconds')}",
            )
        return Outcome(delivered=False)
