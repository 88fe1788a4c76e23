"""A refused form speaks the page's words: fields by their labels on the form, pydantic's
and the rules' wording made plain, times as the pages show them; the JSON API keeps its
own wording. Route tests run on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from html import unescape
from typing import TYPE_CHECKING
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from domain import commands as c
from tests.api.helpers import nothing_stored
from tests.web.incident_page_support import declare_started_an_hour_ago
from web.refusals import Wording

if TYPE_CHECKING:
    from tests.web.conftest import WebUser

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
SNAKE_OR_PYDANTIC = re.compile(r"\b[a-z]+_[a-z_]+\b|String should|Input should")


def _error(build: type[c.Command], **fields: object) -> tuple[str, str, dict[str, object], str]:
    """The first error pydantic finds in the command: field, type, context, message."""
    with pytest.raises(ValidationError) as raised:
        build(incident_id=uuid4(), at=NOW, **fields)
    error = raised.value.errors()[0]
    return str(error["loc"][0]), error["type"], dict(error.get("ctx") or {}), error["msg"]


ITEM = {"item_id": uuid4(), "kind": "corrective", "owner": "al", "due_date": date(2030, 1, 1)}


@pytest.mark.parametrize(
    ("form", "build", "fields", "said"),
    [
        ("action-item", c.AddActionItem, {**ITEM, "title": "Do it", "ticket_url": "JIRA-1"},
         "Ticket link must start with http:// or https:// and hold no spaces"),
        ("action-item", c.AddActionItem, {**ITEM, "title": " "}, "Say what is to be done"),
        ("action-item", c.AddActionItem, {**ITEM, "title": "x" * 201},
         "What is to be done can be at most 200 characters long"),
        ("role", c.AssignRole, {"role": "scribe", "person": ""}, "Give the person's name"),
        ("role", c.AssignRole, {"role": "chef", "person": "bob"},
         "Role: choose one of the values offered"),
        ("declare", c.DeclareIncident, {"title": "", "severity": "SEV2"}, "Give a title"),
        ("declare", c.DeclareIncident, {"title": "Down", "severity": "SEV2",
                                        "services": ("check out",)},
         "Services: a service's name holds no spaces; separate services with commas"),
        ("redaction", c.RedactNote, {"note_id": uuid4(), "reason": ""}, "Say why"),
        ("relation", c.RelateIncident, {"other_incident_id": "last week", "relation": "caused_by"},
         "Other incident is not an id"),
    ],
)  # fmt: skip
def test_a_field_error_is_said_with_the_form_s_label(
    form: str, build: type[c.Command], fields: dict[str, object], said: str
) -> None:
    field, kind, context, message = _error(build, **fields)
    worded = Wording(form).field_error(field, kind, context, message)
    assert worded == said
    assert not SNAKE_OR_PYDANTIC.search(worded), worded


def test_an_unknown_error_keeps_its_own_words_after_the_label() -> None:
    assert Wording("note").field_error("text", "odd", {}, "is odd") == "Note: is odd"
    assert Wording(None).field_error("root_cause", "odd", {}, "is odd") == "Root cause: is odd"


def test_a_rule_names_the_form_s_fields_and_shows_times_as_pages_do() -> None:
    future = "occurred_at 2027-03-01T10:00:00+00:00 lies in the future"
    assert Wording("note").rule(future) == (
        "Happened at: 2027-03-01 10:00:00 UTC is in the future; give a time up to now (UTC)"
    )
    assert Wording("declare").rule("started_at 2027-03-01T10:00:00+00:00 lies in the future") == (
        "Started at: 2027-03-01 10:00:00 UTC is in the future; give a time up to now (UTC)"
    )
    order = "detected_at 2026-03-01T09:00:00+00:00 is before started_at 2026-03-01T10:00:00+00:00"
    assert Wording("declare").rule(order) == (
        "Detection 2026-03-01 09:00:00 UTC is before “Started at” 2026-03-01 10:00:00 UTC"
    )
    assert Wording("mitigate").rule("resolved at 2026-03-01T09:00:00Z is before mitigated_at") == (
        "Resolved at 2026-03-01 09:00:00 UTC is before mitigation"
    )
    assert Wording("role").rule("bob is already incident_commander") == (
        "Bob is already incident commander"
    )
    kept = Wording("role").rule("bob is already incident_commander", names=frozenset({"bob"}))
    assert kept == "bob is already incident commander"


def _shown(answer_text: str, form: str) -> str:
    found = re.search(
        rf'<p class="error" role="alert" data-form-error="{form}">([^<]*)</p>', answer_text
    )
    assert found is not None, f"no refusal shown for {form}"
    return unescape(found.group(1))


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ({"title": "  ", "severity": "SEV2"}, "Give a title"),
        ({"title": "Down", "severity": "SEV2", "services": "check out"},
         "Services: a service's name holds no spaces"),
        ({"title": "Down", "severity": "SEV2", "started_at": "2999-01-01T00:00:00"},
         "Started at: 2999-01-01 00:00:00 UTC is in the future"),
        ({"title": "Down", "severity": "SEV9"}, "Severity: choose one of the values offered"),
    ],
)  # fmt: skip
def test_a_refused_declaration_is_said_in_the_form_s_words(
    api: TestClient, web: WebUser, typed: dict[str, str], said: str
) -> None:
    with nothing_stored(api):
        answer = web.post("/ui/incidents", typed)
    assert answer.status_code == 422, answer.text
    shown = _shown(answer.text, "declare")
    assert said in shown
    assert not SNAKE_OR_PYDANTIC.search(shown), shown


def test_the_api_keeps_its_own_wording(api: TestClient) -> None:
    answer = api.post("/incidents", json={"title": "", "severity": "SEV2"})
    assert answer.status_code == 422
    assert "String should have at least 1 character" in answer.text


@pytest.mark.parametrize("person", ["2024-13-45T10:00:00Z", "2024-01-01T10:00:00Z", "on_call_bob"])
def test_a_refusal_quotes_what_was_typed_as_it_was_typed(
    api: TestClient, web: WebUser, person: str
) -> None:
    incident = declare_started_an_hour_ago(api)
    page = f"/ui/incidents/{incident}"
    first = web.post(f"{page}/roles", {"role": "scribe", "person": person})
    assert first.status_code in (200, 303), first.text
    with nothing_stored(api):
        again = web.post(f"{page}/roles", {"role": "scribe", "person": person})
    assert again.status_code == 422, again.text
    assert _shown(again.text, "role") == f"{person} is already scribe"


def test_a_label_key_in_a_refusal_is_said_as_written() -> None:
    refusal = "the incident has no label(s) on_call to remove"
    assert Wording("labels").rule(refusal) == "The incident has no label(s) on_call to remove"
