"""Slack-compatible messages: which events a channel hears about, and what they say."""

from __future__ import annotations

import json
from typing import Any
from uuid import uuid4

import pytest

from outbound.payloads import IncidentFacts
from outbound.slack_messages import TEXT_LIMIT, slack_body
from tests.outbound.sample_events import BASE_URL, FACTS, INCIDENT_ID, recorded

PAGE = f"https://incidents.example.com/ui/incidents/{INCIDENT_ID}"


def message(
    type_: str, data: dict[str, Any], facts: IncidentFacts | None = FACTS
) -> dict[str, Any]:
    body = slack_body(recorded(type_, data), facts, BASE_URL)
    assert body is not None
    document: dict[str, Any] = json.loads(body)
    return document


def texts(document: dict[str, Any]) -> list[str]:
    """Every text a reader sees: the one line, the section, the context."""
    section, context = document["blocks"]
    return [document["text"], section["text"]["text"], context["elements"][0]["text"]]


EVENTS: list[tuple[str, dict[str, Any], str]] = [
    (
        "incident.declared",
        {"title": "Checkout is down", "severity": "SEV1", "summary": "500s on /pay"},
        ":rotating_light: SEV1 declared: Checkout is down",
    ),
    (
        "incident.severity_changed",
        {"from_severity": "SEV3", "to_severity": "SEV2", "reason": "more users"},
        ":arrow_up: Severity raised SEV3 → SEV2: Checkout is down",
    ),
    ("incident.acknowledged", {}, ":eyes: Acknowledged: Checkout is down"),
    (
        "incident.status_changed",
        {"from_status": "investigating", "to_status": "identified"},
        ":arrows_counterclockwise: Status investigating → identified: Checkout is down",
    ),
    ("incident.mitigated", {}, ":large_green_circle: Mitigated (impact stopped): Checkout is down"),
    ("postmortem.published", {"revision": 2}, ":memo: Postmortem published: Checkout is down"),
    (
        "action_item.added",
        {
            "item_id": str(uuid4()),
            "title": "Add retries",
            "kind": "corrective",
            "owner": "bob",
            "due_date": "2026-04-01",
            "priority": "P2",
        },
        ":clipboard: Action item added: Checkout is down",
    ),
    (
        "timeline.note_added",
        {"note_id": str(uuid4()), "text": "Payments recover", "visibility": "public"},
        ":loudspeaker: Public update: Checkout is down",
    ),
]


@pytest.mark.parametrize(("type_", "data", "start"), EVENTS)
def test_each_event_a_channel_hears_names_title_severity_status_and_link(
    type_: str, data: dict[str, Any], start: str
) -> None:
    document = message(type_, data)
    line = document["text"]
    assert line.startswith(start)
    assert "\n" not in line
    assert "SEV" in line
    assert "|Open incident>" in line
    assert PAGE in line
    section, context = document["blocks"]
    assert section["type"] == "section"
    assert section["text"]["type"] == "mrkdwn"
    assert "Checkout is down" in section["text"]["text"]
    assert PAGE in section["text"]["text"]
    assert context["type"] == "context"
    assert "by alice" in context["elements"][0]["text"]
    assert "<!date^" in context["elements"][0]["text"]


def test_the_declared_message_shows_its_own_severity_and_status() -> None:
    line = message(*EVENTS[0][:2])["text"]
    assert "— SEV1 · investigating ·" in line
    assert "500s on /pay" in line


def test_a_status_change_shows_the_new_status() -> None:
    document = message(
        "incident.status_changed", {"from_status": "monitoring", "to_status": "resolved"}
    )
    assert document["text"].startswith(
        ":white_check_mark: Resolved: Checkout is down — SEV2 · resolved"
    )


def test_closing_says_closed() -> None:
    document = message(
        "incident.status_changed", {"from_status": "resolved", "to_status": "closed"}
    )
    assert document["text"].startswith(":lock: Closed:")


def test_a_lowered_severity_says_so() -> None:
    document = message(
        "incident.severity_changed", {"from_severity": "SEV1", "to_severity": "SEV3"}
    )
    assert document["text"].startswith(":arrow_down: Severity lowered SEV1 → SEV3:")
    assert "— SEV3 · identified" in document["text"]


def test_the_postmortem_links_to_its_page() -> None:
    assert f"{PAGE}/postmortem|" in message("postmortem.published", {"revision": 1})["text"]


def test_an_action_item_names_its_title_owner_and_due_date() -> None:
    document = message(*EVENTS[6][:2])
    for text in texts(document)[:2]:
        assert "Add retries (bob, due 2026-04-01, P2)" in text


def test_the_section_shows_the_services() -> None:
    section = message("incident.acknowledged", {})["blocks"][0]["text"]["text"]
    assert "checkout, payments" in section


@pytest.mark.parametrize("visibility", ["internal", None])
def test_a_note_for_the_responders_is_not_sent(visibility: str | None) -> None:
    data = {"note_id": str(uuid4()), "text": "db creds rotated", "visibility": visibility}
    assert slack_body(recorded("timeline.note_added", data), FACTS, BASE_URL) is None


@pytest.mark.parametrize(
    "type_",
    [
        "alert.fired",
        "timeline.note_amended",
        "incident.role_assigned",
        "postmortem.section_edited",
        "action_item.reassigned",
    ],
)
def test_events_a_channel_does_not_need_are_not_sent(type_: str) -> None:
    assert slack_body(recorded(type_, {"anything": 1}), FACTS, BASE_URL) is None


def test_user_text_is_escaped() -> None:
    facts = IncidentFacts(INCIDENT_ID, "<script>&", "investigating", "SEV1", ("a<b",))
    note = {
        "note_id": str(uuid4()),
        "text": "<!channel> & <https://evil|click>",
        "visibility": "public",
    }
    document = message("timeline.note_added", note, facts)
    event = recorded("timeline.note_added", note, actor="<@U123>")
    body = slack_body(event, facts, BASE_URL)
    assert body is not None
    every = texts(document) + texts(json.loads(body))
    joined = " ".join(every)
    assert "&lt;script&gt;&amp;" in joined
    assert "&lt;!channel&gt; &amp; &lt;https://evil|click&gt;" in joined
    assert "a&lt;b" in joined
    assert "&lt;@U123&gt;" in joined
    for text in every:
        assert "<script>" not in text
        assert "<!channel>" not in text
        assert "<@U123>" not in text


def test_every_text_stays_within_slacks_limit() -> None:
    note = {"note_id": str(uuid4()), "text": "& line\n" * 2_000, "visibility": "public"}
    document = message("timeline.note_added", note)
    for text in texts(document):
        assert len(text) <= TEXT_LIMIT
    section = document["blocks"][0]["text"]["text"]
    assert section.endswith("…")
    assert "&amp" not in section.replace("&amp;", "")  # no entity cut in half
    assert document["text"].endswith("…")


def test_without_facts_the_incident_is_named_by_its_id() -> None:
    document = message("incident.acknowledged", {}, facts=None)
    assert f"Acknowledged: incident {str(INCIDENT_ID)[:8]}" in document["text"]


def test_without_an_actor_the_context_says_someone() -> None:
    body = slack_body(recorded("incident.acknowledged", {}, actor=None), FACTS, BASE_URL)
    assert body is not None
    assert "by someone" in texts(json.loads(body))[2]
