"""A deliverer killed with SIGKILL in the middle of its deliveries and started again: every
matching event of the log reaches the receiver at least once, in log order, none skipped
(counted by ``webhook-id``). ``incidents project`` runs as a real process on SQLite and
PostgreSQL; the receiver is slow, so the kill lands while messages are in flight."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from cryptography.fernet import Fernet

from application.bootstrap import Runtime, build
from application.settings import Settings
from domain import commands as c
from domain.values import Severity
from tests.outbound.receiver import Receiver, receiving
from tests.outbound.test_delivery_follows_the_log import ADMIN, logged, subscribe

pytestmark = pytest.mark.slow

INCIDENTS = Path(sys.executable).with_name("incidents")
EVENTS = 40


@pytest.fixture
def key() -> str:
    return Fernet.generate_key().decode()


@pytest.fixture
def runtime(database_url: str, key: str) -> Iterator[Runtime]:
    built = build(Settings(database_url=database_url, secret_key=key, webhooks_deliver=False))
    try:
        yield built
    finally:
        built.close()


def _deliverer(database_url: str, key: str, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "INCIDENTS_DATABASE_URL": database_url,
        "INCIDENTS_SECRET_KEY": key,
        "INCIDENTS_WEBHOOKS_ALLOW_HTTP": "true",
        "INCIDENTS_WEBHOOKS_ALLOW_PRIVATE": "true",
        "INCIDENTS_PROJECTION_MODE": "worker",
        "INCIDENTS_WEBHOOKS_POLL_SECONDS": "0.05",
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [str(INCIDENTS), "project"], env=env, stdout=out, stderr=subprocess.STDOUT
        )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def test_a_killed_deliverer_resumes_and_skips_nothing(
    runtime: Runtime, database_url: str, key: str, tmp_path: Path
) -> None:
    with receiving(delay=0.05) as receiver:
        subscribe(runtime, receiver.url, ["incident.declared"])
        for number in range(EVENTS):
            command = c.DeclareIncident(
                incident_id=uuid4(),
                at=runtime.service.now(),
                title=f"Checkout returns 502 #{number}",
                severity=Severity.SEV2,
                services=("checkout",),
            )
            runtime.service.execute(command, ADMIN)
        expected = [event_id for _, event_id in logged(runtime.engine, "incident.declared")]
        assert len(expected) == EVENTS

        log = tmp_path / "deliverer.log"
        first = _deliverer(database_url, key, log)
        try:
            receiver.wait_for(EVENTS // 3, timeout=60)
            os.kill(first.pid, signal.SIGKILL)
            first.wait(10)
        finally:
            _stop(first)
        killed_after = len(receiver.got)
        assert killed_after < EVENTS, "the kill came after every delivery: nothing was tested"

        second = _deliverer(database_url, key, log)
        try:
            _wait_for_every_id(receiver, set(expected), timeout=60, log=log)
        finally:
            _stop(second)

    ids = receiver.ids()
    assert set(ids) == set(expected)
    firsts = list(dict.fromkeys(ids))
    assert firsts == expected  # first arrivals in log order: nothing skipped or reordered
    order = {event_id: number for number, event_id in enumerate(expected)}
    # Only what was in flight when the process died comes again, and right where it was.
    assert all(order[b] - order[a] in (0, 1) for a, b in itertools.pairwise(ids))
    assert len(ids) - len(expected) <= 1


def _wait_for_every_id(receiver: Receiver, wanted: set[str], timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if wanted <= set(receiver.ids()):
            return
        time.sleep(0.05)
    missing = len(wanted - set(receiver.ids()))
    raise AssertionError(f"{missing} events never arrived; deliverer output:\n{log.read_text()}")
