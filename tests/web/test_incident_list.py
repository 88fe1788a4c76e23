"""The incident list's pages: newest first, a page at a time, each numbered from the first
page and leading back to it with the same filters. Each test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from html import unescape
from typing import TYPE_CHECKING
from uuid import uuid4

from fastapi.testclient import TestClient

from tests.api.helpers import declare
from tests.web.incident_page_support import block
from web.routes.incidents import PAGE_SIZE

if TYPE_CHECKING:
    from tests.web.conftest import WebUser

LIST = "/ui/incidents"


def _titles(html: str) -> list[str]:
    table = block(html, '<table class="incidents"')
    return re.findall(r'<td><a href="/ui/incidents/[^"]+">([^<]+)</a></td>', table)


def _range(html: str) -> str:
    return unescape(block(html, '<p class="help page-range" id="list-range"'))


def test_a_later_page_says_which_incidents_it_shows_and_leads_back(
    api: TestClient, web: WebUser
) -> None:
    service = f"svc-{uuid4().hex[:8]}"
    for number in range(PAGE_SIZE + 2):
        declare(api, title=f"Incident {number:02d}", services=[service])

    first = web.get(LIST, service=service).text
    assert len(_titles(first)) == PAGE_SIZE
    assert f"Incidents 1\u2013{PAGE_SIZE}<" in _range(first)
    assert 'rel="first"' not in first
    found = re.search(r'<a class="button" href="([^"]+)" rel="next">Older incidents</a>', first)
    assert found is not None
    following = unescape(found.group(1))
    assert following.startswith(f"/ui/incidents?service={service}&cursor=")
    assert following.endswith(f"&start={PAGE_SIZE + 1}")

    second = web.client.get(following).text
    assert len(_titles(second)) == 2
    assert not set(_titles(second)) & set(_titles(first))
    where = _range(second)
    assert f"Incidents {PAGE_SIZE + 1}\u2013{PAGE_SIZE + 2} · " in where
    back = f'<a href="/ui/incidents?service={service}" rel="first">First page</a>'
    assert back in where
    assert "Older incidents" not in second

    # A cursor without its number (an old link) shows its rows and the way back, no count.
    unnumbered = web.client.get(following.rsplit("&start=", 1)[0]).text
    assert len(_titles(unnumbered)) == 2
    assert "Incidents " not in _range(unnumbered)
    assert back in _range(unnumbered)


def test_one_page_has_no_way_back_and_no_way_on(api: TestClient, web: WebUser) -> None:
    service = f"svc-{uuid4().hex[:8]}"
    declare(api, services=[service])
    html = web.get(LIST, service=service).text
    assert "Incidents 1\u20131<" in _range(html)
    assert 'rel="first"' not in html
    assert 'rel="next"' not in html
