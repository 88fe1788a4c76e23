"""Idempotency keys older than 24 hours are deleted while the service runs.

The service deletes expired keys when it stores a key, at most once per PURGE_INTERVAL;
the application's clock (``use_clock``) drives both the keys' ages and that schedule.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from application.idempotency import PURGE_INTERVAL, RETENTION, idempotency_keys
from tests.api.helpers import ok, use_clock
from tests.clocks import FakeClock

T0 = datetime(2030, 5, 1, 9, 0, tzinfo=UTC)
INCIDENT = {"title": "Checkout returns 502", "severity": "SEV2", "services": ["checkout"]}


@pytest.fixture
def clock(client: TestClient) -> FakeClock:
    clock = FakeClock(T0, step=timedelta(0))
    use_clock(client, clock)
    return clock


def stored_keys(client: TestClient) -> dict[str, datetime]:
    """Every key in the table (expired or not), with when it was stored."""
    engine: Engine = client.app.state.engine  # type: ignore[attr-defined]
    t = idempotency_keys
    with engine.connect() as conn:
        return {row.key: row.created_at for row in conn.execute(select(t.c.key, t.c.created_at))}


def declare_with_key(client: TestClient, key: str) -> dict[str, object]:
    response = client.post("/incidents", json=INCIDENT, headers={"Idempotency-Key": key})
    assert "idempotent-replayed" not in response.headers
    return ok(response, 201)


def test_expired_keys_are_deleted_and_fresh_ones_kept(client: TestClient, clock: FakeClock) -> None:
    first_purge = T0 + RETENTION + timedelta(minutes=59)
    assert timedelta(minutes=2) < PURGE_INTERVAL  # the throttled step below needs this

    declare_with_key(client, "old")  # the first key stored: a purge, with nothing to delete
    clock.now = T0 + timedelta(hours=1)
    declare_with_key(client, "younger")
    assert stored_keys(client) == {"old": T0, "younger": T0 + timedelta(hours=1)}

    # "old" is 24h59m old, "younger" 23h59m: only the first goes.
    clock.now = first_purge
    fresh = declare_with_key(client, "fresh")
    assert stored_keys(client) == {"younger": T0 + timedelta(hours=1), "fresh": first_purge}

    # "younger" has expired a minute later, but the last purge was less than an interval
    # ago: the row waits for the next purge.
    clock.now = first_purge + PURGE_INTERVAL - timedelta(minutes=1)
    declare_with_key(client, "fresh-2")
    assert set(stored_keys(client)) == {"younger", "fresh", "fresh-2"}

    # An interval after the last purge, the next stored key brings the next one.
    clock.now = first_purge + PURGE_INTERVAL
    declare_with_key(client, "fresh-3")
    assert set(stored_keys(client)) == {"fresh", "fresh-2", "fresh-3"}

    # A kept key still answers its retry with the original result.
    replay = client.post("/incidents", json=INCIDENT, headers={"Idempotency-Key": "fresh"})
    assert replay.headers["idempotent-replayed"] == "true"
    assert ok(replay, 201) == fresh


def test_a_key_goes_just_after_24_hours_not_before(client: TestClient, clock: FakeClock) -> None:
    declare_with_key(client, "a")  # a purge, with nothing to delete
    clock.now = T0 + timedelta(seconds=1)
    declare_with_key(client, "b")  # no purge: the last was a second ago
    clock.now = T0 + RETENTION + timedelta(milliseconds=500)
    declare_with_key(client, "c")  # a purge: "a" is 24h0.5s old, "b" 23h59m59.5s
    assert set(stored_keys(client)) == {"b", "c"}
