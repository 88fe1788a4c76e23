"""The webhooks pages in Chromium against ``incidents serve`` on SQLite and PostgreSQL: an
admin adds a subscription to a receiver on 127.0.0.1, copies its secret, sends a test
event, watches the served deliverer deliver an incident's declaration, disables, rotates
and deletes; a refused field is named beside the form; other tokens are refused."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.pages import Console, Site, api, sign_in, unique
from tests.outbound.receiver import receiving

pytestmark = pytest.mark.browser

Screenshot = Callable[[Page, str], Path]
SECRET = re.compile(r"^whsec_[A-Za-z0-9+/=]{40,}$")
SUBSCRIPTION_URL = re.compile(r"/ui/webhooks/[0-9a-f-]{36}$")
DELIVERED_WITHIN = 10.0
"""Seconds the served deliverer has to deliver an incident's declaration and record it."""


def _add(page: Page, url: str, description: str, *, types: str = "incident.") -> None:
    """Fill in and send the add form."""
    form = page.locator("#add-webhook-form")
    form.locator("[name=url]").fill(url)
    form.locator("[name=types]").fill(types)
    form.locator("[name=format]").select_option("standard")
    form.get_by_label("SEV1").check()
    form.get_by_label("SEV2").check()
    form.locator("[name=services]").fill("checkout")
    form.locator("[name=description]").fill(description)
    form.get_by_role("button", name="Add subscription").click()


def _nav_link(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Main").get_by_role("link", name="Webhooks")


def _log_row(page: Page, event_type: str) -> Locator:
    return page.locator(f"#delivery-log tr[data-event-type='{event_type}']")


def _reload_until_logged(page: Page, event_type: str) -> Locator:
    """The delivery log's row for ``event_type``, reloading until the deliverer records it."""
    deadline = time.monotonic() + DELIVERED_WITHIN
    row = _log_row(page, event_type)
    while row.count() == 0 and time.monotonic() < deadline:
        time.sleep(0.25)
        page.reload()
    expect(row).to_have_count(1)
    return row


def test_an_admin_adds_tests_and_disables_a_webhook(
    page: Page, site: Site, screenshot: Screenshot
) -> None:
    with receiving() as receiver:
        sign_in(page, site.admin_token, "/ui/webhooks")
        expect(_nav_link(page)).to_have_attribute("aria-current", "page")
        description = unique("Ops channel")
        _add(page, receiver.url, description)

        box = page.locator(".secret-box")
        expect(box).to_be_visible()
        expect(box).to_contain_text("Copy it now: it is not shown again.")
        secret = page.locator("#new-secret").inner_text()
        assert SECRET.match(secret), secret
        row = page.locator("#webhooks tr", has_text=description)
        expect(row).to_contain_text(receiver.url)
        expect(row).to_contain_text("incident.")
        expect(row).to_contain_text("SEV1, SEV2")
        expect(row.locator(".webhook-state")).to_contain_text("enabled")
        screenshot(page, "webhooks-added")

        row.get_by_role("link", name=receiver.url).click()
        expect(page).to_have_url(SUBSCRIPTION_URL)
        expect(page.locator(".secret-box")).to_have_count(0)
        assert secret not in page.content()

        page.get_by_role("button", name="Send test event").click()
        expect(page.locator("#test-result")).to_contain_text("Test event delivered")
        expect(page.locator("#test-result .badge")).to_have_text("200")
        expect(page).to_have_url(SUBSCRIPTION_URL)  # a reload shows the page, not the action
        tested = _log_row(page, "webhook.test")
        expect(tested.locator(".delivery-status")).to_have_text("200")
        expect(tested).to_contain_text("test")
        (got,) = receiver.wait_for(1)
        assert got.json["type"] == "webhook.test"
        expect(tested.locator(".message-id")).to_have_text(got.message_id)
        screenshot(page, "webhook-tested")

        title = unique("Checkout returns 502")
        body = {"title": title, "severity": "SEV2", "services": ["checkout"]}
        incident_id = api(site, "POST", "/incidents", body)["id"]
        declared = _reload_until_logged(page, "incident.declared")
        expect(declared.locator(".delivery-status")).to_have_text("200")
        expect(declared).to_contain_text("log")
        delivered = receiver.wait_for(2)[1]
        assert delivered.json["type"] == "incident.declared"
        assert delivered.json["data"]["incident_id"] == incident_id  # type: ignore[index]
        expect(declared.locator(".message-id")).to_have_text(delivered.message_id)
        expect(page.locator("#webhook-checkpoint")).to_contain_text("up to date")
        screenshot(page, "webhook")

        page.get_by_role("button", name="Disable").click()
        state = page.locator("#webhook-state")
        expect(state).to_contain_text("disabled")
        expect(state).to_contain_text("disabled by an admin")
        expect(page.get_by_role("button", name="Enable")).to_be_visible()
        _nav_link(page).click()
        row = page.locator("#webhooks tr", has_text=description)
        expect(row.locator(".webhook-state")).to_contain_text("disabled")

        # Disabled, it hears nothing more.
        api(site, "POST", "/incidents", {**body, "title": unique("Checkout returns 502")})
        time.sleep(1)
        assert len(receiver.got) == 2


def test_a_refused_field_is_named_beside_the_form(
    page: Page, site: Site, screenshot: Screenshot, console: Console
) -> None:
    console.allow(r"status of 422")  # the refused form's answer
    sign_in(page, site.admin_token, "/ui/webhooks")
    description = unique("Mistyped")
    _add(page, "http://127.0.0.1:9/hook", description, types="incident.declared, incident.nope")
    error = page.locator("[data-form-error=add]")
    expect(error).to_have_text(
        "types[1]: 'incident.nope' is not an event type; a prefix ends in '.'"
    )
    expect(page.locator("#webhook-types")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#webhook-description")).to_have_value(description)
    expect(page.locator("#add-webhook-form").get_by_label("SEV2")).to_be_checked()
    expect(page).to_have_url(re.compile(r"/ui/webhooks$"))
    expect(page.locator("#webhooks tr", has_text=description)).to_have_count(0)
    screenshot(page, "webhooks-refused")
    page.reload()
    expect(page.locator("[data-form-error=add]")).to_have_count(0)
    expect(page.locator("#webhooks tr", has_text=description)).to_have_count(0)


def test_rotating_shows_a_new_secret_and_deleting_asks_first(
    page: Page, site: Site, console: Console
) -> None:
    console.allow(r"status of 404")  # the deleted subscription's page, asked for again
    sign_in(page, site.admin_token, "/ui/webhooks")
    description = unique("Short-lived")
    _add(page, "http://127.0.0.1:9/hook", description)
    first = page.locator("#new-secret").inner_text()
    page.locator("#webhooks tr", has_text=description).get_by_role("link").click()
    expect(page).to_have_url(SUBSCRIPTION_URL)
    address = page.url

    page.get_by_role("button", name="Rotate secret").click()
    expect(page.locator(".secret-box")).to_contain_text("New signing secret")
    rotated = page.locator("#new-secret").inner_text()
    assert SECRET.match(rotated)
    assert rotated != first
    expect(page.locator(".webhook-facts")).to_contain_text("Previous secret signs until")
    assert page.url == address

    delete = page.get_by_role("button", name="Delete this subscription")
    expect(delete).to_be_hidden()
    page.locator("#delete-confirm summary").click()
    delete.click()
    expect(page).to_have_url(re.compile(r"/ui/webhooks$"))
    expect(page.locator("#webhooks tr", has_text=description)).to_have_count(0)
    page.goto(address)
    expect(page.locator("main")).to_contain_text("there is no webhook subscription")


def test_a_token_without_the_admin_scope_cannot_see_the_page(
    page: Page, site: Site, console: Console
) -> None:
    console.allow(r"status of 403")
    sign_in(page, site.writer_token, "/ui/incidents")
    expect(_nav_link(page)).to_have_count(0)
    page.goto("/ui/webhooks")
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    expect(page.locator("main")).to_contain_text("the token 'alice' lacks the 'admin' scope")
    expect(page.locator("#add-webhook-form")).to_have_count(0)
