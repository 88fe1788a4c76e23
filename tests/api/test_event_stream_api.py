"""GET /events/stream in process: its messages, resuming, filters, refusals, the client limit.

The test client reads a response to its end, so streams here end after a moment
(``events_stream_max_seconds`` in the API tests' settings); a real client reading a live
stream is in tests/integration/test_event_stream.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from application.settings import Settings
from tests.api.conftest import ADMIN_TOKEN
from tests.api.helpers import assert_problem, declare, ok
from tests.sse_client import Message, parse


def streaming_client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        yield client


@pytest.fixture
def streamer(app_settings: Settings) -> Iterator[TestClient]:
    yield from streaming_client(
        app_settings.model_copy(update={"events_stream_poll_seconds": 0.05})
    )


def stream(client: TestClient, **kwargs: Any) -> list[Message]:
    response = client.get("/events/stream", **kwargs)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-store"
    return parse(response.text)


def events_of(messages: list[Message]) -> list[Message]:
    return [m for m in messages if m.is_event]


def activity(client: TestClient) -> tuple[str, str]:
    first = declare(client, title="Checkout returns 502")
    second = declare(client, title="Search is slow")
    ok(client.post(f"/incidents/{first}/notes", json={"text": "Rolled back 4812"}), 201)
    ok(client.post(f"/incidents/{second}/status", json={"status": "identified"}))
    return first, second


def test_the_stream_opens_with_a_retry_hint_then_sends_each_event_once(
    streamer: TestClient,
) -> None:
    activity(streamer)
    messages = stream(streamer)
    assert messages[0].retry == 3000
    assert not messages[0].is_event
    sent = events_of(messages)
    assert [m.position for m in sent] == [1, 2, 3, 4]
    assert [m.event for m in sent] == [
        "incident.declared",
        "incident.declared",
        "timeline.note_added",
        "incident.status_changed",
    ]
    # data is the envelope GET /events serves, to the byte of every field
    assert [m.json() for m in sent] == ok(streamer.get("/events"))["events"]


def test_last_event_id_resumes_after_that_position_and_wins_over_after(
    streamer: TestClient,
) -> None:
    activity(streamer)
    resumed = events_of(stream(streamer, headers={"Last-Event-ID": "2"}))
    assert [m.position for m in resumed] == [3, 4]
    both = events_of(stream(streamer, headers={"Last-Event-ID": "3"}, params={"after": 1}))
    assert [m.position for m in both] == [4]
    by_query = events_of(stream(streamer, params={"after": 1}))
    assert [m.position for m in by_query] == [2, 3, 4]
    assert events_of(stream(streamer, headers={"Last-Event-ID": "4"})) == []


def test_the_stream_takes_the_same_filters_as_the_pages(streamer: TestClient) -> None:
    first, _ = activity(streamer)
    of_first = events_of(stream(streamer, params={"stream": first}))
    assert [m.position for m in of_first] == [1, 3]
    notes_and_status = events_of(
        stream(streamer, params={"type": ["timeline.", "incident.status_changed"]})
    )
    assert [m.event for m in notes_and_status] == ["timeline.note_added", "incident.status_changed"]


@pytest.mark.parametrize(
    ("headers", "params", "detail"),
    [
        (
            {"Last-Event-ID": "seven"},
            {},
            "header.last-event-id: Input should be a valid integer, unable to parse string as an integer",
        ),
        ({"Last-Event-ID": "-1"}, {}, None),
        ({}, {"after": -5}, "query.after: Input should be greater than or equal to 0"),
        ({}, {"type": "incident"}, None),
        ({}, {"stream": "incident-12"}, None),
    ],
)
def test_invalid_positions_and_filters_are_refused_before_the_stream_starts(
    streamer: TestClient, headers: dict[str, str], params: dict[str, Any], detail: str | None
) -> None:
    response = streamer.get("/events/stream", headers=headers, params=params)
    assert_problem(response, 422, detail)


def test_a_server_at_its_stream_limit_refuses_with_503(app_settings: Settings) -> None:
    settings = app_settings.model_copy(update={"events_stream_max_clients": 0})
    for client in streaming_client(settings):
        response = client.get("/events/stream")
        body = assert_problem(response, 503)
        assert "already streams the log to 0 clients" in body["detail"]
        assert response.headers["retry-after"] == "3"
        assert ok(client.get("/events"))["events"] == []  # pages are not limited
