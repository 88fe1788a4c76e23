"""The action-item board across incidents: its filters, paging, and changing an item's status
from it. "Today" is the service clock's date, fixed here. Each test runs on SQLite and
PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from application.tokens import Scope, TokenStore
from tests.api.helpers import declare, nothing_stored, ok, use_clock
from tests.clocks import FakeClock
from web.routes import action_items as board_route

if TYPE_CHECKING:
    from tests.web.conftest import WebUser

WRITER_TOKEN = "il_board-alice-token"
T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
STARTED = (T0 - timedelta(days=9)).isoformat()
ROW = re.compile(r'<tr class="item [^"]*" id="item-([0-9a-f-]+)">')


@pytest.fixture(autouse=True)
def clock(api: TestClient) -> FakeClock:
    """The service's clock, so that "today" (and so "overdue") is fixed."""
    clock = FakeClock(T0)
    use_clock(api, clock)
    return clock


@pytest.fixture
def alice(tokens: TokenStore, sign_in: Callable[..., WebUser]) -> WebUser:
    """A browser signed in with a read-write token named alice."""
    tokens.create("alice", {Scope.READ, Scope.WRITE}, WRITER_TOKEN)
    return sign_in(WRITER_TOKEN)


def board(browser: WebUser, **filters: str) -> Response:
    answer = browser.get("/ui/action-items", **filters)
    assert answer.status_code == 200, answer.text
    return answer


def change(browser: WebUser, item: dict[str, str], csrf: bool = True, **fields: str) -> Response:
    path = f"/ui/incidents/{item['incident']}/action-items/{item['id']}/status"
    return browser.post(path, fields, csrf=csrf)


def listed(page: Response) -> list[str]:
    """The ids of the items a board page lists, in order."""
    return ROW.findall(page.text)


def add(
    api: TestClient, incident_id: str, title: str, owner: str, due: int, **extra: Any
) -> dict[str, str]:
    body = {"title": title, "kind": "corrective", "owner": owner, **extra}
    body["due_date"] = (T0.date() + timedelta(days=due)).isoformat()
    created = ok(api.post(f"/incidents/{incident_id}/action-items", json=body), 201)
    return {"id": created["item_id"], "incident": incident_id, "title": title}


def status_of(api: TestClient, item: dict[str, str]) -> str:
    found: str = ok(api.get(f"/incidents/{item['incident']}/action-items/{item['id']}"))["status"]
    return found


@pytest.fixture
def items(api: TestClient) -> dict[str, dict[str, str]]:
    """Four items over two incidents: one overdue, one due later, one done though past due, one
    preventative."""
    checkout = declare(api, title="Checkout returns 502", started_at=STARTED)
    search = declare(api, title="Search is slow", started_at=STARTED)
    made = {
        "late": add(api, checkout, "Alert on pool saturation", "alice", -2),
        "later": add(api, checkout, "Load-test the pool", "bob", 5),
        "done": add(api, search, "Add an index", "alice", -3),
        "guard": add(api, search, "Review query plans", "carol", 9, kind="preventative"),
    }
    done = made["done"]
    ok(api.patch(f"/incidents/{search}/action-items/{done['id']}", json={"status": "done"}))
    return made


def ids(items: dict[str, dict[str, str]], *names: str) -> list[str]:
    return [items[name]["id"] for name in names]


def test_the_board_lists_every_item_soonest_due_first_with_its_incident(
    alice: WebUser, items: dict[str, dict[str, str]]
) -> None:
    page = board(alice)
    assert listed(page) == ids(items, "done", "late", "later", "guard")
    late = items["late"]
    row = page.text[page.text.index(f'id="item-{late["id"]}"') :]
    row = row[: row.index("</tr>")]
    assert f'<a href="/ui/incidents/{late["incident"]}">Checkout returns 502</a>' in row
    assert '<span class="badge overdue-mark">overdue</span>' in row
    assert "2026-03-08" in row
    assert ">alice<" in row
    assert "overdue" not in page.text.split(f'id="item-{items["done"]["id"]}"')[1].split("</tr>")[0]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"overdue": "true"}, ("late",)),
        ({"overdue": "false"}, ("done", "later", "guard")),
        ({"owner": "alice"}, ("done", "late")),
        ({"status": "done"}, ("done",)),
        ({"status": "open", "owner": "alice"}, ("late",)),
        ({"kind": "preventative"}, ("guard",)),
        ({"owner": "nobody"}, ()),
        ({"status": "unheard-of"}, ("done", "late", "later", "guard")),
    ],
)
def test_the_filters_pick_the_right_items(
    alice: WebUser,
    items: dict[str, dict[str, str]],
    filters: dict[str, str],
    expected: tuple[str, ...],
) -> None:
    assert listed(board(alice, **filters)) == ids(items, *expected)


def test_one_incidents_items_and_paging(
    alice: WebUser, items: dict[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    checkout = board(alice, incident=items["late"]["incident"])
    assert listed(checkout) == ids(items, "late", "later")
    assert "of <a href" in checkout.text
    monkeypatch.setattr(board_route, "PAGE_SIZE", 3)
    first = board(alice)
    assert listed(first) == ids(items, "done", "late", "later")
    next_url = re.search(r'<a class="button" href="([^"]+)" rel="next">', first.text)
    assert next_url is not None
    second = alice.client.get(next_url.group(1).replace("&amp;", "&"))
    assert listed(second) == ids(items, "guard")
    assert 'rel="next"' not in second.text
    assert "not a cursor" in board(alice, cursor="garbage").text


def test_a_writer_changes_a_status_from_the_board(
    api: TestClient, alice: WebUser, items: dict[str, dict[str, str]]
) -> None:
    late = items["late"]
    back = "/ui/action-items?owner=alice"
    answer = change(alice, late, status="in_progress", next=back)
    assert answer.status_code == 303
    assert answer.headers["location"] == back
    assert status_of(api, late) == "in_progress"
    timeline = ok(api.get(f"/incidents/{late['incident']}/timeline"))["entries"]
    assert timeline[-1]["actor"] == "alice"
    reopen = change(alice, items["done"], status="open", next="https://elsewhere.example/")
    assert reopen.headers["location"] == "/ui/action-items"
    assert status_of(api, items["done"]) == "open"


def test_a_refused_change_is_shown_beside_the_item_and_stores_nothing(
    api: TestClient, alice: WebUser, items: dict[str, dict[str, str]]
) -> None:
    late = items["late"]
    with nothing_stored(api):
        answer = change(alice, late, status="wont_do", next="/ui/action-items?owner=alice")
        assert answer.status_code == 422
        assert re.search(
            rf'data-form-error="status-{late["id"]}">[^<]*only abandoned \(won&#39;t do\) with',
            answer.text,
        )
        assert listed(answer) == ids(items, "done", "late")  # the board it came from
        assert '<option value="wont_do" selected>' in answer.text  # the choice is kept
        assert answer.headers["HX-Push-Url"] == "false"
        hidden = change(alice, late, status="open", next="/ui/action-items?owner=bob")
        assert hidden.status_code == 422
        # Not an item of that page: the refusal is shown above the board.
        assert re.search(r'data-form-error="status">[^<]*is already open', hidden.text)
        assert change(alice, late, status="finished").status_code == 422
    assert status_of(api, late) == "open"


def test_a_read_token_sees_no_forms_and_cannot_post(
    api: TestClient, reader: WebUser, items: dict[str, dict[str, str]]
) -> None:
    page = board(reader)
    assert len(listed(page)) == 4
    assert 'class="status-form"' not in page.text
    with nothing_stored(api):
        assert change(reader, items["late"], status="done").status_code == 403


def test_a_change_without_the_csrf_value_is_403_and_stores_nothing(
    api: TestClient, alice: WebUser, items: dict[str, dict[str, str]]
) -> None:
    assert 'class="status-form"' in board(alice).text
    with nothing_stored(api):
        assert change(alice, items["late"], csrf=False, status="done").status_code == 403
    assert status_of(api, items["late"]) == "open"
