"""Input a route does not declare is refused, not dropped: a one-value query parameter
given twice (422 naming it), and a body sent to a route that takes none (400); nothing
is stored either way."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from api.limits import MAX_BODY_BYTES
from tests.api.helpers import assert_problem, declare, nothing_stored, ok

JSON = {"Content-Type": "application/json"}


def operations(client: TestClient) -> Iterator[tuple[str, str, dict[str, Any]]]:
    document: dict[str, Any] = client.app.openapi()  # type: ignore[attr-defined]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield method.upper(), path, operation


def filled(path: str, incident_id: str) -> str:
    """The path with an incident's id for ``incident_id`` and a made-up value elsewhere."""
    path = path.replace("{incident_id}", incident_id)
    while "{" in path:
        start, end = path.index("{"), path.index("}")
        path = path[:start] + str(uuid4()) + path[end + 1 :]
    return path


# --- query parameters ----------------------------------------------------------------------


def test_a_one_value_parameter_given_twice_is_422_naming_it(client: TestClient) -> None:
    problem = assert_problem(
        client.get("/events", params=[("stream", "A"), ("stream", "B")]),
        422,
        "query.stream: give stream once (it was given 2 times)",
    )
    assert problem["errors"] == [
        {
            "location": ["query", "stream"],
            "message": "give stream once (it was given 2 times)",
            "type": "value_error",
        }
    ]


def test_every_one_value_query_parameter_of_the_api_refuses_repeats(client: TestClient) -> None:
    """Every operation's query parameters but those of array type, as documented."""
    incident_id = declare(client)
    checked = []
    with nothing_stored(client):
        for method, path, operation in operations(client):
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                types = {schema.get("type")} | {s.get("type") for s in schema.get("anyOf", [])}
                if parameter["in"] != "query" or "array" in types:
                    continue
                name = parameter["name"]
                url = filled(path, incident_id)
                response = client.request(method, url, params=[(name, "1"), (name, "2")])
                problem = assert_problem(response, 422)
                assert problem["errors"][0]["location"] == ["query", name], (method, path)
                checked.append(name)
    assert {"stream", "limit", "cursor", "min_position", "as_of", "from", "overdue"} <= set(checked)


def test_parameters_that_take_a_list_may_be_repeated(client: TestClient) -> None:
    incident_id = declare(client)
    ok(client.post(f"/incidents/{incident_id}/notes", json={"text": "Paged on-call"}), 201)
    types = ["incident.declared", "timeline.note_added"]
    events = ok(client.get("/events", params=[("type", t) for t in types]))["events"]
    assert [e["type"] for e in events] == types
    ok(client.get("/insights/incidents", params=[("kind", "incident"), ("kind", "drill")]))


def test_credentials_are_checked_before_repeats(client: TestClient) -> None:
    anonymous = TestClient(client.app)
    response = anonymous.get("/events", params=[("stream", "A"), ("stream", "B")])
    assert_problem(response, 401)


# --- bodies --------------------------------------------------------------------------------


def no_body(method: str, path: str) -> str:
    return f"{method} {path} takes no request body; send the request without one"


def test_a_body_on_a_route_that_takes_none_is_400_and_changes_nothing(
    client: TestClient,
) -> None:
    incident_id = declare(client)
    ok(client.post(f"/incidents/{incident_id}/labels", json={"labels": {"team": "payments"}}))
    with nothing_stored(client):
        for body in (b"{bad", b"{}", b'{"reason": "moved"}'):
            response = client.request(
                "DELETE", f"/incidents/{incident_id}/labels/team", content=body, headers=JSON
            )
            assert_problem(
                response, 400, no_body("DELETE", "/incidents/{incident_id}/labels/{key}")
            )
        response = client.post(
            f"/incidents/{incident_id}/postmortem/publish", content=b"{bad", headers=JSON
        )
        assert_problem(
            response, 400, no_body("POST", "/incidents/{incident_id}/postmortem/publish")
        )
        assert_problem(client.request("GET", "/incidents", content=b"{}"), 400)
    assert ok(client.get(f"/incidents/{incident_id}"))["labels"] == {"team": "payments"}


def test_a_chunked_body_is_refused_once_it_holds_a_byte(client: TestClient) -> None:
    incident_id = declare(client)
    path = f"/incidents/{incident_id}/postmortem/publish"

    def chunks(*parts: bytes) -> Iterator[bytes]:
        yield from parts

    with nothing_stored(client):
        response = client.post(path, content=chunks(b"", b"{"), headers=JSON)
        assert response.request.headers["transfer-encoding"] == "chunked"
        assert_problem(
            response, 400, no_body("POST", "/incidents/{incident_id}/postmortem/publish")
        )
    # Empty, even chunked and with a key to hash it under: no body. The route runs.
    empty = client.post(path, content=chunks(b""), headers={**JSON, "Idempotency-Key": "k-1"})
    assert_problem(empty, 422, "the postmortem must be in review before it is published")


def test_an_empty_body_is_no_body(client: TestClient) -> None:
    incident_id = declare(client)
    ok(client.post(f"/incidents/{incident_id}/labels", json={"labels": {"team": "payments"}}))
    response = client.request(
        "DELETE", f"/incidents/{incident_id}/labels/team", content=b"", headers=JSON
    )
    ok(response)
    assert ok(client.get(f"/incidents/{incident_id}"))["labels"] == {}


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_every_command_without_a_body_refuses_one(client: TestClient, method: str) -> None:
    """As the OpenAPI document lists them: every such operation, and 400 documented."""
    incident_id = declare(client)
    checked = 0
    with nothing_stored(client):
        for verb, path, operation in operations(client):
            if verb != method or "requestBody" in operation:
                continue
            response = client.request(verb, filled(path, incident_id), json={}, headers=JSON)
            assert_problem(response, 400, no_body(verb, path))
            assert "400" in operation["responses"], (verb, path)
            checked += 1
    assert checked >= 2


def test_a_body_is_held_to_1_mib_whatever_the_method(client: TestClient) -> None:
    """A route that takes no body reads a chunked one to tell it from an empty one: the
    body limits stop that read at 1 MiB, on GET and DELETE too."""
    incident_id = declare(client)

    def megabytes() -> Iterator[bytes]:
        for _ in range(3 * 16):
            yield b" " * (64 * 1024)

    with nothing_stored(client):
        for method, path in (("DELETE", f"/incidents/{incident_id}/labels/team"), ("GET", "/")):
            response = client.request(method, path, content=megabytes())
            assert response.request.headers["transfer-encoding"] == "chunked"
            assert_problem(response, 413, f"request bodies are limited to {MAX_BODY_BYTES} bytes")


def test_routes_that_read_their_own_body_still_take_one(client: TestClient) -> None:
    """The monitoring hooks declare their body in the OpenAPI document, not as a parameter."""
    response = client.post("/hooks/alertmanager", content=b"{bad", headers=JSON)
    assert_problem(response, 400)
    assert "takes no request body" not in response.json()["detail"]
