"""The incident page's forms, posted as a browser posts them: each stores its command as
the signed-in token (checked through the JSON API), a refusal shows the page again with
the message next to its form and stores nothing. Each test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import TYPE_CHECKING
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from application.service import IncidentService
from application.tokens import Scope, TokenStore
from domain import commands as c
from domain.values import AlertSource
from tests.api.helpers import nothing_stored, ok
from tests.web.incident_page_support import (
    block,
    declare_started_an_hour_ago,
    entries,
    form_time,
    page,
    summary_of,
)

if TYPE_CHECKING:
    from tests.web.conftest import WebUser


@pytest.fixture
def incident(api: TestClient) -> str:
    return declare_started_an_hour_ago(api)


# --- the forms ------------------------------------------------------------------------------

SOON = (datetime.now(UTC) + timedelta(days=7)).date().isoformat()
HALF_AN_HOUR_AGO = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)

Check = Callable[[TestClient, str], bool]

FORMS: list[tuple[str, dict[str, str], str, Check]] = [
    (
        "notes",
        {"text": "Rolled back", "occurred_at": form_time(HALF_AN_HOUR_AGO)},
        "note",
        lambda api, i: any(
            e["text"] == "Rolled back"
            and datetime.fromisoformat(e["occurred_at"]) == HALF_AN_HOUR_AGO
            for e in entries(api, i)
        ),
    ),
    (
        "status",
        {"status": "identified", "occurred_at": ""},
        "status_changed",
        lambda api, i: summary_of(api, i)["status"] == "identified",
    ),
    (
        "severity",
        {"severity": "SEV1", "reason": "All regions"},
        "severity_changed",
        lambda api, i: summary_of(api, i)["severity"] == "SEV1",
    ),
    (
        "acknowledge",
        {"occurred_at": ""},
        "acknowledged",
        lambda api, i: summary_of(api, i)["acknowledged_at"] is not None,
    ),
    (
        "mitigate",
        {"occurred_at": form_time(HALF_AN_HOUR_AGO)},
        "mitigated",
        lambda api, i: (
            datetime.fromisoformat(summary_of(api, i)["mitigated_at"]) == HALF_AN_HOUR_AGO
        ),
    ),
    (
        "impact",
        {"impact": "30% of checkouts failed\r\nfor 42 minutes"},
        "impact_updated",
        lambda api, i: summary_of(api, i)["impact"] == "30% of checkouts failed\nfor 42 minutes",
    ),
    (
        "root-cause",
        {"root_cause": "Deploy 4812"},
        "root_cause_updated",
        lambda api, i: summary_of(api, i)["root_cause"] == "Deploy 4812",
    ),
    (
        "resolution",
        {"resolution": "Rolled back"},
        "resolution_updated",
        lambda api, i: summary_of(api, i)["resolution"] == "Rolled back",
    ),
    (
        "roles",
        {"role": "scribe", "person": "bob"},
        "role_assigned",
        lambda api, i: summary_of(api, i)["roles"] == {"scribe": "bob"},
    ),
    (
        "action-items",
        {"title": "Alert on pool use", "kind": "preventative", "owner": "alice"}
        | {"due_date": SOON, "priority": "P2"},
        "action_item_added",
        lambda api, i: (
            [
                (item["title"], item["priority"], item["due_date"])
                for item in ok(api.get(f"/incidents/{i}/action-items"))["items"]
            ]
            == [("Alert on pool use", "P2", SOON)]
        ),
    ),
]


@pytest.mark.parametrize(("path", "data", "kind", "stored"), FORMS, ids=[f[0] for f in FORMS])
def test_each_form_stores_its_command_as_the_signed_in_token(
    api: TestClient,
    wes: WebUser,
    incident: str,
    path: str,
    data: dict[str, str],
    kind: str,
    stored: Check,
) -> None:
    answer = wes.post(f"{page(incident)}/{path}", data)
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == f"{page(incident)}#timeline"
    assert stored(api, incident)
    made = [e for e in entries(api, incident) if e["kind"] == kind]
    assert [e["actor"] for e in made] == ["wes"]


def test_every_form_is_on_the_page_with_its_fields(wes: WebUser, incident: str) -> None:
    html = wes.get(page(incident)).text
    fields = {
        "note": ['name="text"', 'type="datetime-local" step="1"', 'name="occurred_at"'],
        "status": ['<select id="status-select" name="status">', 'name="occurred_at"'],
        "severity": ['name="severity"', 'name="reason"'],
        "acknowledge": ['name="csrf_token"'],
        "mitigate": ['name="occurred_at"'],
        "impact": ['name="impact"'],
        "root-cause": ['name="root_cause"'],
        "resolution": ['name="resolution"'],
        "role": ['<select id="role-select" name="role">', 'name="person"'],
        "action-item": [
            'name="title"',
            'name="kind"',
            'name="owner"',
            'name="due_date"',
            'type="date"',
            'name="priority"',
        ],
    }
    paths = {"note": "notes", "role": "roles", "action-item": "action-items"}
    for name, needed in fields.items():
        action = f"{page(incident)}/{paths.get(name, name)}"
        form = block(html, f'<form id="{name}-form" method="post" action="{action}"')
        for field in needed:
            assert field in form, (name, field)


@pytest.mark.parametrize(
    ("path", "data", "form", "message"),
    [
        ("notes", {"text": "   "}, "note", "Write the note"),
        ("status", {"status": "closed"}, "status", "Cannot change status from investigating"),
        ("notes", {"text": "Hi", "occurred_at": "soon"}, "note",
         "Happened at: “soon” is not a date and time"),
        ("notes", {"text": "Hi", "occurred_at": "2999-01-01T10:00:00"}, "note",
         "Happened at: 2999-01-01 10:00:00 UTC is in the future; give a time up to now (UTC)"),
        ("roles", {"role": "scribe", "person": " "}, "role", "Give the person's name"),
        ("roles", {"role": "scribe", "person": "bob\u0007"}, "role",
         "Person holds a control character (U+0007, character 4): remove it"),
        ("action-items", {"title": " ", "kind": "corrective", "owner": "al",
                          "due_date": "2030-01-01"}, "action-item", "Say what is to be done"),
        ("action-items", {"title": "Do it", "kind": "corrective", "owner": "al"}, "action-item",
         "Due: give a date"),
        ("action-items", {"title": "Do it", "kind": "corrective", "owner": "al",
                          "due_date": "2030-01-01", "ticket_url": "JIRA-12"}, "action-item",
         "Ticket link must start with http:// or https:// and hold no spaces"),
    ],
)  # fmt: skip
def test_a_refusal_shows_the_page_again_with_the_message_and_stores_nothing(
    api: TestClient, wes: WebUser, incident: str, path: str, data: dict[str, str], form: str,
    message: str,
) -> None:  # fmt: skip
    with nothing_stored(api):
        answer = wes.post(f"{page(incident)}/{path}", data)
    assert answer.status_code == 422, answer.text
    shown = re.search(
        rf'<p class="error" role="alert" data-form-error="{form}">([^<]*)</p>', answer.text
    )
    assert shown is not None
    said = unescape(shown.group(1))
    assert message in said, answer.text
    # The form's labels, never the command's field names or pydantic's wording.
    assert not re.search(r"\b[a-z]+_[a-z_]+\b|String should", said), said
    assert f'id="{form}-form"' in answer.text[shown.end() : shown.end() + 200], "next to its form"


def test_a_refused_note_keeps_what_was_typed(wes: WebUser, incident: str) -> None:
    tomorrow = form_time(datetime.now(UTC) + timedelta(days=1))
    typed = {"text": "Paged <the> DBA", "occurred_at": tomorrow}
    answer = wes.post(f"{page(incident)}/notes", typed)
    assert answer.status_code == 422
    form = block(answer.text, '<form id="note-form"')
    assert ">Paged &lt;the&gt; DBA</textarea>" in form
    assert f'value="{tomorrow}"' in form


def test_a_post_without_the_csrf_value_is_forbidden(
    api: TestClient, wes: WebUser, incident: str
) -> None:
    with nothing_stored(api):
        answer = wes.post(f"{page(incident)}/notes", {"text": "Forged"}, csrf=False)
    assert answer.status_code == 403


# --- redacting a note -------------------------------------------------------------------------


def _note_id(api: TestClient, incident: str, text: str) -> str:
    return next(e["id"] for e in entries(api, incident) if e.get("text") == text)


def test_a_note_is_redacted_from_its_entry_with_a_reason(
    api: TestClient, wes: WebUser, incident: str
) -> None:
    api.post(f"/incidents/{incident}/notes", json={"text": "Customer alice@example.com saw it"})
    note_id = _note_id(api, incident, "Customer alice@example.com saw it")
    entry = block(wes.get(page(incident)).text, f'<li class="entry kind-note" id="entry-{note_id}"')
    form = block(entry, '<form method="post" action="' + page(incident) + '/note-redactions"')
    assert f'name="note_id" value="{note_id}"' in form
    assert 'name="reason"' in form
    assert 'name="csrf_token"' in form

    answer = wes.post(
        f"{page(incident)}/note-redactions", {"note_id": note_id, "reason": "Personal data"}
    )
    assert answer.status_code == 303, answer.text
    (redacted,) = [e for e in entries(api, incident) if e["id"] == note_id]
    assert redacted["kind"] == "note_redacted"
    assert redacted["details"]["reason"] == "Personal data"
    assert redacted["actor"] == "wes"
    html = wes.get(page(incident)).text
    assert "alice@example.com" not in html
    shown = block(html, f'<li class="entry kind-note redacted" id="entry-{note_id}"')
    assert "Redacted by wes" in shown
    assert "Personal data" in shown
    assert "note-redactions" not in shown  # nothing left to redact


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"reason": ""}, "Say why"),
        ({"reason": "Personal\u0007data"}, "Why holds a control character (U+0007, character 9)"),
        ({"reason": "Personal data", "note_id": "not-a-note"}, "Note: not a note of this"),
    ],
)
def test_a_refused_redaction_is_shown_at_its_note_and_stores_nothing(
    api: TestClient, wes: WebUser, incident: str, data: dict[str, str], message: str
) -> None:
    api.post(f"/incidents/{incident}/notes", json={"text": "Keep me"})
    note_id = _note_id(api, incident, "Keep me")
    with nothing_stored(api):
        answer = wes.post(f"{page(incident)}/note-redactions", {"note_id": note_id, **data})
    assert answer.status_code == 422, answer.text
    timeline = block(answer.text, '<ol id="timeline"')
    refused = block(timeline, '<p class="error" role="alert" data-form-error="redaction">')
    assert message in refused
    entry = block(timeline, f'<li class="entry kind-note" id="entry-{note_id}"')
    if data.get("note_id", note_id) == note_id:  # shown at the note, its form open
        assert '<details class="redact" data-hold-live open>' in entry
        assert message in entry
    else:  # a note that is not there: shown atop the timeline
        assert '<details class="redact" data-hold-live>' in entry
        assert timeline.index(refused) < timeline.index(entry)
    assert "Keep me" in entry


def test_an_unknown_note_cannot_be_redacted(api: TestClient, wes: WebUser, incident: str) -> None:
    with nothing_stored(api):
        answer = wes.post(
            f"{page(incident)}/note-redactions",
            {"note_id": "0eb435bd-fd71-4121-81da-67a0f5d6c053", "reason": "Personal data"},
        )
    assert answer.status_code == 422, answer.text
    refused = block(answer.text, '<p class="error" role="alert" data-form-error="redaction">')
    assert "0eb435bd-fd71-4121-81da-67a0f5d6c053" in refused


def test_a_reader_sees_no_redaction_form(
    api: TestClient, tokens: TokenStore, sign_in: Callable[..., WebUser], incident: str
) -> None:
    api.post(f"/incidents/{incident}/notes", json={"text": "Read only"})
    tokens.create("rita", {Scope.READ}, "il_web-rita-token")
    html = sign_in("il_web-rita-token").get(page(incident)).text
    assert "Read only" in html
    assert "note-redactions" not in html


# --- erasing an alert's text ------------------------------------------------------------------

ALERT_SECRET = "card 4111-1111-1111-1111"


def _fire(api: TestClient, incident: str) -> str:
    """An alert with a secret in its text on the incident; its key."""
    service: IncidentService = api.app.state.service  # type: ignore[attr-defined]
    key = f"checkout-errors-{uuid4()}"
    alert = c.AlertReport(
        key=key,
        status="firing",
        name="CheckoutErrors",
        summary=f"Payment failed for {ALERT_SECRET}",
        annotations={"description": ALERT_SECRET},
    )
    command = c.RecordAlerts(
        incident_id=incident, at=service.now(), source=AlertSource.GENERIC, alerts=(alert,)
    )
    service.execute(command, {"actor": "alertmanager"})
    return key


def _alert_entry(html: str) -> str:
    return block(html, '<li class="entry kind-alert"')


def test_an_alert_text_is_erased_from_its_entry_with_a_reason(
    api: TestClient, wes: WebUser, incident: str
) -> None:
    key = _fire(api, incident)
    entry = _alert_entry(wes.get(page(incident)).text)
    assert ALERT_SECRET in entry
    form = block(entry, f'<form method="post" action="{page(incident)}/alert-erasures"')
    assert f'name="alert_key" value="{key}"' in form

    answer = wes.post(
        f"{page(incident)}/alert-erasures", {"alert_key": key, "reason": "Card number"}
    )
    assert answer.status_code == 303, answer.text
    (fired,) = [e for e in entries(api, incident) if e["kind"] == "alert_fired"]
    assert fired["details"]["summary"]["redacted"] is True
    assert fired["details"]["summary"]["redacted_by"] == "wes"
    assert fired["details"]["annotations"] == {}
    html = wes.get(page(incident)).text
    assert ALERT_SECRET not in html
    assert "Card number" in _alert_entry(html)
    assert "alert-erasures" not in _alert_entry(html)  # nothing left to erase


def test_a_refused_erasure_is_shown_at_its_alert_and_stores_nothing(
    api: TestClient, wes: WebUser, incident: str
) -> None:
    key = _fire(api, incident)
    with nothing_stored(api):
        answer = wes.post(f"{page(incident)}/alert-erasures", {"alert_key": key, "reason": ""})
    assert answer.status_code == 422, answer.text
    entry = _alert_entry(answer.text)
    assert '<details class="redact" data-hold-live open>' in entry
    refused = block(entry, '<p class="error" role="alert" data-form-error="erasure">')
    assert "Say why" in refused

    with nothing_stored(api):
        answer = wes.post(
            f"{page(incident)}/alert-erasures", {"alert_key": "no-such-alert", "reason": "Card"}
        )
    assert answer.status_code == 422, answer.text
    timeline = block(answer.text, '<ol id="timeline"')
    refused = block(timeline, '<p class="error" role="alert" data-form-error="erasure">')
    assert "no-such-alert" in refused
    assert timeline.index(refused) < timeline.index(_alert_entry(timeline))
