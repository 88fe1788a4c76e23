"""The incident page through a browser's eyes: the summary and timeline it shows, what a
read-only token sees, live updates, time travel and the fragments. Each test runs on SQLite
and PostgreSQL. The forms are tested in test_incident_forms.py."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient

from tests.api.helpers import declare, ok
from tests.web.incident_page_support import (
    add_note,
    block,
    declare_started_an_hour_ago,
    entries,
    forms_of,
    page,
    summary_of,
)

if TYPE_CHECKING:
    from tests.web.conftest import WebUser

ALERTMANAGER = Path(__file__).parents[1] / "fixtures/monitoring/alertmanager-0.25-firing.json"


@pytest.fixture
def incident(api: TestClient) -> str:
    return declare_started_an_hour_ago(api)


# --- what the page shows -------------------------------------------------------------------


def test_the_summary_shows_the_facts_after_commands(
    api: TestClient, web: WebUser, incident: str
) -> None:
    base = f"/incidents/{incident}"
    ok(api.post(f"{base}/acknowledge", json={}))
    ok(api.post(f"{base}/roles", json={"role": "incident_commander", "person": "alice"}))
    ok(api.post(f"{base}/impact", json={"impact": "30% of checkouts failed"}))
    ok(api.post(f"{base}/root-cause", json={"root_cause": "Deploy 4812 halved the pool"}))
    ok(api.post(f"{base}/resolution", json={"resolution": "Rolled back deploy 4812"}))
    ok(api.post(f"{base}/mitigate", json={}))
    ok(api.post(f"{base}/severity", json={"severity": "SEV1"}))
    ok(api.post(f"{base}/status", json={"status": "resolved"}))
    answer = web.get(page(incident))
    assert answer.status_code == 200, answer.text
    summary = block(answer.text, '<section id="summary"')
    for fact in (
        "Checkout returns 502",
        "resolved",
        "SEV1",
        "checkout",
        "alice",
        "30% of checkouts failed",
        "Deploy 4812 halved the pool",
        "Rolled back deploy 4812",
    ):
        assert fact in summary, fact
    for label in ("Started", "Detected", "Declared", "Acknowledged", "Mitigated", "Resolved"):
        assert f"<dt>{label}</dt>" in summary, label
    for measure in ("TTD", "TTA", "TTM", "TTR"):
        assert f">{measure}</abbr>" in summary, measure
    assert summary.count("<time datetime=") == 6
    assert "1 h" in summary, "the time to detect of an incident that started an hour ago"


def test_entries_are_told_apart_by_kind(api: TestClient, web: WebUser, incident: str) -> None:
    add_note(api, incident, "Looking at the pool")
    ok(api.post(f"/incidents/{incident}/status", json={"status": "identified"}))
    item = {"title": "Alert on pool use", "kind": "preventative", "owner": "alice"}
    item["due_date"] = (datetime.now(UTC) + timedelta(days=7)).date().isoformat()
    ok(api.post(f"/incidents/{incident}/action-items", json=item), 201)
    ok(api.put(f"/incidents/{incident}/postmortem/sections/summary", json={"text": "Pool."}))
    html = web.get(page(incident)).text
    timeline = block(html, '<ol id="timeline"')
    kinds = re.findall(r'<li class="entry kind-([a-z-]+)[^"]*" id="entry-', timeline)
    assert kinds == ["incident", "incident", "note", "status", "action-item", "postmortem"]
    for entry in entries(api, incident):
        assert f'id="entry-{entry["id"]}"' in timeline
    alerts = ALERTMANAGER.read_text()
    hooked = ok(api.post("/hooks/alertmanager", json=json.loads(alerts)["body"]))
    alerted = web.get(page(hooked["incidents"][0]["id"])).text
    assert 'class="entry kind-alert"' in alerted
    assert "HighErrorRate" in alerted


def test_late_amended_and_redacted_notes(api: TestClient, web: WebUser, incident: str) -> None:
    back = datetime.now(UTC) - timedelta(minutes=40)
    late = api.post(
        f"/incidents/{incident}/notes",
        json={"text": "Paged the DBA", "occurred_at": back.isoformat()},
    )
    ok(late, 201)
    amended = add_note(api, incident, "Deploy 4811 suspected")["note_id"]
    patch = {"text": "Deploy 4812 suspected"}
    ok(api.patch(f"/incidents/{incident}/timeline/{amended}", json=patch))
    redacted = add_note(api, incident, "Mail jane@example.com")["note_id"]
    patch = {"text": "Mail jane@example.org"}
    ok(api.patch(f"/incidents/{incident}/timeline/{redacted}", json=patch))
    reason = {"redacted": True, "reason": "Held a customer's address"}
    ok(api.patch(f"/incidents/{incident}/timeline/{redacted}", json=reason))
    timeline = block(web.get(page(incident)).text, '<ol id="timeline"')
    late_entry = block(timeline, f'<li class="entry kind-note" id="entry-{late.json()["note_id"]}"')
    assert "written 40 min" in late_entry
    entry = block(timeline, f'<li class="entry kind-note" id="entry-{amended}"')
    assert "amended" in entry
    assert "Deploy 4812 suspected" in entry
    assert "Deploy 4811 suspected" in block(entry, '<details class="earlier"')
    gone = block(timeline, f'<li class="entry kind-note redacted" id="entry-{redacted}"')
    assert "Redacted by admin at <time" in gone
    assert "Held a customer&#39;s address" in gone
    assert "jane@" not in timeline


def test_a_script_in_a_note_is_shown_as_text(api: TestClient, web: WebUser, incident: str) -> None:
    add_note(api, incident, "<script>window.pwned=1</script>")
    html = web.get(page(incident)).text
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in html
    assert "<script>window.pwned" not in html


def test_an_unknown_incident_is_not_found(web: WebUser) -> None:
    unknown = "00000000-0000-4000-8000-000000000000"
    assert web.get(page(unknown)).status_code == 404
    assert web.get(f"{page(unknown)}/fragments/timeline").status_code == 404
    assert web.post(f"{page(unknown)}/notes", {"text": "Hello"}).status_code == 404


def test_a_read_token_is_shown_no_form_that_changes_anything(
    api: TestClient, reader: WebUser, incident: str
) -> None:
    add_note(api, incident, "Visible to readers")
    html = reader.get(page(incident)).text
    assert "Visible to readers" in html
    # Besides searching and signing out, a reader may only travel in time: GET forms that
    # change nothing.
    forms = [(f.get("id"), f.get("method"), f.get("action")) for f in forms_of(html)]
    assert forms == [
        ("header-search", "get", "/ui/search"),
        (None, "post", "/ui/sign-out"),
        ("time-travel", "get", page(incident)),
    ]
    assert html.count('name="csrf_token"') == 1


# --- live updates, time travel, fragments ---------------------------------------------------


def test_the_page_follows_its_incident_live(api: TestClient, web: WebUser, incident: str) -> None:
    newest = summary_of(api, incident)["last_position"]
    html = web.get(page(incident)).text
    assert '<script src="/ui/static/live.js" defer></script>' in html
    stream = f"/events/stream?stream={incident}&amp;after={newest}"
    assert f'data-live-stream="{stream}"' in html
    types = json.loads(re.search(r"data-event-types='([^']*)'", html).group(1))  # type: ignore[union-attr]
    assert {"timeline.note_added", "incident.status_changed", "alert.fired"} <= set(types)
    script = web.get("/ui/static/live.js").text
    assert "EventSource" in script
    assert "eval(" not in script
    note = add_note(api, incident, "Seen live")
    # The browser's EventSource signs in with the session cookie.
    events = web.client.get(stream.replace("&amp;", "&"))
    assert events.status_code == 200
    assert f"id: {note['position']}\nevent: timeline.note_added" in events.text


def test_as_of_shows_the_page_as_recorded_then(
    api: TestClient, web: WebUser, incident: str
) -> None:
    first = add_note(api, incident, "First note")
    add_note(api, incident, "Second note")
    recorded = next(e for e in entries(api, incident) if e["text"] == "First note")
    for moment in (str(first["position"]), recorded["recorded_at"]):
        answer = web.get(page(incident), as_of=moment)
        assert answer.status_code == 200, answer.text
        assert "First note" in answer.text
        assert "Second note" not in answer.text
        banner = block(answer.text, '<p id="as-of-banner"')
        assert f"(log position {first['position']})" in banner
        assert f'<a href="{page(incident)}">back to now</a>' in banner
        # The header's search, signing out and time travel: no form that changes the incident.
        methods = [f.get("method") for f in forms_of(answer.text)]
        assert methods == ["get", "post", "get"], "no forms"
        assert "data-live-stream" not in answer.text
    assert web.get(page(incident), as_of="yesterday").status_code == 422
    assert web.get(page(incident), as_of="0").status_code == 404


def test_the_time_travel_slider_steps_through_the_incident_s_events(
    api: TestClient, web: WebUser, incident: str
) -> None:
    first = summary_of(api, incident)["last_position"]
    declare(api, title="Another incident")
    newest = add_note(api, incident, "Later")["position"]
    html = web.get(page(incident)).text
    bar = block(html, '<form id="time-travel" class="time-travel" method="get"')
    slider = re.search(r'<input type="range" id="as-of-slider" name="as_of"[^>]*>', bar)
    assert slider is not None
    assert f'min="{first}"' in slider.group()
    assert f'max="{newest}"' in slider.group()
    moments = json.loads(re.search(r"data-moments='([^']*)'", bar).group(1))  # type: ignore[union-attr]
    assert [position for position, _ in moments] == [first, newest]
    assert 'id="as-of-label"' in bar
    assert '<button type="submit"' in bar
    assert ">Show<" in bar
    view = web.get(f"{page(incident)}/fragments/view", as_of=str(first)).text
    assert view.startswith('<div id="incident-view"')
    assert 'id="as-of-banner"' in view
    assert "Later" not in view
    script = web.get("/ui/static/time_travel.js").text
    assert "as-of-slider" in script
    assert "eval(" not in script


def test_fragments_hold_only_their_part(api: TestClient, web: WebUser, incident: str) -> None:
    add_note(api, incident, "In the fragment")
    timeline = web.get(f"{page(incident)}/fragments/timeline").text.strip()
    assert timeline.startswith('<ol id="timeline"')
    assert timeline.endswith("</ol>")
    assert "In the fragment" in timeline
    assert 'id="summary"' not in timeline
    summary = web.get(f"{page(incident)}/fragments/summary").text.strip()
    assert summary.startswith('<section id="summary"')
    assert summary.endswith("</section>")
    assert "Checkout returns 502" in summary
    assert 'id="timeline"' not in summary
    assert "<html" not in timeline + summary
    assert web.get(f"{page(incident)}/fragments/nothing").status_code == 404


def test_the_postmortem_sections_are_shown_read_only(
    api: TestClient, web: WebUser, incident: str
) -> None:
    text = {"text": "Checkout failed for **30%** of requests."}
    ok(api.put(f"/incidents/{incident}/postmortem/sections/summary", json=text))
    section = block(web.get(page(incident)).text, '<section id="postmortem-sections"')
    assert "<strong>30%</strong>" in section
    assert f'href="{page(incident)}/postmortem"' in section
    assert "<form" not in section


def test_a_boosted_visit_from_another_page_already_has_this_pages_files(
    web: WebUser, incident: str
) -> None:
    """htmx swaps in only the <body> of a boosted visit: the page's script and style must
    already be there, loaded by every page's <head>."""
    listing = web.client.get("/ui/incidents").text
    head = listing.split("</head>", 1)[0]
    for needed in ("/ui/static/live.js", "/ui/static/time_travel.js", "/ui/static/incident.css"):
        assert needed in head
    boosted = {"HX-Request": "true", "HX-Boosted": "true"}
    answer = web.client.get(page(incident), headers=boosted)
    assert answer.status_code == 200
    assert 'id="timeline"' in answer.text
