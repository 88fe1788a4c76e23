"""A note amended from its entry on the incident page: the form starts from the note as it
stands, stores only what was changed (as ``PATCH .../timeline/{id}`` would), shows a
refusal at the note, and is offered neither on a redacted note nor to a reader. Each test
runs on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient

from application.tokens import Scope, TokenStore
from tests.api.helpers import nothing_stored, ok
from tests.web.incident_page_support import (
    add_note,
    block,
    declare_started_an_hour_ago,
    entries,
    form_time,
    page,
)

if TYPE_CHECKING:
    from tests.web.conftest import WebUser

TWENTY_MINUTES_AGO = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=20)


@pytest.fixture
def incident(api: TestClient) -> str:
    return declare_started_an_hour_ago(api)


def _amendments(api: TestClient, incident: str) -> list[dict[str, Any]]:
    """Each amendment's data, with who made it under ``actor``."""
    found = ok(api.get("/events", params={"stream": incident, "limit": "1000"}))["events"]
    return [
        e["data"] | {"actor": e["metadata"]["actor"]}
        for e in found
        if e["type"] == "timeline.note_amended"
    ]


def _entry(html: str, note_id: str, kind: str = "entry kind-note") -> str:
    return block(html, f'<li class="{kind}" id="entry-{note_id}"')


def test_the_form_starts_from_the_note_as_it_stands(
    api: TestClient, wes: WebUser, incident: str
) -> None:
    back = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=40)
    note = {"text": "Paged the DBA\nand the on-call", "occurred_at": back.isoformat()}
    note_id = ok(api.post(f"/incidents/{incident}/notes", json=note), 201)["note_id"]
    entry = _entry(wes.get(page(incident)).text, note_id)
    form = block(entry, f'<form method="post" action="{page(incident)}/note-amendments"')
    assert f'name="note_id" value="{note_id}"' in form
    assert 'name="csrf_token"' in form
    assert ">Paged the DBA\nand the on-call</textarea>" in form
    assert f'name="occurred_at" type="datetime-local" step="1" value="{form_time(back)}"' in form


def test_a_new_text_is_stored_as_the_signed_in_token(
    api: TestClient, wes: WebUser, incident: str
) -> None:
    note_id = add_note(api, incident, "Deploy 4811 suspected")["note_id"]
    shown = next(e for e in entries(api, incident) if e["id"] == note_id)["occurred_at"]
    as_shown = form_time(datetime.fromisoformat(shown))  # to the second, as the form shows it
    sent = {"note_id": note_id, "text": "Deploy 4812 suspected", "occurred_at": as_shown}
    answer = wes.post(f"{page(incident)}/note-amendments", sent)
    assert answer.status_code == 303, answer.text
    assert _amendments(api, incident) == [
        {"note_id": note_id, "text": "Deploy 4812 suspected", "note_occurred_at": None}
        | {"actor": "wes"}
    ]
    (amended,) = [e for e in entries(api, incident) if e["id"] == note_id]
    assert amended["text"] == "Deploy 4812 suspected"
    assert amended["occurred_at"] == shown  # the time sent back as shown is not a change
    entry = _entry(wes.get(page(incident)).text, note_id)
    assert "amended" in entry
    assert "Deploy 4811 suspected" in block(entry, '<details class="earlier"')


def test_a_new_time_alone_leaves_the_text_as_it_is(
    api: TestClient, wes: WebUser, incident: str
) -> None:
    note_id = add_note(api, incident, "Rolled back 4812")["note_id"]
    sent = {"note_id": note_id, "text": "Rolled back 4812"}
    answer = wes.post(
        f"{page(incident)}/note-amendments", sent | {"occurred_at": form_time(TWENTY_MINUTES_AGO)}
    )
    assert answer.status_code == 303, answer.text
    [amendment] = _amendments(api, incident)
    assert amendment["text"] is None
    assert datetime.fromisoformat(amendment["note_occurred_at"]) == TWENTY_MINUTES_AGO


@pytest.mark.parametrize(
    ("change", "message"),
    [({}, "changes nothing"), ({"text": ""}, ""), ({"occurred_at": "soon"}, "soon")],
    ids=["unchanged", "no-text", "not-a-time"],
)
def test_a_refused_amendment_is_shown_at_its_note_and_stores_nothing(
    api: TestClient, wes: WebUser, incident: str, change: dict[str, str], message: str
) -> None:
    note_id = add_note(api, incident, "Keep me")["note_id"]
    sent = {"note_id": note_id, "text": "Keep me", "occurred_at": ""} | change
    with nothing_stored(api):
        answer = wes.post(f"{page(incident)}/note-amendments", sent)
    assert answer.status_code == 422, answer.text
    entry = _entry(answer.text, note_id)
    assert '<details class="amend" data-hold-live open>' in entry
    refused = block(entry, '<p class="error" role="alert" data-form-error="amendment">')
    assert message in refused.lower()


def test_a_redacted_note_offers_neither_amend_nor_redact(
    api: TestClient, wes: WebUser, incident: str
) -> None:
    note_id = add_note(api, incident, "Mail jane@example.com")["note_id"]
    kept = add_note(api, incident, "Still here")["note_id"]
    reason = {"redacted": True, "reason": "Held a customer's address"}
    ok(api.patch(f"/incidents/{incident}/timeline/{note_id}", json=reason))
    html = wes.get(page(incident)).text
    gone = _entry(html, note_id, "entry kind-note redacted")
    assert "note-amendments" not in gone
    assert "note-redactions" not in gone
    assert "note-amendments" in _entry(html, kept)
    with nothing_stored(api):
        answer = wes.post(
            f"{page(incident)}/note-amendments",
            {"note_id": note_id, "text": "Mail jane@example.org", "occurred_at": ""},
        )
    assert answer.status_code == 422
    refused = block(answer.text, '<p class="error" role="alert" data-form-error="amendment">')
    assert "redacted" in refused


def test_a_reader_sees_no_amend_form_and_may_not_post_one(
    api: TestClient, tokens: TokenStore, sign_in: Callable[..., WebUser], incident: str
) -> None:
    note_id = add_note(api, incident, "Read only")["note_id"]
    tokens.create("rita", {Scope.READ}, "il_web-rita-token")
    rita = sign_in("il_web-rita-token")
    assert "note-amendments" not in rita.get(page(incident)).text
    with nothing_stored(api):
        answer = rita.post(
            f"{page(incident)}/note-amendments", {"note_id": note_id, "text": "Changed"}
        )
    assert answer.status_code == 403
