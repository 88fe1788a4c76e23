"""Generated incident histories for the insights tests, and the figures worked out by hand.

A plan says what happens to each incident (times, status, severity, services, labels,
kind, a duplicate_of relation, action items and their progress); ``write`` carries it
out through the command service, so every read model is kept inline. The ``expected_*``
functions compute the insights the slow, obvious way from the other read models: the
summary (its own time figures), the relations and the action-item board, plus the log
for when an item went to done.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid5

from hypothesis import strategies as st
from sqlalchemy import Connection, select

from application.service import IncidentService
from domain import commands as c
from domain.action_items import NEXT_ACTION_STATUSES
from domain.values import ActionKind, ActionStatus, IncidentKind, Relation, Severity, Status
from eventstore import EventStore
from projections.documents.incident import IncidentSummary
from projections.insight_figures import FIGURES
from projections.runner import ProjectionRunner
from projections.tables import action_items, incident_relations, incident_summaries
from tests.clocks import FakeClock

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
"""Where the clock starts; every incident started before it."""
SERVICES = ("checkout", "payments", "search")
OWNERS = ("alice", "bob", "carol")
TEAMS = ("core", "edge")
META = {"actor": "tester", "source": "test"}


@dataclass(frozen=True)
class ItemPlan:
    kind: ActionKind
    owner: str
    due_in_days: int
    """Days after the incident's start day (negative: before the clock's today)."""
    path: tuple[ActionStatus, ...]
    """The statuses it moves through after being added open."""
    reassign_to: str | None = None


@dataclass(frozen=True)
class IncidentPlan:
    severity: Severity
    services: tuple[str, ...]
    started_minutes_ago: int
    detect_after: int
    """Seconds from start to detection, and so on below."""
    acknowledge_after: int | None
    mitigate_after: int | None
    resolve_after: int | None
    then: str
    """After resolving: "stay", "reopen" or "close"."""
    new_severity: Severity | None
    labels: dict[str, str]
    relabel: dict[str, str]
    """Labels set after declaration, later in the history."""
    kind: IncidentKind
    new_kind: IncidentKind | None
    duplicate_of: int | None
    """Index of an earlier incident of the plan it records itself a duplicate of."""
    withdraw_duplicate: bool
    items: tuple[ItemPlan, ...] = field(default=())


def _paths() -> st.SearchStrategy[tuple[ActionStatus, ...]]:
    @st.composite
    def path(draw: st.DrawFn) -> tuple[ActionStatus, ...]:
        steps: list[ActionStatus] = []
        status = ActionStatus.OPEN
        for _ in range(draw(st.integers(0, 3))):
            status = draw(st.sampled_from(sorted(NEXT_ACTION_STATUSES[status])))
            steps.append(status)
        return tuple(steps)

    return path()


ITEMS = st.builds(
    ItemPlan,
    kind=st.sampled_from(list(ActionKind)),
    owner=st.sampled_from(OWNERS),
    due_in_days=st.integers(0, 40),
    path=_paths(),
    reassign_to=st.none() | st.sampled_from(OWNERS),
)

LABELS = st.dictionaries(st.sampled_from(("team", "env")), st.sampled_from(TEAMS), max_size=2)


@st.composite
def incident_plans(draw: st.DrawFn, index: int) -> IncidentPlan:
    resolve = draw(st.none() | st.integers(0, 30_000))
    mitigate = draw(st.none() | st.integers(0, resolve if resolve is not None else 30_000))
    return IncidentPlan(
        severity=draw(st.sampled_from(list(Severity))),
        services=tuple(draw(st.lists(st.sampled_from(SERVICES), max_size=3, unique=True))),
        # Over about 70 days, so that months and weeks hold several incidents each.
        started_minutes_ago=draw(st.integers(60 * 24, 60 * 24 * 70)),
        detect_after=draw(st.integers(0, 3_000)),
        acknowledge_after=draw(st.none() | st.integers(0, 3_000)),
        mitigate_after=mitigate,
        resolve_after=resolve,
        then=draw(st.sampled_from(("stay", "reopen", "close"))),
        new_severity=draw(st.none() | st.sampled_from(list(Severity))),
        labels=draw(LABELS),
        relabel=draw(LABELS),
        kind=draw(st.sampled_from(list(IncidentKind))),
        new_kind=draw(st.none() | st.sampled_from(list(IncidentKind))),
        duplicate_of=draw(st.none() | st.integers(0, index - 1)) if index else None,
        withdraw_duplicate=draw(st.booleans()),
        items=tuple(draw(st.lists(ITEMS, max_size=3))),
    )


@st.composite
def plans(draw: st.DrawFn, max_incidents: int = 8) -> list[IncidentPlan]:
    count = draw(st.integers(1, max_incidents))
    return [draw(incident_plans(index)) for index in range(count)]


def new_service(engine: Any, seed: int = 0) -> IncidentService:
    """A service projecting inline, on a clock that moves minutes to hours at each call."""
    rng = random.Random(seed)
    clock = FakeClock(NOW, lambda: timedelta(seconds=rng.randint(1, 7_200)))
    return IncidentService(EventStore(engine, clock=clock), ProjectionRunner(), clock=clock)


def write(service: IncidentService, plan: list[IncidentPlan], ids: list[UUID]) -> None:
    """Carry the plan out, incident by incident (``ids`` name them), then the later changes."""

    def run(command: c.Command) -> object:
        return service.execute(command, META)

    for incident_id, one in zip(ids, plan, strict=True):
        at = service.now()
        started = at - timedelta(minutes=one.started_minutes_ago)
        run(
            c.DeclareIncident(
                incident_id=incident_id,
                at=at,
                title="Generated",
                severity=one.severity,
                services=one.services,
                started_at=started,
                detected_at=started + timedelta(seconds=one.detect_after),
                labels=one.labels,
                kind=one.kind,
            )
        )
        _lifecycle(service, run, incident_id, one, started)
    for incident_id, one in zip(ids, plan, strict=True):
        _later(service, run, ids, incident_id, one)


def _lifecycle(
    service: IncidentService,
    run: Callable[[c.Command], object],
    incident_id: UUID,
    one: IncidentPlan,
    started: datetime,
) -> None:
    detected = started + timedelta(seconds=one.detect_after)
    if one.acknowledge_after is not None:
        when = detected + timedelta(seconds=one.acknowledge_after)
        run(c.AcknowledgeIncident(incident_id=incident_id, at=service.now(), occurred_at=when))
    if one.new_severity is not None and one.new_severity is not one.severity:
        run(c.ChangeSeverity(incident_id=incident_id, at=service.now(), severity=one.new_severity))
    if one.mitigate_after is not None:
        when = started + timedelta(seconds=one.mitigate_after)
        run(c.MarkMitigated(incident_id=incident_id, at=service.now(), occurred_at=when))
    for number, item in enumerate(one.items):
        _item(service, run, incident_id, number, item, started)
    if one.resolve_after is None:
        return
    resolved = started + timedelta(seconds=one.resolve_after)
    run(
        c.ChangeStatus(
            incident_id=incident_id, at=service.now(), status=Status.RESOLVED, occurred_at=resolved
        )
    )
    if one.then != "stay":
        status = Status.INVESTIGATING if one.then == "reopen" else Status.CLOSED
        when = resolved + timedelta(seconds=60)
        run(
            c.ChangeStatus(
                incident_id=incident_id, at=service.now(), status=status, occurred_at=when
            )
        )


def item_id_of(incident_id: UUID, number: int) -> UUID:
    """The id of the incident's ``number``-th item (unique: the board keys items by id alone)."""
    return uuid5(incident_id, f"item-{number}")


def _item(
    service: IncidentService,
    run: Callable[[c.Command], object],
    incident_id: UUID,
    number: int,
    item: ItemPlan,
    started: datetime,
) -> None:
    ids = {"incident_id": incident_id, "item_id": item_id_of(incident_id, number)}
    due = started.date() + timedelta(days=item.due_in_days)
    run(
        c.AddActionItem(
            **ids, at=service.now(), title="Fix it", kind=item.kind, owner=item.owner, due_date=due
        )
    )
    if item.reassign_to is not None and item.reassign_to != item.owner:
        run(c.ReassignActionItem(**ids, at=service.now(), owner=item.reassign_to))
    for status in item.path:
        reason = "Superseded" if status is ActionStatus.WONT_DO else None
        run(c.ChangeActionItemStatus(**ids, at=service.now(), status=status, reason=reason))


def _later(
    service: IncidentService,
    run: Callable[[c.Command], object],
    ids: list[UUID],
    incident_id: UUID,
    one: IncidentPlan,
) -> None:
    changed = {k: v for k, v in one.relabel.items() if one.labels.get(k) != v}
    if changed:
        run(c.ChangeLabels(incident_id=incident_id, at=service.now(), labels=changed))
    if one.new_kind is not None and one.new_kind is not one.kind:
        run(c.ChangeKind(incident_id=incident_id, at=service.now(), kind=one.new_kind))
    if one.duplicate_of is not None:
        other = ids[one.duplicate_of]
        run(
            c.RelateIncident(
                incident_id=incident_id,
                at=service.now(),
                other_incident_id=other,
                relation=Relation.DUPLICATE_OF,
            )
        )
        if one.withdraw_duplicate:
            run(
                c.UnrelateIncident(
                    incident_id=incident_id, at=service.now(), other_incident_id=other
                )
            )


# --- the figures worked out by hand -----------------------------------------------------------


def nearest_rank(values: list[float], percent: int) -> float:
    ordered = sorted(values)
    return ordered[math.ceil(percent / 100 * len(ordered)) - 1]


def figure(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"n": 0, "mean": None, "median": None, "p90": None}
    return {
        "n": len(values),
        "mean": sum(values) / len(values),
        "median": nearest_rank(values, 50),
        "p90": nearest_rank(values, 90),
    }


def duplicates(conn: Connection) -> dict[UUID, UUID]:
    """Incident -> the first incident it still records itself a duplicate of."""
    t = incident_relations
    rows = conn.execute(
        select(t.c.incident_id, t.c.other_incident_id)
        .where(t.c.direction == "outgoing", t.c.relation == "duplicate_of")
        .order_by(t.c.position)
    )
    found: dict[UUID, UUID] = {}
    for incident_id, other in rows:
        found.setdefault(incident_id, other)
    return found


def _keys(row: dict[str, Any], group_by: str) -> list[str | None]:
    started: datetime = row["started_at"]
    if group_by == "severity":
        return [row["severity"]]
    if group_by == "service":
        return [s for s in row["services"].split(",") if s] or [None]
    if group_by == "month":
        return [started.strftime("%Y-%m")]
    if group_by == "week":
        year, week, _ = started.isocalendar()
        return [f"{year}-W{week:02d}"]
    label = group_by.removeprefix("label:")
    return [(row["labels"] or {}).get(label)]


def expected_incident_groups(
    conn: Connection,
    *,
    start: datetime,
    end: datetime,
    group_by: str,
    kinds: Iterable[str],
    include_duplicates: bool = False,
) -> dict[str | None, dict[str, Any]]:
    """Group -> its figures, from the summary rows and their documents' time figures."""
    twins = duplicates(conn)
    groups: dict[str | None, list[IncidentSummary]] = defaultdict(list)
    for found in conn.execute(select(incident_summaries)):
        row = dict(found._mapping)
        if not start <= row["started_at"] < end or row["kind"] not in set(kinds):
            continue
        if row["incident_id"] in twins and not include_duplicates:
            continue
        for key in _keys(row, group_by):
            groups[key].append(IncidentSummary.from_row(row))
    expected = {}
    for key, documents in groups.items():
        resolved = sum(1 for d in documents if d.resolved_at is not None)
        figures = {}
        for name in FIGURES:
            values = [getattr(d, f"{name}_seconds") for d in documents]
            figures[name] = figure([v for v in values if v is not None])
        expected[key] = {
            "count": len(documents),
            "open": len(documents) - resolved,
            "resolved": resolved,
            **figures,
        }
    return expected


def done_times(store: EventStore) -> dict[tuple[UUID, UUID], datetime]:
    """(incident, item) -> when it last went to done, from the log."""
    found: dict[tuple[UUID, UUID], datetime] = {}
    for event in store.read_all(0, 100_000):
        if event.type == "action_item.status_changed" and event.data["to_status"] == "done":
            incident_id = UUID(event.stream_id.removeprefix("incident-"))
            found[(incident_id, UUID(event.data["item_id"]))] = event.recorded_at
    return found


def expected_action_item_groups(
    conn: Connection,
    store: EventStore,
    *,
    start: datetime,
    end: datetime,
    group_by: str,
    today: date,
) -> dict[str | None, dict[str, Any]]:
    """Group -> its figures, from the board's rows, the summaries' severities and the log."""
    query = select(incident_summaries.c.incident_id, incident_summaries.c.severity)
    severities = {row.incident_id: row.severity for row in conn.execute(query)}
    done = done_times(store)
    groups: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    for found in conn.execute(select(action_items)):
        row = dict(found._mapping)
        if start <= row["created_at"] < end:
            row["severity"] = severities[row["incident_id"]]
            groups[row[group_by]].append(row)
    expected = {}
    for key, rows in groups.items():
        statuses = [row["status"] for row in rows]
        finished = ("done", "wont_do")
        days = [
            (done[(row["incident_id"], row["item_id"])] - row["created_at"]).total_seconds()
            / 86_400
            for row in rows
            if row["status"] == "done"
        ]
        created, done_count, wont_do = len(rows), statuses.count("done"), statuses.count("wont_do")
        expected[key] = {
            "created": created,
            "done": done_count,
            "wont_do": wont_do,
            "open": sum(1 for s in statuses if s not in finished),
            "overdue": sum(
                1 for row in rows if row["status"] not in finished and row["due_date"] < today
            ),
            "completion_rate": done_count / (created - wont_do) if created > wont_do else None,
            "median_days_to_done": nearest_rank(days, 50) if days else None,
        }
    return expected
