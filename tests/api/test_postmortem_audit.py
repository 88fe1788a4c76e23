"""The postmortem's audit: history with actors, requests and diffs; revisions; diffs; as_of.

Three people edit the root cause in turn, the postmortem is published, and one of
them edits it again (revision 2). Each test runs on SQLite and PostgreSQL
(tests/conftest.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from tests.api.helpers import as_person, assert_problem, declare, nothing_stored, ok, use_clock
from tests.clocks import FakeClock

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
MISSING = UUID("00000000-0000-4000-8000-00000000dead")

ROOT_CAUSES = [
    ("alice", "The payments pool ran dry."),
    ("bob", "The payments pool ran dry.\nDeploy 4812 halved its size."),
    ("carol", "Deploy 4812 halved the payments connection pool.\nDeploy 4812 halved its size."),
    ("alice", "A config push removed the pool limit."),
]
"""(who, the new root cause), in order; the last edit comes after publication."""


@dataclass(frozen=True)
class Story:
    incident_id: str
    edits: list[dict[str, Any]]
    """The answer of each root-cause edit, in order."""
    published: dict[str, Any]
    """The answer of the publication."""


@pytest.fixture
def clock(client: TestClient) -> FakeClock:
    clock = FakeClock(T0)
    use_clock(client, clock)
    return clock


def section_url(incident_id: str, section: str) -> str:
    return f"/incidents/{incident_id}/postmortem/sections/{section}"


@pytest.fixture
def story(client: TestClient, clock: FakeClock) -> Story:
    """Root cause edited by alice, bob and carol at 11:00, 12:00 and 13:00, published at 15:00
    by carol, edited by alice the next day (revision 2)."""
    incident_id = declare(client, started_at=(T0 - timedelta(hours=1)).isoformat())
    ok(client.post(f"/incidents/{incident_id}/status", json={"status": "resolved"}))
    people = {name: as_person(client, name) for name in ("alice", "bob", "carol")}
    edits = []
    for hour, (name, text) in enumerate(ROOT_CAUSES[:3], start=1):
        clock.now = T0 + timedelta(hours=hour)
        headers = {"X-Request-ID": f"req-{name}-{hour}"}
        if hour == 1:
            headers["X-Correlation-ID"] = "postmortem-draft-42"
        response = people[name].put(
            section_url(incident_id, "root_cause"), json={"text": text}, headers=headers
        )
        edits.append(ok(response))
    clock.now = T0 + timedelta(hours=4)
    ok(client.put(section_url(incident_id, "summary"), json={"text": "Checkout failed."}))
    ok(client.put(section_url(incident_id, "resolution"), json={"text": "Rolled back 4812."}))
    ok(client.post(f"/incidents/{incident_id}/postmortem/review", json={"reviewers": ["carol"]}))
    ok(people["carol"].post(f"/incidents/{incident_id}/postmortem/approve"))
    clock.now = T0 + timedelta(hours=5)
    published = ok(people["carol"].post(f"/incidents/{incident_id}/postmortem/publish"))
    clock.now = T0 + timedelta(days=1)
    name, text = ROOT_CAUSES[3]
    edits.append(ok(people[name].put(section_url(incident_id, "root_cause"), json={"text": text})))
    return Story(incident_id, edits, published)


def get(client: TestClient, story: Story, path: str, **params: Any) -> dict[str, Any]:
    return ok(client.get(f"/incidents/{story.incident_id}/postmortem{path}", params=params))


def test_history_names_who_changed_what_through_which_request_with_diffs(
    client: TestClient, story: Story
) -> None:
    history = get(client, story, "/history")
    root_cause = [c for c in history["changes"] if c["section"] == "root_cause"]
    assert [(c["actor"], c["revision"], c["after"]) for c in root_cause] == [
        (name, revision, text)
        for (name, text), revision in zip(ROOT_CAUSES, [1, 1, 1, 2], strict=True)
    ]
    assert [c["before"] for c in root_cause] == [None] + [text for _, text in ROOT_CAUSES[:3]]
    assert [c["position"] for c in root_cause] == [edit["position"] for edit in story.edits]
    assert [datetime.fromisoformat(c["occurred_at"]) for c in root_cause[:3]] == [
        T0 + timedelta(hours=hour) for hour in (1, 2, 3)
    ]
    for change in root_cause:
        assert datetime.fromisoformat(change["recorded_at"]) > datetime.fromisoformat(
            change["occurred_at"]
        )

    first, second, third, fourth = root_cause
    assert (first["request_id"], first["correlation_id"]) == ("req-alice-1", "postmortem-draft-42")
    # Without X-Correlation-ID the request correlates itself.
    assert (second["request_id"], second["correlation_id"]) == ("req-bob-2", "req-bob-2")
    assert fourth["request_id"] == fourth["correlation_id"]
    assert len(fourth["request_id"]) == 32

    assert first["diff"] == (
        "--- a/revision-1/root_cause\n"
        "+++ b/revision-1/root_cause\n"
        "@@ -0,0 +1 @@\n"
        "+The payments pool ran dry.\n"
    )
    assert second["diff"] == (
        "--- a/revision-1/root_cause\n"
        "+++ b/revision-1/root_cause\n"
        "@@ -1 +1,2 @@\n"
        " The payments pool ran dry.\n"
        "+Deploy 4812 halved its size.\n"
    )
    assert third["diff"] == (
        "--- a/revision-1/root_cause\n"
        "+++ b/revision-1/root_cause\n"
        "@@ -1,2 +1,2 @@\n"
        "-The payments pool ran dry.\n"
        "+Deploy 4812 halved the payments connection pool.\n"
        " Deploy 4812 halved its size.\n"
    )
    assert fourth["diff"].startswith("--- a/revision-2/root_cause\n+++ b/revision-2/root_cause\n")

    statuses = history["status_changes"]
    assert [(s["revision"], s["status"], s["actor"]) for s in statuses] == [
        (1, "in_review", "admin"),
        (1, "approved", "carol"),
        (1, "published", "carol"),
    ]
    assert statuses[0]["reviewers"] == ["carol"]
    assert statuses[2]["position"] == story.published["position"]
    assert third["position"] < statuses[0]["position"] < statuses[2]["position"]
    assert statuses[2]["position"] < fourth["position"]
    assert datetime.fromisoformat(statuses[2]["occurred_at"]) == T0 + timedelta(hours=5)
    assert statuses[1]["request_id"] == statuses[1]["correlation_id"]


def test_revision_and_as_of_read_the_text_of_their_moment(client: TestClient, story: Story) -> None:
    def root_cause(**params: Any) -> tuple[int, str, str]:
        document = get(client, story, "", **params)
        return document["revision"], document["status"], document["sections"]["root_cause"]

    assert root_cause() == (2, "draft", ROOT_CAUSES[3][1])
    assert root_cause(revision=1) == (1, "published", ROOT_CAUSES[2][1])
    # Between bob's edit (12:00) and carol's (13:00).
    assert root_cause(as_of="2026-03-02T12:30:00Z") == (1, "draft", ROOT_CAUSES[1][1])
    assert root_cause(as_of=str(story.edits[0]["position"])) == (1, "draft", ROOT_CAUSES[0][1])
    # After publication, before alice's new revision.
    assert root_cause(as_of="2026-03-02T20:00:00Z") == (1, "published", ROOT_CAUSES[2][1])
    assert root_cause(as_of="2026-03-03T20:00:00Z", revision=1) == (
        1,
        "published",
        ROOT_CAUSES[2][1],
    )
    markdown = client.get(
        f"/incidents/{story.incident_id}/postmortem",
        params={"as_of": "2026-03-02T12:30:00Z"},
        headers={"Accept": "text/markdown"},
    )
    assert markdown.status_code == 200
    assert "Deploy 4812 halved its size." in markdown.text
    assert "connection pool" not in markdown.text

    # Revision 2 did not exist yet at 20:00 on the first day.
    assert_problem(
        client.get(
            f"/incidents/{story.incident_id}/postmortem",
            params={"as_of": "2026-03-02T20:00:00Z", "revision": 2},
        ),
        404,
        f"the postmortem of {story.incident_id} has no revision 2 as of 2026-03-02T20:00:00Z",
    )
    # Before any edit the postmortem is an empty draft.
    early = get(client, story, "", as_of="2026-03-02T10:30:00Z")
    assert (early["revision"], early["status"], early["sections"]) == (1, "draft", {})


def test_the_revisions_list_holds_the_published_ones(client: TestClient, story: Story) -> None:
    revisions = get(client, story, "/revisions")
    assert revisions["incident_id"] == story.incident_id
    assert revisions["revisions"] == [
        {
            "revision": 1,
            "published_at": "2026-03-02T15:00:00Z",
            "actor": "carol",
            "position": story.published["position"],
        }
    ]
    unpublished = declare(client)
    assert ok(client.get(f"/incidents/{unpublished}/postmortem/revisions"))["revisions"] == []


def sections_changed(diff: dict[str, Any]) -> dict[str, tuple[str | None, str | None]]:
    return {s["section"]: (s["before"], s["after"]) for s in diff["sections"] if s["changed"]}


def test_diff_between_revisions_and_between_moments(client: TestClient, story: Story) -> None:
    between_revisions = get(client, story, "/diff", **{"from": "1", "to": "2"})
    assert between_revisions["changed"] is True
    assert [s["section"] for s in between_revisions["sections"]] == [
        "summary",
        "impact",
        "detection",
        "root_cause",
        "resolution",
        "lessons_learned",
    ]
    assert sections_changed(between_revisions) == {
        "root_cause": (ROOT_CAUSES[2][1], ROOT_CAUSES[3][1])
    }
    summary = between_revisions["sections"][0]
    assert summary == {
        "section": "summary",
        "before": "Checkout failed.",
        "after": "Checkout failed.",
        "diff": "",
        "changed": False,
    }
    assert between_revisions["from"] == {
        "reference": "1",
        "revision": 1,
        "status": "published",
        "as_of": None,
    }
    assert between_revisions["to"]["status"] == "draft"

    # to defaults to the latest revision as it stands.
    assert get(client, story, "/diff", **{"from": "1"})["sections"] == between_revisions["sections"]

    between_moments = get(
        client, story, "/diff", **{"from": "2026-03-02T10:30:00Z", "to": "2026-03-02T12:30:00Z"}
    )
    assert sections_changed(between_moments) == {"root_cause": (None, ROOT_CAUSES[1][1])}
    root_cause = between_moments["sections"][3]
    assert root_cause["diff"] == (
        "--- a/2026-03-02T10:30:00Z/root_cause\n"
        "+++ b/2026-03-02T12:30:00Z/root_cause\n"
        "@@ -0,0 +1,2 @@\n"
        "+The payments pool ran dry.\n"
        "+Deploy 4812 halved its size.\n"
    )
    assert between_moments["to"] == {
        "reference": "2026-03-02T12:30:00Z",
        "revision": 1,
        "status": "draft",
        "as_of": "2026-03-02T12:30:00Z",
    }

    # A moment against a revision, and the same text on both sides.
    mixed = get(client, story, "/diff", **{"from": "2026-03-02T14:30:00Z", "to": "1"})
    assert mixed["changed"] is False
    assert all(s["diff"] == "" for s in mixed["sections"])


@pytest.mark.parametrize(
    ("params", "status", "detail"),
    [
        ({"from": "3"}, 404, "the postmortem of {id} has no revision 3"),
        ({"from": "1", "to": "99"}, 404, "the postmortem of {id} has no revision 99"),
        (
            {"from": "2026-03-02T09:00:00Z"},
            404,
            "incident {id} had not been declared as of 2026-03-02T09:00:00Z",
        ),
        ({"from": "0"}, 422, "query.from: revisions are numbered from 1"),
        (
            {"from": "rev1"},
            422,
            "query.from: from must be a revision number or an RFC 3339 time with a timezone",
        ),
        (
            {"from": "1", "to": "2026-03-02"},
            422,
            "query.to: to must be a revision number or an RFC 3339 time with a timezone",
        ),
        ({"from": "-1"}, 422, None),
        ({"from": "x" * 65}, 422, None),
        ({}, 422, None),
    ],
)
def test_bad_diff_parameters_are_precise_problems(
    client: TestClient,
    story: Story,
    params: dict[str, str],
    status: int,
    detail: str | None,
) -> None:
    response = client.get(f"/incidents/{story.incident_id}/postmortem/diff", params=params)
    problem = assert_problem(
        response, status, detail.format(id=story.incident_id) if detail else None
    )
    if status == 422:
        assert problem["errors"][0]["location"][0] == "query"


def test_unknown_incidents_are_404(client: TestClient, clock: FakeClock) -> None:
    for path, params in (("/history", {}), ("/revisions", {}), ("/diff", {"from": "1"})):
        assert_problem(
            client.get(f"/incidents/{MISSING}/postmortem{path}", params=params),
            404,
            f"incident {MISSING} does not exist",
        )


@pytest.mark.parametrize("correlation_id", ["x" * 201, "two words", "naïve", "tab\there"])
def test_an_invalid_correlation_id_is_422_and_stores_nothing(
    client: TestClient, clock: FakeClock, correlation_id: str
) -> None:
    incident_id = declare(client)
    with nothing_stored(client):
        response = client.put(
            section_url(incident_id, "summary"),
            json={"text": "Checkout failed."},
            headers={"X-Correlation-ID": correlation_id.encode()},
        )
        problem = assert_problem(response, 422)
    assert problem["errors"][0]["location"] == ["header", "x-correlation-id"]
    longest = "c" * 200
    ok(
        client.put(
            section_url(incident_id, "summary"),
            json={"text": "Checkout failed."},
            headers={"X-Correlation-ID": longest},
        )
    )
    [change] = ok(client.get(f"/incidents/{incident_id}/postmortem/history"))["changes"]
    assert change["correlation_id"] == longest
