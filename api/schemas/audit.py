"""Bodies of the postmortem audit: its history, revisions and diffs."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from domain.values import PostmortemStatus, Section
from projections.documents.examples import INCIDENT_ID

REQUEST_ID = "5b0f3c0e8d0c4e0e9b1a2c3d4e5f6071"
ROOT_CAUSE_DIFF = (
    "--- a/revision-2/root_cause\n"
    "+++ b/revision-2/root_cause\n"
    "@@ -1 +1 @@\n"
    "-Deploy 4812 changed the pool size.\n"
    "+Deploy 4812 halved the payments connection pool.\n"
)


def _examples(*examples: dict[str, Any]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": list(examples)})


SECTION_CHANGE: dict[str, Any] = {
    "id": "7d4c2b1a-0f9e-4d8c-b7a6-958473625140",
    "revision": 2,
    "section": "root_cause",
    "actor": "alice",
    "occurred_at": "2026-03-03T09:12:00Z",
    "recorded_at": "2026-03-03T09:12:00.004Z",
    "before": "Deploy 4812 changed the pool size.",
    "after": "Deploy 4812 halved the payments connection pool.",
    "diff": ROOT_CAUSE_DIFF,
    "position": 2201,
    "request_id": REQUEST_ID,
    "correlation_id": "postmortem-review-2026-03-03",
}

STATUS_CHANGE: dict[str, Any] = {
    "id": "1e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b",
    "revision": 2,
    "status": "published",
    "actor": "bob",
    "occurred_at": "2026-03-04T16:30:00Z",
    "recorded_at": "2026-03-04T16:30:00.003Z",
    "position": 2240,
    "request_id": "9a8b7c6d5e4f40312a1b2c3d4e5f6a7b",
    "correlation_id": "9a8b7c6d5e4f40312a1b2c3d4e5f6a7b",
}


class SectionChange(BaseModel):
    """One edit of a postmortem section."""

    model_config = _examples(SECTION_CHANGE)

    id: UUID = Field(description="The id of the event that made the change.")
    revision: int = Field(description="The revision the edit belongs to.")
    section: Section = Field(description="Which section was edited.")
    actor: str | None = Field(description="The name of the token that made the change.")
    occurred_at: datetime = Field(description="When the edit was made.")
    recorded_at: datetime = Field(description="When the service stored it.")
    before: str | None = Field(description="The text before; null when the section was empty.")
    after: str | None = Field(description="The text after; null when the edit cleared it.")
    diff: str = Field(description="Unified diff of before against after.")
    position: int = Field(description="Log position of the change (an as_of value).")
    request_id: str | None = Field(description="X-Request-ID of the request that made it.")
    correlation_id: str | None = Field(
        description="X-Correlation-ID of that request; its request id when it sent none."
    )

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> SectionChange:
        fields = {k: v for k, v in row.items() if k not in ("change_id", "incident_id")}
        return cls(id=row["change_id"], **fields)


class StatusChange(BaseModel):
    """A step of the review workflow: a revision sent to review, approved, changes asked for, or
    published."""

    model_config = _examples(STATUS_CHANGE)

    id: UUID = Field(description="The id of the event that made the change.")
    revision: int = Field(description="The revision whose status changed.")
    status: Literal["in_review", "approved", "changes_requested", "published"] = Field(
        description="in_review or published (the revision's new status), or a reviewer's"
        " verdict: approved or changes_requested (the actor is the reviewer)."
    )
    reviewers: list[str] = Field(
        default_factory=list, description="For in_review: who the revision was sent to."
    )
    comment: str | None = Field(default=None, description="For a verdict: the reviewer's words.")
    actor: str | None = Field(description="The name of the token that made the change.")
    occurred_at: datetime = Field(description="When the change was made.")
    recorded_at: datetime = Field(description="When the service stored it.")
    position: int = Field(description="Log position of the change (an as_of value).")
    request_id: str | None = Field(description="X-Request-ID of the request that made it.")
    correlation_id: str | None = Field(
        description="X-Correlation-ID of the request that made it, when it had one."
    )


class PostmortemHistory(BaseModel):
    """Every change of the postmortem, read from the log, oldest first."""

    model_config = _examples(
        {"incident_id": INCIDENT_ID, "changes": [SECTION_CHANGE], "status_changes": [STATUS_CHANGE]}
    )

    incident_id: UUID = Field(description="The incident's id.")
    changes: list[SectionChange] = Field(description="Section edits, in log order.")
    status_changes: list[StatusChange] = Field(
        description="Review requests and publications, in log order."
    )


class PublishedRevision(BaseModel):
    """A published revision of the postmortem."""

    revision: int = Field(description="The revision's number.")
    published_at: datetime = Field(description="When it was published.")
    actor: str | None = Field(description="Who published it.")
    position: int = Field(description="Log position of the publication (an as_of value).")


class PostmortemRevisions(BaseModel):
    """The published revisions of a postmortem, oldest first."""

    model_config = _examples(
        {
            "incident_id": INCIDENT_ID,
            "revisions": [
                {
                    "revision": 1,
                    "published_at": "2026-03-03T17:00:00Z",
                    "actor": "alice",
                    "position": 2150,
                },
                {
                    "revision": 2,
                    "published_at": "2026-03-04T16:30:00Z",
                    "actor": "bob",
                    "position": 2240,
                },
            ],
        }
    )

    incident_id: UUID = Field(description="The incident's id.")
    revisions: list[PublishedRevision] = Field(description="Published revisions, oldest first.")


class DiffSide(BaseModel):
    """What one side of a diff names and the revision whose text it shows."""

    reference: str = Field(description="The from or to value as given.")
    revision: int = Field(description="The revision the text is taken from.")
    status: PostmortemStatus = Field(description="That revision's status at that moment.")
    as_of: datetime | None = Field(description="The recorded time the text is taken at, if any.")


class SectionDiff(BaseModel):
    """One section on both sides of a comparison."""

    section: Section = Field(description="Which section.")
    before: str | None = Field(description="The text on the from side; null when empty.")
    after: str | None = Field(description="The text on the to side; null when empty.")
    diff: str = Field(description="Unified diff of before against after; empty when unchanged.")
    changed: bool = Field(description="Whether its text differs between the two sides.")


class PostmortemDiff(BaseModel):
    """Two revisions or moments of a postmortem compared section by section."""

    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "incident_id": INCIDENT_ID,
                    "from": {
                        "reference": "1",
                        "revision": 1,
                        "status": "published",
                        "as_of": None,
                    },
                    "to": {
                        "reference": "2026-03-04T12:00:00Z",
                        "revision": 2,
                        "status": "draft",
                        "as_of": "2026-03-04T12:00:00Z",
                    },
                    "changed": True,
                    "sections": [
                        {
                            "section": "root_cause",
                            "before": "Deploy 4812 changed the pool size.",
                            "after": "Deploy 4812 halved the payments connection pool.",
                            "diff": (
                                "--- a/revision-1/root_cause\n"
                                "+++ b/2026-03-04T12:00:00Z/root_cause\n"
                                "@@ -1 +1 @@\n"
                                "-Deploy 4812 changed the pool size.\n"
                                "+Deploy 4812 halved the payments connection pool.\n"
                            ),
                            "changed": True,
                        },
                        {
                            "section": "resolution",
                            "before": "Rolled back deploy 4812.",
                            "after": "Rolled back deploy 4812.",
                            "diff": "",
                            "changed": False,
                        },
                    ],
                }
            ]
        },
    )

    incident_id: UUID = Field(description="The incident's id.")
    from_: DiffSide = Field(alias="from", description="The side compared from.")
    to: DiffSide = Field(description="The side compared to.")
    changed: bool = Field(description="Whether any section differs.")
    sections: list[SectionDiff] = Field(description="Every section, in reading order.")
