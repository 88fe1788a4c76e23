"""The JSON body of a Standard Webhooks message: one event of the log and its incident.

Receivers such as queues and serverless functions cap request sizes, so a body is kept
under MAX_BODY_BYTES: the longest texts of the event are cut first, and ``data`` says
``"truncated": true``; the whole event is always one GET away through ``links``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson

from domain.values import incident_id_of
from eventstore.records import RecordedEvent

MAX_BODY_BYTES = 20_000
ELLIPSIS = "…"
TEST_TYPE = "webhook.test"
_JSON_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC


@dataclass(frozen=True, slots=True)
class IncidentFacts:
    """What a message says of its incident besides the event: as the read models have it."""

    incident_id: UUID
    title: str
    status: str
    severity: str
    services: tuple[str, ...]


def rfc3339(moment: datetime) -> str:
    """``2024-05-01T12:00:00.000000Z``: UTC, microseconds, ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def incident_links(base_url: str, incident_id: UUID) -> dict[str, str]:
    """The incident in the JSON API and in the web interface."""
    base = base_url.rstrip("/")
    return {
        "incident": f"{base}/incidents/{incident_id}",
        "web": f"{base}/ui/incidents/{incident_id}",
    }


def standard_body(event: RecordedEvent, incident: IncidentFacts | None, base_url: str) -> bytes:
    """The message body for ``event``, never larger than MAX_BODY_BYTES."""
    incident_id = incident_id_of(event.stream_id)
    data: dict[str, Any] = {
        "incident_id": str(incident_id),
        "stream_version": event.version,
        "position": event.position,
        "recorded_at": rfc3339(event.recorded_at),
        "actor": event.metadata.get("actor"),
        "event": event.data,
        "incident": None
        if incident is None
        else {
            "title": incident.title,
            "status": incident.status,
            "severity": incident.severity,
            "services": list(incident.services),
        },
        "links": incident_links(base_url, incident_id),
    }
    document = {"type": event.type, "timestamp": rfc3339(event.occurred_at), "data": data}
    body = _dumps(document)
    if len(body) <= MAX_BODY_BYTES:
        return body
    data["truncated"] = True
    cut = _fitted(document, event.data)
    if cut is not None:
        return cut
    # Not even cut texts fit (thousands of list items, say): the event goes, the links stay.
    data["event"] = {}
    data["incident"] = None
    data["actor"] = _cut(data["actor"], 200)
    return _dumps(document)


def _fitted(document: dict[str, Any], event_data: dict[str, Any]) -> bytes | None:
    """The body with the event's texts cut to the longest length that fits, or None.

    A common length is sought by bisection: cutting every text longer than it to it cuts
    the longest texts first and leaves short ones whole.
    """
    data = document["data"]
    low, high = 0, _longest(event_data)
    best: bytes | None = None
    while low <= high:
        limit = (low + high) // 2
        data["event"] = _cut(event_data, limit)
        body = _dumps(document)
        if len(body) <= MAX_BODY_BYTES:
            best, low = body, limit + 1
        else:
            high = limit - 1
    data["event"] = event_data
    return best


def _longest(value: Any) -> int:
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        return max((_longest(item) for item in value.values()), default=0)
    if isinstance(value, list | tuple):
        return max((_longest(item) for item in value), default=0)
    return 0


def _cut(value: Any, limit: int) -> Any:
    """``value`` with every text longer than ``limit`` characters cut to it, ending in …"""
    if isinstance(value, str):
        return value if len(value) <= limit else value[: max(limit - 1, 0)] + ELLIPSIS
    if isinstance(value, dict):
        return {key: _cut(item, limit) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_cut(item, limit) for item in value]
    return value


def _dumps(document: dict[str, Any]) -> bytes:
    return orjson.dumps(document, option=_JSON_OPTIONS)


def test_body(subscription_id: UUID, base_url: str, now: datetime) -> tuple[str, bytes]:
    """A ``webhook.test`` message and its id, for checking that a receiver is set up."""
    message_id = "msg_test_" + secrets.token_hex(12)
    document = {
        "type": TEST_TYPE,
        "timestamp": rfc3339(now),
        "data": {
            "subscription_id": str(subscription_id),
            "message": "A test message from Incident Ledger: this endpoint receives its webhooks.",
            "links": {"incidents": f"{base_url.rstrip('/')}/ui/incidents"},
        },
    }
    return message_id, _dumps(document)
