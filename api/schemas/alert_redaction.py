"""The body that erases an alert's free text: which alert, and why."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from api.schemas.common import CommandBody
from application.text_fields import MultiLine
from domain import commands as c
from domain.values import AlertKey, Reason


class AlertTextRedaction(CommandBody):
    """Erase the summary, annotations and details of every firing of one alert so far."""

    command_type = c.RedactAlertText

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "alert_key": "4f2b9c1d8e7a6b50",
                    "reason": "The annotation held a customer's e-mail address",
                }
            ]
        }
    )

    alert_key: AlertKey = Field(
        description="The alert's key in the incident: the details.alert_key of its timeline entry."
    )
    reason: MultiLine[Reason] = Field(description="Why the text is erased; it is kept.")
