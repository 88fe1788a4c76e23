"""Signing in, declaring, refusals and the page policy, in Chromium against ``incidents
serve`` on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import Console, Site, api, declare, events, sign_in, titles, unique

pytestmark = pytest.mark.browser

Screenshot = Callable[[Page, str], Path]
XSS_TITLES = ['<img src=x onerror="window.pwned=1">', "<script>window.pwned=1</script>"]


def test_sign_in_through_the_form(
    page: Page, site: Site, console: Console, screenshot: Screenshot
) -> None:
    console.allow(r"status of 401")  # the wrong token's answer
    page.goto("/ui/incidents")
    expect(page).to_have_url(re.compile(r"/ui/sign-in\?next=%2Fui%2Fincidents$"))
    screenshot(page, "sign-in")
    page.fill("#token", "il_not-a-token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#sign-in-error")).to_be_visible()
    assert page.context.cookies() == []
    page.fill("#token", site.admin_token)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/ui/incidents$"))
    expect(page.get_by_role("banner")).to_contain_text("Signed in as admin")


def test_declare_an_incident_and_find_it_in_the_list(
    page: Page, site: Site, screenshot: Screenshot
) -> None:
    sign_in(page, site.writer_token)
    title = unique("Checkout returns 502")
    incident_id = declare(page, title, "SEV1", "checkout, payments")
    expect(page.locator("#summary")).to_contain_text(title)
    page.goto("/ui/incidents")
    link = page.get_by_role("link", name=title)
    expect(link).to_be_visible()
    assert link.get_attribute("href") == f"/ui/incidents/{incident_id}"
    screenshot(page, "incidents")
    assert title in titles(site)


def test_titles_with_markup_run_nothing(page: Page, site: Site) -> None:
    sign_in(page, site.writer_token)
    for title in XSS_TITLES:
        incident_id = declare(page, title)
        expect(page.locator("#summary")).to_contain_text(title)
        assert page.evaluate("window.pwned") is None
        page.goto("/ui/incidents")
        expect(page.get_by_role("link", name=title)).to_be_visible()
        page.goto(f"/ui/incidents/{incident_id}/postmortem")
        assert page.evaluate("window.pwned") is None
    page.goto("/ui/incidents")
    assert page.evaluate("window.pwned") is None
    assert page.locator("main img").count() == 0


@pytest.mark.parametrize("sent_by", ["htmx", "the browser"])
def test_a_form_without_its_csrf_value_is_refused(
    page: Page, site: Site, console: Console, screenshot: Screenshot, sent_by: str
) -> None:
    console.allow(r"status of 403")
    sign_in(page, site.writer_token)
    title = unique("Forged declaration")
    form = page.locator("#declare-form")
    form.locator("[name=title]").fill(title)
    # A forged form carries neither the hidden field nor the header htmx adds from <body>.
    form.evaluate(
        """(form, plain) => {
            form.querySelector("input[name=csrf_token]").remove();
            document.body.removeAttribute("hx-headers");
            if (plain) form.setAttribute("hx-boost", "false");
        }""",
        sent_by == "the browser",
    )
    with page.expect_response(lambda r: r.request.method == "POST") as refused:
        form.get_by_role("button", name="Declare").click()
    assert refused.value.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    if sent_by == "the browser":
        screenshot(page, "refused-form")
    assert title not in titles(site)


def test_a_read_token_is_shown_no_forms(page: Page, site: Site, screenshot: Screenshot) -> None:
    incident = api(site, "POST", "/incidents", {"title": unique("Read only"), "severity": "SEV3"})
    sign_in(page, site.reader_token)
    for path in (
        "/ui/incidents",
        f"/ui/incidents/{incident['id']}",
        f"/ui/incidents/{incident['id']}/postmortem",
        "/ui/action-items",
    ):
        page.goto(path)
        expect(page.get_by_role("banner")).to_contain_text("(read only)")
        posting = page.locator("form:not([method=get]):not([method=GET])")
        expect(posting).to_have_count(1)
        assert posting.get_attribute("action") == "/ui/sign-out"
        expect(page.locator("[name=csrf_token]")).to_have_count(1)
        expect(page.locator("textarea")).to_have_count(0)
    page.goto(f"/ui/incidents/{incident['id']}")
    screenshot(page, "incident-read-only")


def test_sign_out_ends_the_session(page: Page, site: Site) -> None:
    sign_in(page, site.writer_token)
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/ui/sign-in$"))
    assert page.context.cookies() == []
    page.goto("/ui/incidents")
    expect(page).to_have_url(re.compile(r"/ui/sign-in\?next=%2Fui%2Fincidents$"))
    page.goto("/ui/action-items")
    expect(page).to_have_url(re.compile(r"/ui/sign-in\?next="))


def _incident_with_history(site: Site) -> str:
    """An incident with a note, an action item, a postmortem section and a status change."""
    incident_id: str = api(
        site,
        "POST",
        "/incidents",
        {"title": unique("Payments time out"), "severity": "SEV2", "services": ["payments"]},
    )["id"]
    base = f"/incidents/{incident_id}"
    api(site, "POST", f"{base}/notes", {"text": "Pool at **100%**; see `db-3`."})
    due = (datetime.now(UTC) + timedelta(days=7)).date().isoformat()
    item = {"title": "Alert on pool use", "kind": "preventative", "owner": "alice", "due_date": due}
    api(site, "POST", f"{base}/action-items", item)
    api(site, "PUT", f"{base}/postmortem/sections/summary", {"text": "The pool *ran dry*."})
    api(site, "POST", f"{base}/status", {"status": "identified"})
    return incident_id


def test_no_page_logs_an_error_or_breaks_the_policy(
    page: Page, site: Site, screenshot: Screenshot
) -> None:
    incident_id = _incident_with_history(site)
    sign_in(page, site.admin_token)
    pages = {
        "incident-list": "/ui/incidents?severity=SEV2",
        "incident": f"/ui/incidents/{incident_id}",
        "incident-as-of": f"/ui/incidents/{incident_id}?as_of={events(site, incident_id)[1]['position']}",
        "postmortem": f"/ui/incidents/{incident_id}/postmortem",
        "postmortem-diff": f"/ui/incidents/{incident_id}/postmortem/diff?from=1",
        "action-items": "/ui/action-items",
        "insights-default": "/ui/insights",
        "search-pool": "/ui/search?q=pool",
        "sign-out": "/ui/sign-out",
    }
    for label, path in pages.items():
        page.goto(path)
        expect(page.locator("main")).to_be_visible()
        page.wait_for_timeout(300)  # scripts that run after load (live.js opens its stream)
        screenshot(page, label)
    # The console watcher fails the test on any error these pages logged.
