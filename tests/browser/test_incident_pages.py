"""The incident page and the postmortem page in Chromium against ``incidents serve`` on
SQLite and PostgreSQL: notes added here and elsewhere, the time slider, a postmortem
edited, published and compared, and markup in notes that must stay text."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser.pages import Site, api, events, sign_in, unique

pytestmark = pytest.mark.browser

Screenshot = Callable[[Page, str], Path]
XSS_NOTES = [
    '<img src=x onerror="window.pwned=1">',
    "<script>window.pwned=1</script>",
]
LIVE_MS = 15_000
"""How long a change made elsewhere may take to reach the open page."""


def _incident(site: Site, title: str = "Checkout returns 502") -> str:
    body = {"title": unique(title), "severity": "SEV2", "services": ["checkout"]}
    incident_id: str = api(site, "POST", "/incidents", body)["id"]
    return incident_id


def _note(page: Page, text: str) -> None:
    form = page.locator("form#note-form")
    form.locator("textarea[name=text]").fill(text)
    form.get_by_role("button", name="Add note").click()


def _edit_section(page: Page, section: str, text: str) -> None:
    """Write a section through its form on the postmortem page, and wait for the page again."""
    form = page.locator(f"form.section-form[data-section={section}]")
    form.evaluate("form => { const shut = form.closest('details'); if (shut) shut.open = true; }")
    form.locator("textarea[name=text]").fill(text)
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        form.locator("button[type=submit]").click()
    assert posted.value.status in {200, 303}, posted.value.status
    expect(page.locator(f"section#history-{section}")).to_contain_text(text)


def test_a_note_from_the_form_appears_on_the_timeline(
    page: Page, site: Site, screenshot: Screenshot
) -> None:
    incident_id = _incident(site)
    sign_in(page, site.writer_token, f"/ui/incidents/{incident_id}")
    text = unique("Rolled back the deploy")
    _note(page, text)
    entry = page.locator("#timeline li.entry.kind-note", has_text=text)
    expect(entry).to_be_visible()
    expect(entry.locator("time")).to_have_count(1)
    expect(page).to_have_url(re.compile(f"/ui/incidents/{incident_id}$"))
    screenshot(page, "incident-note-added")


def test_a_note_is_redacted_from_its_entry(page: Page, site: Site, screenshot: Screenshot) -> None:
    incident_id = _incident(site)
    secret = unique("Customer alice@example.com")
    api(site, "POST", f"/incidents/{incident_id}/notes", {"text": secret})
    sign_in(page, site.writer_token, f"/ui/incidents/{incident_id}")
    entry = page.locator("#timeline li.entry.kind-note", has_text=secret)
    entry.locator("details.redact summary").click()
    entry.locator("input[name=reason]").fill("Personal data")
    # A note written meanwhile elsewhere waits: the open form is not swapped away.
    other = unique("Paged the DBA")
    api(site, "POST", f"/incidents/{incident_id}/notes", {"text": other})
    page.wait_for_timeout(1500)
    expect(entry.locator("input[name=reason]")).to_have_value("Personal data")
    screenshot(page, "incident-note-redacting")
    entry.get_by_role("button", name="Redact note").click()

    redacted = page.locator("#timeline li.entry.redacted")
    expect(redacted).to_contain_text("Personal data")
    expect(page.locator("#timeline")).not_to_contain_text(secret)
    expect(page.locator("#timeline")).to_contain_text(other)
    expect(page).to_have_url(re.compile(f"/ui/incidents/{incident_id}"))
    screenshot(page, "incident-note-redacted")


def test_a_note_posted_elsewhere_appears_without_a_reload(
    page: Page, site: Site, screenshot: Screenshot
) -> None:
    incident_id = _incident(site)
    sign_in(page, site.writer_token, f"/ui/incidents/{incident_id}")
    page.evaluate("window.sameDocument = true")  # gone if the page were loaded again
    text = unique("Database failover finished")
    api(site, "POST", f"/incidents/{incident_id}/notes", {"text": text})
    entry = page.locator("#timeline li.entry.kind-note", has_text=text)
    expect(entry).to_be_visible(timeout=LIVE_MS)
    assert page.evaluate("window.sameDocument") is True
    api(site, "POST", f"/incidents/{incident_id}/status", {"status": "monitoring"})
    expect(page.locator("#summary")).to_contain_text("monitoring", timeout=LIVE_MS)
    assert page.evaluate("window.sameDocument") is True
    screenshot(page, "incident-live")


def test_the_slider_stays_at_now_after_a_live_update(page: Page, site: Site) -> None:
    incident_id = _incident(site)
    sign_in(page, site.writer_token, f"/ui/incidents/{incident_id}")
    text = unique("Traffic drained from eu-west")
    api(site, "POST", f"/incidents/{incident_id}/notes", {"text": text})
    expect(page.locator("#timeline")).to_contain_text(text, timeout=LIVE_MS)
    newest = events(site, incident_id)[-1]["position"]
    slider = page.locator("#as-of-slider")
    expect(slider).to_have_attribute("max", str(newest))
    expect(slider).to_have_value(str(newest))
    expect(page.locator("#as-of-label")).to_contain_text(f"log position {newest} (now)")


def test_a_link_followed_while_the_page_updates_itself_leads_to_its_page(
    page: Page, site: Site
) -> None:
    # The followed page's answer is held back while a change elsewhere refreshes the live
    # parts of the page the link is on; the link's own part is one of them.
    other = _incident(site, "Payments time out")
    incident_id = _incident(site)
    relation = {"relation": "related_to", "other_incident_id": other}
    api(site, "POST", f"/incidents/{incident_id}/relations", relation)
    sign_in(page, site.writer_token, f"/ui/incidents/{incident_id}")
    held: list[Route] = []

    def hold(route: Route) -> None:
        held.append(route)

    page.route(f"**/ui/incidents/{other}", hold)
    with page.expect_request(f"**/ui/incidents/{other}"):
        page.locator(f"#relations li[data-incident='{other}'] a").click()
    api(site, "POST", f"/incidents/{incident_id}/notes", {"text": unique("Pool raised")})
    page.wait_for_timeout(1_000)  # the live refresh's delay (150 ms), several times over
    assert len(held) == 1
    held[0].continue_()
    expect(page.locator(f"#relations li[data-incident='{incident_id}']")).to_be_visible()
    expect(page).to_have_url(re.compile(f"/ui/incidents/{other}$"))


def _resolved_with_sections(site: Site) -> str:
    """A resolved incident whose postmortem has every section publishing needs but one."""
    incident_id = _incident(site, "Payments time out")
    base = f"/incidents/{incident_id}"
    api(site, "PUT", f"{base}/postmortem/sections/summary", {"text": "Payments timed out."})
    api(site, "PUT", f"{base}/postmortem/sections/resolution", {"text": "Pool raised to 80."})
    api(site, "POST", f"{base}/status", {"status": "resolved"})
    return incident_id


def test_a_postmortem_edited_reviewed_published_and_compared(
    page: Page, new_page: Callable[..., Page], site: Site, screenshot: Screenshot
) -> None:
    incident_id = _resolved_with_sections(site)
    postmortem = f"/ui/incidents/{incident_id}/postmortem"
    sign_in(page, site.writer_token, postmortem)
    _edit_section(page, "root_cause", "The pool was too small.")
    _edit_section(page, "root_cause", "The pool was too small for the peak.")
    review = page.locator("form#review-form")
    review.locator("[name=reviewers]").fill("admin")
    review.locator("button[type=submit]").click()
    expect(page.locator("#reviewers li[data-reviewer=admin]")).to_contain_text("waiting")
    expect(page.locator("#publish-missing")).to_contain_text("needs an approval")
    expect(page.locator("form#publish-form")).to_have_count(0)
    screenshot(page, "postmortem-in-review")

    reviewer = new_page()  # the admin, in a browser of their own
    sign_in(reviewer, site.admin_token, postmortem)
    approval = reviewer.locator("form#approve-form")
    approval.locator("[name=comment]").fill("Clear, and the cause is right.")
    approval.get_by_role("button", name="Approve revision 1").click()
    verdict = reviewer.locator("#reviewers li[data-reviewer=admin]")
    expect(verdict).to_have_attribute("data-verdict", "approved")
    expect(verdict).to_contain_text("Clear, and the cause is right.")
    screenshot(reviewer, "postmortem-approved")

    page.reload()
    page.locator("form#publish-form button[type=submit]").click()
    expect(page.locator("ol#revisions li")).to_have_count(1)
    expect(page.locator("ol#revisions a[href*='revision=1']")).to_be_visible()
    _edit_section(page, "root_cause", "The pool was too small; retries doubled the load.")
    expect(page.locator("section#history-root_cause")).to_contain_text("retries doubled")
    screenshot(page, "postmortem-revision-2")

    page.goto(f"{postmortem}/diff?from=1&to=2")
    changed = page.locator("section.diff[data-section=root_cause]")
    expect(changed.locator("del").first).to_be_visible()
    assert "peak" in " ".join(changed.locator("del").all_text_contents())
    assert "retries doubled" in " ".join(changed.locator("ins").all_text_contents())
    untouched = page.locator("section.diff[data-section=summary]")
    expect(untouched.locator("ins, del")).to_have_count(0)
    screenshot(page, "postmortem-diff-1-2")

    page.goto(f"{postmortem}?revision=1")
    published = page.locator("#section-root_cause")
    expect(published).to_contain_text("too small for the peak")
    expect(published).not_to_contain_text("retries doubled")
    expect(page.locator("form.section-form")).to_have_count(0)


def test_the_slider_shows_the_incident_as_recorded_between_two_edits(
    page: Page, site: Site, screenshot: Screenshot
) -> None:
    incident_id = _incident(site)
    section = f"/incidents/{incident_id}/postmortem/sections/impact"
    api(site, "PUT", section, {"text": "Checkout failed for *some* users."})
    api(site, "POST", f"/incidents/{incident_id}/notes", {"text": "Between the two edits"})
    api(site, "PUT", section, {"text": "Checkout failed for **every** user."})
    edits = [e for e in events(site, incident_id) if e["type"].startswith("postmortem.")]
    first, second = edits[0]["position"], edits[-1]["position"]
    assert first < second
    sign_in(page, site.reader_token, f"/ui/incidents/{incident_id}")
    sections = page.locator("#postmortem-sections")
    expect(sections).to_contain_text("every user")

    page.locator("#as-of-slider").fill(str(first))
    expect(page.locator("#as-of-label")).to_contain_text(f"log position {first}")
    expect(page.locator("#as-of-banner")).to_contain_text(f"log position {first}")
    expect(sections).to_contain_text("some users")
    expect(sections).not_to_contain_text("every user")
    expect(page.locator("#timeline")).not_to_contain_text("Between the two edits")
    expect(page).to_have_url(re.compile(rf"as_of={first}$"))
    screenshot(page, "incident-time-travel")

    page.locator("#as-of-banner a").click()
    expect(page.locator("#as-of-banner")).to_have_count(0)
    expect(sections).to_contain_text("every user")


def test_the_show_button_travels_without_javascript(
    new_page: Callable[..., Page], site: Site
) -> None:
    incident_id = _incident(site)
    declared = events(site, incident_id)[0]["position"]
    api(site, "POST", f"/incidents/{incident_id}/notes", {"text": "Later"})
    page = new_page(javascript=False)
    sign_in(page, site.writer_token, f"/ui/incidents/{incident_id}")
    page.locator("#as-of-slider").fill(str(declared))
    page.locator("form#time-travel").get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(rf"\?as_of={declared}$"))
    expect(page.locator("#as-of-banner")).to_be_visible()
    expect(page.locator("#timeline")).not_to_contain_text("Later")
    expect(page.locator("form#note-form")).to_have_count(0)


def test_notes_with_markup_run_nothing(page: Page, site: Site, screenshot: Screenshot) -> None:
    incident_id = _incident(site)
    base = f"/incidents/{incident_id}"
    markdown = 'Fine.\n\n<img src=x onerror="window.pwned=1">\n\n[click](javascript:window.pwned=1)'
    api(site, "PUT", f"{base}/postmortem/sections/impact", {"text": markdown})
    sign_in(page, site.writer_token, f"/ui{base}")
    for text in XSS_NOTES:
        _note(page, text)
        expect(page.locator("#timeline li.entry.kind-note", has_text=text)).to_be_visible()
    for text in XSS_NOTES:  # through the live refresh this time
        api(site, "POST", f"{base}/notes", {"text": f"{text} (live)"})
        entry = page.locator("#timeline li.entry.kind-note", has_text=f"{text} (live)")
        expect(entry).to_be_visible(timeout=LIVE_MS)
    assert page.evaluate("window.pwned") is None
    assert page.locator("#timeline img, #timeline script").count() == 0
    assert page.locator("#postmortem-sections img, a[href^='javascript:']").count() == 0
    screenshot(page, "incident-markup-notes")
    page.goto(f"/ui{base}/postmortem")
    expect(page.locator("main")).to_contain_text("Fine.")
    assert page.evaluate("window.pwned") is None
    assert page.locator("main img, a[href^='javascript:']").count() == 0
