"""Example answers of the read routes, for the OpenAPI document (and its readers)."""

from __future__ import annotations

from typing import Any

INCIDENT_ID = "0b7c6f2e-3f57-4b2c-9a53-3d7d2f0f4a10"
ITEM_ID = "5f0e8a7c-1d2b-4c3e-8f9a-0b1c2d3e4f50"
CURSOR = "MjAyNi0wMy0wMlQxMDo0MjowMCswMDowMHwwYjdjNmYyZS0zZjU3LTRiMmMtOWE1My0zZDdkMmYwZjRhMTA"

INCIDENT_SUMMARY: dict[str, Any] = {
    "id": INCIDENT_ID,
    "title": "Checkout API returns 502",
    "status": "identified",
    "severity": "SEV2",
    "services": ["checkout", "payments"],
    "summary": "Error rate above 20% since the 14:00 deploy",
    "declared_by": "pager-bridge",
    "declared_at": "2026-03-02T10:03:12Z",
    "started_at": "2026-03-02T10:00:00Z",
    "detected_at": "2026-03-02T10:02:00Z",
    "acknowledged_at": "2026-03-02T10:04:30Z",
    "resolved_at": None,
    "closed_at": None,
    "impact": "30% of checkouts failed with HTTP 502",
    "root_cause": None,
    "resolution": None,
    "mitigated_at": "2026-03-02T10:42:00Z",
    "roles": {"incident_commander": "alice", "scribe": "carol"},
    "participants": ["alice", "bob", "carol"],
    "action_items": {"open": 1, "in_progress": 1, "done": 0, "wont_do": 0},
    "postmortem_status": "draft",
    "postmortem_revision": 1,
    "time_to_detect_seconds": 120.0,
    "time_to_acknowledge_seconds": 150.0,
    "time_to_resolve_seconds": None,
    "time_to_mitigate_seconds": 2400.0,
    "duration_seconds": None,
    "version": 9,
    "last_position": 1234,
    "updated_at": "2026-03-02T11:00:00Z",
}

INCIDENT_PAGE: dict[str, Any] = {
    "items": [INCIDENT_SUMMARY],
    "next": CURSOR,
    "next_url": f"https://incidents.example.com/incidents?status=identified&limit=1&cursor={CURSOR}",
}

TIMELINE: dict[str, Any] = {
    "incident_id": INCIDENT_ID,
    "entries": [
        {
            "id": "358e966f-6ffd-4e14-acff-db7e62458ca0",
            "kind": "declared",
            "text": "Incident declared: Checkout API returns 502 (SEV2)",
            "actor": "pager-bridge",
            "details": {"severity": "SEV2", "services": ["checkout", "payments"]},
            "occurred_at": "2026-03-02T10:00:00Z",
            "recorded_at": "2026-03-02T10:03:12Z",
            "amended_at": None,
            "position": 1201,
        },
        {
            "id": "0eb435bd-fd71-4121-81da-67a0f5d6c053",
            "kind": "note",
            "text": "Rolled back deploy 4812",
            "actor": "alice",
            "details": {"visibility": "internal"},
            "occurred_at": "2026-03-02T10:40:00Z",
            "recorded_at": "2026-03-02T10:41:05Z",
            "amended_at": None,
            "position": 1220,
        },
    ],
    "next": None,
    "next_url": None,
}

ACTION_ITEM: dict[str, Any] = {
    "id": ITEM_ID,
    "incident_id": INCIDENT_ID,
    "title": "Alert on connection-pool saturation",
    "kind": "preventative",
    "owner": "alice",
    "due_date": "2026-03-16",
    "priority": "P2",
    "status": "open",
    "reason": None,
    "ticket_url": "https://tracker.example.com/OPS-812",
    "overdue": False,
    "created_at": "2026-03-02T11:00:00Z",
    "updated_at": "2026-03-02T11:00:00Z",
    "position": 1234,
}

ACTION_ITEM_LIST: dict[str, Any] = {"incident_id": INCIDENT_ID, "items": [ACTION_ITEM]}

ACTION_ITEM_PAGE: dict[str, Any] = {"items": [ACTION_ITEM], "next": None, "next_url": None}

HEALTHZ: dict[str, Any] = {"status": "ok"}

READYZ: dict[str, Any] = {
    "status": "ready",
    "database": "ok",
    "projection_mode": "inline",
    "projections": [
        {
            "name": "incident_summary",
            "version": 3,
            "stored_version": 3,
            "position": 1234,
            "lag": 0,
            "rebuilding": False,
        }
    ],
}

METRICS = """\
# HELP incidents_http_requests_total HTTP requests by method, route and status.
# TYPE incidents_http_requests_total counter
incidents_http_requests_total{method="GET",route="/incidents/{incident_id}",status="200"} 42.0
# HELP incidents_events_appended_total Events appended to the log by this process.
# TYPE incidents_events_appended_total counter
incidents_events_appended_total 17.0
# HELP incidents_projection_lag_events Events in the log that a projection has not applied yet.
# TYPE incidents_projection_lag_events gauge
incidents_projection_lag_events{projection="incident_summary"} 0.0
"""


def answers(example: Any, media_type: str = "application/json") -> dict[int | str, Any]:
    """``responses=`` for a route decorator: ``example`` as the 200 answer's example."""
    return {200: {"content": {media_type: {"example": example}}}}
