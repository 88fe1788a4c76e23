"""The HTTP API as a client sees it: the walk through an incident, lists, and every refusal.

Every error is ``application/problem+json`` with a precise ``detail``, and a refused
request stores nothing. Each test runs on SQLite and PostgreSQL (tests/conftest.py).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID, uuid4

import pytest
import structlog
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine

from api.app import create_app
from application.service import IncidentService
from application.settings import Settings
from domain import commands as c
from domain.values import Severity, stream_id_for
from eventstore import EventStore
from projections.runner import ProjectionRunner

PROBLEM_JSON = "application/problem+json"
MISSING = UUID("00000000-0000-4000-8000-00000000dead")


def iso(value: datetime) -> str:
    return value.isoformat()


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


def declare(client: TestClient, **fields: Any) -> dict[str, Any]:
    body = {"title": "Checkout returns 502", "severity": "SEV2", "services": ["checkout"]}
    response = client.post("/incidents", json={**body, **fields})
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def add_note(client: TestClient, incident_id: str, text: str, **fields: Any) -> str:
    """Adds a note and returns its id, taken from the Location header."""
    response = client.post(f"/incidents/{incident_id}/notes", json={"text": text, **fields})
    assert response.status_code == 201, response.text
    prefix = f"/incidents/{incident_id}/timeline/"
    assert response.headers["location"].startswith(prefix)
    return response.headers["location"].removeprefix(prefix)


def assert_problem(response: Response, status: int, detail: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = response.json()
    assert body["type"] == "about:blank"
    assert body["status"] == status
    assert body["title"]
    assert body["detail"] == detail
    return body


@contextmanager
def nothing_stored(store: EventStore) -> Iterator[None]:
    """The block leaves the log exactly as long as it was."""
    before = store.head_position()
    yield
    assert store.head_position() == before, "a refused request stored events"


def locations(body: dict[str, Any]) -> list[list[Any]]:
    return [error["location"] for error in body["errors"]]


# --- the walk ------------------------------------------------------------------------------


def test_a_user_walks_an_incident_from_declaration_to_resolution(
    client: TestClient, store: EventStore
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    started, detected = now - timedelta(hours=2), now - timedelta(hours=1, minutes=50)
    acknowledged, resolved = now - timedelta(hours=1, minutes=40), now - timedelta(hours=1)
    incident_id = str(uuid4())

    response = client.post(
        "/incidents",
        json={
            "id": incident_id,
            "title": "  Checkout returns 502  ",
            "severity": "SEV2",
            "services": ["checkout", "payments"],
            "summary": "Error rate above 20% since the 14:00 deploy",
            "started_at": iso(started),
            "detected_at": iso(detected),
        },
    )
    assert response.status_code == 201, response.text
    declared = response.json()
    assert declared == {"id": incident_id, "version": 1, "position": store.head_position()}
    assert response.headers["location"] == f"/incidents/{incident_id}"

    note_id = add_note(client, incident_id, "Deploy 4812 rolled out", occurred_at=iso(started))
    steps = [
        ("status", {"status": "identified"}),
        ("severity", {"severity": "SEV1", "reason": "All regions affected"}),
        ("acknowledge", {"occurred_at": iso(acknowledged)}),
        ("status", {"status": "resolved", "occurred_at": iso(resolved)}),
    ]
    positions = [declared["position"]]
    for version, (path, body) in enumerate(steps, start=3):
        response = client.post(f"/incidents/{incident_id}/{path}", json=body)
        assert response.status_code == 200, response.text
        result = response.json()
        assert (result["id"], result["version"]) == (incident_id, version)
        positions.append(result["position"])
    assert positions == sorted(positions)
    assert len(set(positions)) == len(positions)

    summary = client.get(f"/incidents/{incident_id}")
    assert summary.status_code == 200
    assert summary.headers["content-type"] == "application/json"
    got = summary.json()
    assert {k: got[k] for k in ("id", "title", "status", "severity", "services", "summary")} == {
        "id": incident_id,
        "title": "Checkout returns 502",
        "status": "resolved",
        "severity": "SEV1",
        "services": ["checkout", "payments"],
        "summary": "Error rate above 20% since the 14:00 deploy",
    }
    assert got["declared_by"] == "admin"
    assert parse(got["started_at"]) == started
    assert parse(got["detected_at"]) == detected
    assert parse(got["acknowledged_at"]) == acknowledged
    assert parse(got["resolved_at"]) == resolved
    assert got["closed_at"] is None
    assert got["time_to_detect_seconds"] == 600.0
    assert got["time_to_acknowledge_seconds"] == 600.0
    assert got["time_to_resolve_seconds"] == 3000.0
    assert got["duration_seconds"] == 3600.0
    assert (got["version"], got["last_position"]) == (6, positions[-1])
    assert started < parse(got["declared_at"]) <= datetime.now(UTC)

    timeline = client.get(f"/incidents/{incident_id}/timeline")
    assert timeline.status_code == 200
    assert timeline.json()["incident_id"] == incident_id
    entries = timeline.json()["entries"]
    # Ordered by when things happened, not by when they were told to the service.
    # It starts where the incident started, however late it was declared.
    assert [(e["kind"], e["text"]) for e in entries] == [
        ("started", "Incident started"),
        ("note", "Deploy 4812 rolled out"),
        ("detected", "Incident detected"),
        ("acknowledged", "Incident acknowledged"),
        ("status_changed", "Status changed from identified to resolved"),
        ("declared", "Incident declared: Checkout returns 502 (SEV2)"),
        ("status_changed", "Status changed from investigating to identified"),
        ("severity_changed", "Severity changed from SEV2 to SEV1: All regions affected"),
    ]
    assert entries[1]["id"] == note_id
    assert parse(entries[0]["occurred_at"]) == parse(entries[1]["occurred_at"]) == started
    assert parse(entries[2]["occurred_at"]) == detected
    assert parse(entries[4]["occurred_at"]) == resolved
    assert {e["actor"] for e in entries} == {"admin"}
    assert all(e["amended_at"] is None for e in entries)


def test_acknowledge_needs_no_body_and_closing_sets_closed_at(client: TestClient) -> None:
    incident_id = declare(client)["id"]
    before = datetime.now(UTC)
    response = client.post(f"/incidents/{incident_id}/acknowledge")
    assert response.status_code == 200, response.text
    for status in ("resolved", "closed"):
        response = client.post(f"/incidents/{incident_id}/status", json={"status": status})
        assert response.status_code == 200, response.text

    got = client.get(f"/incidents/{incident_id}").json()
    assert got["status"] == "closed"
    assert before <= parse(got["acknowledged_at"]) <= parse(got["resolved_at"])
    assert parse(got["resolved_at"]) <= parse(got["closed_at"]) <= datetime.now(UTC)
    assert got["time_to_acknowledge_seconds"] >= 0
    assert got["version"] == 4


def test_request_id_is_returned_and_recorded_with_the_events(
    client: TestClient, store: EventStore
) -> None:
    generated = client.get("/healthz")
    assert len(generated.headers["x-request-id"]) == 32
    assert client.get("/healthz").headers["x-request-id"] != generated.headers["x-request-id"]

    response = client.post(
        "/incidents",
        json={"title": "Search is slow", "severity": "SEV4"},
        headers={"X-Request-ID": "req-4812", "X-Correlation-ID": "alert-77"},
    )
    assert response.headers["x-request-id"] == "req-4812"
    [event] = store.read_stream(stream_id_for(UUID(response.json()["id"])))
    assert event.metadata == {
        "actor": "admin",
        "source": "api",
        "request_id": "req-4812",
        "correlation_id": "alert-77",
    }
    too_long = "x" * 201
    replaced = client.get("/healthz", headers={"X-Request-ID": too_long}).headers["x-request-id"]
    assert replaced != too_long
    assert len(replaced) == 32


# --- timeline amendments and redactions ----------------------------------------------------


def test_patch_amends_and_redacts_notes(client: TestClient, store: EventStore) -> None:
    incident_id = declare(client)["id"]
    earlier = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    kept = add_note(client, incident_id, "Rolled back deploy 4812")
    secret = add_note(client, incident_id, "Customer jane@example.com reported it")

    response = client.patch(
        f"/incidents/{incident_id}/timeline/{kept}",
        json={"text": "Rolled back deploy 4811", "occurred_at": iso(earlier)},
    )
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 4
    response = client.patch(
        f"/incidents/{incident_id}/timeline/{secret}", json={"redacted": True, "reason": "PII"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 5

    entries = client.get(f"/incidents/{incident_id}/timeline").json()["entries"]
    assert [e["id"] for e in entries if e["kind"] == "note"] == [kept]
    assert "jane@example.com" not in str(entries)
    note = entries[0]
    assert (note["text"], parse(note["occurred_at"])) == ("Rolled back deploy 4811", earlier)
    assert note["amended_at"] is not None
    assert parse(note["amended_at"]) > parse(note["recorded_at"])

    with nothing_stored(store):
        for body in ({"text": "Again"}, {"redacted": True, "reason": "Twice"}):
            response = client.patch(f"/incidents/{incident_id}/timeline/{secret}", json=body)
            assert_problem(response, 422, f"note {secret} was redacted and cannot change")


def test_patch_of_an_entry_that_is_no_note_is_not_found(
    client: TestClient, store: EventStore
) -> None:
    incident_id = declare(client)["id"]
    declared_entry = client.get(f"/incidents/{incident_id}/timeline").json()["entries"][0]["id"]
    unknown = str(uuid4())
    with nothing_stored(store):
        for entry_id in (unknown, declared_entry):
            response = client.patch(
                f"/incidents/{incident_id}/timeline/{entry_id}", json={"text": "Edited"}
            )
            assert_problem(response, 404, f"incident {incident_id} has no note {entry_id}")


PATCH_REFUSALS: list[tuple[dict[str, Any], str]] = [
    (
        {"redacted": True, "reason": "PII", "text": "Replacement"},
        "body: Value error, a redaction cannot also change text or occurred_at",
    ),
    (
        {"redacted": True, "reason": "PII", "occurred_at": "2026-03-02T10:00:00Z"},
        "body: Value error, a redaction cannot also change text or occurred_at",
    ),
    ({"redacted": True}, "body: Value error, a redaction needs a reason"),
    ({}, "body: Value error, give text and/or occurred_at to amend, or redacted: true to redact"),
    (
        {"text": "New", "reason": "Why"},
        "body: Value error, reason is only used with redacted: true",
    ),
    ({"redacted": False, "text": "New"}, "body.redacted: Input should be True"),
]


def test_patch_bodies_that_mix_or_miss_actions_are_refused(
    client: TestClient, store: EventStore, subtests: pytest.Subtests
) -> None:
    incident_id = declare(client)["id"]
    note_id = add_note(client, incident_id, "Paged on-call")
    for body, detail in PATCH_REFUSALS:
        with subtests.test(body=body), nothing_stored(store):
            response = client.patch(f"/incidents/{incident_id}/timeline/{note_id}", json=body)
            problem = assert_problem(response, 422, detail)
            assert len(problem["errors"]) == 1
    entries = client.get(f"/incidents/{incident_id}/timeline").json()["entries"]
    assert [e["text"] for e in entries if e["kind"] == "note"] == ["Paged on-call"]


# --- listing -------------------------------------------------------------------------------


def ids(response: Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def test_list_filters_by_status_severity_service_and_declaration_time(client: TestClient) -> None:
    a = declare(client, severity="SEV1", services=["checkout", "payments"])["id"]
    b = declare(client, severity="SEV2", services=["search"])["id"]
    c_ = declare(client, severity="SEV1", services=["payments"])["id"]
    d = declare(client, severity="SEV3", services=[])["id"]
    e = declare(client, severity="SEV2", services=["checkout-v2", "pay%"])["id"]
    client.post(f"/incidents/{b}/status", json={"status": "identified"}).raise_for_status()
    client.post(f"/incidents/{c_}/status", json={"status": "resolved"}).raise_for_status()

    def listed(**params: str) -> list[str]:
        return ids(client.get("/incidents", params=params))

    assert listed() == [e, d, c_, b, a]
    assert listed(status="investigating") == [e, d, a]
    assert listed(status="resolved", severity="SEV1") == [c_]
    assert listed(severity="SEV1") == [c_, a]
    assert listed(service="checkout") == [a]
    assert listed(service="payments") == [c_, a]
    assert listed(service="pay%") == [e]
    assert listed(service="pay") == []
    assert listed(status="closed") == []

    declared_at = client.get(f"/incidents/{c_}").json()["declared_at"]
    assert listed(declared_after=declared_at) == [e, d, c_]
    assert listed(declared_before=declared_at) == [b, a]
    d_at = client.get(f"/incidents/{d}").json()["declared_at"]
    assert listed(declared_after=declared_at, declared_before=d_at) == [c_]
    as_offset = parse(declared_at).astimezone(timezone(timedelta(hours=2))).isoformat()
    assert listed(declared_after=as_offset) == [e, d, c_]


def test_cursor_pagination_visits_every_incident_once_newest_first(client: TestClient) -> None:
    declared = [declare(client, title=f"Incident {n}")["id"] for n in range(7)]
    seen: list[str] = []
    sizes: list[int] = []
    url: str | None = "/incidents?limit=3"
    while url is not None:
        response = client.get(url)
        page = ids(response)
        seen += page
        sizes.append(len(page))
        cursor = response.json()["next"]
        url = f"/incidents?limit=3&cursor={cursor}" if cursor is not None else None
    assert sizes == [3, 3, 1]
    assert seen == declared[::-1]

    exactly_full = client.get("/incidents", params={"limit": 7}).json()
    assert len(exactly_full["items"]) == 7
    assert exactly_full["next"] is None


def test_cursor_pagination_handles_incidents_declared_at_the_same_instant(
    client: TestClient, engine: Engine
) -> None:
    # Declared through the service with a frozen clock: every declared_at is equal,
    # so only the id can order them and the cursor must carry it.
    frozen = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    store = EventStore(engine, clock=lambda: frozen)
    service = IncidentService(store, ProjectionRunner(), clock=lambda: frozen)
    declared = sorted(uuid4() for _ in range(7))
    for incident_id in declared:
        command = c.DeclareIncident(
            incident_id=incident_id, at=frozen, title="Same instant", severity=Severity.SEV3
        )
        service.execute(command, {"actor": "importer"})

    seen: list[str] = []
    params: dict[str, Any] = {"limit": 2}
    while True:
        response = client.get("/incidents", params=params)
        seen += ids(response)
        if response.json()["next"] is None:
            break
        params["cursor"] = response.json()["next"]
    assert seen == [str(i) for i in reversed(declared)]


def _b64(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


INVALID_CURSORS = [
    "not-a-cursor",
    _b64("2026-03-02T10:00:00|00000000-0000-4000-8000-000000000001"),  # naive time
    _b64("2026-03-02T10:00:00+00:00|not-a-uuid"),
    _b64("2026-03-02T10:00:00+00:00"),
    _b64("a|b|c"),
    "ü",
]


def test_an_invalid_cursor_is_422_naming_the_cursor(
    client: TestClient, subtests: pytest.Subtests
) -> None:
    declare(client)
    for cursor in INVALID_CURSORS:
        with subtests.test(cursor=cursor):
            response = client.get("/incidents", params={"cursor": cursor})
            detail = "query.cursor: not a cursor of this list: pass the previous page's next value unchanged"
            assert locations(assert_problem(response, 422, detail)) == [["query", "cursor"]]


INVALID_LIST_PARAMETERS: list[tuple[dict[str, str], list[str]]] = [
    ({"status": "open"}, ["query", "status"]),
    ({"severity": "SEV0"}, ["query", "severity"]),
    ({"limit": "0"}, ["query", "limit"]),
    ({"limit": "501"}, ["query", "limit"]),
    ({"declared_after": "2026-03-02T10:00:00"}, ["query", "declared_after"]),
    ({"declared_before": "yesterday"}, ["query", "declared_before"]),
    ({"cursor": "c" * 201}, ["query", "cursor"]),
]


def test_invalid_list_parameters_name_the_parameter(
    client: TestClient, subtests: pytest.Subtests
) -> None:
    for params, location in INVALID_LIST_PARAMETERS:
        with subtests.test(params=params):
            response = client.get("/incidents", params=params)
            assert response.status_code == 422
            assert response.headers["content-type"] == PROBLEM_JSON
            body = response.json()
            assert locations(body) == [location]
            assert body["detail"].startswith(".".join(location) + ": ")


# --- errors --------------------------------------------------------------------------------


def test_reading_an_unknown_incident_is_not_found(client: TestClient) -> None:
    declare(client)
    for path in (f"/incidents/{MISSING}", f"/incidents/{MISSING}/timeline"):
        assert_problem(client.get(path), 404, f"incident {MISSING} does not exist")


UNKNOWN_INCIDENT_COMMANDS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("POST", "acknowledge", None),
    ("POST", "acknowledge", {"occurred_at": "2026-03-02T10:00:00Z"}),
    ("POST", "status", {"status": "identified"}),
    ("POST", "severity", {"severity": "SEV1"}),
    ("POST", "notes", {"text": "Paged on-call"}),
    ("PATCH", f"timeline/{uuid4()}", {"text": "Edited"}),
    ("PATCH", f"timeline/{uuid4()}", {"redacted": True, "reason": "PII"}),
]


def test_every_command_on_an_unknown_incident_is_not_found(
    client: TestClient, store: EventStore, subtests: pytest.Subtests
) -> None:
    declare(client)
    for method, path, body in UNKNOWN_INCIDENT_COMMANDS:
        with subtests.test(method=method, path=path), nothing_stored(store):
            response = client.request(method, f"/incidents/{MISSING}/{path}", json=body)
            assert_problem(response, 404, f"incident {MISSING} does not exist")
    assert client.get(f"/incidents/{MISSING}").status_code == 404


INVALID_TRANSITIONS: list[tuple[list[str], str, str]] = [
    (
        [],
        "closed",
        "cannot change status from investigating to closed"
        " (allowed: identified, monitoring, resolved)",
    ),
    ([], "investigating", "incident is already investigating"),
    (
        ["monitoring"],
        "identified",
        "cannot change status from monitoring to identified (allowed: resolved)",
    ),
    (
        ["resolved", "closed"],
        "investigating",
        "cannot change status from closed to investigating (allowed: none)",
    ),
]


def test_an_invalid_transition_names_both_statuses(
    client: TestClient, store: EventStore, subtests: pytest.Subtests
) -> None:
    for before, target, detail in INVALID_TRANSITIONS:
        with subtests.test(before=before, target=target):
            incident_id = declare(client)["id"]
            for status in before:
                response = client.post(f"/incidents/{incident_id}/status", json={"status": status})
                assert response.status_code == 200, response.text
            with nothing_stored(store):
                response = client.post(f"/incidents/{incident_id}/status", json={"status": target})
                assert_problem(response, 422, detail)
            assert client.get(f"/incidents/{incident_id}").json()["version"] == 1 + len(before)


def test_rules_of_the_domain_are_refused_with_their_reason(
    client: TestClient, store: EventStore
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    detected = now - timedelta(minutes=30)
    incident_id = declare(client, detected_at=iso(detected))["id"]
    future = now + timedelta(hours=1)
    before_detection = detected - timedelta(minutes=1)
    with nothing_stored(store):
        assert_problem(
            client.post(
                f"/incidents/{incident_id}/acknowledge",
                json={"occurred_at": iso(before_detection)},
            ),
            422,
            f"acknowledged at {iso(before_detection)} is before detection at {iso(detected)}",
        )
        assert_problem(
            client.post(
                f"/incidents/{incident_id}/notes", json={"text": "x", "occurred_at": iso(future)}
            ),
            422,
            f"occurred_at {iso(future)} lies in the future",
        )
        assert_problem(
            client.post(f"/incidents/{incident_id}/severity", json={"severity": "SEV2"}),
            422,
            "severity is already SEV2",
        )
        assert_problem(
            client.post(
                "/incidents",
                json={
                    "title": "T",
                    "severity": "SEV1",
                    "started_at": iso(now),
                    "detected_at": iso(detected),
                },
            ),
            422,
            f"detected_at {iso(detected)} is before started_at {iso(now)}",
        )

    client.post(f"/incidents/{incident_id}/acknowledge").raise_for_status()
    acknowledged_at = client.get(f"/incidents/{incident_id}").json()["acknowledged_at"]
    with nothing_stored(store):
        response = client.post(f"/incidents/{incident_id}/acknowledge")
        assert_problem(
            response, 422, f"incident was already acknowledged at {iso(parse(acknowledged_at))}"
        )


def test_declaring_an_existing_id_is_a_conflict(client: TestClient, store: EventStore) -> None:
    incident_id = declare(client)["id"]
    with nothing_stored(store):
        response = client.post(
            "/incidents", json={"id": incident_id, "title": "Again", "severity": "SEV1"}
        )
        assert_problem(response, 409, f"incident {incident_id} already exists")
    assert client.get(f"/incidents/{incident_id}").json()["title"] == "Checkout returns 502"


def test_validation_errors_list_every_failing_field(client: TestClient, store: EventStore) -> None:
    with nothing_stored(store):
        response = client.post(
            "/incidents",
            json={"title": "   ", "severity": "SEV9", "services": ["ok", "has space"], "bogus": 1},
        )
        body = assert_problem(
            response,
            422,
            "body.title: String should have at least 1 character; "
            "body.severity: Input should be 'SEV1', 'SEV2', 'SEV3', 'SEV4' or 'SEV5'; "
            "body.services.1: String should match pattern '^[^\\s,]+$'; "
            "body.bogus: Extra inputs are not permitted",
        )
    assert locations(body) == [
        ["body", "title"],
        ["body", "severity"],
        ["body", "services", 1],
        ["body", "bogus"],
    ]
    assert [error["type"] for error in body["errors"]] == [
        "string_too_short",
        "enum",
        "string_pattern_mismatch",
        "extra_forbidden",
    ]


def test_missing_fields_malformed_json_and_bad_path_ids_are_refused(
    client: TestClient, store: EventStore
) -> None:
    incident_id = declare(client)["id"]
    with nothing_stored(store):
        body = assert_problem(
            client.post("/incidents", json={}),
            422,
            "body.title: Field required; body.severity: Field required",
        )
        assert locations(body) == [["body", "title"], ["body", "severity"]]

        response = client.post(
            f"/incidents/{incident_id}/notes",
            content=b'{"text": ',
            headers={"content-type": "application/json"},
        )
        assert_problem(response, 400, "the body is not valid JSON: Expecting value at character 10")

        response = client.post("/incidents/not-a-uuid/notes", json={"text": "x"})
        assert response.status_code == 422
        assert response.headers["content-type"] == PROBLEM_JSON
        assert locations(response.json()) == [["path", "incident_id"]]


NAIVE = "2026-03-02T10:00:00"
NAIVE_BODIES: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/incidents", {"title": "T", "severity": "SEV1", "started_at": NAIVE}),
    ("POST", "/incidents", {"title": "T", "severity": "SEV1", "detected_at": NAIVE}),
    ("POST", "/incidents/{id}/notes", {"text": "Paged", "occurred_at": NAIVE}),
    ("POST", "/incidents/{id}/status", {"status": "resolved", "occurred_at": NAIVE}),
    ("POST", "/incidents/{id}/acknowledge", {"occurred_at": NAIVE}),
    ("PATCH", "/incidents/{id}/timeline/{note}", {"occurred_at": NAIVE}),
    ("PATCH", "/incidents/{id}/timeline/{note}", {"text": "New", "occurred_at": NAIVE}),
]


def test_a_naive_datetime_in_a_body_is_refused(
    client: TestClient, store: EventStore, subtests: pytest.Subtests
) -> None:
    incident_id = declare(client)["id"]
    note_id = add_note(client, incident_id, "Paged on-call")
    for method, path, body in NAIVE_BODIES:
        field = next(name for name in body if name.endswith("_at"))
        url = path.format(id=incident_id, note=note_id)
        with subtests.test(method=method, path=path, field=field), nothing_stored(store):
            response = client.request(method, url, json=body)
            message = "not an RFC 3339 time with a timezone, such as 2026-03-02T10:30:00Z"
            problem = assert_problem(response, 422, f"body.{field}: {message}")
            assert problem["errors"] == [
                {"location": ["body", field], "message": message, "type": "datetime_format"}
            ]


def test_unknown_routes_and_methods_are_problems(client: TestClient) -> None:
    incident_id = declare(client)["id"]
    assert_problem(client.get("/no-such-thing"), 404, "Not Found")
    assert_problem(client.post(f"/incidents/{incident_id}/archive"), 404, "Not Found")
    response = client.delete(f"/incidents/{incident_id}")
    assert_problem(response, 405, "Method Not Allowed")
    assert response.headers["allow"] == "GET, HEAD"
    assert "x-request-id" in response.headers
    assert_problem(client.put("/incidents"), 405, "Method Not Allowed")


def test_a_405_lists_every_method_the_resource_allows(client: TestClient) -> None:
    response = client.put("/incidents")
    assert response.status_code == 405
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "POST"}


# --- the access log ------------------------------------------------------------------------


def test_each_request_writes_one_access_log_line(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    with structlog.testing.capture_logs(
        processors=[structlog.contextvars.merge_contextvars]
    ) as logs:
        ok = client.get("/healthz")
        missing = client.get(f"/incidents/{MISSING}")

    assert [
        {k: entry.get(k) for k in ("event", "log_level", "method", "path", "status", "request_id")}
        for entry in logs
    ] == [
        {
            "event": "request",
            "log_level": "info",
            "method": "GET",
            "path": "/healthz",
            "status": 200,
            "request_id": ok.headers["x-request-id"],
        },
        {
            "event": "request",
            "log_level": "info",
            "method": "GET",
            "path": f"/incidents/{MISSING}",
            "status": 404,
            "request_id": missing.headers["x-request-id"],
        },
    ]
    assert all(entry["duration_ms"] >= 0 for entry in logs)


def test_the_access_log_follows_the_configuration_of_the_newest_app(
    client: TestClient, database_url: str
) -> None:
    client.get("/healthz")  # the first app in this process to log binds the logger
    with (
        TestClient(create_app(Settings(database_url=database_url))) as second,
        structlog.testing.capture_logs() as logs,
    ):
        second.get("/healthz")
    assert [(entry["event"], entry["path"], entry["status"]) for entry in logs] == [
        ("request", "/healthz", 200)
    ]
