"""Deliveries follow the log on SQLite and PostgreSQL: every one verified by the Standard
Webhooks reference implementation (the ``standardwebhooks`` package, not this service's
code), retried with the same ``webhook-id``, in position order, filtered, and stopped by a
410."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Engine, select
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from application.bootstrap import Runtime, build
from application.settings import Settings
from domain import commands as c
from domain.values import Severity, Status
from eventstore.schema import events
from outbound.deliverer import Deliverer
from outbound.http_sender import Attempt, Sender
from outbound.subscriptions import Delivery, Subscription
from projections.ownership import Ownership
from tests.outbound.receiver import Received, Receiver, receiving

ADMIN = {"actor": "admin", "source": "api"}


class SteppedClock:
    """The deliverer's clock, moved by the test: retries come due without waiting."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def runtime(database_url: str) -> Iterator[Runtime]:
    settings = Settings(
        database_url=database_url,
        secret_key=Fernet.generate_key().decode(),
        webhooks_allow_http=True,
        webhooks_allow_private=True,
        public_url="https://incidents.example.com",
    )
    built = build(settings)
    try:
        yield built
    finally:
        built.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as got:
        yield got


@pytest.fixture
def clock() -> SteppedClock:
    return SteppedClock()


@pytest.fixture
def deliverer(runtime: Runtime, clock: SteppedClock) -> Iterator[Deliverer]:
    sender = Sender(allow_private=True, timeout=5.0)
    made = Deliverer(
        runtime.engine,
        runtime.webhooks,
        sender,
        base_url="https://incidents.example.com",
        clock=clock,
    )
    yield made
    sender.close()


def subscribe(
    runtime: Runtime, url: str, types: list[str], **chosen: list[str]
) -> tuple[Subscription, str]:
    return runtime.webhooks.create(
        url=url,
        types=types,
        format="standard",
        description="",
        severity=chosen.get("severity", []),
        services=chosen.get("services", []),
        actor="admin",
        now=datetime.now(UTC),
    )


def declare(
    runtime: Runtime, severity: Severity = Severity.SEV2, service: str = "checkout"
) -> UUID:
    incident_id = uuid4()
    command = c.DeclareIncident(
        incident_id=incident_id,
        at=runtime.service.now(),
        title=f"Checkout returns 502 ({severity.value})",
        severity=severity,
        services=(service,),
    )
    runtime.service.execute(command, ADMIN)
    return incident_id


def resolve(runtime: Runtime, incident_id: UUID) -> None:
    command = c.ChangeStatus(
        incident_id=incident_id, at=runtime.service.now(), status=Status.RESOLVED
    )
    runtime.service.execute(command, ADMIN)


def logged(engine: Engine, *types: str) -> list[tuple[int, str]]:
    """(position, event id) of the log's events of ``types``, in position order."""
    query = select(events.c.position, events.c.event_id).where(events.c.type.in_(types))
    with engine.connect() as conn:
        return [(p, str(e)) for p, e in conn.execute(query.order_by(events.c.position))]


def verified(secret: str, received: Received) -> dict[str, Any]:
    """The message as the reference implementation reads it, after checking its signature."""
    payload: dict[str, Any] = Webhook(secret).verify(received.body, received.headers)
    return payload


def test_every_delivery_verifies_and_carries_the_event_in_log_order(
    runtime: Runtime, receiver: Receiver, deliverer: Deliverer
) -> None:
    subscription, secret = subscribe(runtime, receiver.url, ["incident."])
    first, second = declare(runtime, Severity.SEV1), declare(runtime)
    resolve(runtime, first)
    deliverer.deliver_once()

    expected = logged(runtime.engine, "incident.declared", "incident.status_changed")
    got = receiver.wait_for(len(expected))
    assert [r.message_id for r in got] == [event_id for _, event_id in expected]
    for received, (position, _) in zip(got, expected, strict=True):
        message = verified(secret, received)
        assert message["data"]["position"] == position
        assert received.headers["content-type"].startswith("application/json")
        assert len(received.body) < 20_000
    declared = verified(secret, got[0])
    assert declared["type"] == "incident.declared"
    data = declared["data"]
    assert data["incident_id"] == str(first)
    assert data["links"] == {
        "incident": f"https://incidents.example.com/incidents/{first}",
        "web": f"https://incidents.example.com/ui/incidents/{first}",
    }
    assert data["incident"]["severity"] == "SEV1"
    assert verified(secret, got[1])["data"]["incident_id"] == str(second)
    after = runtime.webhooks.get(subscription.subscription_id)
    assert after is not None
    assert after.position == expected[-1][0]


def test_a_failing_receiver_gets_the_same_id_until_it_answers_200(
    runtime: Runtime, receiver: Receiver, deliverer: Deliverer, clock: SteppedClock
) -> None:
    subscription, secret = subscribe(runtime, receiver.url, ["incident.declared"])
    receiver.answer(500, 500, 200)
    declare(runtime)
    later = declare(runtime)

    deliverer.deliver_once()
    assert len(receiver.got) == 1
    deliverer.deliver_once()  # not due yet: the schedule waits 5 s after the first failure
    assert len(receiver.got) == 1
    clock.advance(5.6)
    deliverer.deliver_once()
    assert len(receiver.got) == 2
    clock.advance(5 * 60 * 1.1)
    deliverer.deliver_once()

    got = receiver.wait_for(4)
    ids = [r.message_id for r in got]
    (first_id, later_id) = [e for _, e in logged(runtime.engine, "incident.declared")]
    assert ids == [first_id, first_id, first_id, later_id]
    for received in got:
        verified(secret, received)
    attempts: list[Delivery] = runtime.webhooks.deliveries(subscription.subscription_id)
    assert [(d.attempt, d.status_code) for d in reversed(attempts)] == [
        (1, 500),
        (2, 500),
        (3, 200),
        (1, 200),
    ]
    assert verified(secret, got[3])["data"]["incident_id"] == str(later)


def test_retry_after_on_429_delays_the_next_attempt(runtime: Runtime, receiver: Receiver) -> None:
    subscribe(runtime, receiver.url, ["incident.declared"])
    receiver.answer((429, {"Retry-After": "2"}), 200)
    declare(runtime)
    stop = threading.Event()
    runner = threading.Thread(target=runtime.deliverer.run, args=(stop,), daemon=True)
    runner.start()
    try:
        got = receiver.wait_for(2, timeout=30)
    finally:
        stop.set()
        runtime.deliverer.wake()
        runner.join(timeout=20)
    assert got[0].message_id == got[1].message_id
    assert got[1].at - got[0].at >= 2.0


class SlowSender(Sender):
    """A receiver that takes ``seconds`` of the test's clock to answer."""

    def __init__(self, clock: SteppedClock, seconds: float) -> None:
        super().__init__(allow_private=True, timeout=5.0)
        self.clock = clock
        self.seconds = seconds

    def post(self, url: str, headers: dict[str, str], body: bytes) -> Attempt:
        answered = super().post(url, headers, body)
        self.clock.advance(self.seconds)
        return answered


def test_retry_after_counts_from_the_answer_not_from_the_sending(
    runtime: Runtime, receiver: Receiver, clock: SteppedClock
) -> None:
    subscription, _ = subscribe(runtime, receiver.url, ["incident.declared"])
    receiver.answer((429, {"Retry-After": "60"}), 200)
    declare(runtime)
    sender = SlowSender(clock, seconds=30)
    slow = Deliverer(
        runtime.engine,
        runtime.webhooks,
        sender,
        base_url="https://incidents.example.com",
        clock=clock,
    )
    try:
        sent_at = clock.now
        slow.deliver_once()
        found = runtime.webhooks.get(subscription.subscription_id)
        assert found is not None
        assert found.next_attempt_at == sent_at + timedelta(seconds=30 + 60)
        clock.advance(59)  # 89 s after the sending, 59 after the answer: not yet
        slow.deliver_once()
        assert len(receiver.got) == 1
        clock.advance(1)
        slow.deliver_once()
        assert len(receiver.got) == 2
    finally:
        sender.close()


def test_410_disables_the_subscription_and_says_why(
    runtime: Runtime, receiver: Receiver, deliverer: Deliverer, clock: SteppedClock
) -> None:
    subscription, _ = subscribe(runtime, receiver.url, ["incident."])
    receiver.answer(410)
    declare(runtime)
    deliverer.deliver_once()
    clock.advance(3600)
    deliverer.deliver_once()
    assert len(receiver.got) == 1
    after = runtime.webhooks.get(subscription.subscription_id)
    assert after is not None
    assert not after.enabled
    assert after.disabled_reason is not None
    assert "410" in after.disabled_reason


def test_failing_for_three_days_disables_and_enabling_resumes_at_the_same_event(
    runtime: Runtime, receiver: Receiver, deliverer: Deliverer, clock: SteppedClock
) -> None:
    subscription, _ = subscribe(runtime, receiver.url, ["incident.declared"])
    receiver.answer(*[503] * 40)
    declare(runtime)
    for _ in range(30):
        deliverer.deliver_once()
        clock.advance(11 * 3600)
        found = runtime.webhooks.get(subscription.subscription_id)
        assert found is not None
        if not found.enabled:
            break
    assert found is not None
    assert not found.enabled
    assert found.disabled_reason is not None
    assert "3 days" in found.disabled_reason
    tries = len(receiver.got)
    with receiver.lock:
        receiver.script.clear()
    runtime.webhooks.update(subscription.subscription_id, now=clock(), enabled=True)
    deliverer.deliver_once()
    assert len(receiver.got) == tries + 1
    assert len(set(receiver.ids())) == 1  # the same event throughout: none skipped


def test_type_and_severity_filters_hold(
    runtime: Runtime, receiver: Receiver, deliverer: Deliverer
) -> None:
    _, secret = subscribe(
        runtime, receiver.url, ["incident.declared", "incident.status_changed"], severity=["SEV1"]
    )
    loud, quiet = declare(runtime, Severity.SEV1), declare(runtime, Severity.SEV3)
    runtime.service.execute(
        c.AddNote(incident_id=loud, at=runtime.service.now(), note_id=uuid4(), text="Failing over"),
        ADMIN,
    )
    resolve(runtime, quiet)
    resolve(runtime, loud)
    deliverer.deliver_once()
    got = receiver.wait_for(2)
    messages = [verified(secret, r) for r in got]
    assert [(m["type"], m["data"]["incident_id"]) for m in messages] == [
        ("incident.declared", str(loud)),
        ("incident.status_changed", str(loud)),
    ]
    assert len(receiver.got) == 2


def test_a_rotated_secret_and_the_one_it_replaced_both_verify(
    runtime: Runtime, receiver: Receiver, deliverer: Deliverer
) -> None:
    subscription, old = subscribe(runtime, receiver.url, ["incident.declared"])
    declare(runtime)
    deliverer.deliver_once()
    rotated = runtime.webhooks.rotate(subscription.subscription_id, datetime.now(UTC))
    assert rotated is not None
    _, new = rotated
    declare(runtime)
    deliverer.deliver_once()
    before, after = receiver.wait_for(2)
    verified(old, before)
    with pytest.raises(WebhookVerificationError):
        verified(new, before)
    assert len(after.headers["webhook-signature"].split(" ")) == 2
    verified(old, after)
    verified(new, after)


def test_a_failing_endpoint_holds_back_only_its_own_subscription(
    runtime: Runtime, deliverer: Deliverer
) -> None:
    with receiving() as failing, receiving() as healthy:
        failing.answer(*[500] * 10)
        stuck, _ = subscribe(runtime, failing.url, ["incident.declared"])
        subscribe(runtime, healthy.url, ["incident.declared"])
        for _ in range(3):
            declare(runtime)
        deliverer.deliver_once()
        assert len(healthy.wait_for(3)) == 3
        assert len(failing.got) == 1
        held = runtime.webhooks.get(stuck.subscription_id)
        assert held is not None
        assert held.attempts == 1
        assert held.next_attempt_at is not None


def test_a_slow_endpoint_does_not_hold_back_the_others(runtime: Runtime) -> None:
    with receiving(delay=3.0) as slow, receiving() as quick:
        subscribe(runtime, slow.url, ["incident.declared"])
        subscribe(runtime, quick.url, ["incident.declared"])
        declare(runtime)
        declare(runtime)
        stop = threading.Event()
        runner = threading.Thread(target=runtime.deliverer.run, args=(stop,), daemon=True)
        started = time.monotonic()
        runner.start()
        try:
            quick.wait_for(2, timeout=10)
            took = time.monotonic() - started
            assert not slow.got  # still answering its first request
        finally:
            stop.set()
            runtime.deliverer.wake()
            runner.join(timeout=20)
    assert took < 3.0, took  # the quick one did not wait for the slow one's answer


@dataclass
class OtherProcess:
    """A second server on the same database, started with another INCIDENTS_SECRET_KEY:
    it cannot open the secrets the first one sealed."""

    runtime: Runtime
    deliverer: Deliverer


@pytest.fixture
def wrong_key(database_url: str, clock: SteppedClock) -> Iterator[OtherProcess]:
    settings = Settings(
        database_url=database_url,
        secret_key=Fernet.generate_key().decode(),
        webhooks_allow_http=True,
        webhooks_allow_private=True,
    )
    other = build(settings)
    sender = Sender(allow_private=True, timeout=5.0)
    try:
        made = Deliverer(
            other.engine, other.webhooks, sender, base_url="https://x.example", clock=clock
        )
        yield OtherProcess(other, made)
    finally:
        sender.close()
        other.close()


def test_a_subscription_whose_delivery_raises_is_tried_again_after_a_growing_wait(
    runtime: Runtime, receiver: Receiver, wrong_key: OtherProcess, clock: SteppedClock
) -> None:
    # Each delivery by the process with the wrong key raises. It is tried again after
    # 1, 2, 4 … seconds, not at every poll.
    subscription, _ = subscribe(runtime, receiver.url, ["incident.declared"])
    declare(runtime)
    tried: list[datetime] = []
    deliver = wrong_key.deliverer.deliver

    def counted(subscription_id: UUID) -> None:
        tried.append(clock())
        deliver(subscription_id)

    wrong_key.deliverer.deliver = counted  # type: ignore[method-assign]
    started = clock()
    for _ in range(13):  # three seconds of quarter-second polls, both ends included
        wrong_key.deliverer.deliver_once()
        clock.advance(0.25)
    assert [(t - started).total_seconds() for t in tried] == [0.0, 1.0, 3.0]
    assert receiver.got == []
    wrong_key.deliverer.deliver_once()  # at 3.25 s: the next try is due at 7 s
    assert len(tried) == 3

    # A change to the subscription ends the wait: here the operator gives it a secret
    # this process's key opens (webhooks rotate --key-replaced).
    rotated = wrong_key.runtime.webhooks.rotate(
        subscription.subscription_id, datetime.now(UTC), key_replaced=True
    )
    assert rotated is not None
    wrong_key.deliverer.deliver_once()
    assert len(tried) == 4
    (got,) = receiver.wait_for(1)
    verified(rotated[1], got)


def test_a_process_waiting_after_a_delivery_raised_lets_another_deliver_meanwhile(
    runtime: Runtime, receiver: Receiver, deliverer: Deliverer, wrong_key: OtherProcess
) -> None:
    # Two servers on one database, one of them started with a mistyped secret key: while
    # it waits, the one whose key opens the secret takes the subscription over.
    _, secret = subscribe(runtime, receiver.url, ["incident.declared"])
    declare(runtime)
    with wrong_key.runtime.engine.connect() as lock_conn:
        held = Ownership(lock_conn)
        wrong_key.deliverer.deliver_all(held)  # claims it, and the delivery raises
        assert len(held.owned) == 1
        deliverer.deliver_once()
        assert receiver.got == []  # still claimed by the process that failed
        wrong_key.deliverer.deliver_all(held)  # waiting now: lets it go
        assert held.owned == set()
        deliverer.deliver_once()
        (got,) = receiver.wait_for(1)
        verified(secret, got)
        held.release_all()


def test_the_wait_after_deliveries_that_raise_stops_growing_at_five_minutes(
    runtime: Runtime, receiver: Receiver, wrong_key: OtherProcess, clock: SteppedClock
) -> None:
    # Days of a wrong key: more than a thousand failures in a row, whose doubled wait
    # would no longer fit a float.
    subscription, _ = subscribe(runtime, receiver.url, ["incident.declared"])
    declare(runtime)
    key = subscription.subscription_id
    wrong_key.deliverer._troubled[key] = (1100, clock(), subscription.updated_at)
    wrong_key.deliverer.deliver_once()
    failures, due, _ = wrong_key.deliverer._troubled[key]
    assert failures == 1101
    assert (due - clock()).total_seconds() == 300.0
