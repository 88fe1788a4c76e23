"""The "Verified" badge of a published postmortem revision in Chromium against ``incidents
serve`` on SQLite and PostgreSQL: shown with the proof's position, short chain hash and
signing time, and the whole proof in its tooltip."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from tests.browser.pages import Site, api, sign_in, unique

Screenshot = Callable[[Page, str], Path]
SECTIONS = {
    "summary": "Payments timed out for 40 minutes.",
    "root_cause": "The payments pool was too small for the peak.",
    "resolution": "Pool raised to 80.",
}


def _published(site: Site) -> str:
    """A resolved incident whose revision 1 the admin wrote, alice approved, and was published."""
    body = {"title": unique("Payments time out"), "severity": "SEV2", "services": ["payments"]}
    incident_id: str = api(site, "POST", "/incidents", body)["id"]
    base = f"/incidents/{incident_id}"
    api(site, "POST", f"{base}/status", {"status": "resolved"})
    for section, text in SECTIONS.items():
        api(site, "PUT", f"{base}/postmortem/sections/{section}", {"text": text})
    api(site, "POST", f"{base}/postmortem/review", {"reviewers": ["alice"]})
    with httpx.Client(
        base_url=site.url, headers={"Authorization": f"Bearer {site.writer_token}"}, timeout=10
    ) as alice:
        alice.post(f"{base}/postmortem/approve").raise_for_status()
    api(site, "POST", f"{base}/postmortem/publish")
    return incident_id


def test_a_published_revision_shows_its_verified_badge(
    page: Page, site: Site, screenshot: Screenshot
) -> None:
    incident_id = _published(site)
    proof = api(site, "GET", f"/incidents/{incident_id}/postmortem")["proof"]
    sign_in(page, site.reader_token, f"/ui/incidents/{incident_id}/postmortem")
    badge = page.locator("#pm-proof")
    expect(badge).to_be_visible()
    expect(badge.locator(".badge")).to_have_text("Verified")
    expect(badge).to_contain_text(f"log position {proof['position']}")
    expect(badge).to_contain_text(f"{proof['chain_hash'][:12]}…")
    title = badge.get_attribute("title") or ""
    assert proof["chain_hash"] in title
    assert proof["document_sha256"] in title
    screenshot(page, "postmortem-verified")
