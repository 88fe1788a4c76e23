"""Bodies of the timeline routes: notes, their amendment or redaction, pages of entries."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.schemas.common import Body, CommandBody, CommandResult, JsonTrue, created_examples
from application.input_times import RequestTime
from application.text_fields import MultiLine
from domain import commands as c
from domain.values import NoteText, NoteVisibility, Reason
from projections.documents.timeline import TimelineEntry


class NoteRequest(CommandBody):
    """A note for the incident's timeline."""

    command_type = c.AddNote

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"text": "Rolled back deploy 4812", "visibility": "internal"}]
        }
    )

    text: MultiLine[NoteText] = Field(description="The note; several lines are fine.")
    occurred_at: RequestTime | None = Field(
        default=None, description="When the noted fact happened (defaults to now)."
    )
    visibility: NoteVisibility = Field(
        default=NoteVisibility.INTERNAL,
        description="internal: for the responders; public: fit to share beyond them.",
    )


class TimelinePatch(Body):
    """Amend a note (new text and/or time) or redact it (``redacted: true`` with a reason)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"text": "Rolled back deploy 4812 (not 4811)"},
                {"redacted": True, "reason": "Contained a customer's e-mail address"},
            ]
        }
    )

    text: MultiLine[NoteText] | None = Field(default=None, description="The note's new text.")
    occurred_at: RequestTime | None = Field(
        default=None, description="The note's new time: when the noted fact happened."
    )
    redacted: JsonTrue | None = Field(
        default=None,
        description="true: remove the note's text for good (a placeholder entry stays).",
    )
    reason: MultiLine[Reason] | None = Field(
        default=None, description="With redacted: why the text is removed."
    )

    @model_validator(mode="after")
    def _one_action(self) -> TimelinePatch:
        if self.redacted:
            if self.text is not None or self.occurred_at is not None:
                raise ValueError("a redaction cannot also change text or occurred_at")
            if self.reason is None:
                raise ValueError("a redaction needs a reason")
        elif self.text is None and self.occurred_at is None:
            raise ValueError("give text and/or occurred_at to amend, or redacted: true to redact")
        elif self.reason is not None:
            raise ValueError("reason is only used with redacted: true")
        return self

    def command(self, incident_id: UUID, at: datetime, note_id: UUID) -> c.Command:
        """A redaction with its reason, or an amendment of the note's text and/or time."""
        ids = {"incident_id": incident_id, "at": at, "note_id": note_id}
        if self.redacted:
            assert self.reason is not None  # checked by _one_action
            return c.RedactNote(**ids, reason=self.reason)
        return c.AmendNote(**ids, text=self.text, occurred_at=self.occurred_at)


class NoteCreated(CommandResult):
    """Where a new note landed, and its id: the id of its timeline entry."""

    model_config = created_examples(
        note_id="7d9e4c1a-2b3f-4e5d-8a6b-9c0d1e2f3a40", version=4, position=1230
    )

    note_id: UUID = Field(description="The note's id, also its timeline entry's id.")


class Timeline(BaseModel):
    """The incident's timeline, oldest first, one page at a time."""

    incident_id: UUID = Field(description="The incident's id.")
    entries: list[TimelineEntry] = Field(description="The entries on this page, oldest first.")
    next: str | None = Field(default=None, description="Cursor of the next page; null on the last.")
    next_url: str | None = Field(default=None, description="The next page's URL; null on the last.")
