"""Example documents, shown with the document types in the OpenAPI description."""

from __future__ import annotations

from typing import Any

INCIDENT_ID = "0b7c6f2e-3f57-4b2c-9a53-3d7d2f0f4a10"
ITEM_ID = "5f0e8a7c-1d2b-4c3e-8f9a-0b1c2d3e4f50"

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

POSTMORTEM: dict[str, Any] = {
    "incident_id": INCIDENT_ID,
    "title": "Checkout returns 502",
    "revision": 2,
    "latest_revision": 2,
    "status": "published",
    "published_revisions": [1, 2],
    "published_at": "2026-03-04T16:30:00Z",
    "published_by": "alice",
    "review_requested_at": "2026-03-04T10:00:00Z",
    "sections": {
        "summary": "Checkout failed for 42 minutes after deploy 4812.",
        "root_cause": "Deploy 4812 halved the payments connection pool.",
        "resolution": "Rolled back deploy 4812.",
    },
    "incident": INCIDENT_SUMMARY,
    "timeline": [],
    "action_items": [],
}
