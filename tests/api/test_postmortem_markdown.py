"""The Markdown postmortem of a realistic incident, compared with a checked-in golden file.

Every time comes from a fake clock, so the document is the same on every run and on
every backend. After an intended change to the rendering, regenerate the file with

    UPDATE_GOLDEN=1 .venv/bin/pytest tests/api/test_postmortem_markdown.py

and review the diff like any other change.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from fastapi.testclient import TestClient

from application.service import IncidentService
from domain import commands as c
from domain.values import (
    ActionKind,
    ActionStatus,
    Priority,
    Role,
    Section,
    Severity,
    Status,
)
from tests.api.helpers import use_clock
from tests.clocks import FakeClock

GOLDEN = Path(__file__).parent.parent / "fixtures" / "postmortem_golden.md"

INCIDENT = UUID("6f1c2a9e-8d4b-4c57-9e0a-3b2d1c0f9a71")
NOTE_DEPLOY = UUID("6f1c2a9e-8d4b-4c57-9e0a-000000000001")
NOTE_POOL = UUID("6f1c2a9e-8d4b-4c57-9e0a-000000000002")
ITEMS = [UUID(f"6f1c2a9e-8d4b-4c57-9e0a-0000000001{n:02d}") for n in range(4)]

ALICE = {"actor": "alice", "source": "api"}
BOB = {"actor": "bob", "source": "api"}
CAROL = {"actor": "carol", "source": "api"}
DAN = {"actor": "dan", "source": "api"}
ALERTMANAGER = {"actor": "alertmanager", "source": "alertmanager"}


def at(hour: int, minute: int, day: int = 2) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


SECTIONS = {
    Section.SUMMARY: (
        "For 68 minutes on 2 March 2026, 31% of checkout attempts failed with HTTP 502."
        " Deploy 4812 shipped a configuration that halved the payments service's database"
        " connection pool; under the morning peak, checkout requests queued for a connection"
        " and timed out at the gateway."
    ),
    Section.IMPACT: (
        "- 31% of checkout attempts failed between 09:12 and 09:52 UTC (about 4,100 orders).\n"
        "- Card authorisations that did succeed took up to 9 s (p99), against 400 ms normally.\n"
        "- No payment was taken twice; no data was lost."
    ),
    Section.DETECTION: (
        "The `CheckoutErrorRateHigh` alert fired at 09:20, eight minutes after the errors"
        " began; its `for: 5m` clause and the 3-minute evaluation interval account for the delay."
    ),
    Section.ROOT_CAUSE: (
        "Deploy 4812 moved the pool settings from `payments.yaml` to the shared\n"
        "`database.yaml`, where `max_connections | pool_size` are read per process rather\n"
        "than per host. With two processes per host, each got 50 connections instead of 100."
    ),
    Section.RESOLUTION: (
        "The deploy was rolled back at 09:48 and the error rate fell to baseline by 09:52."
        " The pool setting was restored to 100 per process in deploy 4815 the next day."
    ),
    Section.LESSONS_LEARNED: (
        "1. Configuration changes need the same canary stage as code changes.\n"
        "2. Pool saturation was visible on dashboards 6 minutes before customers noticed;"
        " nothing alerted on it.\n"
        "3. Rolling back first and diagnosing second shortened the incident by an estimated"
        " 20 minutes."
    ),
}


Step = tuple[datetime, dict[str, Any], type[c.Command], dict[str, Any]]

STEPS: list[Step] = [
    (
        at(9, 23),
        ALERTMANAGER,
        c.DeclareIncident,
        {
            "title": "Checkout returns 502 after deploy 4812",
            "severity": Severity.SEV2,
            "services": ("checkout", "payments"),
            "summary": "CheckoutErrorRateHigh firing: 502 rate above 20%",
            "started_at": at(9, 12),
            "detected_at": at(9, 20),
        },
    ),
    (at(9, 25), ALICE, c.AcknowledgeIncident, {"occurred_at": at(9, 24)}),
    (at(9, 26), ALICE, c.AssignRole, {"role": Role.INCIDENT_COMMANDER, "person": "alice"}),
    (at(9, 27), ALICE, c.AssignRole, {"role": Role.COMMUNICATIONS_LEAD, "person": "bob"}),
    (at(9, 27), ALICE, c.AssignRole, {"role": Role.SCRIBE, "person": "carol"}),
    (at(9, 28), ALICE, c.AddParticipant, {"person": "dan"}),
    (
        at(9, 29),
        CAROL,
        c.AddNote,
        {
            "note_id": NOTE_DEPLOY,
            "text": "Deploy 4812 reached 100% of payments hosts",
            "occurred_at": at(9, 10),
        },
    ),
    (
        at(9, 30),
        ALICE,
        c.ChangeSeverity,
        {"severity": Severity.SEV1, "reason": "Every region affected"},
    ),
    (
        at(9, 41),
        CAROL,
        c.AddNote,
        {
            "note_id": NOTE_POOL,
            "text": "payments: 50/50 DB connections in use | queue depth 1,200",
            "occurred_at": at(9, 40),
        },
    ),
    (at(9, 42), ALICE, c.ChangeStatus, {"status": Status.IDENTIFIED}),
    (at(9, 44), ALICE, c.ChangeServices, {"services": ("checkout", "payments", "api-gateway")}),
    (at(9, 53), ALICE, c.MarkMitigated, {"occurred_at": at(9, 52)}),
    (at(9, 54), ALICE, c.ChangeStatus, {"status": Status.MONITORING}),
    (
        at(10, 5),
        BOB,
        c.UpdateImpact,
        {"impact": "31% of checkouts failed for 40 minutes; payments were slow for 68"},
    ),
    (
        at(10, 6),
        ALICE,
        c.UpdateRootCause,
        {"root_cause": "Deploy 4812 halved the payments connection pool"},
    ),
    (at(10, 20), ALICE, c.ChangeStatus, {"status": Status.RESOLVED}),
    (at(10, 21), ALICE, c.UpdateResolution, {"resolution": "Rolled back deploy 4812"}),
    *(
        (
            at(11, 0),
            CAROL,
            c.AddActionItem,
            {
                "item_id": item_id,
                "title": title,
                "kind": kind,
                "owner": owner,
                "due_date": due,
                "priority": priority,
                "ticket_url": ticket,
            },
        )
        for item_id, (title, kind, owner, due, priority, ticket) in zip(
            ITEMS,
            [
                (
                    "Restore the payments pool to 100 connections per process",
                    ActionKind.CORRECTIVE,
                    "dan",
                    date(2026, 3, 3),
                    Priority.P1,
                    "https://tracker.example.com/browse/PAY-311",
                ),
                (
                    "Alert on connection-pool saturation above 90% for 2 minutes",
                    ActionKind.PREVENTATIVE,
                    "alice",
                    date(2026, 3, 6),
                    Priority.P1,
                    None,
                ),
                (
                    "Canary configuration changes like code changes",
                    ActionKind.PREVENTATIVE,
                    "bob",
                    date(2026, 3, 20),
                    Priority.P2,
                    "https://tracker.example.com/browse/OPS-812",
                ),
                (
                    "Load-test every pool-size change",
                    ActionKind.PREVENTATIVE,
                    "dan",
                    date(2026, 3, 31),
                    Priority.P3,
                    None,
                ),
            ],
            strict=True,
        )
    ),
    *(
        (at(14, minute), CAROL, c.EditPostmortemSection, {"section": section, "text": text})
        for minute, (section, text) in enumerate(SECTIONS.items(), start=10)
    ),
    (
        at(9, 0, day=3),
        DAN,
        c.ChangeActionItemStatus,
        {"item_id": ITEMS[0], "status": ActionStatus.DONE},
    ),
    (
        at(9, 5, day=3),
        BOB,
        c.ChangeActionItemStatus,
        {"item_id": ITEMS[2], "status": ActionStatus.IN_PROGRESS},
    ),
    (
        at(9, 6, day=3),
        BOB,
        c.ChangeActionItemStatus,
        {
            "item_id": ITEMS[3],
            "status": ActionStatus.WONT_DO,
            "reason": "Covered by the canary stage",
        },
    ),
    (at(10, 0, day=3), CAROL, c.RequestPostmortemReview, {"reviewers": ("bob",)}),
    (at(15, 0, day=3), BOB, c.ApprovePostmortem, {"reviewer": "bob", "comment": "Clear."}),
    (at(16, 30, day=3), ALICE, c.PublishPostmortem, {}),
]
"""A SEV1 checkout outage from alert to published postmortem, every step at a set time."""


def test_the_markdown_postmortem_matches_the_golden_file(client: TestClient) -> None:
    clock = FakeClock(at(9, 23))
    use_clock(client, clock)
    service: IncidentService = client.app.state.service  # type: ignore[attr-defined]
    for when, metadata, command, fields in STEPS:
        clock.now = when
        service.execute(command(incident_id=INCIDENT, at=service.now(), **fields), metadata)
    clock.now = at(12, 0, day=9)  # "today" for overdue items: a week after the incident

    response = client.get(f"/incidents/{INCIDENT}/postmortem", headers={"Accept": "text/markdown"})
    assert response.status_code == 200, response.text
    document = response.text

    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(document, encoding="utf-8")
    expected = GOLDEN.read_text(encoding="utf-8")
    assert document == expected, (
        "the Markdown postmortem changed; if intended, regenerate with UPDATE_GOLDEN=1"
    )
