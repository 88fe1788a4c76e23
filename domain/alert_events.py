"""Events from monitoring: alerts firing, resolving and acknowledged; incidents linked.

An alert's ``occurred_at`` is the monitoring system's own time (``startsAt`` when it
fired, ``endsAt`` when it resolved), never the time the service received it.
"""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from pydantic import Field

from domain.erasable_text import RedactedText
from domain.event_base import DomainEvent
from domain.values import AlertKey, AlertName, AlertSource, AlertText, LinkUrl, Reason


class AlertFired(DomainEvent):
    """An alert started firing at ``occurred_at`` (Alertmanager's ``startsAt``)."""

    type: Literal["alert.fired"] = "alert.fired"
    schema_version: Literal[1] = 1
    source: AlertSource
    alert_key: AlertKey
    fingerprint: str | None = Field(default=None, max_length=100)
    name: AlertName
    summary: AlertText | RedactedText | None = None
    severity: str | None = Field(default=None, max_length=100)
    """The severity as the monitoring system named it (``critical``, ``warning``, ...)."""
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    generator_url: LinkUrl | None = None
    dashboard_url: LinkUrl | None = None
    panel_url: LinkUrl | None = None
    silence_url: LinkUrl | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    """Whatever else the source sent: PagerDuty custom details and links, Grafana values.

    ``summary``, ``annotations`` and ``details`` are stored sealed: read after the alert's
    text was erased (AlertTextRedacted), ``summary`` is the RedactedText saying who, when
    and why, and the other two are empty (domain/erasable_text.py).
    """


class AlertResolved(DomainEvent):
    """The alert stopped firing at ``occurred_at`` (Alertmanager's ``endsAt``)."""

    type: Literal["alert.resolved"] = "alert.resolved"
    schema_version: Literal[1] = 1
    alert_key: AlertKey
    name: AlertName


class AlertTextRedacted(DomainEvent):
    """The free text of every firing of the alert so far (summary, annotations, details) is
    erased: its keys are deleted with this event. Name, labels and links stay."""

    type: Literal["alert.text_redacted"] = "alert.text_redacted"
    schema_version: Literal[1] = 1
    alert_key: AlertKey
    name: AlertName
    reason: Reason


class AlertAcknowledged(DomainEvent):
    """Someone acknowledged the alert at its source (a PagerDuty ``acknowledge``)."""

    type: Literal["alert.acknowledged"] = "alert.acknowledged"
    schema_version: Literal[1] = 1
    alert_key: AlertKey
    name: AlertName


class AlertsCleared(DomainEvent):
    """Every alert of the incident has resolved, the last one at ``occurred_at``."""

    type: Literal["incident.alerts_cleared"] = "incident.alerts_cleared"
    schema_version: Literal[1] = 1
    resolved: int = Field(ge=1)
    """How many alerts the incident has seen resolve in all."""


class IncidentLinked(DomainEvent):
    """This incident follows an earlier one (the same alert group firing again)."""

    type: Literal["incident.linked"] = "incident.linked"
    schema_version: Literal[1] = 1
    previous_incident_id: UUID
    reason: AlertText | None = None
