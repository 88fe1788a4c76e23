"""Action items through the API: add, patch, complete, the per-incident list and the board.

"Today" for the overdue filter is the service clock's date, so these tests fix the
clock. Each test runs on SQLite and PostgreSQL (tests/conftest.py).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from tests.api.helpers import assert_problem, declare, nothing_stored, ok, use_clock
from tests.clocks import FakeClock

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
TODAY = T0.date()
STARTED = (T0 - timedelta(days=9)).isoformat()
MISSING = UUID("00000000-0000-4000-8000-00000000dead")
TICKET = "https://tracker.example.com/browse/OPS-812"


@pytest.fixture
def clock(client: TestClient) -> FakeClock:
    clock = FakeClock(T0)
    use_clock(client, clock)
    return clock


def day(offset: int) -> str:
    return (TODAY + timedelta(days=offset)).isoformat()


def add_item(client: TestClient, incident_id: str, **fields: Any) -> str:
    body = {"title": "Alert on pool saturation", "kind": "corrective", "owner": "alice"}
    body["due_date"] = day(7)
    response = client.post(f"/incidents/{incident_id}/action-items", json={**body, **fields})
    created = ok(response, 201)
    item_id: str = created["item_id"]
    location = response.headers["location"]
    assert location == f"/incidents/{incident_id}/action-items/{item_id}"
    assert ok(client.get(location))["id"] == item_id
    return item_id


def item_of(client: TestClient, incident_id: str, item_id: str) -> dict[str, Any]:
    item = ok(client.get(f"/incidents/{incident_id}/action-items/{item_id}"))
    assert item == items_of(client, incident_id)[item_id]  # the one item is the listed one
    return item


def last_entry(client: TestClient, incident_id: str) -> dict[str, Any]:
    entry: dict[str, Any] = ok(client.get(f"/incidents/{incident_id}/timeline"))["entries"][-1]
    return entry


def items_of(client: TestClient, incident_id: str) -> dict[str, dict[str, Any]]:
    listed = ok(client.get(f"/incidents/{incident_id}/action-items"))
    assert listed["incident_id"] == incident_id
    return {item["id"]: item for item in listed["items"]}


def counts(client: TestClient, incident_id: str) -> dict[str, int]:
    result: dict[str, int] = ok(client.get(f"/incidents/{incident_id}"))["action_items"]
    return result


def test_add_an_item_and_read_it_back(client: TestClient, clock: FakeClock) -> None:
    incident_id = declare(client, started_at=STARTED)
    chosen = "00000000-0000-4000-8000-0000000000b1"
    response = client.post(
        f"/incidents/{incident_id}/action-items",
        json={
            "id": chosen,
            "title": "  Add a canary for config pushes  ",
            "kind": "preventative",
            "owner": "bob",
            "due_date": day(14),
            "ticket_url": TICKET,
        },
    )
    created = ok(response, 201)
    assert created == {"id": incident_id, "item_id": chosen, "version": 2, "position": 2}

    item = items_of(client, incident_id)[chosen]
    assert item == {
        "id": chosen,
        "incident_id": incident_id,
        "title": "Add a canary for config pushes",
        "kind": "preventative",
        "owner": "bob",
        "due_date": day(14),
        "priority": "P3",
        "status": "open",
        "reason": None,
        "ticket_url": TICKET,
        "overdue": False,
        "created_at": item["created_at"],
        "updated_at": item["created_at"],
        "position": 2,
    }
    assert counts(client, incident_id) == {"open": 1, "in_progress": 0, "done": 0, "wont_do": 0}
    entry = ok(client.get(f"/incidents/{incident_id}/timeline"))["entries"][-1]
    assert entry["kind"] == "action_item_added"
    assert entry["text"] == (
        f"Preventative action item added: Add a canary for config pushes"
        f" (owner bob, due {day(14)}, P3)"
    )


def test_a_patch_applies_each_field_as_its_own_command_in_order(
    client: TestClient, clock: FakeClock
) -> None:
    incident_id = declare(client, started_at=STARTED)
    item_id = add_item(client, incident_id)
    patch = {"owner": "bob", "due_date": day(21), "status": "in_progress", "ticket_url": TICKET}
    result = ok(client.patch(f"/incidents/{incident_id}/action-items/{item_id}", json=patch))
    assert result["version"] == 6  # declared, added, then four commands

    item = items_of(client, incident_id)[item_id]
    assert (item["owner"], item["due_date"], item["status"], item["ticket_url"]) == (
        "bob",
        day(21),
        "in_progress",
        TICKET,
    )
    assert item["updated_at"] > item["created_at"]
    kinds = [e["kind"] for e in ok(client.get(f"/incidents/{incident_id}/timeline"))["entries"]]
    assert kinds[-4:] == [
        "action_item_reassigned",
        "action_item_rescheduled",
        "action_item_status_changed",
        "action_item_ticket_linked",
    ]
    assert counts(client, incident_id)["in_progress"] == 1


def test_complete_abandon_and_reopen(client: TestClient, clock: FakeClock) -> None:
    incident_id = declare(client, started_at=STARTED)
    done_id = add_item(client, incident_id, due_date=day(-3))
    dropped_id = add_item(client, incident_id, due_date=day(-2), kind="preventative")
    assert all(item["overdue"] for item in items_of(client, incident_id).values())

    url = f"/incidents/{incident_id}/action-items"
    ok(client.patch(f"{url}/{done_id}", json={"status": "done"}))
    ok(client.patch(f"{url}/{dropped_id}", json={"status": "wont_do", "reason": "Superseded"}))
    items = items_of(client, incident_id)
    assert (items[done_id]["status"], items[done_id]["overdue"]) == ("done", False)
    assert (items[dropped_id]["status"], items[dropped_id]["reason"]) == ("wont_do", "Superseded")
    assert counts(client, incident_id) == {"open": 0, "in_progress": 0, "done": 1, "wont_do": 1}

    with nothing_stored(client):
        problem = assert_problem(
            client.patch(f"{url}/{done_id}", json={"status": "open", "reason": "Regressed"}), 422
        )
    assert [error["location"] for error in problem["errors"]] == [["body", "reason"]]
    ok(client.patch(f"{url}/{done_id}", json={"status": "open"}))
    items = items_of(client, incident_id)
    assert (items[done_id]["status"], items[done_id]["overdue"]) == ("open", True)
    assert counts(client, incident_id) == {"open": 1, "in_progress": 0, "done": 0, "wont_do": 1}


def test_a_patch_breaking_a_rule_in_any_part_stores_nothing(
    client: TestClient, clock: FakeClock
) -> None:
    incident_id = declare(client, started_at=STARTED)
    item_id = add_item(client, incident_id)
    url = f"/incidents/{incident_id}/action-items/{item_id}"
    with nothing_stored(client):
        response = client.patch(url, json={"owner": "bob", "status": "wont_do"})
        assert_problem(response, 422, "an action item is only abandoned (wont_do) with a reason")
    assert items_of(client, incident_id)[item_id]["owner"] == "alice"

    with nothing_stored(client):
        response = client.patch(url, json={"owner": "alice", "due_date": day(30)})
        assert_problem(response, 422, f"action item {item_id} is already owned by alice")
    with nothing_stored(client):
        response = client.patch(url, json={"due_date": "2026-02-28"})
        assert_problem(
            response, 422, "due date 2026-02-28 is before the incident started (2026-03-01)"
        )
    with nothing_stored(client):
        response = client.patch(url, json={"status": "open"})
        assert_problem(response, 422, f"action item {item_id} is already open")


def test_retitle_and_reprioritise_an_item(client: TestClient, clock: FakeClock) -> None:
    incident_id = declare(client, started_at=STARTED)
    item_id = add_item(client, incident_id)
    url = f"/incidents/{incident_id}/action-items/{item_id}"
    patch = {"title": "  Alert on pool saturation per service  ", "priority": "P1"}
    result = ok(client.patch(url, json=patch))
    assert result["version"] == 4  # declared, added, retitled, reprioritised

    item = item_of(client, incident_id, item_id)
    assert (item["title"], item["priority"]) == ("Alert on pool saturation per service", "P1")
    assert item["updated_at"] > item["created_at"]
    entries = ok(client.get(f"/incidents/{incident_id}/timeline"))["entries"]
    assert [(e["kind"], e["text"]) for e in entries[-2:]] == [
        (
            "action_item_retitled",
            "Action item retitled: Alert on pool saturation per service"
            " (was Alert on pool saturation)",
        ),
        ("action_item_reprioritized", "Action item priority changed to P1 (was P3)"),
    ]
    assert entries[-1]["details"] == {"item_id": item_id, "priority": "P1", "previous": "P3"}

    with nothing_stored(client):
        response = client.patch(url, json={"title": "Alert on pool saturation per service "})
        assert_problem(
            response,
            422,
            f"action item {item_id} is already titled 'Alert on pool saturation per service'",
        )
    with nothing_stored(client):
        response = client.patch(url, json={"priority": "P1", "owner": "bob"})
        assert_problem(response, 422, f"action item {item_id} already has priority P1")
    with nothing_stored(client):
        response = client.patch(url, json={"title": "New title", "priority": "P1"})
        assert_problem(response, 422, f"action item {item_id} already has priority P1")
    with nothing_stored(client):
        assert_problem(client.patch(url, json={"priority": "P0"}), 422)
        assert_problem(client.patch(url, json={"title": "   "}), 422)
        assert_problem(client.patch(url, json={"title": "two\nlines"}), 422)
    item = item_of(client, incident_id, item_id)
    assert (item["title"], item["priority"], item["owner"]) == (
        "Alert on pool saturation per service",
        "P1",
        "alice",
    )

    unknown_item = "00000000-0000-4000-8000-0000000000ff"
    with nothing_stored(client):
        assert_problem(
            client.patch(
                f"/incidents/{incident_id}/action-items/{unknown_item}", json={"title": "x"}
            ),
            404,
            f"incident {incident_id} has no action item {unknown_item}",
        )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "give at least one of title, priority, owner, due_date, status, ticket_url"),
        ({"owner": None, "ticket_url": None}, None),  # nothing to unlink: refused by the rule
        ({"status": "finished"}, None),
        ({"ticket_url": "tracker/OPS-1"}, None),
        ({"owner": "bob", "colour": "red"}, None),
    ],
)
def test_invalid_patches_are_422(
    client: TestClient, clock: FakeClock, body: dict[str, Any], message: str | None
) -> None:
    incident_id = declare(client, started_at=STARTED)
    item_id = add_item(client, incident_id)
    with nothing_stored(client):
        response = client.patch(f"/incidents/{incident_id}/action-items/{item_id}", json=body)
        problem = assert_problem(response, 422)
    if message is not None:
        assert message in problem["detail"]


REASON_ONLY_WITH_WONT_DO = (
    "body.reason: Value error, reason is only given together with status wont_do"
)


@pytest.mark.parametrize(
    "body",
    [
        {"reason": "why not"},
        {"owner": "bob", "reason": "why"},
        {"status": "done", "reason": "Finished early"},
        {"status": "in_progress", "reason": "Started"},
        {"status": "open", "reason": "Regressed"},
    ],
)
def test_a_reason_is_only_accepted_with_wont_do(
    client: TestClient, clock: FakeClock, body: dict[str, Any]
) -> None:
    incident_id = declare(client, started_at=STARTED)
    item_id = add_item(client, incident_id)
    with nothing_stored(client):
        response = client.patch(f"/incidents/{incident_id}/action-items/{item_id}", json=body)
        problem = assert_problem(response, 422, REASON_ONLY_WITH_WONT_DO)
    assert [error["location"] for error in problem["errors"]] == [["body", "reason"]]
    assert item_of(client, incident_id, item_id)["status"] == "open"


def test_a_null_ticket_url_removes_the_link_and_an_absent_one_keeps_it(
    client: TestClient, clock: FakeClock
) -> None:
    incident_id = declare(client, started_at=STARTED)
    item_id = add_item(client, incident_id, ticket_url=TICKET)
    url = f"/incidents/{incident_id}/action-items/{item_id}"

    ok(client.patch(url, json={"owner": "bob"}))  # no ticket_url: the link stays
    assert item_of(client, incident_id, item_id)["ticket_url"] == TICKET

    clock.now = T0 + timedelta(minutes=5)
    result = ok(client.patch(url, json={"ticket_url": None}))
    assert result["version"] == 4  # declared, added, reassigned, unlinked
    item = item_of(client, incident_id, item_id)
    assert (item["ticket_url"], item["owner"]) == (None, "bob")
    assert item["updated_at"] > item["created_at"]
    entry = last_entry(client, incident_id)
    assert (entry["kind"], entry["text"]) == (
        "action_item_ticket_unlinked",
        "Action item ticket link removed",
    )
    assert entry["details"] == {"item_id": item_id, "ticket_url": None}

    with nothing_stored(client):
        assert_problem(
            client.patch(url, json={"ticket_url": None}),
            422,
            f"action item {item_id} has no ticket linked",
        )
    # Removing the link in a patch that also breaks a rule stores neither change.
    ok(client.patch(url, json={"ticket_url": TICKET}))
    with nothing_stored(client):
        assert_problem(client.patch(url, json={"ticket_url": None, "owner": "bob"}), 422)
    assert item_of(client, incident_id, item_id)["ticket_url"] == TICKET
    assert last_entry(client, incident_id)["text"] == f"Action item linked to {TICKET}"


def test_one_item_is_read_by_its_id(client: TestClient, clock: FakeClock) -> None:
    incident_id = declare(client, started_at=STARTED)
    other_incident = declare(client, started_at=STARTED, title="Search is slow")
    item_id = add_item(client, incident_id, title="Canary config pushes", due_date=day(-1))
    add_item(client, incident_id, title="Another")

    item = item_of(client, incident_id, item_id)
    assert (item["id"], item["incident_id"], item["title"]) == (
        item_id,
        incident_id,
        "Canary config pushes",
    )
    assert (item["status"], item["overdue"]) == ("open", True)
    ok(client.patch(f"/incidents/{incident_id}/action-items/{item_id}", json={"status": "done"}))
    done = item_of(client, incident_id, item_id)
    assert (done["status"], done["overdue"]) == ("done", False)

    unknown_item = "00000000-0000-4000-8000-0000000000ff"
    assert_problem(
        client.get(f"/incidents/{incident_id}/action-items/{unknown_item}"),
        404,
        f"incident {incident_id} has no action item {unknown_item}",
    )
    assert_problem(  # an item is only found under its own incident
        client.get(f"/incidents/{other_incident}/action-items/{item_id}"),
        404,
        f"incident {other_incident} has no action item {item_id}",
    )
    assert_problem(
        client.get(f"/incidents/{MISSING}/action-items/{item_id}"),
        404,
        f"incident {MISSING} does not exist",
    )
    assert_problem(client.get(f"/incidents/{incident_id}/action-items/not-a-uuid"), 422)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("kind", "curative"),
        ("priority", "P5"),
        ("title", ""),
        ("due_date", "next week"),
        ("ticket_url", "javascript:alert(1)"),
    ],
)
def test_invalid_items_are_refused(
    client: TestClient, clock: FakeClock, field: str, value: str
) -> None:
    incident_id = declare(client, started_at=STARTED)
    body = {"title": "t", "kind": "corrective", "owner": "alice", "due_date": day(1)}
    with nothing_stored(client):
        response = client.post(
            f"/incidents/{incident_id}/action-items", json={**body, field: value}
        )
        problem = assert_problem(response, 422)
    assert ["body", field] in [error["location"] for error in problem["errors"]]


def test_unknown_incidents_and_items_are_404(client: TestClient, clock: FakeClock) -> None:
    incident_id = declare(client, started_at=STARTED)
    unknown_item = "00000000-0000-4000-8000-0000000000ff"
    body = {"title": "t", "kind": "corrective", "owner": "alice", "due_date": day(1)}
    with nothing_stored(client):
        assert_problem(
            client.post(f"/incidents/{MISSING}/action-items", json=body),
            404,
            f"incident {MISSING} does not exist",
        )
        assert_problem(
            client.patch(
                f"/incidents/{incident_id}/action-items/{unknown_item}", json={"owner": "bob"}
            ),
            404,
            f"incident {incident_id} has no action item {unknown_item}",
        )
    assert_problem(
        client.get(f"/incidents/{MISSING}/action-items"), 404, f"incident {MISSING} does not exist"
    )
    assert ok(client.get(f"/incidents/{incident_id}/action-items"))["items"] == []


def board(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = ok(client.get("/action-items", params=params))["items"]
    return items


def test_the_board_filters_by_owner_status_kind_incident_and_overdue(
    client: TestClient, clock: FakeClock
) -> None:
    first = declare(client, started_at=STARTED)
    second = declare(client, started_at=STARTED, title="Search is slow")
    late = add_item(client, first, title="Late", owner="alice", due_date=day(-1))
    due_today = add_item(client, first, title="Today", owner="bob", due_date=day(0))
    finished = add_item(client, first, title="Finished", owner="alice", due_date=day(-5))
    ok(client.patch(f"/incidents/{first}/action-items/{finished}", json={"status": "done"}))
    later = add_item(client, second, title="Later", owner="alice", kind="preventative")
    going = add_item(client, second, title="Going", owner="carol", due_date=day(-2))
    ok(client.patch(f"/incidents/{second}/action-items/{going}", json={"status": "in_progress"}))

    def ids(**params: Any) -> list[str]:
        return [item["id"] for item in board(client, **params)]

    assert ids() == [finished, going, late, due_today, later]  # soonest due first
    assert ids(owner="alice") == [finished, late, later]
    assert ids(status="in_progress") == [going]
    assert ids(kind="preventative") == [later]
    assert ids(incident_id=second) == [going, later]
    assert ids(overdue="true") == [going, late]
    assert ids(overdue="false") == [finished, due_today, later]
    assert ids(owner="alice", overdue="true") == [late]
    assert ids(owner="nobody") == []
    assert {item["id"]: item["overdue"] for item in board(client)} == {
        finished: False,
        going: True,
        late: True,
        due_today: False,
        later: False,
    }

    # Tomorrow, what was due today is overdue too.
    clock.now = T0 + timedelta(days=1)
    assert ids(overdue="true") == [going, late, due_today]


def test_the_board_pages_with_a_cursor(client: TestClient, clock: FakeClock) -> None:
    incident_id = declare(client, started_at=STARTED)
    # Two items share each due date: the cursor must break ties by position.
    created = [add_item(client, incident_id, due_date=day(n // 2)) for n in range(7)]

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = ok(client.get("/action-items", params=params))
        seen += [item["id"] for item in page["items"]]
        pages += 1
        cursor = page["next"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == created

    problem = assert_problem(client.get("/action-items", params={"cursor": "bm9wZQ"}), 422)
    assert ["query", "cursor"] in [error["location"] for error in problem["errors"]]
    problem = assert_problem(client.get("/action-items", params={"limit": 501}), 422)
    assert ["query", "limit"] in [error["location"] for error in problem["errors"]]
    assert_problem(client.get("/action-items", params={"status": "finished"}), 422)
    assert_problem(client.get("/action-items", params={"overdue": "maybe"}), 422)


def test_due_dates_are_plain_dates(client: TestClient, clock: FakeClock) -> None:
    incident_id = declare(client, started_at=STARTED)
    item_id = add_item(client, incident_id, due_date="2026-03-31")
    assert date.fromisoformat(items_of(client, incident_id)[item_id]["due_date"]) == date(
        2026, 3, 31
    )


def test_an_item_id_reused_in_another_incident_is_a_different_item(
    client: TestClient, clock: FakeClock
) -> None:
    """Item ids are the client's choice: the board keys items by incident and id."""
    first, second = declare(client), declare(client)
    shared = "5f0c2d8e-7b1a-4c3e-9d2f-1a2b3c4d5e6f"
    add_item(client, first, id=shared, title="Alert on pool saturation")
    add_item(client, second, id=shared, title="Canary the pool settings")
    titles = {
        (item["incident_id"], item["title"])
        for item in ok(client.get("/action-items", params={"limit": 100}))["items"]
    }
    assert titles == {(first, "Alert on pool saturation"), (second, "Canary the pool settings")}
    ok(client.patch(f"/incidents/{second}/action-items/{shared}", json={"owner": "bob"}))
    assert ok(client.get(f"/incidents/{first}/action-items/{shared}"))["owner"] == "alice"
    assert ok(client.get(f"/incidents/{second}/action-items/{shared}"))["owner"] == "bob"
