"""How text reads in Chromium against ``incidents serve`` on SQLite and PostgreSQL: a
postmortem section's Markdown flows as paragraphs and lists without blank lines between
them, while a note written on several lines keeps them, on the incident page and in the
postmortem's timeline."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.pages import Site, api, sign_in, unique

pytestmark = pytest.mark.browser

Screenshot = Callable[[Page, str], Path]
MARKDOWN = (
    "Checkout failed for 41 minutes.\n\nAbout 3% of orders were lost.\n\n- EU users\n- US users"
)
NOTE = "Rolled back 4812\nand 4813"


def _gap(upper: Locator, lower: Locator) -> float:
    """The space between the bottom of ``upper`` and the top of ``lower``, in pixels."""
    above, below = upper.bounding_box(), lower.bounding_box()
    assert above is not None
    assert below is not None
    return below["y"] - (above["y"] + above["height"])


def _line_height(element: Locator) -> float:
    height: str = element.evaluate("e => getComputedStyle(e).lineHeight")
    return float(height.removesuffix("px"))


@pytest.fixture
def incident_id(site: Site) -> str:
    body = {"title": unique("Checkout returns 502"), "severity": "SEV2", "services": ["checkout"]}
    found: str = api(site, "POST", "/incidents", body)["id"]
    api(site, "PUT", f"/incidents/{found}/postmortem/sections/impact", {"text": MARKDOWN})
    api(site, "POST", f"/incidents/{found}/notes", {"text": NOTE})
    return found


def test_markdown_flows_without_blank_lines(
    page: Page, site: Site, incident_id: str, screenshot: Screenshot
) -> None:
    sign_in(page, site.reader_token, f"/ui/incidents/{incident_id}/postmortem")
    section = page.locator("#section-impact")
    first = section.locator("p", has_text="Checkout failed for 41 minutes.")
    second = section.locator("p", has_text="About 3% of orders were lost.")
    line = _line_height(first)
    # A paragraph's margin apart, not a blank line besides.
    assert 0 < _gap(first, second) < line, (_gap(first, second), line)
    eu, us = section.locator("li", has_text="EU users"), section.locator("li", has_text="US users")
    assert abs(_gap(eu, us)) < line / 4, _gap(eu, us)
    assert abs(_gap(second, section.locator("ul"))) < line, _gap(second, section.locator("ul"))
    screenshot(page, "postmortem-markdown")


def test_a_note_keeps_its_lines_in_the_postmortem_timeline_and_on_the_incident_page(
    page: Page, site: Site, incident_id: str
) -> None:
    sign_in(page, site.reader_token, f"/ui/incidents/{incident_id}/postmortem")
    row = page.locator("table.pm-timeline tr.kind-note td.what")
    expect(row).to_have_text(NOTE)
    assert row.inner_text() == NOTE  # what is rendered: a line break, not a space
    page.goto(f"/ui/incidents/{incident_id}")
    note = page.locator("#timeline li.entry.kind-note p.note-text")
    assert note.inner_text() == NOTE
