"""Events of the postmortem: sections edited in a revision, review requested, published."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from domain.event_base import DomainEvent
from domain.values import Section, SectionText


class PostmortemEvent(DomainEvent):
    """Base of the postmortem's events: each belongs to one revision."""

    revision: int = Field(ge=1)


class PostmortemSectionEdited(PostmortemEvent):
    """The full new text of one section, in the revision being written."""

    type: Literal["postmortem.section_edited"] = "postmortem.section_edited"
    schema_version: Literal[1] = 1
    section: Section
    text: SectionText


class PostmortemReviewRequested(PostmortemEvent):
    type: Literal["postmortem.review_requested"] = "postmortem.review_requested"
    schema_version: Literal[1] = 1


class PostmortemPublished(PostmortemEvent):
    type: Literal["postmortem.published"] = "postmortem.published"
    schema_version: Literal[1] = 1
