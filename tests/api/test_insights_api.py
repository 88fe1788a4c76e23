"""GET /insights/incidents and /insights/action-items: figures equal the ones worked out by
hand from the other read models, JSON and CSV alike; kinds and duplicates are left out
unless asked; bad parameters are 422 naming them. On SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from itertools import takewhile
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from api.app import create_app
from application.settings import Settings
from domain.values import IncidentKind
from projections.insight_figures import ACTION_ITEM_DEFINITIONS, FIGURES, INCIDENT_DEFINITIONS
from tests.api.conftest import ADMIN_TOKEN
from tests.api.helpers import PROBLEM_JSON, assert_problem, declare, ok, use_clock
from tests.clocks import FakeClock
from tests.conftest import NewDatabase
from tests.support.insight_histories import (
    NOW,
    IncidentPlan,
    expected_action_item_groups,
    expected_incident_groups,
    new_service,
    plans,
    write,
)

README = Path(__file__).resolve().parents[2] / "README.md"
WIDE = {"from": "2025-01-01", "to": "2027-01-01"}
"""A period holding every generated incident and item."""


@contextmanager
def client_on(engine: Engine, now: datetime) -> Iterator[TestClient]:
    """The application on ``engine``'s database, as the admin, its clock standing at ``now``."""
    url = engine.url.render_as_string(hide_password=False)
    with TestClient(create_app(Settings(database_url=url, admin_token=ADMIN_TOKEN))) as client:
        client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        use_clock(client, lambda: now)
        yield client


def by_group(answer: dict[str, Any]) -> dict[str | None, dict[str, Any]]:
    return {group["group"]: group for group in answer["groups"]}


def assert_figures_equal(got: dict[str | None, Any], want: dict[str | None, Any]) -> None:
    """Counts, n, medians and p90s exactly; means to the last few bits (summed otherwise)."""
    assert got.keys() == want.keys()
    for key, expected in want.items():
        answer = got[key]
        for name, value in expected.items():
            if name in FIGURES:
                figure = answer[name]
                assert {k: figure[k] for k in ("n", "median", "p90")} == {
                    k: value[k] for k in ("n", "median", "p90")
                }, (key, name)
                mean = value["mean"]
                assert figure["mean"] == (mean and pytest.approx(mean, rel=1e-12)), (key, name)
            elif isinstance(value, float) and value:
                assert answer[name] == pytest.approx(value, rel=1e-12), (key, name)
            else:
                assert answer[name] == value, (key, name)


ASKED = st.fixed_dictionaries(
    {
        "group_by": st.sampled_from(["severity", "service", "month", "week", "label:team"]),
        "kind": st.sampled_from([None, "all", "drill,maintenance", "false_alarm"]),
        "include_duplicates": st.booleans(),
        "cut_days": st.integers(0, 60),
    }
)


@given(plan=plans(), asked=ASKED, items_by=st.sampled_from(["kind", "owner", "severity"]))
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_figures_are_those_worked_out_from_the_summaries_and_the_board(
    backend: str,
    new_database: NewDatabase,
    plan: list[IncidentPlan],
    asked: dict[str, Any],
    items_by: str,
) -> None:
    engine = new_database(backend)
    service = new_service(engine)
    write(service, plan, [uuid4() for _ in plan])
    moment = service.now()
    today = moment.date()
    # A period cut into the generated ones, so that some incidents fall outside it.
    start = NOW - timedelta(days=asked["cut_days"])
    end = moment
    if asked["kind"] is None:
        kinds = ["incident"]
    elif asked["kind"] == "all":
        kinds = [kind.value for kind in IncidentKind]
    else:
        kinds = asked["kind"].split(",")
    params: dict[str, Any] = {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "group_by": asked["group_by"],
        "include_duplicates": asked["include_duplicates"],
    }
    if asked["kind"] is not None:
        params["kind"] = asked["kind"]

    with client_on(engine, moment) as client:
        answer = ok(client.get("/insights/incidents", params=params))
        table = client.get("/insights/incidents", params=params, headers={"Accept": "text/csv"})
        default = ok(client.get("/insights/incidents", params=WIDE))
        items = ok(client.get("/insights/action-items", params={**WIDE, "group_by": items_by}))

    with engine.connect() as conn:
        want = expected_incident_groups(
            conn,
            start=start,
            end=end,
            group_by=asked["group_by"],
            kinds=kinds,
            include_duplicates=asked["include_duplicates"],
        )
        want_default = expected_incident_groups(
            conn,
            start=datetime(2025, 1, 1, tzinfo=UTC),
            end=datetime(2027, 1, 1, tzinfo=UTC),
            group_by="month",
            kinds=["incident"],
        )
        want_items = expected_action_item_groups(
            conn,
            service.store,
            start=datetime(2025, 1, 1, tzinfo=UTC),
            end=datetime(2027, 1, 1, tzinfo=UTC),
            group_by=items_by,
            today=today,
        )
    assert_figures_equal(by_group(answer), want)
    assert_csv_matches(table.text, answer, INCIDENT_COLUMNS)
    assert_figures_equal(by_group(default), want_default)
    assert default["kind"] == ["incident"]
    assert default["include_duplicates"] is False
    assert_figures_equal(by_group(items), want_items)
    assert items["today"] == today.isoformat()


INCIDENT_COLUMNS = ["group", "count", "open", "resolved"] + [
    f"{name}_{part}" for name in FIGURES for part in ("n", "mean", "median", "p90")
]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return repr(value) if isinstance(value, float) else str(value)


def assert_csv_matches(text: str, answer: dict[str, Any], columns: list[str]) -> None:
    """One row per group, in the same order, each cell the JSON value (figures flattened)."""
    assert next(csv.reader(io.StringIO(text))) == columns
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["group"] for row in rows] == [
        "(none)" if g["group"] is None else g["group"] for g in answer["groups"]
    ]
    for row, group in zip(rows, answer["groups"], strict=True):
        flat = {k: v for k, v in group.items() if k != "group" and not isinstance(v, dict)}
        for name in FIGURES:
            if name in group:
                flat.update({f"{name}_{part}": value for part, value in group[name].items()})
        assert {k: v for k, v in row.items() if k != "group"} == {
            k: _cell(v) for k, v in flat.items()
        }


# --- one history by hand ----------------------------------------------------------------------


@pytest.fixture
def now(client: TestClient) -> datetime:
    moment = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    use_clock(client, FakeClock(moment, timedelta(milliseconds=1)))
    return moment


def _declare(client: TestClient, now: datetime, days_ago: float, **fields: Any) -> str:
    started = now - timedelta(days=days_ago)
    return declare(
        client,
        started_at=started.isoformat(),
        detected_at=(started + timedelta(minutes=5)).isoformat(),
        **fields,
    )


def _counts(client: TestClient, **params: Any) -> dict[str | None, int]:
    answer = ok(client.get("/insights/incidents", params=params))
    return {group["group"]: group["count"] for group in answer["groups"]}


def test_label_and_kind_changes_show_at_the_next_read(client: TestClient, now: datetime) -> None:
    incident = _declare(client, now, 3, labels={"team": "core", "k8s.cluster-name": "eu-1"})
    assert _counts(client, group_by="label:team") == {"core": 1}
    assert _counts(client, group_by="label:k8s.cluster-name") == {"eu-1": 1}
    assert _counts(client, group_by="label:env") == {None: 1}

    ok(client.post(f"/incidents/{incident}/labels", json={"labels": {"team": "edge"}}))
    assert _counts(client, group_by="label:team") == {"edge": 1}

    ok(client.post(f"/incidents/{incident}/kind", json={"kind": "drill"}))
    assert _counts(client, group_by="label:team") == {}
    assert _counts(client, group_by="label:team", kind="drill") == {"edge": 1}
    assert _counts(client, group_by="label:team", kind=["incident", "drill"]) == {"edge": 1}
    assert _counts(client, group_by="label:team", kind="all") == {"edge": 1}


def test_a_duplicate_counts_once_unless_asked(client: TestClient, now: datetime) -> None:
    first = _declare(client, now, 2, severity="SEV1")
    second = _declare(client, now, 1, severity="SEV1")
    relation = {"other_incident_id": first, "relation": "duplicate_of"}
    ok(client.post(f"/incidents/{second}/relations", json=relation))

    assert _counts(client, group_by="severity") == {"SEV1": 1}
    assert _counts(client, group_by="severity", include_duplicates=True) == {"SEV1": 2}
    # Any other relation leaves both counted.
    ok(client.delete(f"/incidents/{second}/relations/{first}"))
    assert _counts(client, group_by="severity") == {"SEV1": 2}


def test_the_period_holds_from_but_not_to_and_defaults_to_the_last_90_days(
    client: TestClient, now: datetime
) -> None:
    _declare(client, now, 100, severity="SEV1")
    at_from = _declare(client, now, 10, severity="SEV2")
    _declare(client, now, 5, severity="SEV3")
    started = ok(client.get(f"/incidents/{at_from}"))["started_at"]

    assert _counts(client, group_by="severity") == {"SEV2": 1, "SEV3": 1}
    assert _counts(client, group_by="severity", **{"from": started}) == {"SEV2": 1, "SEV3": 1}
    assert _counts(client, group_by="severity", to=started) == {"SEV1": 1}
    answer = ok(client.get("/insights/incidents", params={"to": "2026-02-01"}))
    assert (answer["from"], answer["to"]) == ("2025-11-03T00:00:00Z", "2026-02-01T00:00:00Z")
    answer = ok(client.get("/insights/incidents"))
    assert answer["to"].startswith("2026-03-02T12:00:")
    assert answer["group_by"] == "month"


def test_groups_come_in_order_with_the_group_null_last(client: TestClient, now: datetime) -> None:
    _declare(client, now, 40, severity="SEV4", services=["search", "auth"])
    _declare(client, now, 3, severity="SEV1", services=[])
    _declare(client, now, 2, severity="SEV4", services=["auth"])

    assert list(_counts(client, group_by="severity")) == ["SEV1", "SEV4"]
    assert _counts(client, group_by="service") == {"auth": 2, "search": 1, None: 1}
    assert list(_counts(client, group_by="service")) == ["auth", "search", None]
    assert list(_counts(client, group_by="month")) == ["2026-01", "2026-02"]
    weeks = _counts(client, group_by="week")
    assert weeks == {"2026-W04": 1, "2026-W09": 2}


def test_overdue_and_completion_follow_the_service_clock(client: TestClient, now: datetime) -> None:
    incident = _declare(client, now, 20)
    items = [
        ok(
            client.post(
                f"/incidents/{incident}/action-items",
                json={"title": "Fix", "kind": kind, "owner": "alice", "due_date": due},
            ),
            201,
        )["item_id"]
        for kind, due in (
            ("corrective", "2026-03-01"),
            ("corrective", "2026-03-02"),
            ("preventative", "2026-02-20"),
        )
    ]
    path = f"/incidents/{incident}/action-items"
    ok(client.patch(f"{path}/{items[2]}", json={"status": "wont_do", "reason": "Moot"}))

    answer = ok(client.get("/insights/action-items"))
    assert answer["groups"] == [
        {
            "group": "corrective",
            "created": 2,
            "done": 0,
            "wont_do": 0,
            "open": 2,
            "overdue": 1,
            "completion_rate": 0.0,
            "median_days_to_done": None,
        },
        {
            "group": "preventative",
            "created": 1,
            "done": 0,
            "wont_do": 1,
            "open": 0,
            "overdue": 0,
            "completion_rate": None,
            "median_days_to_done": None,
        },
    ]
    assert answer["definitions"] == ACTION_ITEM_DEFINITIONS
    table = client.get(
        "/insights/action-items", params={"group_by": "owner"}, headers={"Accept": "text/csv"}
    )
    assert table.headers["content-type"] == "text/csv; charset=utf-8"
    assert list(csv.reader(io.StringIO(table.text))) == [
        [
            "group",
            "created",
            "done",
            "wont_do",
            "open",
            "overdue",
            "completion_rate",
            "median_days_to_done",
        ],
        ["alice", "3", "0", "1", "2", "1", "0.0", ""],
    ]


def test_a_spreadsheet_never_reads_a_group_as_a_formula(client: TestClient, now: datetime) -> None:
    incident = _declare(client, now, 1)
    body = {
        "title": "Fix",
        "kind": "corrective",
        "owner": "=HYPERLINK(1)",
        "due_date": "2026-04-01",
    }
    ok(client.post(f"/incidents/{incident}/action-items", json=body), 201)
    table = client.get(
        "/insights/action-items", params={"group_by": "owner"}, headers={"Accept": "text/csv"}
    )
    assert next(csv.DictReader(io.StringIO(table.text)))["group"] == "'=HYPERLINK(1)"


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params", "name"),
    [
        ("/insights/incidents", {"group_by": "team"}, "group_by"),
        ("/insights/incidents", {"group_by": "label:"}, "group_by"),
        ("/insights/incidents", {"group_by": "label:9lives"}, "group_by"),
        ("/insights/incidents", {"from": "yesterday"}, "from"),
        ("/insights/incidents", {"from": "2026-02-30"}, "from"),
        ("/insights/incidents", {"to": "2026-03-02T10:00:00"}, "to"),
        ("/insights/incidents", {"from": "1969-12-31"}, "from"),
        ("/insights/incidents", {"from": "2026-03-01", "to": "2026-03-01"}, "to"),
        ("/insights/incidents", {"from": "2027-01-01"}, "from"),
        ("/insights/incidents", {"kind": "drill,outage"}, "kind"),
        ("/insights/incidents", {"kind": ""}, "kind"),
        ("/insights/incidents", {"include_duplicates": "perhaps"}, "include_duplicates"),
        ("/insights/action-items", {"group_by": "month"}, "group_by"),
        ("/insights/action-items", {"to": "2026-13-01"}, "to"),
    ],
)
def test_a_bad_parameter_is_a_422_naming_it(
    client: TestClient, path: str, params: dict[str, str], name: str
) -> None:
    problem = assert_problem(client.get(path, params=params), 422)
    assert [error["location"] for error in problem["errors"]] == [["query", name]]
    assert problem["detail"].startswith(f"query.{name}: ")


@pytest.mark.parametrize("backend", ["sqlite"])
def test_neither_json_nor_csv_acceptable_is_a_406(client: TestClient) -> None:
    response = client.get("/insights/incidents", headers={"Accept": "text/html"})
    assert response.status_code == 406
    assert response.headers["content-type"] == PROBLEM_JSON
    preferred = client.get(
        "/insights/incidents", headers={"Accept": "application/json;q=0.5, text/csv"}
    )
    assert preferred.headers["content-type"].startswith("text/csv")


# --- the published definitions ----------------------------------------------------------------


def readme_definitions(heading: str) -> dict[str, str]:
    """The ``| name | definition |`` rows of the README table under ``heading`` (in Insights)."""
    text = README.read_text()
    section = text.split("\n## Insights\n", 1)[1].split("\n## ", 1)[0]
    after = section.split(f"\n{heading}\n", 1)[1].lstrip("\n").splitlines()
    table = list(takewhile(lambda line: line.startswith("|"), after))
    rows = {}
    for line in table[2:]:  # below the header and its rule
        name, definition = (cell.strip() for cell in line.strip().strip("|").split("|", 1))
        rows[name.strip("`")] = definition
    return rows


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_readme_publishes_the_definitions_the_answers_carry(client: TestClient) -> None:
    incidents = ok(client.get("/insights/incidents"))["definitions"]
    items = ok(client.get("/insights/action-items"))["definitions"]
    assert (incidents, items) == (INCIDENT_DEFINITIONS, ACTION_ITEM_DEFINITIONS)
    assert readme_definitions("#### Incident figures") == incidents
    assert readme_definitions("#### Action-item figures") == items


def test_an_empty_period_has_no_groups(client: TestClient) -> None:
    answer = ok(
        client.get("/insights/incidents", params={"from": "2001-01-01", "to": "2001-02-01"})
    )
    assert answer["groups"] == []
    table = client.get(
        "/insights/incidents", params={"group_by": "week"}, headers={"Accept": "text/csv"}
    )
    assert table.text == ",".join(INCIDENT_COLUMNS) + "\r\n"


def test_an_item_counts_in_the_period_it_was_added(client: TestClient, now: datetime) -> None:
    incident = _declare(client, now, 1)
    body = {"title": "Fix", "kind": "corrective", "owner": "bob", "due_date": "2026-04-01"}
    item = ok(client.post(f"/incidents/{incident}/action-items", json=body), 201)["item_id"]
    added = datetime.fromisoformat(
        ok(client.get(f"/incidents/{incident}/action-items/{item}"))["created_at"]
    )

    def created(start: datetime) -> list[int]:
        params = {"from": start.isoformat(), "to": "2030-01-01", "group_by": "owner"}
        return [
            g["created"] for g in ok(client.get("/insights/action-items", params=params))["groups"]
        ]

    assert created(added) == [1]
    assert created(added + timedelta(microseconds=1)) == []
    assert date.fromisoformat(ok(client.get("/insights/action-items"))["today"]) == now.date()


@pytest.mark.parametrize(
    ("minutes", "median", "p90"),
    [
        ([4], 4, 4),
        ([9, 1], 1, 9),  # ranks 1 and 2
        ([7, 1, 6, 2, 5, 3, 4], 4, 7),  # ranks 4 and ceil(6.3) = 7
        ([10, 1, 9, 2, 8, 3, 7, 4, 6, 5], 5, 9),  # ranks 5 and 9
    ],
)
def test_median_and_p90_are_the_nearest_ranks(
    client: TestClient, now: datetime, minutes: list[int], median: int, p90: int
) -> None:
    for offset, detect in enumerate(minutes):
        started = now - timedelta(days=1, minutes=offset)
        declare(
            client,
            started_at=started.isoformat(),
            detected_at=(started + timedelta(minutes=detect)).isoformat(),
        )
    (group,) = ok(client.get("/insights/incidents", params={"group_by": "severity"}))["groups"]
    assert group["time_to_detect"] == {
        "n": len(minutes),
        "mean": pytest.approx(60 * sum(minutes) / len(minutes)),
        "median": 60.0 * median,
        "p90": 60.0 * p90,
    }
    assert group["time_to_resolve"] == {"n": 0, "mean": None, "median": None, "p90": None}


def test_decades_long_incidents_keep_every_microsecond(client: TestClient, now: datetime) -> None:
    # 41 years in seconds, with microseconds, takes 16 significant digits.
    incident = declare(
        client,
        started_at="1985-01-01T00:00:00.123457Z",
        detected_at="1985-01-01T00:00:00.654321Z",
    )
    ok(client.post(f"/incidents/{incident}/status", json={"status": "resolved"}))
    summary = ok(client.get(f"/incidents/{incident}"))
    params = {"from": "1985-01-01", "group_by": "month"}

    (group,) = ok(client.get("/insights/incidents", params=params))["groups"]

    assert group["group"] == "1985-01"
    assert group["duration"]["median"] == summary["duration_seconds"] > 1e9
    assert group["time_to_resolve"]["p90"] == summary["time_to_resolve_seconds"]
    assert group["time_to_detect"]["mean"] == summary["time_to_detect_seconds"] == 0.530864
