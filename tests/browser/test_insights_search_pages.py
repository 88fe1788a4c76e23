"""The insights page, the search page and the incident page's labels, kind and relations in
Chromium against ``incidents serve`` on SQLite and PostgreSQL: filters chosen and queries
typed as a person would, charts and hits checked, and markup in found text that must stay
text."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import Console, Site, api, sign_in, unique

pytestmark = pytest.mark.browser

Screenshot = Callable[[Page, str], Path]


def _incident(
    site: Site, service: str, started: str, resolved: str | None, **fields: object
) -> str:
    """An incident of ``service`` started at ``started`` and resolved at ``resolved``."""
    body = {
        "title": unique("Checkout returns 502"),
        "severity": "SEV2",
        "services": [service],
        "started_at": started,
        "detected_at": started,
        **fields,
    }
    incident_id: str = api(site, "POST", "/incidents", body)["id"]
    if resolved is not None:
        status = {"status": "resolved", "occurred_at": resolved}
        api(site, "POST", f"/incidents/{incident_id}/status", status)
    return incident_id


def test_insights_filtered_through_the_form(page: Page, site: Site, screenshot: Screenshot) -> None:
    # 2025 holds no other test's incidents: the figures are this test's alone.
    service = f"checkout-{uuid.uuid4().hex[:6]}"
    _incident(site, service, "2025-03-03T10:00:00Z", "2025-03-03T12:00:00Z", severity="SEV1")
    _incident(site, service, "2025-03-10T10:00:00Z", "2025-03-10T16:00:00Z", severity="SEV1")
    _incident(site, service, "2025-04-07T09:00:00Z", "2025-04-07T10:30:00Z")
    _incident(site, "payments", "2025-04-14T09:00:00Z", None)
    _incident(site, service, "2025-04-15T09:00:00Z", "2025-04-15T09:20:00Z", kind="drill")
    sign_in(page, site.reader_token, "/ui/insights")

    filters = page.locator("form#insight-filters")
    filters.locator("[name=from]").fill("2025-03-01")
    filters.locator("[name=to]").fill("2025-05-01")
    filters.locator("[name=group_by]").select_option("owner")
    filters.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"from=2025-03-01&to=2025-05-01&kind=incident"))

    sev1 = page.locator("figure.chart-panel[data-severity=SEV1] svg")
    expect(sev1).to_be_visible()
    expect(sev1.locator("g.chart-row")).to_have_count(1)
    expect(sev1.locator("text.chart-value")).to_have_text("median 2 h · p90 6 h (n=2)")
    sev2 = page.locator("figure.chart-panel[data-severity=SEV2] svg")
    expect(sev2.locator("g.chart-row[data-label='2025-04'] text.chart-value")).to_have_text(
        "median 1 h 30 min · p90 1 h 30 min (n=1)"
    )
    services = page.locator("#services-chart")
    expect(services.locator(f"g.chart-row[data-label='{service}'] text.chart-value")).to_have_text(
        "3 (0 open)"
    )
    expect(services.locator("g.chart-row[data-label='payments'] text.chart-value")).to_have_text(
        "1 (1 open)"
    )
    expect(page.locator("#definitions")).to_contain_text("resolved_at - detected_at")
    screenshot(page, "insights")

    filters.locator("[name=kind]").select_option("all")
    filters.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"kind=all"))
    expect(
        page.locator(f"#services-chart g.chart-row[data-label='{service}'] text.chart-value")
    ).to_have_text("4 (0 open)")

    page.locator("details.chart-table").first.locator("summary").click()
    expect(page.locator("#ttr-table")).to_be_visible()


_CHART_TEXTS = """() => [...document.querySelectorAll("svg.chart")].flatMap((svg) => {
  const drawn = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  return [...svg.querySelectorAll("text")].map((text) => {
    const box = text.getBBox();
    const size = parseFloat(getComputedStyle(text).fontSize) * drawn;
    return {chart: svg.id, text: text.textContent, left: box.x, right: box.x + box.width,
            width: svg.viewBox.baseVal.width, size: size};
  });
})"""


@pytest.mark.parametrize(
    "viewport",
    [{"width": 1280, "height": 900}, {"width": 390, "height": 844}],
    ids=["wide", "phone"],
)
def test_chart_texts_are_whole_and_readable_on_any_screen(
    page: Page, site: Site, screenshot: Screenshot, viewport: dict[str, int]
) -> None:
    # 2024 holds no other test's incidents: a long time to resolve, a long service name.
    service = f"payments-gateway-europe-west-{uuid.uuid4().hex[:4]}"
    _incident(site, service, "2024-02-01T00:00:00Z", "2024-04-11T23:00:00Z")
    _incident(site, "checkout", "2024-03-05T00:00:00Z", "2024-03-05T04:57:00Z")
    page.set_viewport_size(viewport)
    sign_in(page, site.reader_token, "/ui/insights")
    page.goto("/ui/insights?from=2024-01-01&to=2024-07-01")
    sev2 = page.locator("figure.chart-panel[data-severity=SEV2] text.chart-value")
    expect(sev2.first).to_contain_text("median 70 d 23 h · p90 70 d 23 h")

    texts = page.evaluate(_CHART_TEXTS)
    assert {t["chart"] for t in texts} >= {"ttr-sev2", "services-chart"}
    for text in texts:
        assert text["left"] >= 0, f"cut on the left: {text}"
        assert text["right"] <= text["width"], f"cut on the right: {text}"
        assert text["size"] >= 12, f"too small: {text}"
    screenshot(page, f"insights-charts-{viewport['width']}")


def test_action_item_completion_by_owner(page: Page, site: Site, screenshot: Screenshot) -> None:
    owner = f"owner-{uuid.uuid4().hex[:6]}"  # items are counted by when they were added: now
    incident_id = _incident(site, "checkout", "2026-01-05T10:00:00Z", None)
    items = f"/incidents/{incident_id}/action-items"
    added = []
    for title, due in (("Alert on pool use", "2026-01-10"), ("Raise the pool", "2030-01-01")):
        body = {"title": title, "kind": "corrective", "owner": owner, "due_date": due}
        added.append(api(site, "POST", items, body)["item_id"])
    api(site, "PATCH", f"{items}/{added[1]}", {"status": "done"})
    sign_in(page, site.reader_token, "/ui/insights")
    page.locator("form#insight-filters [name=group_by]").select_option("owner")
    page.locator("form#insight-filters").get_by_role("button", name="Show").click()
    row = page.locator(f"#items-chart g.chart-row[data-label='{owner}']")
    expect(row.locator("text.chart-value")).to_have_text("2 added · 50% done · 1 overdue")
    expect(row.locator("rect.bar-done")).to_have_count(1)
    expect(row.locator("rect.bar-overdue")).to_have_count(1)
    screenshot(page, "insights-action-items")


def test_a_refused_filter_is_named_on_the_page(page: Page, site: Site, console: Console) -> None:
    console.allow(r"status of 422")
    sign_in(page, site.reader_token, "/ui/insights")
    page.goto("/ui/insights?from=2025-05-01&to=2025-03-01")
    expect(page.locator("p.error[data-form-error=to]")).to_contain_text("the period is empty")


def test_a_search_from_the_header_finds_a_note_and_leads_to_it(
    page: Page, site: Site, screenshot: Screenshot
) -> None:
    word = f"kumquat{uuid.uuid4().hex[:6]}"
    incident_id = _incident(site, "checkout", "2026-01-05T10:00:00Z", None)
    base = f"/incidents/{incident_id}"
    api(site, "POST", f"{base}/notes", {"text": f"The {word} pool was exhausted at 10:40"})
    api(site, "POST", f"{base}/notes", {"text": f'<img src=x onerror="window.pwned=1"> {word}'})
    api(site, "PUT", f"{base}/postmortem/sections/root_cause", {"text": f"The {word} cache."})
    sign_in(page, site.writer_token)

    box = page.locator("form#header-search [name=q]")
    box.fill(word)
    box.press("Enter")
    expect(page).to_have_url(re.compile(rf"/ui/search\?q={word}$"))
    hits = page.locator("#hits li.hit")
    expect(hits).to_have_count(3)
    expect(page.locator("#hits mark").first).to_have_text(word)
    assert page.evaluate("window.pwned") is None
    assert page.locator("#hits img, #hits script").count() == 0
    if site.backend == "sqlite":  # PostgreSQL's headline leaves out what looks like a tag
        expect(page.locator("#hits")).to_contain_text('<img src=x onerror="window.pwned=1">')
    screenshot(page, "search")

    page.locator("#search-kind").select_option("postmortem")
    page.locator("form#search-form").get_by_role("button", name="Search").click()
    expect(hits).to_have_count(1)
    hits.first.locator("a.hit-title").click()
    expect(page).to_have_url(
        re.compile(rf"/ui/incidents/{incident_id}/postmortem(#section-root_cause)?$")
    )
    expect(page.locator("#section-root_cause")).to_contain_text(f"The {word} cache.")


def test_labels_kind_and_a_relation_set_on_the_incident_page(
    page: Page, site: Site, console: Console, screenshot: Screenshot
) -> None:
    console.allow(r"status of 422")  # the refused relation's answer
    earlier = _incident(site, "payments", "2026-01-02T08:00:00Z", "2026-01-02T09:00:00Z")
    incident_id = _incident(site, "checkout", "2026-01-02T08:30:00Z", None)
    sign_in(page, site.writer_token, f"/ui/incidents/{incident_id}")

    labels = page.locator("form#labels-form")
    labels.locator("[name=labels]").fill("team=payments env=prod")
    labels.get_by_role("button", name="Set labels").click()
    expect(page.locator("#incident-labels .chip")).to_have_text(["env=prod", "team=payments"])
    page.locator("#label-chips li[data-label=env] button").click()
    expect(page.locator("#incident-labels .chip")).to_have_text(["team=payments"])

    page.locator("#kind-select").select_option("drill")
    page.locator("form#kind-form").get_by_role("button", name="Save kind").click()
    expect(page.locator("#incident-kind")).to_have_text("drill")

    relate = page.locator("form#relation-form")
    relate.locator("[name=relation]").select_option("caused_by")
    relate.locator("[name=other_incident_id]").fill(earlier)
    relate.get_by_role("button", name="Relate").click()
    related = page.locator(f"#relations li[data-incident='{earlier}']")
    expect(related).to_contain_text("caused by")
    screenshot(page, "incident-classified")

    relate.locator("[name=other_incident_id]").fill("not an incident")
    relate.get_by_role("button", name="Relate").click()
    expect(page.locator("p.error[data-form-error=relation]")).to_contain_text(
        "give the other incident's id"
    )
    related.get_by_role("link").click()
    expect(page).to_have_url(re.compile(rf"/ui/incidents/{earlier}$"))
    expect(page.locator(f"#relations li[data-incident='{incident_id}']")).to_contain_text("caused")
