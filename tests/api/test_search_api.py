"""GET /search and GET /incidents/{id}/similar over HTTP.

Each test runs on SQLite and PostgreSQL (tests/conftest.py).
"""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from application.service import IncidentService
from application.tokens import Scope, TokenStore
from domain import commands as c
from domain.values import AlertSource
from tests.api.helpers import assert_problem, declare, ok, review_and_approve


def search(client: TestClient, q: str, **params: Any) -> dict[str, Any]:
    return ok(client.get("/search", params={"q": q, **params}))


def add_note(client: TestClient, incident_id: str, text: str, **fields: Any) -> str:
    response = client.post(f"/incidents/{incident_id}/notes", json={"text": text, **fields})
    assert response.status_code == 201, response.text
    note_id: str = response.json()["note_id"]
    return note_id


def fire(client: TestClient, incident_id: str, *names: str) -> None:
    """Alerts of these names on the incident, as a monitoring system reports them."""
    service: IncidentService = client.app.state.service  # type: ignore[attr-defined]
    alerts = tuple(
        c.AlertReport(key=f"{name}-{uuid4()}", status="firing", name=name) for name in names
    )
    command = c.RecordAlerts(
        incident_id=incident_id, at=service.now(), source=AlertSource.GENERIC, alerts=alerts
    )
    service.execute(command, {"actor": "alertmanager"})


def test_a_note_is_found_with_links_to_where_it_lives(client: TestClient) -> None:
    incident_id = declare(client, title="Checkout returns 502")
    note_id = add_note(
        client, incident_id, "Rolled back deploy 4812: the connection pool was halved"
    )

    page = search(client, '"connection pool"')

    assert page["next_cursor"] is None
    assert page["next_url"] is None
    (hit,) = page["items"]
    assert hit == {
        "kind": "note",
        "incident_id": incident_id,
        "incident_title": "Checkout returns 502",
        "ref": note_id,
        "title": "Note",
        "snippet": "Rolled back deploy 4812: the <mark>connection pool</mark> was halved",
        "rank": hit["rank"],
        "occurred_at": hit["occurred_at"],
        "link": f"/incidents/{incident_id}/timeline#{note_id}",
        "web_link": f"/ui/incidents/{incident_id}#entry-{note_id}",
    }
    assert hit["rank"] > 0
    entries = ok(client.get(f"/incidents/{incident_id}/timeline"))["entries"]
    assert note_id in [entry["id"] for entry in entries]
    assert client.get(hit["web_link"].split("#")[0]).status_code in (200, 303)


def test_a_redacted_note_is_not_found_by_the_next_request(client: TestClient) -> None:
    incident_id = declare(client)
    note_id = add_note(client, incident_id, "The customer alice@example.com saw error E-1234")
    assert len(search(client, "E-1234")["items"]) == 1

    redacted = client.patch(
        f"/incidents/{incident_id}/timeline/{note_id}",
        json={"redacted": True, "reason": "Personal data"},
    )
    assert redacted.status_code == 200, redacted.text

    assert search(client, "E-1234")["items"] == []
    assert search(client, '"alice@example.com"')["items"] == []


def test_internal_notes_are_found_with_a_read_only_token_as_the_timeline_shows_them(
    client: TestClient,
) -> None:
    incident_id = declare(client)
    add_note(client, incident_id, "internal detail: the kraken awoke")
    add_note(client, incident_id, "public update: the kraken sleeps", visibility="public")
    tokens: TokenStore = client.app.state.tokens  # type: ignore[attr-defined]
    reader = TestClient(
        client.app, headers={"Authorization": f"Bearer {tokens.create('reader', {Scope.READ})}"}
    )
    assert len(ok(reader.get("/search", params={"q": "kraken"}))["items"]) == 2
    entries = ok(reader.get(f"/incidents/{incident_id}/timeline"))["entries"]
    assert sum(entry["kind"] == "note" for entry in entries) == 2


def test_every_kind_is_found_and_filtered(client: TestClient) -> None:
    payments = declare(
        client,
        title="Payments gateway down",
        services=["payments"],
        labels={"team": "payments"},
        started_at="2026-03-01T09:00:00Z",
    )
    ok(client.post(f"/incidents/{payments}/status", json={"status": "resolved"}))
    for section, text in (
        ("summary", "The gateway rejected every card."),
        ("root_cause", "An expired gateway certificate."),
        ("resolution", "Renewed the gateway certificate."),
    ):
        ok(client.put(f"/incidents/{payments}/postmortem/sections/{section}", json={"text": text}))
    review_and_approve(client, payments)
    ok(client.post(f"/incidents/{payments}/postmortem/publish"))
    item = ok(
        client.post(
            f"/incidents/{payments}/action-items",
            json={
                "title": "Monitor gateway certificate expiry",
                "kind": "preventative",
                "owner": "alice",
                "due_date": "2026-04-01",
            },
        ),
        201,
    )["item_id"]
    add_note(client, payments, "gateway answered 403")
    search_id = declare(client, title="Search slow", services=["search"])
    add_note(client, search_id, "gateway timeouts seen from search")

    kinds = {hit["kind"] for hit in search(client, "gateway")["items"]}
    assert kinds == {"incident", "note", "postmortem", "action_item"}

    postmortem = search(client, "gateway", kind="postmortem")["items"]
    assert {hit["ref"] for hit in postmortem} == {"summary@1", "root_cause@1", "resolution@1"}
    root = next(hit for hit in postmortem if hit["ref"] == "root_cause@1")
    assert root["title"] == "Postmortem: Root cause (revision 1)"
    assert root["link"] == f"/incidents/{payments}/postmortem?revision=1"
    assert root["web_link"] == f"/ui/incidents/{payments}/postmortem?revision=1#section-root_cause"
    (action,) = search(client, "gateway", kind="action_item")["items"]
    assert (action["ref"], action["title"]) == (item, "Monitor gateway certificate expiry")
    assert action["link"] == f"/incidents/{payments}/action-items/{item}"

    in_search = search(client, "gateway", service="search")["items"]
    assert [hit["incident_id"] for hit in in_search] == [search_id]
    labelled = search(client, "gateway", label="team=payments")["items"]
    assert {hit["incident_id"] for hit in labelled} == {payments}
    assert search(client, "gateway", label="team=search")["items"] == []
    (incident,) = search(client, "gateway", kind="incident", to="2026-12-31T00:00:00Z")["items"]
    assert (incident["ref"], incident["title"], incident["link"]) == (
        None,
        "Payments gateway down",
        f"/incidents/{payments}",
    )
    assert (
        search(client, "gateway", kind="incident", **{"from": "2100-01-01T00:00:00Z"})["items"]
        == []
    )


def test_pages_follow_next_cursor_and_next_url(client: TestClient) -> None:
    incident_id = declare(client)
    for number in range(7):
        add_note(client, incident_id, f"flapping {'flapping ' * number}check {number}")

    first = search(client, "flapping", limit=3)
    assert len(first["items"]) == 3
    assert first["next_cursor"]
    second = ok(client.get(first["next_url"]))
    third = search(client, "flapping", limit=3, cursor=second["next_cursor"])
    assert third["next_cursor"] is None
    refs = [hit["ref"] for page in (first, second, third) for hit in page["items"]]
    assert len(refs) == len(set(refs)) == 7
    ranks = [hit["rank"] for page in (first, second, third) for hit in page["items"]]
    assert ranks == sorted(ranks, reverse=True)


@pytest.mark.parametrize(
    ("params", "location", "detail"),
    [
        ({"q": ""}, "q", "query.q: String should have at least 1 character"),
        ({"q": "   "}, "q", "query.q: q must not be empty"),
        ({"q": "x" * 501}, "q", "query.q: String should have at most 500 characters"),
        (
            {"q": "-staging"},
            "q",
            "query.q: q has no word to look for: give at least one word or phrase that is not excluded",
        ),
        (
            {"q": "a*"},
            "q",
            "query.q: q: a* is too short a prefix; give at least 2 characters before *",
        ),
        ({"q": "a\x00b"}, "q", None),
        ({"q": "ok", "kind": "alert"}, "kind", None),
        ({"q": "ok", "label": "team"}, "label", None),
        ({"q": "ok", "limit": 0}, "limit", None),
        ({"q": "ok", "from": "yesterday"}, "from", None),
        (
            {"q": "ok", "cursor": "not-a-cursor"},
            "cursor",
            "query.cursor: not a cursor of this list: pass the previous page's next value unchanged",
        ),
        ({"q": "ok", "cursor": "aW5mfDE"}, "cursor", None),  # "inf|1"
    ],
)
def test_bad_queries_are_422_naming_the_parameter(
    client: TestClient, params: dict[str, Any], location: str, detail: str | None
) -> None:
    problem = assert_problem(client.get("/search", params=params), 422, detail)
    assert [error["location"] for error in problem["errors"]] == [["query", location]]


def test_no_query_syntax_reaches_the_engines_as_an_error(client: TestClient) -> None:
    incident_id = declare(client, title="Quotes and stars")
    add_note(client, incident_id, 'He said "NEAR(a b)" and AND OR NOT * ^ title:x')
    for q in ('"', '"unclosed', "NEAR(a b)", "AND", "title:x", "x) OR (y", "^a", '-"a', "OR x"):
        response = client.get("/search", params={"q": q})
        assert response.status_code in (200, 422), (q, response.text)
    assert len(search(client, "NEAR(a b)")["items"]) == 1


def test_similar_incidents_share_services_alert_names_or_words(client: TestClient) -> None:
    subject = declare(
        client,
        title="Checkout latency spike",
        services=["checkout", "payments"],
        summary="Checkout pages took seconds to load",
    )
    fire(client, subject, "HighLatency", "PodRestarts")
    both = declare(client, title="Other", services=["checkout", "payments"])
    fire(client, both, "HighLatency")
    one = declare(client, title="Unrelated name", services=["payments"])
    worded = declare(client, title="Latency on checkout pages", services=["search"])
    declare(client, title="Nothing in common", services=["search"])

    response = ok(client.get(f"/incidents/{subject}/similar"))

    assert response["incident_id"] == subject
    items = response["items"]
    assert [item["incident_id"] for item in items] == [both, one, worded]
    first = items[0]
    assert (first["shared_services"], first["shared_alert_names"]) == (
        ["checkout", "payments"],
        ["HighLatency"],
    )
    assert first["why"][:3] == [
        "shares the service checkout",
        "shares the service payments",
        "shares the alert HighLatency",
    ]
    assert first["link"] == f"/incidents/{both}"
    assert first["web_link"] == f"/ui/incidents/{both}"
    last = items[2]
    assert (last["shared_services"], last["shared_alert_names"]) == ([], [])
    assert last["text_rank"] > 0
    assert "<mark>" in last["snippet"]
    assert last["why"] == ["its text shares words with this incident's title and summary"]
    assert len(ok(client.get(f"/incidents/{subject}/similar", params={"limit": 1}))["items"]) == 1


def test_similar_to_an_unknown_incident_is_404(client: TestClient) -> None:
    missing = uuid4()
    assert_problem(
        client.get(f"/incidents/{missing}/similar"), 404, f"incident {missing} does not exist"
    )
    assert_problem(client.get(f"/incidents/{missing}/similar", params={"limit": 51}), 422)


def test_a_query_matching_more_than_is_ranked_says_so_and_ranks_the_newest(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    incident_id = declare(client, title="Checkout returns 502")
    notes = [add_note(client, incident_id, f"pool step {n}") for n in range(4)]
    assert search(client, "pool")["ranked_newest"] is None

    monkeypatch.setattr("projections.search_queries.RANKED_AT_MOST", 3)
    page = search(client, "pool", limit=2)
    assert page["ranked_newest"] == 3
    seen = [hit["ref"] for hit in page["items"]]
    following = ok(client.get(page["next_url"]))
    assert following["ranked_newest"] == 3
    assert following["next_cursor"] is None
    seen += [hit["ref"] for hit in following["items"]]
    assert sorted(seen) == sorted(notes[1:])
    assert search(client, "checkout")["ranked_newest"] is None
