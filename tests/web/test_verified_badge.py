"""The postmortem page's "Verified" badge, on SQLite and PostgreSQL: a published revision with
a proof shows its log position, short chain hash and signing time; a draft, and a
revision published without a proof, show no badge."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from application.settings import Settings
from tests.api.helpers import declare, ok, review_and_approve, use_clock
from tests.clocks import FakeClock
from tests.web.conftest import ADMIN_TOKEN, WebUser
from tests.web.test_postmortem_page import block

SECTIONS = {"summary": "Checkout failed.", "root_cause": "Pool ran dry.", "resolution": "Rollback."}


@pytest.fixture
def web_settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        admin_token=ADMIN_TOKEN,
        events_stream_max_seconds=0.2,
        log_signing_key_file=str(tmp_path / "log-signing.key"),
    )


def published(api: TestClient, reviewer: str = "reviewer") -> str:
    incident_id = declare(api)
    ok(api.post(f"/incidents/{incident_id}/status", json={"status": "resolved"}))
    for section, words in SECTIONS.items():
        ok(api.put(f"/incidents/{incident_id}/postmortem/sections/{section}", json={"text": words}))
    review_and_approve(api, incident_id, reviewer)
    ok(api.post(f"/incidents/{incident_id}/postmortem/publish"))
    return incident_id


def status_line(web: WebUser, incident_id: str, **params: str) -> str:
    page = web.get(f"/ui/incidents/{incident_id}/postmortem", **params)
    assert page.status_code == 200, page.text
    return block(page.text, '<p class="pm-status"')


def test_a_proven_revision_shows_the_badge(api: TestClient, web: WebUser) -> None:
    incident_id = published(api)
    proof: dict[str, Any] = ok(api.get(f"/incidents/{incident_id}/postmortem"))["proof"]
    line = status_line(web, incident_id)
    assert "Verified" in line
    assert f"log position {proof['position']}" in line
    assert f"<code>{proof['chain_hash'][:12]}…</code>" in line
    signed = datetime.strptime(proof["signed_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert f'datetime="{signed.isoformat()}"' in line
    assert (
        f'title="Published as of log position {proof["position"]}, chain {proof["chain_hash"]}'
        in line
    )

    # Revision 2 is a draft: no badge there, and revision 1 keeps its own.
    ok(api.put(f"/incidents/{incident_id}/postmortem/sections/summary", json={"text": "More."}))
    assert "Verified" not in status_line(web, incident_id)
    assert "Verified" in status_line(web, incident_id, revision="1")


def test_a_revision_published_without_a_proof_shows_no_badge(api: TestClient, web: WebUser) -> None:
    use_clock(api, FakeClock(datetime.now(UTC)))  # a service that proves nothing
    incident_id = published(api)
    line = status_line(web, incident_id)
    assert "published" in line
    assert "Verified" not in line
