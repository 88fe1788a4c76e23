"""The insights page: its charts and tables show the figures the /insights API gives for the
same filters, with the same definitions; filters it cannot use are refused with 422 naming
them. Each test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from tests.api.helpers import declare, ok
from tests.web.incident_page_support import block

if TYPE_CHECKING:
    from tests.web.conftest import WebUser

PAGE = "/ui/insights"
WINDOW = {"from": "2026-01-01", "to": "2026-03-01"}


def _incident(
    api: TestClient,
    *,
    severity: str,
    service: str,
    started: str,
    detected_after: timedelta,
    resolved_after: timedelta | None,
    kind: str = "incident",
) -> str:
    """An incident started at ``started``, detected and (unless None) resolved that long after."""
    start = datetime.fromisoformat(started).replace(tzinfo=UTC)
    incident_id = declare(
        api,
        severity=severity,
        services=[service],
        started_at=start.isoformat(),
        detected_at=(start + detected_after).isoformat(),
        kind=kind,
    )
    if resolved_after is not None:
        body = {"status": "resolved", "occurred_at": (start + resolved_after).isoformat()}
        ok(api.post(f"/incidents/{incident_id}/status", json=body))
    return incident_id


@pytest.fixture
def history(api: TestClient) -> None:
    """Two resolved SEV1s in January (time to resolve 1 h 50 min and 4 h), an open SEV2 in
    February, and a SEV1 drill in January that only kind=all counts."""
    hour, ten = timedelta(hours=1), timedelta(minutes=10)
    history = [
        ("SEV1", "checkout", "2026-01-10T10:00:00", 2 * hour, "incident"),
        ("SEV1", "checkout", "2026-01-20T08:00:00", 4 * hour + ten, "incident"),
        ("SEV2", "payments", "2026-02-05T09:00:00", None, "incident"),
        ("SEV1", "checkout", "2026-01-15T09:00:00", hour, "drill"),
    ]
    for severity, service, started, resolved_after, kind in history:
        _incident(
            api,
            severity=severity,
            service=service,
            started=started,
            detected_after=ten,
            resolved_after=resolved_after,
            kind=kind,
        )


def _rows(html: str, table_id: str) -> list[list[str]]:
    table = block(html, f'<table id="{table_id}"')
    body = table[table.index("<tbody>") :]
    return [re.findall(r"<td>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def insights(api: TestClient, path: str, **query: str) -> dict[str, Any]:
    return ok(api.get(f"/insights/{path}", params=query))


@pytest.mark.usefixtures("history")
def test_time_to_resolve_by_month_and_severity_matches_the_api(
    api: TestClient, web: WebUser
) -> None:
    answer = web.get(PAGE, **WINDOW)
    assert answer.status_code == 200, answer.text
    html = answer.text
    sev1 = block(html, '<figure class="chart-panel" data-severity="SEV1"')
    assert '<svg class="chart" id="ttr-sev1"' in sev1
    assert '<title id="ttr-sev1-title">SEV1: time to resolve by month</title>' in sev1
    assert ">median 1 h 50 min · p90 4 h (n=2)</text>" in sev1
    sev2 = block(html, '<figure class="chart-panel" data-severity="SEV2"')
    assert ">none resolved of 1</text>" in sev2

    months = [("2026-01", "2026-01-01", "2026-02-01"), ("2026-02", "2026-02-01", "2026-03-01")]
    for month, lower, upper in months:
        api_groups = insights(api, "incidents", group_by="severity", **{"from": lower, "to": upper})
        shown = [row for row in _rows(html, "ttr-table") if row[0] == month]
        assert [(row[1], int(row[2]), int(row[3]), int(row[4])) for row in shown] == [
            (g["group"], g["count"], g["open"], g["time_to_resolve"]["n"])
            for g in api_groups["groups"]
        ]


@pytest.mark.usefixtures("history")
def test_incidents_by_service_and_the_kind_filter_match_the_api(
    api: TestClient, web: WebUser
) -> None:
    for kind in ("incident", "all", "drill"):
        html = web.get(PAGE, kind=kind, **WINDOW).text
        expected = insights(api, "incidents", group_by="service", kind=kind, **WINDOW)
        figures = [(g["group"], g["count"], g["open"], g["resolved"]) for g in expected["groups"]]
        assert _rows(html, "services-table") == [[str(f) for f in row] for row in figures]
        chart = block(html, '<svg class="chart" id="services-chart"')
        for group in expected["groups"]:
            assert f'<g class="chart-row" data-label="{group["group"]}">' in chart
        assert f'<option value="{kind}" selected>' in html
    drills = web.get(PAGE, kind="drill", **WINDOW).text
    assert 'data-severity="SEV2"' not in drills
    assert ">median 50 min · p90 50 min (n=1)</text>" in drills


def test_action_items_by_owner_match_the_api(api: TestClient, web: WebUser) -> None:
    incident_id = declare(api, started_at=(datetime.now(UTC) - timedelta(days=30)).isoformat())
    overdue = (datetime.now(UTC) - timedelta(days=3)).date().isoformat()
    later = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    items = [("alice", overdue), ("alice", later), ("bob", later)]
    ids = []
    for owner, due in items:
        body = {"title": "Pool alert", "kind": "preventative", "owner": owner, "due_date": due}
        added = ok(api.post(f"/incidents/{incident_id}/action-items", json=body), 201)
        ids.append(added["item_id"])
    done = {"status": "done"}
    ok(api.patch(f"/incidents/{incident_id}/action-items/{ids[2]}", json=done))

    html = web.get(PAGE, group_by="owner").text
    expected = insights(api, "action-items", group_by="owner")["groups"]
    assert [row[:6] for row in _rows(html, "items-table")] == [
        [g["group"], *(str(g[k]) for k in ("created", "done", "wont_do", "open", "overdue"))]
        for g in expected
    ]
    chart = block(html, '<svg class="chart" id="items-chart"')
    assert ">2 added · 0% done · 1 overdue</text>" in chart
    assert ">1 added · 100% done · 0 overdue</text>" in chart
    assert '<h2 id="items-title">Action items by owner</h2>' in html


def test_the_page_shows_the_definitions_of_the_api(api: TestClient, web: WebUser) -> None:
    html = web.get(PAGE).text
    section = block(html, '<section class="card" id="definitions"')
    for path in ("incidents", "action-items"):
        for name, text in insights(api, path)["definitions"].items():
            assert f"<dt>{name}</dt><dd>{escape(text)}</dd>" in section, name


def test_without_filters_the_page_shows_the_last_90_days(api: TestClient, web: WebUser) -> None:
    html = web.get(PAGE).text
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date()
    start = tomorrow - timedelta(days=90)
    assert f'name="from" value="{start.isoformat()}"' in html
    assert f'name="to" value="{tomorrow.isoformat()}"' in html
    assert "No incident of this kind started in this period." in html
    assert "No action item was added in this period." in html


@pytest.mark.usefixtures("history")
def test_the_widest_period_is_shown(web: WebUser) -> None:
    answer = web.get(PAGE, **{"from": "1970-01-01", "to": "9999-12-31"})
    assert answer.status_code == 200, answer.text
    assert 'data-severity="SEV1"' in answer.text


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"from": "yesterday"}, "from", "from: 'yesterday' is not a date (YYYY-MM-DD)"),
        ({"to": "2026-02-30"}, "to", "to: '2026-02-30' is not a date"),
        ({"from": "2026-03-01", "to": "2026-03-01"}, "to", "the period is empty"),
        ({"from": "1969-12-01", "to": "1970-02-01"}, "from", "before 1970-01-01"),
        ({"kind": "outage"}, "kind", "kind: 'outage' is not one of incident, drill"),
        ({"group_by": "team"}, "group_by", "group_by: 'team' is not one of kind, owner, severity"),
    ],
)
def test_filters_the_page_cannot_use_are_refused(
    web: WebUser, query: dict[str, str], field: str, message: str
) -> None:
    answer = web.get(PAGE, **query)
    assert answer.status_code == 422
    error = block(answer.text, f'<p class="error" role="alert" data-form-error="{field}"')
    assert escape(message) in error
    assert 'id="insight-filters"' in answer.text
    assert 'id="time-to-resolve"' not in answer.text


def test_a_reader_sees_the_page(reader: WebUser) -> None:
    answer = reader.get(PAGE)
    assert answer.status_code == 200
    assert '<a href="/ui/insights" aria-current="page">Insights</a>' in answer.text
