"""``?as_of=`` on the summary, the timeline and the postmortem: the past, replayed from the log.

A scripted incident is driven through the API while the live answers are captured
after every command, together with the command's log position and recorded time. Read
back afterwards with ``as_of`` set to that position, that time, or any time before the
next command, every answer must be exactly what the live read models answered then.
Each test runs on SQLite and PostgreSQL (tests/conftest.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from application.integrations import IntegrationKind
from tests.api.helpers import REVIEWER, as_person, assert_problem, declare, ok, use_clock
from tests.api.hooks_support import integration, only_incident, sender, signed_headers, store_of
from tests.clocks import FakeClock

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
MISSING = UUID("00000000-0000-4000-8000-00000000dead")
DUE = (T0 + timedelta(days=5)).date()
"""The due date of an action item that becomes overdue when the clock jumps a week."""


@pytest.fixture
def clock(client: TestClient) -> FakeClock:
    clock = FakeClock(T0)
    use_clock(client, clock)
    return clock


@dataclass(frozen=True)
class Snapshot:
    """What the live read models answered right after one command."""

    step: str
    position: int
    recorded_at: datetime
    summary: dict[str, Any]
    summary_etag: str
    timeline: dict[str, Any]
    postmortem: dict[str, Any]
    markdown: str


def views(client: TestClient, incident_id: str, **params: Any) -> dict[str, Any]:
    """The summary (and its ETag), the timeline and the postmortem as JSON and Markdown."""
    summary = client.get(f"/incidents/{incident_id}", params=params)
    markdown = client.get(
        f"/incidents/{incident_id}/postmortem",
        params=params,
        headers={"Accept": "text/markdown"},
    )
    assert markdown.status_code == 200, markdown.text
    return {
        "summary": ok(summary),
        "summary_etag": summary.headers["etag"],
        "timeline": ok(client.get(f"/incidents/{incident_id}/timeline", params=params)),
        "postmortem": ok(client.get(f"/incidents/{incident_id}/postmortem", params=params)),
        "markdown": markdown.text,
    }


class Script:
    """Runs commands against one incident and captures the live views after each."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.incident_id = ""
        self.redacted_note = ""
        self.snapshots: list[Snapshot] = []

    def run(self, step: str, response: Response) -> dict[str, Any]:
        assert response.status_code in (200, 201, 202), f"{step}: {response.text}"
        body: dict[str, Any] = response.json()
        if "incidents" in body:  # a monitoring hook's answer
            body = only_incident(body)
            self.incident_id = self.incident_id or str(body["id"])
        position = int(body["position"])
        [event] = store_of(self.client).read_all(after_position=position - 1, limit=1)
        assert event.position == position
        live = views(self.client, self.incident_id)
        self.snapshots.append(Snapshot(step, position, event.recorded_at, **live))
        return body


def scripted_incident(client: TestClient, clock: FakeClock) -> Script:
    """An incident's life: alert, response, notes (one back-dated), fixes, postmortem, revision."""
    secret = integration(client, "ci-checks", IntegrationKind.GENERIC, service="checkout")
    hook = sender(client, None)
    script = Script(client)

    def alert(status: str, **fields: Any) -> Response:
        body = json.dumps(
            {"title": "Checkout latency above 2s", "dedup_key": "checkout-latency"}
            | {"status": status, "severity": "warning", **fields}
        ).encode()
        headers = signed_headers(secret.credential, body, "ci-checks")
        return hook.post("/hooks/generic", content=body, headers=headers)

    run = script.run
    run("alert fires", alert("firing", occurred_at=(T0 - timedelta(minutes=3)).isoformat()))
    url = f"/incidents/{script.incident_id}"
    post: Callable[..., Response] = client.post
    run("acknowledged", post(f"{url}/acknowledge"))
    run("note", post(f"{url}/notes", json={"text": "p99 at 2.3 s since 09:55"}))
    back_dated = {
        "text": "Deploy 4812 went out",
        "occurred_at": (T0 - timedelta(minutes=10)).isoformat(),
    }
    noted = post(f"{url}/notes", json=back_dated)
    run("back-dated note", noted)
    note_id = noted.headers["location"].rsplit("/", 1)[1]
    script.redacted_note = note_id
    run("severity", post(f"{url}/severity", json={"severity": "SEV1", "reason": "all regions"}))
    run("identified", post(f"{url}/status", json={"status": "identified"}))
    run("commander", post(f"{url}/roles", json={"role": "incident_commander", "person": "alice"}))
    run("participant", post(f"{url}/participants", json={"person": "bob"}))
    run("impact", post(f"{url}/impact", json={"impact": "30% of checkouts failed"}))
    run("root cause", post(f"{url}/root-cause", json={"root_cause": "Pool halved by 4812"}))
    run("amended", client.patch(f"{url}/timeline/{note_id}", json={"text": "Deploy 4812 shipped"}))
    item = {"title": "Alert on pool saturation", "kind": "preventative", "owner": "carol"}
    first = run("item", post(f"{url}/action-items", json={**item, "due_date": DUE.isoformat()}))
    later = (T0 + timedelta(days=30)).date().isoformat()
    run(
        "second item",
        post(
            f"{url}/action-items",
            json={**item, "title": "Pin pool size", "kind": "corrective", "due_date": later},
        ),
    )
    run(
        "item started",
        client.patch(f"{url}/action-items/{first['item_id']}", json={"status": "in_progress"}),
    )
    run("mitigated", post(f"{url}/mitigate"))
    run("alert resolves", alert("resolved"))
    run("resolved", post(f"{url}/status", json={"status": "resolved"}))
    for section, text in (
        ("summary", "Checkout failed for 40 minutes."),
        ("root_cause", "Deploy 4812 halved the payments connection pool."),
        ("resolution", "Rolled back deploy 4812."),
    ):
        run(
            f"postmortem {section}",
            client.put(f"{url}/postmortem/sections/{section}", json={"text": text}),
        )
    run("review", post(f"{url}/postmortem/review", json={"reviewers": [REVIEWER]}))
    run("approved", as_person(client, REVIEWER).post(f"{url}/postmortem/approve"))
    clock.now = T0 + timedelta(days=7)  # the first item is overdue from here on
    run("published", post(f"{url}/postmortem/publish"))
    run(
        "redacted",
        client.patch(f"{url}/timeline/{note_id}", json={"redacted": True, "reason": "wrong"}),
    )
    run(
        "revision 2",
        client.put(
            f"{url}/postmortem/sections/root_cause",
            json={"text": "A config push removed the pool limit."},
        ),
    )
    run("reopened", post(f"{url}/status", json={"status": "investigating"}))
    clock.now = T0 + timedelta(days=8)
    run(
        "item done", client.patch(f"{url}/action-items/{first['item_id']}", json={"status": "done"})
    )
    run("resolved again", post(f"{url}/status", json={"status": "resolved"}))
    return script


def test_every_past_answer_is_exactly_what_the_live_read_models_said_then(
    client: TestClient, clock: FakeClock
) -> None:
    script = scripted_incident(client, clock)
    snapshots = script.snapshots
    assert len(snapshots) == 28
    times = [s.recorded_at for s in snapshots]
    assert times == sorted(set(times)), "every command is recorded at a distinct time"
    # The script moves through states worth replaying: overdue flips with the clock jump.
    overdue = [[i["overdue"] for i in s.postmortem["action_items"]] for s in snapshots]
    assert [True, False] in overdue
    assert [False, False] in overdue
    clock.now = T0 + timedelta(days=60)  # the past must not be judged by today

    (redacted_at,) = [s.recorded_at for s in snapshots if s.step == "redacted"]
    for index, snapshot in enumerate(snapshots):
        following = snapshots[index + 1].recorded_at if index + 1 < len(snapshots) else None
        between = snapshot.recorded_at + (
            (following - snapshot.recorded_at) / 2 if following else timedelta(hours=1)
        )
        for as_of in (
            str(snapshot.position),
            snapshot.recorded_at.isoformat(),
            between.isoformat().replace("+00:00", "Z"),
        ):
            past = views(client, script.incident_id, as_of=as_of)
            where = f"{snapshot.step} as of {as_of}"
            assert past["summary"] == snapshot.summary, where
            assert past["summary_etag"] == snapshot.summary_etag, where
            expected = erased(snapshot.timeline, script.redacted_note, redacted_at)
            assert past["timeline"] == expected, where
            postmortem = snapshot.postmortem
            if "timeline" in postmortem:
                erased_timeline = erased(
                    {"entries": postmortem["timeline"]}, script.redacted_note, redacted_at
                )
                postmortem = {**postmortem, "timeline": erased_timeline["entries"]}
            assert past["postmortem"] == postmortem, where
            assert past["markdown"] == erased_markdown(snapshot.markdown), where


ERASED_TEXTS = ("Deploy 4812 went out", "Deploy 4812 shipped")
PLACEHOLDER = "Note redacted by admin: wrong"


def erased(timeline: dict[str, Any], note_id: str, redacted_at: datetime) -> dict[str, Any]:
    """The timeline as it was then, but for the note redacted later: its text is erased
    (eventstore/sealed_text.py), so a past view shows who redacted it and why instead."""
    entries = []
    for entry in timeline["entries"]:
        if entry["id"] == note_id and entry["kind"] == "note":
            assert entry["text"] in ERASED_TEXTS
            redacted = {
                "redacted": True,
                "redacted_at": redacted_at.isoformat().replace("+00:00", "Z"),
                "redacted_by": "admin",
                "reason": "wrong",
            }
            details = {**entry["details"], "redacted": redacted}
            entry = {**entry, "text": PLACEHOLDER, "details": details}
        entries.append(entry)
    return {**timeline, "entries": entries}


def erased_markdown(markdown: str) -> str:
    for text in ERASED_TEXTS:
        markdown = markdown.replace(text, PLACEHOLDER)
    return markdown


# --- edges ---------------------------------------------------------------------------------


def entry_texts(client: TestClient, incident_id: str, as_of: str) -> list[str]:
    timeline = ok(client.get(f"/incidents/{incident_id}/timeline", params={"as_of": as_of}))
    return [entry["text"] for entry in timeline["entries"]]


def test_as_of_means_recorded_by_then_not_occurred_by_then(
    client: TestClient, clock: FakeClock
) -> None:
    incident_id = declare(client)
    clock.now = T0.replace(hour=14, minute=10)
    ok(
        client.post(f"/incidents/{incident_id}/notes", json={"text": "Paged the database team"}),
        201,
    )
    clock.now = T0.replace(hour=15)
    back_dated = {"text": "Rolled back 4812", "occurred_at": T0.replace(hour=14).isoformat()}
    ok(client.post(f"/incidents/{incident_id}/notes", json=back_dated), 201)

    declared = "Incident declared: Checkout returns 502 (SEV2)"
    # At 14:30 the rollback had happened, but nobody had written it down yet.
    assert entry_texts(client, incident_id, "2026-03-02T14:30:00Z") == [
        declared,
        "Paged the database team",
    ]
    # Once recorded, it takes its place by when it occurred: before the 14:10 page.
    assert entry_texts(client, incident_id, "2026-03-02T15:00:05Z") == [
        declared,
        "Rolled back 4812",
        "Paged the database team",
    ]
    # An offset is the same instant: 16:30+01:00 is 15:30Z.
    assert entry_texts(client, incident_id, "2026-03-02T16:30:00+01:00") == entry_texts(
        client, incident_id, "2026-03-02T15:30:00Z"
    )


def test_a_moment_before_the_incident_or_an_unknown_incident_is_404(
    client: TestClient, clock: FakeClock
) -> None:
    earlier = declare(client, title="Search is slow")
    clock.now = T0 + timedelta(hours=1)
    incident_id = declare(client)
    earlier_position = ok(client.get(f"/incidents/{earlier}"))["last_position"]
    paths = ("", "/timeline", "/postmortem")
    for as_of in ("2026-03-02T10:30:00Z", str(earlier_position), "0"):
        for path in paths:
            assert_problem(
                client.get(f"/incidents/{incident_id}{path}", params={"as_of": as_of}),
                404,
                f"incident {incident_id} had not been declared as of {as_of}",
            )
    for path in paths:
        assert_problem(
            client.get(f"/incidents/{MISSING}{path}", params={"as_of": "2030-01-01T00:00:00Z"}),
            404,
            f"incident {MISSING} does not exist",
        )


def test_a_future_time_or_a_position_past_the_head_is_the_current_state(
    client: TestClient, clock: FakeClock
) -> None:
    incident_id = declare(client)
    ok(client.post(f"/incidents/{incident_id}/notes", json={"text": "Rolled back"}), 201)
    item = {"title": "Pin pool size", "kind": "corrective", "owner": "carol"}
    item["due_date"] = (T0 + timedelta(days=1)).date().isoformat()
    ok(client.post(f"/incidents/{incident_id}/action-items", json=item), 201)
    clock.now = T0 + timedelta(days=3)  # the item is overdue now
    live = views(client, incident_id)
    assert live["postmortem"]["action_items"][0]["overdue"] is True
    for as_of in ("2999-12-31T23:59:59Z", str(2**63 - 1)):
        assert views(client, incident_id, as_of=as_of) == live, as_of
    # The head itself is a moment of the past: judged when its event was recorded.
    head = views(client, incident_id, as_of=live["summary"]["last_position"])
    assert head["timeline"] == live["timeline"]
    assert head["postmortem"]["action_items"][0]["overdue"] is False


@pytest.mark.parametrize(
    "as_of",
    [
        "yesterday",
        "-1",
        "1.5",
        "2026-03-02",
        "2026-03-02T10:00:00",  # no timezone
        "2026-13-02T10:00:00Z",
        "2026-03-02T24:00:00Z",
        "0001-01-01T00:00:00+01:00",  # before the first representable instant once in UTC
        str(2**63),  # beyond any 64-bit position
        "",
        "9" * 65,
    ],
)
def test_an_as_of_that_is_neither_a_position_nor_a_time_is_422(
    client: TestClient, clock: FakeClock, as_of: str
) -> None:
    incident_id = declare(client)
    for path in ("", "/timeline", "/postmortem"):
        response = client.get(f"/incidents/{incident_id}{path}", params={"as_of": as_of})
        problem = assert_problem(response, 422)
        assert [e["location"] for e in problem["errors"]] == [["query", "as_of"]]


def test_an_unencoded_plus_is_422_with_a_hint(client: TestClient, clock: FakeClock) -> None:
    incident_id = declare(client)
    # In a query string "+" means a space, so the server sees "10:00:00 01:00".
    response = client.get(f"/incidents/{incident_id}?as_of=2026-03-02T12:00:00+01:00")
    problem = assert_problem(response, 422)
    assert "write it as %2B" in problem["detail"]
    encoded = client.get(f"/incidents/{incident_id}?as_of=2026-03-02T12:00:00%2B01:00")
    assert ok(encoded)["id"] == incident_id


def test_the_past_timeline_pages_like_the_live_one(client: TestClient, clock: FakeClock) -> None:
    incident_id = declare(client)
    for number in range(5):
        ok(client.post(f"/incidents/{incident_id}/notes", json={"text": f"note {number}"}), 201)
    as_of = ok(client.get(f"/incidents/{incident_id}"))["last_position"] - 1  # without note 4
    whole = ok(client.get(f"/incidents/{incident_id}/timeline", params={"as_of": as_of}))
    assert [e["text"] for e in whole["entries"]][1:] == [f"note {n}" for n in range(4)]

    pages = []
    page = ok(client.get(f"/incidents/{incident_id}/timeline", params={"as_of": as_of, "limit": 2}))
    while True:
        pages.append(page)
        if page["next_url"] is None:
            break
        assert f"as_of={as_of}" in page["next_url"]
        page = ok(client.get(page["next_url"]))
    assert [len(p["entries"]) for p in pages] == [2, 2, 1]
    assert [e for p in pages for e in p["entries"]] == whole["entries"]
