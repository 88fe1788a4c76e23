"""An alert's erased text on the incident page, in Chromium against ``incidents serve`` on SQLite
and PostgreSQL: the firing stays on the timeline with its name and links, says who erased
its text and why, and the text itself is nowhere on the page."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.pages import Site, api, sign_in, unique

Screenshot = Callable[[Page, str], Path]
# The whole number, hyphens and all: a bare "4111" turns up by chance in
# incident ids and in the hex suffix of alert names.
CARD_NUMBER = "4111-1111-1111-1111"
SECRET = f"card {CARD_NUMBER}"


def _notification(name: str, annotation: str) -> dict[str, Any]:
    fixture = (
        Path(__file__).parents[1] / "fixtures" / "monitoring" / "alertmanager-0.25-firing.json"
    )
    body: dict[str, Any] = json.loads(fixture.read_text())["body"]
    starts = (datetime.now(UTC) - timedelta(minutes=20)).isoformat()
    alert = {
        "status": "firing",
        "labels": {"alertname": name, "service": "payments", "severity": "critical"},
        "annotations": {"summary": f"{name} for {annotation}", "description": annotation},
        "startsAt": starts,
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.example:9090/graph?g0.expr=up",
        "fingerprint": unique("fp"),
    }
    body.update(
        alerts=[alert],
        groupKey=unique('{}:{team="pay"}'),
        status="firing",
        commonLabels={"alertname": name},
        commonAnnotations={},
        groupLabels={},
    )
    return body


def _fired(site: Site) -> tuple[str, str]:
    """An alert with the secret in its text, sent by Alertmanager: its name, its incident."""
    name = unique("CheckoutErrors")
    answer = api(site, "POST", "/hooks/alertmanager", _notification(name, SECRET))
    return name, answer["incidents"][0]["id"]


def test_an_erased_alert_keeps_its_place_and_says_who_erased_its_text(
    page: Page, site: Site, screenshot: Screenshot
) -> None:
    name, incident_id = _fired(site)
    base = f"/incidents/{incident_id}"
    (fired,) = [
        e for e in api(site, "GET", f"{base}/timeline")["entries"] if e["kind"] == "alert_fired"
    ]
    api(
        site,
        "POST",
        f"{base}/alerts/redactions",
        {"alert_key": fired["details"]["alert_key"], "reason": "a customer's card number"},
    )

    sign_in(page, site.reader_token, f"/ui{base}")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text(
        f"Alert firing: {name} (its text was redacted by admin: a customer's card number)"
    )
    expect(timeline).to_contain_text(f"Alert text redacted: {name}: a customer's card number")
    expect(page.locator("body")).not_to_contain_text(CARD_NUMBER)
    # The firing's links and labels stay: they were never sealed.
    expect(timeline.get_by_role("link", name="Source")).to_have_count(1)
    screenshot(page, "incident-alert-erased")


def test_an_alert_text_is_erased_from_the_incident_page(
    page: Page, site: Site, screenshot: Screenshot
) -> None:
    name, incident_id = _fired(site)
    sign_in(page, site.writer_token, f"/ui/incidents/{incident_id}")
    entry = page.locator("#timeline li.entry.kind-alert", has_text=SECRET)
    entry.locator("details.redact summary").click()
    entry.locator("input[name=reason]").fill("a customer's card number")
    screenshot(page, "incident-alert-erasing")
    entry.get_by_role("button", name="Erase alert text").click()

    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text(f"Alert text redacted: {name}: a customer's card number")
    expect(page.locator("body")).not_to_contain_text(CARD_NUMBER)
    expect(timeline.locator("form[action$='/alert-erasures']")).to_have_count(0)
