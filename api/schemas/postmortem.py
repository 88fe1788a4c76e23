"""Bodies of the postmortem routes: a section's new text, a review, a verdict, a due date."""

from __future__ import annotations

from pydantic import Field

from api.schemas.common import Body, CommandBody, examples
from application.input_times import RequestDate
from application.text_fields import MultiLine, SingleLine
from domain import commands as c
from domain.values import Comment, Person, SectionText


class SectionRequest(CommandBody):
    """The new text of one postmortem section."""

    command_type = c.EditPostmortemSection

    model_config = examples(
        {"text": "Deploy 4812 halved the payments connection pool; checkouts queued and failed."},
        {"text": ""},
    )

    text: MultiLine[SectionText] = Field(
        description="The section's full new text; empty clears it."
    )


class ReviewRequest(CommandBody):
    """Send the draft to review by the people named."""

    command_type = c.RequestPostmortemReview

    model_config = examples({"reviewers": ["bob", "carol"]})

    reviewers: list[SingleLine[Person]] = Field(
        min_length=1,
        max_length=20,
        description="Who reviews it: token or user names. One of them, other than the last"
        " editor, must approve before it is published.",
    )


class ApprovalRequest(Body):
    """Approve the revision in review as its text stands now."""

    model_config = examples({"comment": "Clear, and the action items cover the cause."}, {})

    comment: MultiLine[Comment] | None = Field(default=None, description="Optional remarks.")


class ChangesRequest(Body):
    """Ask for changes before the revision in review is published."""

    model_config = examples({"comment": "Say why the alert fired 20 minutes late."})

    comment: MultiLine[Comment] = Field(description="What should change.")


class DueDateRequest(CommandBody):
    """When the postmortem should be published by; null returns to the default rule."""

    command_type = c.SetPostmortemDueDate

    model_config = examples({"due_date": "2026-12-11"}, {"due_date": None})

    due_date: RequestDate | None = Field(
        description="A calendar date (YYYY-MM-DD), or null for the default."
    )
