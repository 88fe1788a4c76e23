"""Example answers of the read routes, for the OpenAPI document (and its readers)."""

from __future__ import annotations

from typing import Any

from projections.documents.examples import ACTION_ITEM, INCIDENT_ID, INCIDENT_SUMMARY

CURSOR = "MjAyNi0wMy0wMlQxMDo0MjowMCswMDowMHwwYjdjNmYyZS0zZjU3LTRiMmMtOWE1My0zZDdkMmYwZjRhMTA"

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


RELATIONS: list[dict[str, Any]] = [
    {
        "incident_id": "0f8fad5b-d9cb-469f-a165-70867728950e",
        "relation": "duplicate_of",
        "recorded_by_this": True,
        "actor": "alice",
        "recorded_at": "2026-03-02T10:20:00Z",
    }
]

DUE_POSTMORTEMS: dict[str, Any] = {
    "items": [
        {
            "incident_id": INCIDENT_ID,
            "title": "Checkout API returns 502",
            "severity": "SEV2",
            "status": "resolved",
            "kind": "incident",
            "resolved_at": "2026-03-02T11:05:00Z",
            "postmortem_status": "draft",
            "due_date": "2026-03-09",
            "due_date_is_default": True,
            "overdue": True,
            "days_overdue": 2,
        }
    ],
    "business_days": 5,
    "today": "2026-03-11",
}


def answers(example: Any, media_type: str = "application/json") -> dict[int | str, Any]:
    """``responses=`` for a route decorator: ``example`` as the 200 answer's example."""
    return {200: {"content": {media_type: {"example": example}}}}
