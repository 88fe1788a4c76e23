"""Events of the postmortem: sections edited in a revision, reviewed, approved, published."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from domain.event_base import DomainEvent
from domain.values import Comment, Person, Section, SectionText


class PostmortemEvent(DomainEvent):
    """Base of the postmortem's events: each belongs to one revision."""

    revision: int = Field(ge=1)


class PostmortemSectionEdited(PostmortemEvent):
    """The full new text of one section, in the revision being written.

    Version 2 added ``editor``, whom the review rule needs (an approval must come from
    someone else); version 1 edits read with ``editor`` None, an editor not known.
    """

    type: Literal["postmortem.section_edited"] = "postmortem.section_edited"
    schema_version: Literal[2] = 2
    section: Section
    text: SectionText
    editor: Person | None = None


class PostmortemReviewRequested(PostmortemEvent):
    """The revision goes to review. Version 2 added ``reviewers``; version 1 named none."""

    type: Literal["postmortem.review_requested"] = "postmortem.review_requested"
    schema_version: Literal[2] = 2
    reviewers: tuple[Person, ...] = ()


class PostmortemApproved(PostmortemEvent):
    """A reviewer approves the revision's text as it stands."""

    type: Literal["postmortem.approved"] = "postmortem.approved"
    schema_version: Literal[1] = 1
    reviewer: Person
    comment: Comment | None = None


class PostmortemChangesRequested(PostmortemEvent):
    """A reviewer asks for changes; publishing waits until they approve a later text."""

    type: Literal["postmortem.changes_requested"] = "postmortem.changes_requested"
    schema_version: Literal[1] = 1
    reviewer: Person
    comment: Comment


class PostmortemPublished(PostmortemEvent):
    type: Literal["postmortem.published"] = "postmortem.published"
    schema_version: Literal[1] = 1


class PostmortemDueDateSet(DomainEvent):
    """When the postmortem should be published by; None returns to the default rule."""

    type: Literal["postmortem.due_date_set"] = "postmortem.due_date_set"
    schema_version: Literal[1] = 1
    due_date: date | None
