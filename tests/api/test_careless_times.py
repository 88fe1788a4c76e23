"""Every time in a request is an RFC 3339 string with a timezone, and none precedes 1970."""

from __future__ import annotations

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

UNIX_TIME = 1764756000
YEAR_ONE = "0001-01-01T00:00:00Z"
EXPECTED_A_STRING = (
    "a number is not a time: give an RFC 3339 string with a timezone, such as 2026-03-02T10:30:00Z"
)

DECLARATIONS: list[tuple[str, Any, str]] = [
    ("started_at", UNIX_TIME, EXPECTED_A_STRING),
    ("detected_at", float(UNIX_TIME), EXPECTED_A_STRING),
    (
        "started_at",
        str(UNIX_TIME),
        "not an RFC 3339 time with a timezone, such as 2026-03-02T10:30:00Z",
    ),
    (
        "started_at",
        YEAR_ONE,
        "0001-01-01T00:00:00+00:00 is before 1970-01-01T00:00:00Z, the earliest time accepted",
    ),
    (
        "detected_at",
        "1969-12-31T23:59:59Z",
        "1969-12-31T23:59:59+00:00 is before 1970-01-01T00:00:00Z, the earliest time accepted",
    ),
]


@pytest.mark.parametrize(("field", "value", "message"), DECLARATIONS)
def test_a_declaration_with_a_number_or_a_time_before_1970_is_refused(
    client: TestClient, field: str, value: Any, message: str
) -> None:
    body = {"title": "Checkout returns 502", "severity": "SEV2", field: value}
    error = refused(client.post("/incidents", json=body), ["body", field])
    assert error["message"] == message
    log_is_empty(client)


COMMAND_TIMES: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/incidents/{id}/notes", {"text": "Paged"}),
    ("POST", "/incidents/{id}/status", {"status": "identified"}),
    ("POST", "/incidents/{id}/acknowledge", {}),
    ("POST", "/incidents/{id}/mitigate", {}),
    ("PATCH", "/incidents/{id}/timeline/{note}", {}),
]


@pytest.mark.parametrize("value", [UNIX_TIME, YEAR_ONE])
@pytest.mark.parametrize(("method", "path", "body"), COMMAND_TIMES)
def test_every_commands_occurred_at_is_a_string_from_1970_on(
    client: TestClient, method: str, path: str, body: dict[str, Any], value: Any
) -> None:
    incident_id = declare(client)
    note = ok(client.post(f"/incidents/{incident_id}/notes", json={"text": "x"}), 201)
    url = path.format(id=incident_id, note=note.get("note_id", note["id"]))
    with nothing_stored(client):
        response = client.request(method, url, json={**body, "occurred_at": value})
        refused(response, ["body", "occurred_at"])


@pytest.mark.parametrize("due_date", [1773619200, "1773619200", "2026-03-16T00:00:00Z"])
def test_a_due_date_is_a_calendar_date(client: TestClient, due_date: Any) -> None:
    incident_id = declare(client)
    body = {"title": "Alert on pool saturation", "kind": "preventative", "owner": "alice"}
    with nothing_stored(client):
        response = client.post(
            f"/incidents/{incident_id}/action-items", json={**body, "due_date": due_date}
        )
        refused(response, ["body", "due_date"], "date_format")


@pytest.mark.parametrize("name", ["declared_after", "declared_before"])
@pytest.mark.parametrize("value", [str(UNIX_TIME), YEAR_ONE])
def test_a_list_filters_time_is_an_rfc_3339_time_from_1970_on(
    client: TestClient, name: str, value: str
) -> None:
    refused(client.get("/incidents", params={name: value}), ["query", name])


def test_a_plus_that_became_a_space_gets_the_same_hint_as_in_as_of(client: TestClient) -> None:
    incident_id = declare(client)
    # Written into the URL unencoded, as a shell user would: the '+' arrives as a space.
    response = client.get("/incidents?declared_after=2026-03-02T10:30:00+01:00")
    error = refused(response, ["query", "declared_after"], "datetime_format")
    as_of = refused(
        client.get(f"/incidents/{incident_id}?as_of=2026-03-02T10:30:00+01:00"), ["query", "as_of"]
    )
    hint = "(a '+' in a URL query means a space: write it as %2B)"
    assert error["message"].endswith(hint)
    assert as_of["message"].endswith(hint)
    encoded = client.get("/incidents", params={"declared_after": "2026-03-02T10:30:00+01:00"})
    assert [item["id"] for item in ok(encoded)["items"]] == [incident_id]


def test_alertmanagers_unset_ends_at_still_works_but_a_start_in_year_one_does_not(
    client: TestClient,
) -> None:
    senders = Senders(client)
    early = firing()
    early["alerts"][0]["startsAt"] = YEAR_ONE
    refused(senders.notification(early), ["body", "alerts", 0, "startsAt"], "datetime_too_early")
    as_number = firing()
    as_number["alerts"][0]["startsAt"] = UNIX_TIME
    refused(senders.notification(as_number), ["body", "alerts", 0, "startsAt"], "datetime_format")
    log_is_empty(client)

    document = firing()
    assert document["alerts"][0]["endsAt"] == YEAR_ONE  # Go's zero time: "still firing"
    ok(senders.notification(document))


@pytest.mark.parametrize("value", [UNIX_TIME, YEAR_ONE, "2026-03-02T10:30:00"])
def test_the_generic_hooks_occurred_at_is_an_rfc_3339_time(client: TestClient, value: Any) -> None:
    refused(Senders(client).generic(occurred_at=value), ["body", "occurred_at"])
    log_is_empty(client)


@pytest.mark.parametrize("value", [UNIX_TIME, YEAR_ONE, "1764756000"])
def test_pagerdutys_timestamp_is_an_iso_8601_time_from_1970_on(
    client: TestClient, value: Any
) -> None:
    event = trigger()
    event["payload"]["timestamp"] = value
    [error] = pagerduty_errors(Senders(client).pagerduty(event))
    assert error.startswith("'payload.timestamp' "), error
    log_is_empty(client)


def test_pagerdutys_own_timestamp_example_is_accepted(client: TestClient) -> None:
    event = trigger()
    event["payload"]["timestamp"] = "2015-07-17T08:42:58.315+0000"  # PagerDuty's docs
    response = Senders(client).pagerduty(event)
    assert response.status_code == 202, response.text
