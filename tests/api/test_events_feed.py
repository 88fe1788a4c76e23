"""GET /events: the log by position, page by page, filtered by stream and type, never a gap."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

import eventstore.feed
from application.tokens import Scope, TokenStore
from eventstore import EventStore
from tests.api.helpers import assert_problem, declare, ok


def store_of(client: TestClient) -> EventStore:
    store: EventStore = client.app.state.store  # type: ignore[attr-defined]
    return store


def note(client: TestClient, incident_id: str, text: str) -> None:
    ok(client.post(f"/incidents/{incident_id}/notes", json={"text": text}), 201)


def two_incidents(client: TestClient) -> tuple[str, str]:
    """Interleaved activity on two incidents: declared, notes, a status change."""
    first = declare(client, title="Checkout returns 502")
    second = declare(client, title="Search is slow")
    note(client, first, "Rolled back deploy 4812")
    note(client, second, "Index rebuild running")
    ok(client.post(f"/incidents/{first}/status", json={"status": "identified"}))
    note(client, first, "Error rate back to normal")
    assert store_of(client).head_position() == 6  # one event each, positions 1 to 6
    return first, second


def follow(client: TestClient, **params: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every event a consumer gets by following next_url from after=0; and the pages."""
    pages = [ok(client.get("/events", params=params))]
    while pages[-1]["next_after"] < pages[-1]["head"]:
        pages.append(ok(client.get(pages[-1]["next_url"])))
        assert len(pages) < 100, "paging does not make progress"
    return [event for page in pages for event in page["events"]], pages


# --- paging ------------------------------------------------------------------------------


def test_pages_follow_the_log_in_order_without_gaps_or_repeats(client: TestClient) -> None:
    two_incidents(client)
    head = store_of(client).head_position()
    events, pages = follow(client, limit=2)
    assert [e["position"] for e in events] == list(range(1, head + 1))
    assert [len(page["events"]) for page in pages] == [2, 2, 2]
    assert pages[-1]["next_after"] == head
    assert all(page["next_url"].endswith(f"after={page['next_after']}") for page in pages)


def test_a_page_carries_every_envelope_field_as_stored(client: TestClient) -> None:
    incident_id = declare(client)
    note(client, incident_id, "Paged the database team")
    stored = store_of(client).read_all()
    page = ok(client.get("/events"))
    assert len(page["events"]) == len(stored) == 2
    for sent, recorded in zip(page["events"], stored, strict=True):
        assert sent["position"] == recorded.position
        assert sent["stream_id"] == recorded.stream_id == f"incident-{incident_id}"
        assert sent["version"] == recorded.version
        assert sent["event_id"] == str(recorded.event_id)
        assert sent["type"] == recorded.type
        assert sent["schema_version"] == recorded.schema_version
        assert sent["data"] == recorded.data
        assert sent["metadata"] == recorded.metadata
        assert sent["metadata"]["actor"] == "admin"
        assert sent["occurred_at"].endswith("Z")
        assert sent["recorded_at"].endswith("Z")
    assert [e["type"] for e in page["events"]] == ["incident.declared", "timeline.note_added"]
    assert page["events"][1]["data"]["text"] == "Paged the database team"


def test_an_empty_log_and_a_position_past_the_head_give_empty_pages_that_stay_put(
    client: TestClient,
) -> None:
    empty = ok(client.get("/events"))
    assert empty["events"] == []
    assert empty["next_after"] == empty["head"] == 0
    declare(client)
    beyond = ok(client.get("/events", params={"after": 50}))
    assert beyond["events"] == []
    assert beyond["next_after"] == 50
    assert beyond["head"] == 1


def test_a_consumer_polling_the_head_picks_up_later_events(client: TestClient) -> None:
    incident_id = declare(client)
    first = ok(client.get("/events"))
    assert first["next_after"] == first["head"] == 1
    note(client, incident_id, "Still investigating")
    later = ok(client.get(first["next_url"]))
    assert [e["position"] for e in later["events"]] == [2]


# --- filters -----------------------------------------------------------------------------


def test_a_stream_filter_takes_the_incident_id_or_its_stream_id(client: TestClient) -> None:
    first, second = two_incidents(client)
    by_id = ok(client.get("/events", params={"stream": first}))["events"]
    by_stream = ok(client.get("/events", params={"stream": f"incident-{first}"}))["events"]
    assert by_id == by_stream
    assert {e["stream_id"] for e in by_id} == {f"incident-{first}"}
    assert [e["version"] for e in by_id] == [1, 2, 3, 4]
    others = ok(client.get("/events", params={"stream": second}))["events"]
    assert [e["version"] for e in others] == [1, 2]


def test_type_filters_are_exact_or_prefixes_and_may_be_repeated(client: TestClient) -> None:
    two_incidents(client)
    notes = ok(client.get("/events", params={"type": "timeline.note_added"}))["events"]
    assert [e["type"] for e in notes] == ["timeline.note_added"] * 3
    timeline = ok(client.get("/events", params={"type": "timeline."}))["events"]
    assert timeline == notes
    several = ok(client.get("/events", params={"type": ["incident.", "timeline.note_added"]}))
    kinds = [e["type"] for e in several["events"]]
    assert kinds == [e.type for e in store_of(client).read_all()]  # everything matched
    status = ok(client.get("/events", params={"type": "incident.status_changed"}))["events"]
    assert [e["data"]["to_status"] for e in status] == ["identified"]


def test_filters_combine(client: TestClient) -> None:
    first, _ = two_incidents(client)
    page = ok(client.get("/events", params={"stream": first, "type": "timeline."}))
    assert [e["data"]["text"] for e in page["events"]] == [
        "Rolled back deploy 4812",
        "Error rate back to normal",
    ]


def test_filtered_pages_move_next_after_past_what_did_not_match(client: TestClient) -> None:
    """A page that is not full has looked at everything up to the head, not only up to
    the last event it returned; a consumer asking again does not scan it twice."""
    _, second = two_incidents(client)
    head = store_of(client).head_position()
    page = ok(client.get("/events", params={"stream": second}))
    assert page["events"][-1]["position"] < head
    assert page["next_after"] == head
    again = ok(client.get(page["next_url"]))
    assert again["events"] == []
    assert again["next_after"] == head


def test_a_full_filtered_page_resumes_right_after_its_last_event(client: TestClient) -> None:
    two_incidents(client)
    events, pages = follow(client, type="timeline.note_added", limit=1)
    everything = store_of(client).read_all()
    assert [e["position"] for e in events] == [
        e.position for e in everything if e.type == "timeline.note_added"
    ]
    assert pages[0]["next_after"] == pages[0]["events"][0]["position"]


def test_a_type_filter_scans_a_bounded_window_and_still_reaches_every_match(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rare type costs many small scans rather than one scan of the whole log; empty
    pages still advance, and following them finds every match exactly once."""
    monkeypatch.setattr(eventstore.feed, "SCAN_WINDOW", 2)
    two_incidents(client)
    events, pages = follow(client, type="incident.status_changed")
    assert [e["type"] for e in events] == ["incident.status_changed"]
    assert [page["next_after"] for page in pages] == [2, 4, 6]
    assert any(page["events"] == [] for page in pages)


# --- refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"limit": 0}, "query.limit: Input should be greater than or equal to 1"),
        ({"limit": 1001}, "query.limit: Input should be less than or equal to 1000"),
        ({"after": -1}, "query.after: Input should be greater than or equal to 0"),
        (
            {"after": 2**63},
            "query.after: Input should be less than or equal to 9223372036854775807",
        ),
        ({"after": "last"}, None),
        (
            {"stream": "checkout"},
            "query.stream: 'checkout' is neither an incident id nor a stream id (incident-<id>)",
        ),
        ({"type": "alert"}, None),
        ({"type": "nothing."}, None),
        ({"type": ["incident.declared", "incident.declard"]}, None),
    ],
)
def test_invalid_paging_and_filters_are_precise_422_problems(
    client: TestClient, params: dict[str, Any], detail: str | None
) -> None:
    declare(client)
    body = assert_problem(client.get("/events", params=params), 422, detail)
    if "type" in params:
        assert "is neither an event type nor the start of one ending in '.'" in body["detail"]
        assert "incident.declared" in body["detail"]  # the known types are listed
        assert body["errors"][0]["location"] == ["query", "type"]


def test_reading_the_log_needs_a_token_with_the_read_scope(client: TestClient) -> None:
    tokens: TokenStore = client.app.state.tokens  # type: ignore[attr-defined]
    declare(client)
    anonymous = TestClient(client.app)
    for path in ("/events", "/events/stream"):
        response = anonymous.get(path)
        assert_problem(response, 401, "a bearer token is required")
        assert response.headers["www-authenticate"].startswith("Bearer")
    ingest_only = TestClient(
        client.app,
        headers={"Authorization": f"Bearer {tokens.create('hooks', {Scope.INGEST})}"},
    )
    for path in ("/events", "/events/stream"):
        assert_problem(
            ingest_only.get(path), 403, "token 'hooks' lacks the 'read' scope for this route"
        )
    reader = TestClient(
        client.app, headers={"Authorization": f"Bearer {tokens.create('feed', {Scope.READ})}"}
    )
    page = reader.get("/events")
    assert page.status_code == 200
    assert page.headers["content-type"] == "application/json"
