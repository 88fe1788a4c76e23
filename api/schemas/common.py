"""What every command's body and answer share: strict bodies, the command a body asks for,
and where a command landed."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from domain import commands as c
from projections.documents.examples import INCIDENT_ID


class Body(BaseModel):
    """A request body: unknown fields are refused, and it is never changed."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _json_boolean(value: Any) -> Any:
    # pydantic would take 1, "true", "yes" or "on" for true: a switch set by mistake,
    # and some (a redaction) cannot be undone.
    if not isinstance(value, bool):
        raise PydanticCustomError("bool_type", "Input should be a JSON boolean: true or false")
    return value


JsonBool = Annotated[bool, BeforeValidator(_json_boolean)]
"""A switch in a body: only JSON ``true`` or ``false``."""
JsonTrue = Annotated[Literal[True], BeforeValidator(_json_boolean)]
"""A switch in a body that can only be turned on: only JSON ``true``."""


def examples(*values: dict[str, Any]) -> ConfigDict:
    """A body's configuration with these examples for the OpenAPI document."""
    return ConfigDict(extra="forbid", frozen=True, json_schema_extra={"examples": list(values)})


def created_examples(**example: Any) -> ConfigDict:
    """The example answer of a command that creates something: where it landed, and the new
    thing's id."""
    return ConfigDict(json_schema_extra={"examples": [{"id": INCIDENT_ID, **example}]})


class CommandBody(Body):
    """A body that asks for one command, its fields named as the command's fields.

    ``id``, where a body has one, is the client's choice of the new thing's id: the
    route settles it (a generated one when absent) and passes it on under the command's
    name for it.
    """

    command_type: ClassVar[type[c.Command]]

    def command(self, incident_id: UUID, at: datetime, **more: Any) -> c.Command:
        """The command for the incident, asked at ``at``; ``more`` adds what the body does not
        hold (an id the route made, a section the path names)."""
        fields = {name: value for name, value in self if name != "id"}
        return self.command_type(incident_id=incident_id, at=at, **more, **fields)


class CommandResult(BaseModel):
    """Where a command landed: the incident's new stream version and the log position."""

    id: UUID = Field(description="The incident's id.")
    version: int = Field(
        description="The incident's version after the command, also its ETag (for If-Match)."
    )
    position: int = Field(
        description="The log position of its last event; as min_position, a read includes it."
    )
