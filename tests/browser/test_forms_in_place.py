"""Forms sent from far down a page, in Chromium against ``incidents serve`` on SQLite and
PostgreSQL: the answer leaves the reader where they were, a refusal's message in view
and focused, a success with its form, entry or section where it was on the screen; and a
note amended from its entry."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.pages import Console, Site, api, sign_in, unique

pytestmark = pytest.mark.browser

Screenshot = Callable[[Page, str], Path]
MOVED_AT_MOST_PX = 2


def _incident(site: Site) -> str:
    """An incident with a timeline long enough to push its lower forms off the screen."""
    body = {"title": unique("Checkout returns 502"), "severity": "SEV2", "services": ["checkout"]}
    incident_id: str = api(site, "POST", "/incidents", body)["id"]
    for n in range(8):
        api(site, "POST", f"/incidents/{incident_id}/notes", {"text": f"Step {n} of the rollback"})
    return incident_id


def _top(locator: Locator) -> float:
    """Where the element's top is on the screen. The live refresh that follows each event
    replaces the timeline's entries, and an entry replaced while it is measured has no box:
    measure the one that takes its place."""
    for _ in range(50):
        box = locator.bounding_box()
        if box is not None:
            return box["y"]
        locator.page.wait_for_timeout(100)
    raise AssertionError(f"{locator} stayed without a box on the screen for 5 s")


def _sent(page: Page, send: Callable[[], None]) -> None:
    """Send a form and wait for its answer (the page is swapped right after it)."""
    with page.expect_response(lambda r: r.request.method == "POST"):
        send()


def test_a_refused_form_keeps_its_place_and_its_message_takes_the_focus(
    page: Page, site: Site, console: Console, screenshot: Screenshot
) -> None:
    console.allow(r"status of 422")  # the refused form's answer
    incident_id = _incident(site)
    sign_in(page, site.writer_token, f"/ui/incidents/{incident_id}")
    form = page.locator("form#action-item-form")
    form.scroll_into_view_if_needed()
    form.locator("[name=title]").fill("Alert on pool use")
    form.locator("[name=owner]").fill("alice")
    form.locator("[name=due_date]").fill("2020-01-01")  # before the incident started
    assert page.evaluate("window.scrollY") > 0
    _sent(page, lambda: form.locator("[name=title]").press("Enter"))

    message = page.locator("[data-form-error=action-item]")
    expect(message).to_be_focused()
    expect(message).to_be_in_viewport()
    expect(form.get_by_role("button", name="Add action item")).to_be_in_viewport()
    expect(form.locator("[name=title]")).to_have_value("Alert on pool use")
    expect(page).to_have_url(re.compile(f"/ui/incidents/{incident_id}$"))
    screenshot(page, "form-refused")


def test_a_refused_redaction_stays_at_its_note(page: Page, site: Site, console: Console) -> None:
    console.allow(r"status of 422")  # the refused form's answer
    incident_id = _incident(site)
    sign_in(page, site.writer_token, f"/ui/incidents/{incident_id}")
    entry = page.locator("#timeline li.entry.kind-note", has_text="Step 3 of the rollback")
    entry.locator("details.redact summary").click()
    entry.locator("input[name=reason]").fill("   ")  # nothing but spaces: no reason
    button = entry.get_by_role("button", name="Redact note")
    button.scroll_into_view_if_needed()
    before = _top(entry)
    assert page.evaluate("window.scrollY") > 0
    _sent(page, button.click)

    message = entry.locator("[data-form-error=redaction]")
    expect(message).to_be_focused()
    expect(message).to_be_in_viewport()
    assert abs(_top(entry) - before) <= MOVED_AT_MOST_PX
    expect(entry).to_contain_text("Step 3 of the rollback")


def test_a_saved_section_stays_where_it_was(page: Page, site: Site) -> None:
    incident_id = _incident(site)
    sign_in(page, site.writer_token, f"/ui/incidents/{incident_id}/postmortem")
    section = page.locator("section#section-resolution")
    section.locator("details.editor summary").click()
    section.locator("textarea[name=text]").fill("Rolled back deploy 4812.")
    section.get_by_role("button", name="Save resolution").scroll_into_view_if_needed()
    before = _top(section)
    assert page.evaluate("window.scrollY") > 0
    _sent(page, lambda: section.get_by_role("button", name="Save resolution").click())

    expect(section.locator("p", has_text="Rolled back deploy 4812.")).to_be_visible()
    assert abs(_top(section) - before) <= MOVED_AT_MOST_PX
    expect(section).to_be_in_viewport()


def test_a_note_is_amended_from_its_entry(page: Page, site: Site, screenshot: Screenshot) -> None:
    incident_id = _incident(site)
    sign_in(page, site.writer_token, f"/ui/incidents/{incident_id}")
    entry = page.locator("#timeline li.entry.kind-note", has_text="Step 5 of the rollback")
    entry.locator("details.amend summary").click()
    text = entry.locator("textarea[name=text]")
    expect(text).to_have_value("Step 5 of the rollback")
    text.fill("Step 5 of the rollback: drained eu-west\nthen us-east")
    screenshot(page, "note-amending")
    button = entry.get_by_role("button", name="Amend note")
    button.scroll_into_view_if_needed()  # a whole-page screenshot scrolls the page
    before = _top(entry)
    _sent(page, button.click)

    amended = page.locator("#timeline li.entry.kind-note", has_text="drained eu-west")
    expect(amended.locator(".amended")).to_be_visible()
    expect(amended.locator("p.note-text")).to_have_text(
        "Step 5 of the rollback: drained eu-west\nthen us-east"
    )
    expect(amended.locator("details.earlier")).to_contain_text("Step 5 of the rollback")
    assert abs(_top(amended) - before) <= MOVED_AT_MOST_PX
    expect(amended).to_be_in_viewport()
    stored = api(site, "GET", f"/incidents/{incident_id}/timeline")["entries"]
    assert "Step 5 of the rollback: drained eu-west\nthen us-east" in [e["text"] for e in stored]
    screenshot(page, "note-amended")

    reason = {"redacted": True, "reason": "Held a customer's address"}
    api(site, "PATCH", f"/incidents/{incident_id}/timeline/{_entry_id(amended)}", reason)
    page.reload()
    redacted = page.locator("#timeline li.entry.redacted")
    expect(redacted).to_contain_text("Held a customer's address")
    expect(redacted.locator("details.amend, details.redact")).to_have_count(0)


def _entry_id(entry: Locator) -> str:
    found = entry.get_attribute("id")
    assert found is not None
    return found.removeprefix("entry-")


def test_an_answer_that_is_a_page_of_its_own_is_read_from_the_top(page: Page, site: Site) -> None:
    # Adding a webhook answers with its signing secret, shown once, atop the list.
    page.set_viewport_size({"width": 1280, "height": 480})
    sign_in(page, site.admin_token, "/ui/webhooks")
    form = page.locator("#add-webhook-form")
    form.locator("[name=url]").fill("http://127.0.0.1:9/hooks")
    form.locator("[name=types]").fill("incident.")
    form.locator("[name=description]").fill(unique("Ops channel"))
    button = form.get_by_role("button", name="Add subscription")
    button.scroll_into_view_if_needed()
    assert page.evaluate("window.scrollY") > 0
    _sent(page, button.click)

    expect(page.locator("#new-secret")).to_be_in_viewport()
