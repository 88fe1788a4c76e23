"""If-Match and ETags, Idempotency-Key replays, and both under real concurrency.

The concurrent tests serve the application with uvicorn on a free port in a thread and
send requests from several threads at once, each with its own HTTP client, on SQLite and
PostgreSQL. A gate holds the first N calls of IncidentService.execute until all N
requests have got that far, so every request is inside the application, past routing,
authentication and validation, when they are let go together: they contend for the same
incident on every run instead of now and then.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import UUID, uuid4

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from application.settings import Settings
from application.tokens import Scope, TokenStore
from domain.values import stream_id_for
from eventstore import EventStore
from tests.api.conftest import ADMIN_TOKEN
from tests.api.helpers import assert_problem, declare, nothing_stored, ok

T = TypeVar("T")

NOTE = {"text": "Rolled back deploy 4812"}
INCIDENT = {"title": "Checkout returns 502", "severity": "SEV2", "services": ["checkout"]}


def store_of(client: TestClient) -> EventStore:
    store: EventStore = client.app.state.store  # type: ignore[attr-defined]
    return store


def event_types(client: TestClient, incident_id: str) -> list[str]:
    return [e.type for e in store_of(client).read_stream(stream_id_for(UUID(incident_id)))]


# --- ETags and If-Match --------------------------------------------------------------------


def test_commands_and_the_incident_carry_the_version_as_etag(client: TestClient) -> None:
    declared = client.post("/incidents", json=INCIDENT)
    body = ok(declared, 201)
    assert declared.headers["etag"] == '"1"' == f'"{body["version"]}"'
    incident_id = body["id"]
    assert client.get(f"/incidents/{incident_id}").headers["etag"] == '"1"'

    noted = client.post(f"/incidents/{incident_id}/notes", json=NOTE)
    assert noted.headers["etag"] == '"2"' == f'"{ok(noted, 201)["version"]}"'
    acknowledged = client.post(f"/incidents/{incident_id}/acknowledge")
    assert acknowledged.headers["etag"] == '"3"'
    fetched = client.get(f"/incidents/{incident_id}")
    assert fetched.headers["etag"] == '"3"'
    assert ok(fetched)["version"] == 3


def test_a_matching_if_match_applies_the_command(client: TestClient) -> None:
    """Quoted, weak, bare or padded, the incident's version matches."""
    for version, if_match in enumerate(['"1"', 'W/"2"', "3", ' "4" '], start=1):
        incident_id = declare(client)
        for _ in range(version - 1):
            ok(client.post(f"/incidents/{incident_id}/notes", json=NOTE), 201)
        response = client.post(
            f"/incidents/{incident_id}/status",
            json={"status": "identified"},
            headers={"If-Match": if_match},
        )
        assert ok(response)["version"] == version + 1, if_match
        assert response.headers["etag"] == f'"{version + 1}"'
        assert ok(client.get(f"/incidents/{incident_id}"))["status"] == "identified"


def test_a_stale_if_match_is_412_with_the_current_version_and_stores_nothing(
    client: TestClient,
) -> None:
    incident_id = declare(client)
    etag = client.get(f"/incidents/{incident_id}").headers["etag"]
    ok(client.post(f"/incidents/{incident_id}/notes", json=NOTE), 201)  # someone else

    with nothing_stored(client):
        response = client.post(
            f"/incidents/{incident_id}/severity",
            json={"severity": "SEV1"},
            headers={"If-Match": etag},
        )
    problem = assert_problem(
        response, 412, "incident is at version 2, If-Match asked for version 1"
    )
    assert problem["current_version"] == 2
    assert response.headers["etag"] == '"2"'

    # Read again, retry with the new ETag: it applies.
    retried = client.post(
        f"/incidents/{incident_id}/severity",
        json={"severity": "SEV1"},
        headers={"If-Match": response.headers["etag"]},
    )
    assert ok(retried)["version"] == 3


def test_if_match_from_the_future_is_412_too(client: TestClient) -> None:
    incident_id = declare(client)
    with nothing_stored(client):
        response = client.post(
            f"/incidents/{incident_id}/notes", json=NOTE, headers={"If-Match": '"7"'}
        )
    assert assert_problem(response, 412)["current_version"] == 1


def test_if_match_guards_every_command_of_a_multi_command_patch(client: TestClient) -> None:
    incident_id = declare(client)
    item = ok(
        client.post(
            f"/incidents/{incident_id}/action-items",
            json={
                "title": "Alert on pool",
                "kind": "preventative",
                "owner": "alice",
                "due_date": "2030-01-01",
            },
        ),
        201,
    )
    patch = {"owner": "bob", "due_date": "2030-02-01", "status": "in_progress"}
    url = f"/incidents/{incident_id}/action-items/{item['item_id']}"
    with nothing_stored(client):
        assert_problem(client.patch(url, json=patch, headers={"If-Match": '"1"'}), 412)
    applied = client.patch(url, json=patch, headers={"If-Match": '"2"'})
    assert ok(applied)["version"] == 5
    assert applied.headers["etag"] == '"5"'


def test_if_match_star_applies_the_command_to_an_existing_incident(client: TestClient) -> None:
    """RFC 9110: ``*`` matches any current version of the incident."""
    incident_id = declare(client)
    ok(client.post(f"/incidents/{incident_id}/notes", json=NOTE), 201)
    for version, if_match in enumerate(["*", " * "], start=2):
        response = client.post(
            f"/incidents/{incident_id}/notes", json=NOTE, headers={"If-Match": if_match}
        )
        assert ok(response, 201)["version"] == version + 1, if_match
        assert response.headers["etag"] == f'"{version + 1}"'
    assert event_types(client, incident_id) == ["incident.declared"] + ["timeline.note_added"] * 3
    patched = client.post(
        f"/incidents/{incident_id}/severity", json={"severity": "SEV1"}, headers={"If-Match": "*"}
    )
    assert ok(patched)["version"] == 5
    assert ok(client.get(f"/incidents/{incident_id}"))["severity"] == "SEV1"


@pytest.mark.parametrize("if_match", ['"1"', '"0"', "*", 'W/"3"'])
def test_if_match_on_an_unknown_incident_is_404_not_412(client: TestClient, if_match: str) -> None:
    declare(client)  # the log is not empty
    unknown = uuid4()
    with nothing_stored(client):
        responses = [
            client.post(f"/incidents/{unknown}/notes", json=NOTE, headers={"If-Match": if_match}),
            client.post(
                f"/incidents/{unknown}/severity",
                json={"severity": "SEV1"},
                headers={"If-Match": if_match, "Idempotency-Key": f"unknown-{if_match}"},
            ),
        ]
    for response in responses:
        assert "etag" not in response.headers
        assert_problem(response, 404, f"incident {unknown} does not exist")


def test_if_match_star_refuses_a_declaration_the_incident_does_not_exist_yet(
    client: TestClient,
) -> None:
    with nothing_stored(client):
        response = client.post("/incidents", json=INCIDENT, headers={"If-Match": "*"})
    assert_problem(
        response, 412, "incident does not exist, If-Match: * asked for any existing version"
    )
    # A declaration is a command on version 0, as it always was.
    assert ok(client.post("/incidents", json=INCIDENT, headers={"If-Match": '"0"'}), 201)


MALFORMED_IF_MATCH = ["abc", '"*"', "*, *", '"1", "2"', '""', "W/", '"-1"', '"1.0"', '"0x1"']


def test_a_malformed_if_match_is_400_and_stores_nothing(client: TestClient) -> None:
    incident_id = declare(client)
    for if_match in MALFORMED_IF_MATCH:
        with nothing_stored(client):
            response = client.post(
                f"/incidents/{incident_id}/notes", json=NOTE, headers={"If-Match": if_match}
            )
        assert_problem(
            response, 400, f'If-Match must be an incident version such as "3", not {if_match!r}'
        )


# --- Idempotency-Key -----------------------------------------------------------------------


def test_a_retried_declaration_returns_the_same_incident_and_writes_nothing(
    client: TestClient,
) -> None:
    headers = {"Idempotency-Key": "declare-1"}
    first = client.post("/incidents", json=INCIDENT, headers=headers)
    body = ok(first, 201)
    assert "idempotent-replayed" not in first.headers

    with nothing_stored(client):
        again = client.post("/incidents", json=INCIDENT, headers=headers)
    assert ok(again, 201) == body
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["location"] == first.headers["location"] == f"/incidents/{body['id']}"
    assert again.headers["etag"] == first.headers["etag"] == '"1"'
    assert event_types(client, body["id"]) == ["incident.declared"]
    assert [i["id"] for i in ok(client.get("/incidents"))["items"]] == [body["id"]]


def test_a_retried_note_returns_the_same_location_and_adds_one_note(client: TestClient) -> None:
    incident_id = declare(client)
    headers = {"Idempotency-Key": "note-1"}
    first = client.post(f"/incidents/{incident_id}/notes", json=NOTE, headers=headers)
    ok(first, 201)
    with nothing_stored(client):
        again = client.post(f"/incidents/{incident_id}/notes", json=NOTE, headers=headers)
    assert ok(again, 201) == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true"
    notes = [
        e
        for e in ok(client.get(f"/incidents/{incident_id}/timeline"))["entries"]
        if e["kind"] == "note"
    ]
    assert [n["id"] for n in notes] == [first.headers["location"].rsplit("/", 1)[1]]


def test_a_retried_action_item_returns_the_same_item_and_adds_one(client: TestClient) -> None:
    incident_id = declare(client)
    item = {
        "title": "Alert on pool",
        "kind": "preventative",
        "owner": "alice",
        "due_date": "2030-01-01",
    }
    headers = {"Idempotency-Key": "item-1"}
    first = client.post(f"/incidents/{incident_id}/action-items", json=item, headers=headers)
    with nothing_stored(client):
        again = client.post(f"/incidents/{incident_id}/action-items", json=item, headers=headers)
    assert ok(again, 201) == ok(first, 201)
    assert again.headers["location"] == first.headers["location"]
    assert first.headers["location"].endswith(first.json()["item_id"])
    items = ok(client.get(f"/incidents/{incident_id}/action-items"))["items"]
    assert [i["id"] for i in items] == [first.json()["item_id"]]

    patch = {"status": "done"}
    url = first.headers["location"]
    patched = client.patch(url, json=patch, headers={"Idempotency-Key": "item-1-done"})
    with nothing_stored(client):
        replayed = client.patch(url, json=patch, headers={"Idempotency-Key": "item-1-done"})
    assert ok(replayed) == ok(patched)
    assert replayed.headers["idempotent-replayed"] == "true"


def test_a_key_reused_for_another_request_is_422_and_stores_nothing(client: TestClient) -> None:
    incident_id = declare(client)
    other_id = declare(client)
    headers = {"Idempotency-Key": "note-1"}
    ok(client.post(f"/incidents/{incident_id}/notes", json=NOTE, headers=headers), 201)
    detail = (
        "Idempotency-Key 'note-1' was used for a different request; use a new key for a new request"
    )
    with nothing_stored(client):
        other_body = client.post(
            f"/incidents/{incident_id}/notes", json={"text": "x"}, headers=headers
        )
        other_path = client.post(f"/incidents/{other_id}/notes", json=NOTE, headers=headers)
        other_route = client.post(
            f"/incidents/{incident_id}/severity", json={"severity": "SEV1"}, headers=headers
        )
    for response in (other_body, other_path, other_route):
        assert_problem(response, 422, detail)


def test_a_retry_with_the_same_json_written_differently_is_a_replay(client: TestClient) -> None:
    """The body is compared as a JSON document: key order, whitespace and escapes do not count."""
    declaration = {
        "title": "Checkout returns 502",
        "severity": "SEV2",
        "services": ["checkout", "payments"],
        "summary": "Café checkout fails",
    }
    reordered = dict(reversed(list(declaration.items())))
    headers = {"Idempotency-Key": "declare-1", "Content-Type": "application/json"}
    first = client.post(
        "/incidents", content=json.dumps(declaration, ensure_ascii=False), headers=headers
    )
    body = ok(first, 201)
    variants = [
        json.dumps(reordered, ensure_ascii=False),
        json.dumps(declaration, indent=4),  # and "\u00e9" for the é
        json.dumps(reordered, separators=(",", ":")),
        "\n  " + json.dumps(declaration).replace(": ", " :\t") + "  \r\n",
    ]
    for variant in variants:
        with nothing_stored(client):
            again = client.post("/incidents", content=variant.encode(), headers=headers)
        assert ok(again, 201) == body, variant
        assert again.headers["idempotent-replayed"] == "true"
        assert again.headers["location"] == first.headers["location"]
    assert [i["id"] for i in ok(client.get("/incidents"))["items"]] == [body["id"]]
    assert event_types(client, body["id"]) == ["incident.declared"]

    # Another value, however it is written, is another request; so is another list order.
    detail = (
        "Idempotency-Key 'declare-1' was used for a different request;"
        " use a new key for a new request"
    )
    for changed in [
        {**reordered, "severity": "SEV1"},
        {**declaration, "services": ["payments", "checkout"]},
        {**declaration, "summary": "Cafe checkout fails"},
        {**declaration, "summary": None},
    ]:
        with nothing_stored(client):
            refused = client.post("/incidents", content=json.dumps(changed), headers=headers)
        assert_problem(refused, 422, detail)


def test_a_body_that_is_not_json_is_compared_byte_for_byte(client: TestClient) -> None:
    incident_id = declare(client)
    url = f"/incidents/{incident_id}/acknowledge"
    first = client.post(url, headers={"Idempotency-Key": "ack-1"})
    assert ok(first)["version"] == 2
    with nothing_stored(client):
        again = client.post(url, headers={"Idempotency-Key": "ack-1"})
    assert ok(again) == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    with nothing_stored(client):
        other = client.post(url, json={}, headers={"Idempotency-Key": "ack-1"})
    assert_problem(other, 422)


def test_a_replay_answers_the_original_even_after_later_changes(client: TestClient) -> None:
    headers = {"Idempotency-Key": "status-1", "If-Match": '"1"'}
    incident_id = declare(client)
    first = client.post(
        f"/incidents/{incident_id}/status", json={"status": "identified"}, headers=headers
    )
    assert ok(first)["version"] == 2
    ok(client.post(f"/incidents/{incident_id}/notes", json=NOTE), 201)

    # The If-Match is stale by now, but this is a retry of a request that succeeded.
    with nothing_stored(client):
        again = client.post(
            f"/incidents/{incident_id}/status", json={"status": "identified"}, headers=headers
        )
    assert ok(again) == first.json()
    assert again.headers["etag"] == '"2"'


def test_keys_belong_to_the_token_that_used_them(client: TestClient) -> None:
    tokens: TokenStore = client.app.state.tokens  # type: ignore[attr-defined]
    bot = TestClient(
        client.app,
        headers={"Authorization": f"Bearer {tokens.create('pager-bridge', {Scope.WRITE})}"},
    )
    headers = {"Idempotency-Key": "declare-1"}
    mine = ok(client.post("/incidents", json=INCIDENT, headers=headers), 201)
    theirs = bot.post("/incidents", json=INCIDENT, headers=headers)
    assert "idempotent-replayed" not in theirs.headers
    assert ok(theirs, 201)["id"] != mine["id"]


def test_a_refused_command_does_not_use_up_its_key(client: TestClient) -> None:
    incident_id = declare(client)
    headers = {"Idempotency-Key": "note-1"}
    missing = client.post(f"/incidents/{uuid4()}/notes", json=NOTE, headers=headers)
    assert_problem(missing, 404)
    closing = client.post(
        f"/incidents/{incident_id}/status", json={"status": "closed"}, headers=headers
    )
    assert_problem(closing, 422)
    # Nothing was stored under the key, so it is free for the request that works.
    ok(client.post(f"/incidents/{incident_id}/notes", json=NOTE, headers=headers), 201)


def test_an_idempotency_key_must_be_1_to_200_characters(client: TestClient) -> None:
    for key, problem in [("", "string_too_short"), ("k" * 201, "string_too_long")]:
        with nothing_stored(client):
            response = client.post("/incidents", json=INCIDENT, headers={"Idempotency-Key": key})
        errors = assert_problem(response, 422)["errors"]
        assert [(e["location"], e["type"]) for e in errors] == [
            (["header", "idempotency-key"], problem)
        ]
    ok(client.post("/incidents", json=INCIDENT, headers={"Idempotency-Key": "k" * 200}), 201)


# --- under real concurrency ----------------------------------------------------------------


@dataclass
class LiveServer:
    app: FastAPI
    url: str

    @property
    def store(self) -> EventStore:
        store: EventStore = self.app.state.store
        return store


@pytest.fixture
def live(app_settings: Settings) -> Iterator[LiveServer]:
    """The application behind a real uvicorn server on a free port, in a thread."""
    app = create_app(app_settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_config=None, log_level="warning", access_log=False, lifespan="on")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped while starting"
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield LiveServer(app, f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


class Gate:
    """Wraps the service's awaited entry: holds its first ``parties`` calls until all
    have arrived, so they reach the writer together (command routes await the writer
    on the event loop, so the hold is an awaited event, not a blocked thread)."""

    def __init__(self, wrapped: Callable[..., Awaitable[Any]], parties: int) -> None:
        self.wrapped = wrapped
        self.parties = parties
        self.calls = 0
        self.arrived: asyncio.Event | None = None

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.arrived is None:
            self.arrived = asyncio.Event()
        self.calls += 1
        if self.calls == self.parties:
            self.arrived.set()
        if self.calls <= self.parties:
            # Fewer requests got this far when it times out; the assertions will say why.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.arrived.wait(), timeout=10)
        return await self.wrapped(*args, **kwargs)


def gate_commands(live: LiveServer, monkeypatch: pytest.MonkeyPatch, parties: int) -> Gate:
    service = live.app.state.service
    gate = Gate(service.execute_async, parties)
    monkeypatch.setattr(service, "execute_async", gate)
    return gate


def all_at_once(count: int, send: Callable[[httpx.Client], T], url: str) -> list[T]:
    """``send`` from ``count`` threads, each with its own client, released together."""
    start = threading.Barrier(count)

    def one(_: int) -> T:
        with httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=30
        ) as http:
            start.wait()
            return send(http)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def answer(response: httpx.Response) -> tuple[int, str, str | None, str | None]:
    """What a client sees of an answer, hashable: status, body, ETag, Location."""
    return (
        response.status_code,
        json.dumps(response.json(), sort_keys=True),
        response.headers.get("etag"),
        response.headers.get("location"),
    )


CONCURRENT = 10


@pytest.mark.parametrize("route", ["declare", "note"])
def test_concurrent_identical_requests_with_one_key_write_once_and_answer_alike(
    live: LiveServer, monkeypatch: pytest.MonkeyPatch, route: str
) -> None:
    incident_id = None
    if route == "note":
        with httpx.Client(
            base_url=live.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
        ) as http:
            incident_id = http.post("/incidents", json=INCIDENT).json()["id"]
    path, body = (
        ("/incidents", INCIDENT)
        if route == "declare"
        else (f"/incidents/{incident_id}/notes", NOTE)
    )
    head = live.store.head_position()
    gate = gate_commands(live, monkeypatch, CONCURRENT)

    responses = all_at_once(
        CONCURRENT,
        lambda http: http.post(path, json=body, headers={"Idempotency-Key": "retry-storm"}),
        live.url,
    )

    assert gate.calls == CONCURRENT
    assert live.store.head_position() == head + 1, "exactly one event was appended"
    answers = {answer(r) for r in responses}
    assert len(answers) == 1, sorted(answers, key=str)
    ((status, text, _, _),) = answers
    assert status == 201
    result = json.loads(text)
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in responses) == CONCURRENT - 1
    stream = stream_id_for(UUID(result["id"]))
    expected = (
        ["incident.declared"]
        if route == "declare"
        else ["incident.declared", "timeline.note_added"]
    )
    assert [e.type for e in live.store.read_stream(stream)] == expected


@pytest.mark.parametrize("gated", [True, False], ids=["gated", "free"])
def test_concurrent_commands_with_one_if_match_apply_exactly_once(
    live: LiveServer, monkeypatch: pytest.MonkeyPatch, gated: bool
) -> None:
    with httpx.Client(
        base_url=live.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    ) as http:
        incident_id = http.post("/incidents", json=INCIDENT).json()["id"]
    if gated:
        gate_commands(live, monkeypatch, CONCURRENT)

    responses = all_at_once(
        CONCURRENT,
        lambda http: http.post(
            f"/incidents/{incident_id}/notes",
            json={"text": f"note {uuid4()}"},
            headers={"If-Match": '"1"'},
        ),
        live.url,
    )

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [412] * (CONCURRENT - 1)
    for refused in (r for r in responses if r.status_code == 412):
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["current_version"] == 2
        assert refused.headers["etag"] == '"2"'
    (won,) = (r for r in responses if r.status_code == 201)
    assert won.headers["etag"] == '"2"'
    events = live.store.read_stream(stream_id_for(UUID(incident_id)))
    assert [e.type for e in events] == ["incident.declared", "timeline.note_added"]


def test_an_if_match_of_non_ascii_digits_is_400_not_500(live: LiveServer) -> None:
    """Over a real socket: header bytes arrive as latin-1 (the TestClient re-encodes them)."""
    with httpx.Client(
        base_url=live.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    ) as http:
        incident_id = http.post("/incidents", json=INCIDENT).json()["id"]
        head = live.store.head_position()
        response = http.post(
            f"/incidents/{incident_id}/notes", json=NOTE, headers={b"If-Match": b'"\xb2"'}
        )
    assert live.store.head_position() == head
    assert response.status_code == 400, response.text
