"""Cursors and positions a client made up: refused with a 422 naming them, never a 500.

A cursor is opaque base64 of a page's last sort key, but nothing stops a client from
writing one: a time whose UTC date falls outside years 1-9999, a row number beyond the
database's 64-bit integers, digits of another script (Python's int() reads ARABIC-INDIC DIGIT FIVE as 5).
"""

from __future__ import annotations

import base64

import pytest
from fastapi.testclient import TestClient

from tests.api.helpers import assert_problem, declare
from tests.api.test_incidents_api import locations

NOT_OURS = "query.cursor: not a cursor of this list: pass the previous page's next value unchanged"


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


INCIDENT = "00000000-0000-4000-8000-000000000001"
TIME = "2026-12-07T16:56:38.443396+00:00"

FORGED: list[tuple[str, str]] = [
    ("/incidents", _b64(f"0001-01-01T00:00:00+14:00|{INCIDENT}")),
    ("/incidents", _b64(f"9999-12-31T23:59:59-14:00|{INCIDENT}")),
    ("{incident}/timeline", _b64(f"{TIME}|9223372036854775808")),
    ("{incident}/timeline", _b64("9999-12-31T23:59:59-14:00|7")),
    ("{incident}/timeline", _b64(f"{TIME}|\u0667")),
    ("/action-items", _b64("2026-12-20|9223372036854775808")),
    ("/action-items", _b64("2026-12-20|-1")),
    ("/search?q=pool", _b64("1|9223372036854775808")),
    ("/search?q=pool", _b64("\u0661|1")),
    ("/search?q=pool", _b64("1_0|1")),
]


@pytest.mark.parametrize(("path", "cursor"), FORGED)
def test_a_forged_cursor_is_422_naming_the_cursor(
    client: TestClient, path: str, cursor: str
) -> None:
    incident_id = declare(client)
    url = path.replace("{incident}", f"/incidents/{incident_id}")
    separator = "&" if "?" in url else "?"
    response = client.get(f"{url}{separator}cursor={cursor}")
    assert locations(assert_problem(response, 422, NOT_OURS)) == [["query", "cursor"]]


@pytest.mark.parametrize("as_of", ["\u0665", "\uff12", "2026-12-07T10:00:00+\u0660\u0660:00"])
def test_as_of_takes_ascii_digits_only(client: TestClient, as_of: str) -> None:
    incident_id = declare(client)
    response = client.get(f"/incidents/{incident_id}", params={"as_of": as_of})
    assert locations(assert_problem(response, 422)) == [["query", "as_of"]]
