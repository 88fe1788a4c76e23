"""A redacted note's text is erased: no route, past view, stream, search or export shows it.

The text is stored sealed under a data key of its own (eventstore/sealed_text.py); the
redaction deletes the key in the transaction that records it. Each test runs on SQLite
and PostgreSQL (tests/conftest.py).
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text

from api.app import create_app
from application.settings import Settings
from eventstore.chain_verify import verify_chain
from eventstore.schema import events, text_erasures, text_keys
from tests.api.conftest import ADMIN_TOKEN
from tests.api.helpers import declare, ok
from tests.sse_client import parse
from tests.support.transfer import export_bytes
from tests.web.conftest import signed_in_client

SECRET = "jane.doe.7731@example.com"
AMENDED = "jane.doe.7731@example.com called twice"


@pytest.fixture
def streamer(app_settings: Settings) -> Any:
    settings = app_settings.model_copy(update={"events_stream_poll_seconds": 0.05})
    with TestClient(create_app(settings)) as client:
        client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        yield client


def _note(client: TestClient, incident_id: str, body: str) -> str:
    response = client.post(f"/incidents/{incident_id}/notes", json={"text": body})
    assert response.status_code == 201, response.text
    note_id: str = response.json()["note_id"]
    return note_id


def _redacted_incident(client: TestClient) -> tuple[str, str, int]:
    """An incident whose note held SECRET (amended once), redacted: (incident, note, the
    log position just before the redaction)."""
    incident_id = declare(client, title="Checkout returns 502")
    note_id = _note(client, incident_id, f"Customer {SECRET} reported it")
    _note(client, incident_id, "Rolled back deploy 4812")
    ok(client.patch(f"/incidents/{incident_id}/timeline/{note_id}", json={"text": AMENDED}))
    assert SECRET in client.get(f"/incidents/{incident_id}/timeline").text
    before = ok(client.get("/events", params={"limit": 1000}))["events"][-1]["position"]
    ok(
        client.patch(
            f"/incidents/{incident_id}/timeline/{note_id}",
            json={"redacted": True, "reason": "customer e-mail address"},
        )
    )
    return incident_id, note_id, before


def test_the_stored_note_holds_no_text_only_a_sealed_envelope(
    client: TestClient, engine: Engine
) -> None:
    incident_id = declare(client)
    note_id = _note(client, incident_id, f"Customer {SECRET} reported it")

    with engine.connect() as conn:
        stored = conn.execute(
            text("SELECT data FROM events WHERE type = 'timeline.note_added'")
        ).scalar_one()
        keys = conn.execute(select(text_keys.c.scope)).scalars().all()
    raw = stored if isinstance(stored, str) else orjson.dumps(stored).decode()
    assert SECRET not in raw
    assert orjson.loads(raw)["text"]["sealed"] == "aes-256-gcm"
    assert keys == [f"note:incident-{incident_id}:{note_id}"]
    # Every reader sees the text opened.
    feed = ok(client.get("/events", params={"type": "timeline.note_added"}))["events"]
    assert feed[0]["data"]["text"] == f"Customer {SECRET} reported it"


def test_after_a_redaction_no_answer_of_any_route_holds_the_text(
    client: TestClient, engine: Engine
) -> None:
    incident_id, note_id, before = _redacted_incident(client)
    base = f"/incidents/{incident_id}"

    answers = {
        "timeline": client.get(f"{base}/timeline"),
        "timeline as of before": client.get(f"{base}/timeline", params={"as_of": before}),
        "summary as of before": client.get(base, params={"as_of": before}),
        "events": client.get("/events", params={"limit": 1000}),
        "events of the stream": client.get("/events", params={"stream": incident_id}),
        "search": client.get("/search", params={"q": "jane"}),
        "search of the address": client.get("/search", params={"q": f'"{SECRET}"'}),
        "postmortem": client.get(f"{base}/postmortem"),
        "postmortem markdown": client.get(
            f"{base}/postmortem", headers={"Accept": "text/markdown"}
        ),
        "web page": signed_in_client(client.app, ADMIN_TOKEN).get(f"/ui/incidents/{incident_id}"),
    }
    for name, answer in answers.items():
        assert answer.status_code == 200, (name, answer.text)
        assert "jane.doe" not in answer.text, name
    assert ok(answers["search"])["items"] == []
    # The routes do show the incident's other text: what is missing is the erased note only.
    for name in ("timeline", "timeline as of before", "events", "web page"):
        assert "Rolled back deploy 4812" in answers[name].text, name
    assert "Redacted by admin at" in answers["web page"].text
    assert "customer e-mail address" in answers["web page"].text

    # Where the text was, the feed says it was redacted, by whom, when and why.
    feed = ok(answers["events"])["events"]
    written = [e for e in feed if e["type"] in ("timeline.note_added", "timeline.note_amended")]
    erased = [e["data"]["text"] for e in written if e["data"]["note_id"] == note_id]
    assert len(erased) == 2
    for placeholder in erased:
        assert placeholder["redacted"] is True
        assert placeholder["redacted_by"] == "admin"
        assert placeholder["reason"] == "customer e-mail address"
        assert placeholder["redacted_at"]
    # The past view shows the note's place, saying it was redacted since.
    past = ok(answers["timeline as of before"])["entries"]
    (entry,) = [e for e in past if e["id"] == note_id]
    assert entry["text"] == "Note redacted by admin: customer e-mail address"
    assert entry["details"]["redacted"]["reason"] == "customer e-mail address"

    # The erasure left the log as it was: the chain still verifies.
    with engine.connect() as conn:
        assert verify_chain(conn).ok
        scopes = conn.execute(select(text_keys.c.scope)).scalars().all()
        erasure = conn.execute(select(text_erasures)).one()
    assert (erasure.scope, erasure.erased_by) == (f"note:incident-{incident_id}:{note_id}", "admin")
    assert len(scopes) == 1  # the other note's key: only the redacted note was erased
    assert f"note:incident-{incident_id}:{note_id}" not in scopes


def test_the_event_stream_and_an_export_after_a_redaction_hold_no_text(
    streamer: TestClient, engine: Engine
) -> None:
    incident_id, _note_id, _ = _redacted_incident(streamer)

    response = streamer.get("/events/stream", params={"after": 0})
    messages = [m for m in parse(response.text) if m.is_event]
    assert any(m.event == "timeline.note_added" for m in messages)
    assert "jane.doe" not in response.text
    exported = export_bytes(engine)
    assert b"jane.doe" not in exported
    assert f"incident-{incident_id}".encode() in exported


def test_the_stored_events_are_byte_for_byte_what_they_were_before_the_redaction(
    client: TestClient, engine: Engine
) -> None:
    incident_id = declare(client)
    note_id = _note(client, incident_id, f"Customer {SECRET} reported it")
    query = select(events.c.position, events.c.data).order_by(events.c.position)
    with engine.connect() as conn:
        stored_before = conn.execute(query).all()
    ok(
        client.patch(
            f"/incidents/{incident_id}/timeline/{note_id}",
            json={"redacted": True, "reason": "PII"},
        )
    )
    with engine.connect() as conn:
        stored_after = conn.execute(query).all()
    assert stored_after[: len(stored_before)] == stored_before
    assert len(stored_after) == len(stored_before) + 1


def test_a_past_view_read_before_the_redaction_does_not_keep_the_text(
    client: TestClient,
) -> None:
    # The first past view decodes the stream into the process's cache of streams; the
    # redaction comes after, and the same view asked again must not come from it.
    incident_id = declare(client, title="Checkout returns 502")
    note_id = _note(client, incident_id, f"Customer {SECRET} reported it")
    at = ok(client.get("/events", params={"limit": 1000}))["events"][-1]["position"]
    base = f"/incidents/{incident_id}"
    for route in ("/timeline", "/postmortem"):
        assert SECRET in client.get(f"{base}{route}", params={"as_of": at}).text
    ok(
        client.patch(
            f"{base}/timeline/{note_id}", json={"redacted": True, "reason": "customer e-mail"}
        )
    )

    for route in ("/timeline", "/postmortem", ""):
        answer = client.get(f"{base}{route}", params={"as_of": at})
        assert answer.status_code == 200, answer.text
        assert "jane.doe" not in answer.text, route
    assert (
        "Note redacted by admin: customer e-mail"
        in client.get(f"{base}/timeline", params={"as_of": at}).text
    )
