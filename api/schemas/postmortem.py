"""Bodies of the postmortem routes: a section's new text."""

from __future__ import annotations

from pydantic import Field

from api.schemas.common import CommandBody, examples
from application.text_fields import MultiLine
from domain import commands as c
from domain.values import SectionText


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
