"""Text in requests: control characters are refused naming the field, and nothing is stored.

Every command's text field is checked over HTTP: a NUL and the other C0 and C1 controls
are refused 422 with ``errors[0].location`` naming the field; a single-line field also
refuses a line break; a multi-line field keeps ``\\n`` and ``\\t`` (and reads CRLF as
``\\n``). The monitoring hooks refuse only what cannot be stored (a NUL), naming the field.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.careless_support import (
    Senders,
    firing,
    log_is_empty,
    pagerduty_errors,
    refused,
    trigger,
)
from tests.api.helpers import declare, nothing_stored, ok
from tests.api.hooks_support import store_of

Location = list[str | int]
Case = tuple[str, str, dict[str, Any], Location]
"""A command with text: method, path (``{id}``, ``{note}``, ``{item}`` filled in), a valid
body, and the location of the text field that the test fills in."""

DECLARE: dict[str, Any] = {
    "title": "Checkout returns 502",
    "severity": "SEV2",
    "services": ["checkout"],
    "summary": "Error rate above 20%",
}
ITEM: dict[str, Any] = {
    "title": "Alert on pool saturation",
    "kind": "preventative",
    "owner": "alice",
    "due_date": (datetime.now(UTC).date() + timedelta(days=30)).isoformat(),
    "ticket_url": "https://tracker.example.com/OPS-812",
}
SECTIONS = ["summary", "impact", "detection", "root_cause", "resolution", "lessons_learned"]


def section_case(section: str) -> Case:
    return (
        "PUT",
        f"/incidents/{{id}}/postmortem/sections/{section}",
        {"text": "x"},
        ["body", "text"],
    )


SINGLE_LINE: list[Case] = [
    ("POST", "/incidents", DECLARE, ["body", "title"]),
    ("POST", "/incidents", DECLARE, ["body", "services", 0]),
    ("POST", "/incidents/{id}/roles", {"role": "scribe", "person": "alice"}, ["body", "person"]),
    ("POST", "/incidents/{id}/participants", {"person": "bob"}, ["body", "person"]),
    ("PUT", "/incidents/{id}/services", {"services": ["a", "b"]}, ["body", "services", 1]),
    ("POST", "/incidents/{id}/action-items", ITEM, ["body", "title"]),
    ("POST", "/incidents/{id}/action-items", ITEM, ["body", "owner"]),
    ("POST", "/incidents/{id}/action-items", ITEM, ["body", "ticket_url"]),
    ("PATCH", "/incidents/{id}/action-items/{item}", {"owner": "bob"}, ["body", "owner"]),
    (
        "PATCH",
        "/incidents/{id}/action-items/{item}",
        {"ticket_url": "https://tracker.example.com/OPS-813"},
        ["body", "ticket_url"],
    ),
]
MULTI_LINE: list[Case] = [
    ("POST", "/incidents", DECLARE, ["body", "summary"]),
    ("POST", "/incidents/{id}/notes", {"text": "Paged"}, ["body", "text"]),
    ("PATCH", "/incidents/{id}/timeline/{note}", {"text": "Paged twice"}, ["body", "text"]),
    (
        "PATCH",
        "/incidents/{id}/timeline/{note}",
        {"redacted": True, "reason": "A customer's e-mail"},
        ["body", "reason"],
    ),
    (
        "POST",
        "/incidents/{id}/severity",
        {"severity": "SEV1", "reason": "All regions"},
        ["body", "reason"],
    ),
    ("POST", "/incidents/{id}/impact", {"impact": "30% failed"}, ["body", "impact"]),
    ("POST", "/incidents/{id}/root-cause", {"root_cause": "Deploy"}, ["body", "root_cause"]),
    ("POST", "/incidents/{id}/resolution", {"resolution": "Rollback"}, ["body", "resolution"]),
    *[section_case(section) for section in SECTIONS],
    (
        "PATCH",
        "/incidents/{id}/action-items/{item}",
        {"status": "wont_do", "reason": "Superseded"},
        ["body", "reason"],
    ),
]

CONTROLS = [
    pytest.param("\x00", "nul_character", id="NUL"),
    pytest.param("\x1b", "control_character", id="ESC"),
    pytest.param("\x07", "control_character", id="BEL"),
    pytest.param("\x9b", "control_character", id="CSI"),
]


def case_id(case: Case) -> str:
    method, path, _, location = case
    return f"{method} {path} {'.'.join(map(str, location[1:]))}"


def target(client: TestClient, path: str) -> str:
    """The path with an incident, one of its notes and one of its action items filled in."""
    ids: dict[str, str] = {}
    if "{id}" in path:
        ids["id"] = declare(client)
    if "{note}" in path:
        note = ok(client.post(f"/incidents/{ids['id']}/notes", json={"text": "Paged"}), 201)
        ids["note"] = note["note_id"]
    if "{item}" in path:
        item = ok(client.post(f"/incidents/{ids['id']}/action-items", json=ITEM), 201)
        ids["item"] = item["item_id"]
    return path.format(**ids)


def with_text(document: dict[str, Any], location: Location, text: str) -> dict[str, Any]:
    """A copy of the document with ``text`` at ``location`` (after its leading "body")."""
    changed = copy.deepcopy(document)
    node: Any = changed
    for step in location[1:-1]:
        node = node[step]
    node[location[-1]] = text
    return changed


def text_at(location: Location, char: str) -> tuple[str, int]:
    """Text with ``char`` in it, fit for the field otherwise; the character's position."""
    start = "https://tracker.example.com/OPS" if location[-1] == "ticket_url" else "ab"
    return f"{start}{char}cd", len(start) + 1


def stored_strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for value in node.values() for s in stored_strings(value)]
    if isinstance(node, list):
        return [s for value in node for s in stored_strings(value)]
    return []


@pytest.mark.parametrize(("char", "error_type"), CONTROLS)
@pytest.mark.parametrize("case", SINGLE_LINE + MULTI_LINE, ids=case_id)
def test_a_control_character_is_refused_naming_the_field(
    client: TestClient, case: Case, char: str, error_type: str
) -> None:
    method, path, body, location = case
    url = target(client, path)
    text, at = text_at(location, char)
    with nothing_stored(client):
        response = client.request(method, url, json=with_text(body, location, text))
        error = refused(response, location, error_type)
    assert f"U+{ord(char):04X}" in error["message"], error
    assert f"at character {at}" in error["message"], error


@pytest.mark.parametrize("line_break", ["\n", "\r", "\u2028"], ids=["LF", "CR", "LS"])
@pytest.mark.parametrize("case", SINGLE_LINE, ids=case_id)
def test_a_single_line_field_refuses_a_line_break(
    client: TestClient, case: Case, line_break: str
) -> None:
    method, path, body, location = case
    url = target(client, path)
    text, _ = text_at(location, line_break)
    with nothing_stored(client):
        response = client.request(method, url, json=with_text(body, location, text))
        error = refused(response, location)
    # A service name's own pattern (no whitespace) may refuse it first.
    assert error["type"] in {"line_break", "string_pattern_mismatch"}, error


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("First line\n\tsecond, indented", None),
        ("From a form\r\nsecond line", "From a form\nsecond line"),
    ],
    ids=["LF-and-tab", "CRLF"],
)
@pytest.mark.parametrize("case", MULTI_LINE, ids=case_id)
def test_a_multi_line_field_keeps_line_feeds_and_tabs(
    client: TestClient, case: Case, sent: str, kept: str | None
) -> None:
    method, path, body, location = case
    url = target(client, path)
    store = store_of(client)
    before = store.head_position()
    response = client.request(method, url, json=with_text(body, location, sent))
    assert response.status_code in (200, 201), response.text
    written = store.read_all(after_position=before)
    assert written, "the command stored nothing"
    assert (kept or sent) in [s for event in written for s in stored_strings(event.data)]


def test_a_service_filter_with_a_control_character_is_refused_not_ignored(
    client: TestClient,
) -> None:
    declare(client)
    refused(client.get("/incidents?service=%00"), ["query", "service"], "nul_character")
    refused(client.get("/incidents?service=check%1Bout"), ["query", "service"], "control_character")
    refused(client.get("/incidents?service=check%0Aout"), ["query", "service"], "line_break")
    assert len(ok(client.get("/incidents", params={"service": "checkout"}))["items"]) == 1


# --- the monitoring hooks --------------------------------------------------------------------


@pytest.mark.parametrize("field", ["title", "dedup_key", "severity"])
def test_the_generic_hook_refuses_a_nul_or_a_line_break_naming_the_field(
    client: TestClient, field: str
) -> None:
    senders = Senders(client)
    refused(senders.generic(**{field: "ab\x00cd"}), ["body", field], "nul_character")
    refused(senders.generic(**{field: "ab\ncd"}), ["body", field], "line_break")
    refused(senders.generic(**{field: "ab\x1bcd"}), ["body", field], "control_character")
    log_is_empty(client)


def test_the_generic_hooks_details_refuse_a_nul_naming_its_path(client: TestClient) -> None:
    response = Senders(client).generic(details={"checks": [{"name": "ab\x00cd"}]})
    error = refused(response, ["body", "details"], "nul_character")
    assert error["message"].startswith("checks[0].name: NUL (U+0000)"), error
    log_is_empty(client)


ALERTMANAGER_TEXT: list[Location] = [
    ["body", "receiver"],
    ["body", "groupKey"],
    ["body", "commonAnnotations", "summary"],
    ["body", "commonLabels", "service"],
    ["body", "alerts", 0, "labels", "alertname"],
    ["body", "alerts", 0, "annotations", "description"],
    ["body", "alerts", 0, "fingerprint"],
    ["body", "alerts", 0, "generatorURL"],
]


@pytest.mark.parametrize("location", ALERTMANAGER_TEXT, ids=lambda loc: ".".join(map(str, loc)))
def test_alertmanager_refuses_a_nul_naming_the_field(
    client: TestClient, location: Location
) -> None:
    document = with_text(firing(), location, "ab\x00cd")
    refused(Senders(client).notification(document), location, "nul_character")
    log_is_empty(client)


def test_alertmanager_keeps_an_alert_whose_labels_hold_other_controls(client: TestClient) -> None:
    """Alertmanager drops a notification answered 4xx: a stray escape must not cost the alert."""
    document = firing()
    document["commonAnnotations"]["summary"] = "Error rate\x1b[31m above 5%\non payments"
    response = Senders(client).notification(document)
    assert response.status_code == 200, response.text
    [incident] = ok(client.get("/incidents"))["items"]
    assert incident["title"] == "Error rate [31m above 5% on payments"


PAGERDUTY_TEXT: list[Location] = [
    ["body", "dedup_key"],
    ["body", "client"],
    ["body", "payload", "summary"],
    ["body", "payload", "source"],
    ["body", "payload", "component"],
    ["body", "links", 0, "text"],
]


@pytest.mark.parametrize("location", PAGERDUTY_TEXT, ids=lambda loc: ".".join(map(str, loc)))
def test_pagerduty_refuses_a_nul_naming_the_field(client: TestClient, location: Location) -> None:
    event = with_text(trigger(), location, "ab\x00cd")
    [error] = pagerduty_errors(Senders(client).pagerduty(event))
    field = ".".join(map(str, location[1:]))
    assert error.startswith(f"'{field}' NUL (U+0000) at character 3"), error
    log_is_empty(client)


def test_pagerdutys_custom_details_refuse_a_nul_naming_its_path(client: TestClient) -> None:
    event = trigger()
    event["payload"]["custom_details"] = {"disk": {"mount": "ab\x00cd"}}
    [error] = pagerduty_errors(Senders(client).pagerduty(event))
    assert error.startswith("'payload.custom_details' disk.mount: NUL (U+0000)"), error
    log_is_empty(client)


@pytest.mark.parametrize("value", [False, "0", 0.0])
def test_alertmanagers_truncated_alerts_is_a_number_not_a_boolean_or_text(
    client: TestClient, value: Any
) -> None:
    document = {**firing(), "truncatedAlerts": value}
    refused(Senders(client).notification(document), ["body", "truncatedAlerts"])
    log_is_empty(client)
