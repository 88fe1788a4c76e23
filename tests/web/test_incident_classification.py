"""The incident page's labels, kind and related incidents: shown on the page, changed through
its forms (posted as a browser posts them), refusals shown next to the form with 422 and
nothing stored. What was stored is checked through the JSON API. Each test runs on SQLite
and PostgreSQL."""

from __future__ import annotations

import re
from html import unescape
from typing import TYPE_CHECKING, Any
from uuid import UUID

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import delete

from projections.tables import incident_summaries
from tests.api.helpers import declare, nothing_stored, ok
from tests.web.incident_page_support import block, page

if TYPE_CHECKING:
    from tests.web.conftest import WebUser


def changed(response: Response, incident_id: str) -> None:
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"{page(incident_id)}#classification"


def refused(response: Response, form: str, message: str) -> None:
    assert response.status_code == 422, response.text
    found = re.search(
        rf'<p class="error" role="alert" data-form-error="{form}">([^<]*)</p>', response.text
    )
    assert found is not None, f"no refusal shown for {form}"
    assert message in unescape(found.group(1)), found.group(1)


def summary(api: TestClient, incident_id: str) -> dict[str, Any]:
    return ok(api.get(f"/incidents/{incident_id}"))


def test_labels_are_set_shown_as_chips_and_removed(api: TestClient, web: WebUser) -> None:
    incident_id = declare(api)
    changed(
        web.post(f"{page(incident_id)}/labels", {"labels": "team=payments, env=prod"}), incident_id
    )
    assert summary(api, incident_id)["labels"] == {"env": "prod", "team": "payments"}

    html = web.get(page(incident_id)).text
    shown = block(html, '<dd id="incident-labels"')
    assert '<span class="chip" data-label="env">env=prod</span>' in shown
    assert '<span class="chip" data-label="team">team=payments</span>' in shown
    chips = block(html, '<ul class="chips" id="label-chips"')
    assert chips.count('class="inline label-remove-form"') == 2
    assert '<input type="hidden" name="key" value="team">' in chips

    changed(web.post(f"{page(incident_id)}/labels", {"labels": "team=checkout"}), incident_id)
    changed(web.post(f"{page(incident_id)}/labels/remove", {"key": "env"}), incident_id)
    assert summary(api, incident_id)["labels"] == {"team": "checkout"}
    html = web.get(page(incident_id)).text
    assert "env=prod" not in block(html, '<dd id="incident-labels"')
    assert 'data-label="env"' not in block(html, '<ul class="chips" id="label-chips"')


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Write each label as key=value"),
        ("team", "Labels: “team” is not key=value"),
        ("=payments", "Labels: “=payments” is not key=value"),
        ("9team=payments", "Labels: “9team” cannot be a label's key"),
        ("team=a=b", "Labels: the value of team may not hold ="),
        ("team=" + "x" * 101, "Labels: the value of team"),
        ("team=payments", "The change sets no label the incident does not already have"),
    ],
)
def test_a_label_that_cannot_be_set_is_refused(
    api: TestClient, web: WebUser, typed: str, message: str
) -> None:
    incident_id = declare(api, labels={"team": "payments"})
    with nothing_stored(api):
        answer = web.post(f"{page(incident_id)}/labels", {"labels": typed})
    refused(answer, "labels", message)
    form = block(answer.text, '<form id="labels-form"')
    assert f'value="{typed}"' in form, "what was typed is shown again"


def test_removing_a_label_the_incident_does_not_have_is_refused(
    api: TestClient, web: WebUser
) -> None:
    incident_id = declare(api)
    with nothing_stored(api):
        answer = web.post(f"{page(incident_id)}/labels/remove", {"key": "team"})
    refused(answer, "label-remove", "The incident has no label(s) team to remove")


def test_the_kind_is_shown_and_changed(api: TestClient, web: WebUser) -> None:
    incident_id = declare(api)
    html = web.get(page(incident_id)).text
    assert ">incident</dd>" in block(html, '<dd id="incident-kind"')
    assert '<option value="incident" selected>' in block(html, '<select id="kind-select"')

    changed(web.post(f"{page(incident_id)}/kind", {"kind": "false_alarm"}), incident_id)
    assert summary(api, incident_id)["kind"] == "false_alarm"
    html = web.get(page(incident_id)).text
    assert ">false alarm</dd>" in block(html, '<dd id="incident-kind"')
    assert '<option value="false_alarm" selected>' in block(html, '<select id="kind-select"')
    with nothing_stored(api):
        refused(
            web.post(f"{page(incident_id)}/kind", {"kind": "false_alarm"}),
            "kind",
            "The incident is already of kind false alarm",
        )
        refused(
            web.post(f"{page(incident_id)}/kind", {"kind": "outage"}),
            "kind",
            "Kind: choose one of the values offered",
        )


def test_a_relation_is_listed_on_both_incidents_and_removed_by_its_recorder(
    api: TestClient, web: WebUser
) -> None:
    earlier = declare(api, title="Payments pool exhausted")
    later = declare(api, title="Checkout returns 502")
    other_page = f"http://testserver{page(earlier)}"  # its address works as well as its id
    relate = {"other_incident_id": other_page, "relation": "caused_by"}
    changed(web.post(f"{page(later)}/relations", relate), later)
    assert [(r["incident_id"], r["relation"]) for r in summary(api, later)["relations"]] == [
        (earlier, "caused_by")
    ]

    here = block(web.get(page(later)).text, '<section id="relations"')
    item = block(here, f'<li class="relation" data-incident="{earlier}"')
    assert 'data-relation="caused_by"' in item
    assert '<span class="relation-kind">caused by</span>' in item
    assert f'<a href="{page(earlier)}">Payments pool exhausted</a>' in item
    assert "recorded here by admin" in item
    assert 'action="' + page(later) + '/relations/remove"' in item

    there = block(web.get(page(earlier)).text, '<section id="relations"')
    item = block(there, f'<li class="relation" data-incident="{later}"')
    assert '<span class="relation-kind">caused</span>' in item
    assert "recorded on the other incident" in item
    assert "/relations/remove" not in item, "only the recording incident withdraws it"

    removal = {"other_incident_id": earlier}
    changed(web.post(f"{page(later)}/relations/remove", removal), later)
    assert summary(api, later)["relations"] == []
    assert "None recorded." in block(web.get(page(later)).text, '<section id="relations"')
    with nothing_stored(api):
        again = web.post(f"{page(later)}/relations/remove", removal)
    refused(again, "unrelate", "records no relation")


def test_the_timeline_names_a_related_incident_by_its_title(
    api: TestClient, web: WebUser, web_app: FastAPI
) -> None:
    cause = declare(api, title="Payments <pool> exhausted")
    effect = declare(api, title="Checkout returns 502")
    relate = {"other_incident_id": cause, "relation": "caused_by"}
    changed(web.post(f"{page(effect)}/relations", relate), effect)

    named = f'<a class="mention" href="{page(cause)}">Payments &lt;pool&gt; exhausted</a>'
    timeline = block(web.get(page(effect)).text, '<ol id="timeline"')
    assert f"Marked as caused by incident {named}</p>" in timeline
    assert cause not in re.sub(r'href="[^"]*"', "", timeline), "no bare id"
    back = f'<a class="mention" href="{page(effect)}">Checkout returns 502</a>'
    assert f"This incident caused incident {back}</p>" in web.get(page(cause)).text
    postmortem = web.get(f"{page(effect)}/postmortem").text
    assert f"Marked as caused by incident {named}</td>" in postmortem

    # An incident whose summary is not written yet is named by its id, still linked.
    engine = web_app.state.engine
    with engine.begin() as conn:
        gone = incident_summaries.c.incident_id == UUID(cause)
        conn.execute(delete(incident_summaries).where(gone))
    timeline = block(web.get(page(effect)).text, '<ol id="timeline"')
    assert f'caused by incident <a class="mention" href="{page(cause)}">{cause}</a>' in timeline


@pytest.mark.parametrize(
    ("other", "message"),
    [
        ("", "Other incident: give the other incident's id"),
        ("last week's outage", "Other incident: give the other incident's id"),
        ("00000000-0000-4000-8000-00000000dead", "Other incident: no incident has the id"),
        ("self", "An incident cannot relate to itself"),
    ],
)
def test_a_relation_that_cannot_be_recorded_is_refused(
    api: TestClient, web: WebUser, other: str, message: str
) -> None:
    incident_id = declare(api)
    typed = incident_id if other == "self" else other
    with nothing_stored(api):
        answer = web.post(
            f"{page(incident_id)}/relations", {"other_incident_id": typed, "relation": "related_to"}
        )
    refused(answer, "relation", message)
    form = block(answer.text, '<form id="relation-form"')
    assert '<option value="related_to" selected>' in form
    assert f'value="{typed}"' in unescape(form)


def test_an_unknown_relation_is_refused(api: TestClient, web: WebUser) -> None:
    incident_id, other = declare(api), declare(api)
    with nothing_stored(api):
        answer = web.post(
            f"{page(incident_id)}/relations", {"other_incident_id": other, "relation": "blames"}
        )
    refused(answer, "relation", "This incident is: choose one of the values offered")


def test_a_past_view_says_relations_are_read_live(api: TestClient, web: WebUser) -> None:
    incident_id, other = declare(api), declare(api)
    ok(
        api.post(
            f"/incidents/{incident_id}/relations",
            json={"other_incident_id": other, "relation": "related_to"},
        )
    )
    first = summary(api, incident_id)["last_position"]
    shown = block(web.get(page(incident_id), as_of=str(first)).text, '<section id="relations"')
    assert "Relations are read live" in shown
    assert other not in shown
    fragment = web.get(f"{page(incident_id)}/fragments/relations")
    assert fragment.status_code == 200
    assert fragment.text.startswith('<section id="relations"')
    assert f'data-incident="{other}"' in fragment.text


def test_classification_forms_need_a_writer_and_the_csrf_value(
    api: TestClient, web: WebUser, reader: WebUser
) -> None:
    incident_id = declare(api, labels={"team": "payments"})
    posts = [
        ("/labels", {"labels": "env=prod"}),
        ("/labels/remove", {"key": "team"}),
        ("/kind", {"kind": "drill"}),
        ("/relations", {"other_incident_id": declare(api), "relation": "related_to"}),
        ("/relations/remove", {"other_incident_id": incident_id}),
    ]
    html = reader.get(page(incident_id)).text
    assert 'id="classification"' not in html
    assert "team=payments" in block(html, '<dd id="incident-labels"')
    with nothing_stored(api):
        for path, data in posts:
            assert reader.post(f"{page(incident_id)}{path}", data).status_code == 403, path
            assert web.post(f"{page(incident_id)}{path}", data, csrf=False).status_code == 403
