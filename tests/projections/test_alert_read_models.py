"""Alert histories: the read models kept inline equal a rebuild, and agree with the aggregate.

Notifications for a few alert groups fire, resolve, repeat and are acknowledged; people
resolve, reopen and close incidents in between, so groups fire again into new, linked
incidents. Each test runs on SQLite and PostgreSQL (tests/conftest.py).
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta
from uuid import UUID

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from application.alert_ingestion import AlertBatch, AlertIngestor, Generations, incident_id_for
from application.service import CommandContext, IncidentService
from domain import commands as c
from domain.errors import DomainError
from domain.incident import NEXT_STATUSES
from domain.values import AlertSource, AlertStatus, Severity, Status
from projections.summary import get_summary
from projections.timeline import get_timeline
from tests.clocks import FakeClock
from tests.projections.rebuild_support import (
    BASE,
    assert_rebuild_equals_incremental,
    make_service,
)
from tests.projections.timeline_support import DERIVED_KINDS, declared_moments, derived_entries

GROUPS = ('alertmanager:prod:{}:{alertname="A"}', "grafana:1:ops:{}", "pagerduty:x:disk-db-01")
KEYS = ("fp-1", "fp-2", "fp-3")
CONTEXT = CommandContext({"actor": "alertmanager", "source": "alertmanager"})


class AlertWorld:
    """What the monitoring systems believe: which alerts of which group fire since when."""

    def __init__(
        self,
        service: IncidentService,
        rng: random.Random,
        auto_resolve: bool,
        groups: tuple[str, ...] = GROUPS,
    ) -> None:
        self.service = service
        self.rng = rng
        self.groups = groups
        self.ingestor = AlertIngestor(service, Generations(), auto_resolve=auto_resolve)
        self.firing: dict[tuple[str, str], datetime] = {}
        self.last: AlertBatch | None = None

    def notify(self, group: str, reports: list[c.AlertReport]) -> None:
        batch = AlertBatch(
            source=self.rng.choice(list(AlertSource)),
            group=group,
            alerts=tuple(reports),
            title=f"Alerts of {group[:40]}",
            severity=self.rng.choice(list(Severity)),
            services=("payments",),
        )
        self.ingestor.record(batch, CONTEXT)
        self.last = batch

    def step(self) -> None:
        rng, now = self.rng, self.service.now()
        group = rng.choice(self.groups)
        roll = rng.random()
        if roll < 0.4:
            for key in rng.sample(KEYS, rng.randint(1, 2)):
                self.firing.setdefault((group, key), now - timedelta(minutes=rng.randint(0, 30)))
            self.notify(group, self.snapshot(group))
        elif roll < 0.65:
            open_keys = [k for (g, k) in self.firing if g == group]
            if open_keys:
                key = rng.choice(open_keys)
                start = self.firing.pop((group, key))
                ended = c.AlertReport(
                    key=key,
                    status=AlertStatus.RESOLVED,
                    name=key,
                    starts_at=start,
                    ends_at=now - timedelta(seconds=rng.randint(0, 30)),
                )
                self.notify(group, [*self.snapshot(group), ended])
        elif roll < 0.75 and self.last is not None:
            self.ingestor.record(self.last, CONTEXT)  # a redelivery
        elif roll < 0.85:
            self.ingestor.acknowledge(group, rng.choice(KEYS), CONTEXT)
        else:
            self.people(group)

    def snapshot(self, group: str) -> list[c.AlertReport]:
        return [
            c.AlertReport(key=k, status=AlertStatus.FIRING, name=k, starts_at=start)
            for (g, k), start in sorted(self.firing.items(), key=lambda item: item[0])
            if g == group
        ]

    def people(self, group: str) -> None:
        """Someone resolves, reopens or closes the group's current incident."""
        incident_id = incident_id_for(group, self.ingestor.latest(group))
        state = self.service.load(incident_id)
        if not state.exists or not NEXT_STATUSES[state.status]:
            return
        target = self.rng.choice(sorted(NEXT_STATUSES[state.status]))
        command = c.ChangeStatus(incident_id=incident_id, at=self.service.now(), status=target)
        self.service.execute(command, {"actor": "alice", "source": "api"})


def incident_ids(service: IncidentService) -> list[UUID]:
    streams = dict.fromkeys(e.stream_id for e in service.store.read_all(limit=100_000))
    return [UUID(stream.removeprefix("incident-")) for stream in streams]


def assert_read_models_follow_the_aggregate(engine: Engine, service: IncidentService) -> None:
    with engine.connect() as conn:
        for incident_id in incident_ids(service):
            state = service.load(incident_id)
            summary = get_summary(conn, incident_id)
            assert summary is not None
            assert summary["alerts_firing"] == sum(a.open for a in state.alerts.values())
            assert summary["alerts_resolved"] == state.alerts_resolved
            assert summary["previous_incident_id"] == state.previous_incident_id
            assert summary["status"] == state.status.value
            recorded = service.store.read_stream(f"incident-{incident_id}")
            timeline = get_timeline(conn, incident_id)
            moments = declared_moments(recorded[0])
            assert derived_entries(timeline) == moments
            events = [entry for entry in timeline if entry["kind"] not in DERIVED_KINDS]
            assert len(events) == len(recorded), "every alert event has one timeline entry"
            when = {r.event_id: r.occurred_at for r in recorded}
            assert all(entry["occurred_at"] == when[entry["entry_id"]] for entry in events)


def test_a_long_alert_history_rebuilds_to_the_same_read_models(engine: Engine) -> None:
    rng = random.Random(20261127)
    service = make_service(engine, FakeClock(BASE, lambda: timedelta(seconds=rng.randint(5, 120))))
    world = AlertWorld(service, rng, auto_resolve=False)
    for _ in range(260):
        world.step()
    auto = AlertWorld(service, rng, auto_resolve=True)
    auto.firing = world.firing
    for _ in range(140):
        auto.step()

    kinds = Counter(event.type for event in service.store.read_all(limit=100_000))
    for kind in (
        "alert.fired",
        "alert.resolved",
        "alert.acknowledged",
        "incident.alerts_cleared",
        "incident.linked",
        "incident.status_changed",
    ):
        assert kinds[kind] > 0, f"the generated history has no {kind}"
    rows = assert_rebuild_equals_incremental(engine)
    assert len(rows["incident_summaries"]) == kinds["incident.declared"]
    assert_read_models_follow_the_aggregate(engine, service)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(seed=st.integers(0, 2**32 - 1), steps=st.integers(5, 60), auto_resolve=st.booleans())
def test_rebuild_equals_incremental_for_random_alert_histories(
    engine: Engine, seed: int, steps: int, auto_resolve: bool
) -> None:
    rng = random.Random(seed)
    service = make_service(engine, FakeClock(BASE, lambda: timedelta(seconds=37)))
    # The database outlives each example: groups of its own for every example.
    groups = tuple(f"{group}#{seed}" for group in GROUPS)
    world = AlertWorld(service, rng, auto_resolve, groups)
    for _ in range(steps):
        head = service.store.head_position()
        try:
            world.step()
        except DomainError:
            assert service.store.head_position() == head, "a refused command stored events"

    assert_rebuild_equals_incremental(engine)
    assert_read_models_follow_the_aggregate(engine, service)


def test_ended_incidents_are_followed_by_linked_ones(engine: Engine) -> None:
    rng = random.Random(7)
    service = make_service(engine, FakeClock(BASE, lambda: timedelta(seconds=30)))
    world = AlertWorld(service, rng, auto_resolve=True)
    group = GROUPS[0]
    for _ in range(3):
        world.firing[(group, "fp-1")] = service.now() - timedelta(minutes=1)
        world.notify(group, world.snapshot(group))
        start = world.firing.pop((group, "fp-1"))
        world.notify(
            group,
            [
                c.AlertReport(
                    key="fp-1",
                    status=AlertStatus.RESOLVED,
                    name="fp-1",
                    starts_at=start,
                    ends_at=service.now(),
                )
            ],
        )
    ids = incident_ids(service)
    assert len(ids) == 3
    states = [service.load(i) for i in ids]
    assert [s.previous_incident_id for s in states] == [None, ids[0], ids[1]]
    assert all(s.status is Status.RESOLVED for s in states)
    assert_rebuild_equals_incremental(engine)
