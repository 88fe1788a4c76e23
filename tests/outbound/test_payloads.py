"""The Standard Webhooks body: its shape, its links, and its size limit."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from outbound import payloads
from outbound.payloads import MAX_BODY_BYTES, standard_body
from tests.outbound.sample_events import BASE_URL, FACTS, INCIDENT_ID, recorded

NOTE_ID = str(uuid4())


def body_of(data: dict[str, Any], **options: Any) -> dict[str, Any]:
    event = recorded("timeline.note_added", data, **options)
    body = standard_body(event, FACTS, BASE_URL)
    assert len(body) <= MAX_BODY_BYTES
    document: dict[str, Any] = json.loads(body)
    return document


def test_the_body_has_the_standard_shape() -> None:
    event = recorded("incident.declared", {"title": "Checkout is down", "severity": "SEV1"})
    document = json.loads(standard_body(event, FACTS, BASE_URL))
    assert document == {
        "type": "incident.declared",
        "timestamp": "2026-03-04T05:06:07.123456Z",
        "data": {
            "incident_id": str(INCIDENT_ID),
            "stream_version": 3,
            "position": 42,
            "recorded_at": "2026-03-04T05:06:08.000000Z",
            "actor": "alice",
            "event": {"title": "Checkout is down", "severity": "SEV1"},
            "incident": {
                "title": "Checkout is down",
                "status": "identified",
                "severity": "SEV2",
                "services": ["checkout", "payments"],
            },
            "links": {
                "incident": f"https://incidents.example.com/incidents/{INCIDENT_ID}",
                "web": f"https://incidents.example.com/ui/incidents/{INCIDENT_ID}",
            },
        },
    }


def test_the_links_do_not_double_the_slash_whatever_the_base() -> None:
    for base in ("https://incidents.example.com", "https://incidents.example.com/"):
        event = recorded("incident.acknowledged", {})
        links = json.loads(standard_body(event, None, base))["data"]["links"]
        assert links["web"] == f"https://incidents.example.com/ui/incidents/{INCIDENT_ID}"


def test_an_incident_the_read_models_do_not_know_yet_is_null() -> None:
    event = recorded("incident.acknowledged", {}, actor=None)
    data = json.loads(standard_body(event, None, BASE_URL))["data"]
    assert data["incident"] is None
    assert data["actor"] is None
    assert "truncated" not in data


def test_a_100_kb_note_is_cut_to_fit_and_marked() -> None:
    document = body_of({"note_id": NOTE_ID, "text": "x" * 100_000, "visibility": "public"})
    data = document["data"]
    assert data["truncated"] is True
    text = data["event"]["text"]
    assert text.endswith("…")
    assert 15_000 < len(text) < 20_000  # cut only as far as needed
    assert data["event"]["note_id"] == NOTE_ID
    assert data["event"]["visibility"] == "public"
    assert data["incident"]["title"] == "Checkout is down"


def test_the_longest_texts_are_cut_first() -> None:
    document = body_of({"a": "a" * 60_000, "b": "b" * 12_000, "c": "c" * 3_000, "d": "short"})
    event = document["data"]["event"]
    assert event["c"] == "c" * 3_000
    assert event["d"] == "short"
    assert event["a"].endswith("…")
    assert event["b"].endswith("…")
    assert len(event["a"]) == len(event["b"])


def test_texts_in_nested_values_are_cut_too() -> None:
    document = body_of({"sections": {"summary": "s" * 30_000}, "items": ["i" * 30_000, "ok"]})
    event = document["data"]["event"]
    assert event["sections"]["summary"].endswith("…")
    assert event["items"][0].endswith("…")
    assert event["items"][1] == "ok"


def test_multibyte_and_escaped_texts_still_fit() -> None:
    body_of({"text": "\U0001f525" * 30_000})
    body_of({"text": '"\\\n\u0001' * 20_000})


def test_an_event_that_no_cut_fits_is_left_out_but_linked() -> None:
    document = body_of({"services": [f"service-{n}" for n in range(5_000)]})
    data = document["data"]
    assert data["truncated"] is True
    assert data["event"] == {}
    assert data["links"]["incident"].endswith(str(INCIDENT_ID))


def test_a_body_just_under_the_limit_is_left_whole() -> None:
    event = recorded("timeline.note_added", {"text": ""})
    overhead = len(standard_body(event, FACTS, BASE_URL))
    document = body_of({"text": "x" * (MAX_BODY_BYTES - overhead)})
    assert "truncated" not in document["data"]
    assert not document["data"]["event"]["text"].endswith("…")


def test_the_test_message_names_its_subscription() -> None:
    subscription_id = uuid4()
    now = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    message_id, body = payloads.test_body(subscription_id, BASE_URL, now)
    assert message_id.startswith("msg_test_")
    assert message_id != payloads.test_body(subscription_id, BASE_URL, now)[0]
    document = json.loads(body)
    assert document["type"] == "webhook.test"
    assert document["timestamp"] == "2026-03-04T05:06:07.000000Z"
    assert document["data"]["subscription_id"] == str(subscription_id)
    assert document["data"]["links"] == {"incidents": "https://incidents.example.com/ui/incidents"}
