"""A timeline page is written straight to JSON: it must be exactly what its response
model (``Timeline``) would have produced from the same entries."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient

from api.schemas.timeline import Timeline
from tests.api.helpers import declare, ok


def test_a_timeline_page_is_its_response_model_to_the_letter(client: TestClient) -> None:
    incident = declare(client)
    base = f"/incidents/{incident}"
    ok(client.post(f"{base}/acknowledge"))
    on_the_minute = datetime(2026, 1, 2, 4, 5, tzinfo=UTC).isoformat()  # no microseconds
    noted = client.post(
        f"{base}/notes",
        json={"text": "Rolled back 4812 — “quoted”, ü, 🚒", "occurred_at": on_the_minute},
    )
    ok(noted, 201)
    note_id = noted.headers["Location"].rsplit("/", 1)[-1]
    ok(client.post(f"{base}/notes", json={"text": "public update", "visibility": "public"}), 201)
    entry = client.get(f"{base}/timeline").json()["entries"][-1]["id"]
    ok(client.patch(f"{base}/timeline/{entry}", json={"text": "public update, amended"}))
    ok(client.post(f"{base}/status", json={"status": "resolved"}))

    response = client.get(f"{base}/timeline", params={"limit": 3})
    assert response.headers["content-type"] == "application/json"
    page = response.json()
    assert len(page["entries"]) == 3
    assert page["next"] is not None
    # Through the model and back: the same JSON value, field for field, in the same order.
    modelled = Timeline.model_validate(page).model_dump(mode="json")
    assert modelled == page
    assert [list(e) for e in page["entries"]] == [list(e) for e in modelled["entries"]]
    back_dated = [e for e in page["entries"] if e["id"] == note_id]
    assert back_dated[0]["occurred_at"] == "2026-01-02T04:05:00Z"
    assert back_dated[0]["text"] == "Rolled back 4812 — “quoted”, ü, 🚒"

    rest = client.get(page["next_url"].removeprefix("http://testserver")).json()
    assert Timeline.model_validate(rest).model_dump(mode="json") == rest
    amended = [e for e in rest["entries"] if e["amended_at"] is not None]
    assert [e["text"] for e in amended] == ["public update, amended"]
    assert amended[0]["amended_at"].endswith("Z")
