"""Small value types shared by commands, events and state."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, AwareDatetime, StringConstraints


class Severity(StrEnum):
    """SEV1 is the worst, SEV5 the mildest."""

    SEV1 = "SEV1"
    SEV2 = "SEV2"
    SEV3 = "SEV3"
    SEV4 = "SEV4"
    SEV5 = "SEV5"


class Status(StrEnum):
    """Where the response stands: investigating -> identified -> monitoring -> resolved -> closed."""

    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"
    CLOSED = "closed"


class NoteVisibility(StrEnum):
    """Who a timeline note is written for."""

    INTERNAL = "internal"
    """For the responders only."""
    PUBLIC = "public"
    """Fit to share beyond the response team: status page, customer updates."""


class Role(StrEnum):
    """A responsibility one person holds during the response."""

    INCIDENT_COMMANDER = "incident_commander"
    COMMUNICATIONS_LEAD = "communications_lead"
    SCRIBE = "scribe"


class Section(StrEnum):
    """Postmortem sections, in the order a postmortem reads."""

    SUMMARY = "summary"
    IMPACT = "impact"
    DETECTION = "detection"
    ROOT_CAUSE = "root_cause"
    RESOLUTION = "resolution"
    LESSONS_LEARNED = "lessons_learned"


REQUIRED_TO_PUBLISH = (Section.SUMMARY, Section.ROOT_CAUSE, Section.RESOLUTION)


class PostmortemStatus(StrEnum):
    """Where the postmortem's current revision is: being written, being reviewed, or published."""

    DRAFT = "draft"
    IN_REVIEW = "in_review"
    PUBLISHED = "published"


class ActionKind(StrEnum):
    """Whether an action item fixes this failure or the class of failure."""

    CORRECTIVE = "corrective"
    """Fixes this failure."""
    PREVENTATIVE = "preventative"
    """Stops the class of failure from happening again."""


class ActionStatus(StrEnum):
    """Where an action item stands; done and wont_do end it."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    WONT_DO = "wont_do"


class AlertSource(StrEnum):
    """The monitoring system an alert came from."""

    ALERTMANAGER = "alertmanager"
    GRAFANA = "grafana"
    PAGERDUTY = "pagerduty"
    GENERIC = "generic"


class AlertStatus(StrEnum):
    """Whether an alert is firing or has resolved."""

    FIRING = "firing"
    RESOLVED = "resolved"


class IncidentKind(StrEnum):
    """What an incident was; only ``incident`` counts in insights unless asked."""

    INCIDENT = "incident"
    DRILL = "drill"
    """A planned exercise: game day, fire drill."""
    MAINTENANCE = "maintenance"
    """Planned work that affected users on purpose."""
    FALSE_ALARM = "false_alarm"
    """Nothing was wrong: a noisy alert, a misread graph."""


class Relation(StrEnum):
    """How one incident relates to another; recorded in the stream of the first."""

    DUPLICATE_OF = "duplicate_of"
    """The same problem as the other incident, which counts in its place."""
    RELATED_TO = "related_to"
    CAUSED_BY = "caused_by"


class Verdict(StrEnum):
    """A reviewer's answer to a postmortem revision in review."""

    APPROVED = "approved"
    CHANGES_REQUESTED = "changes_requested"


class Priority(StrEnum):
    """How urgent an action item is: P1 (most) to P4."""

    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"


def _to_utc(value: datetime) -> datetime:
    if value.tzinfo is UTC:  # most values, read back from the log: nothing to convert
        return value
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:  # year 1 with a positive offset, year 9999 with a negative one
        raise ValueError("datetime is out of range once converted to UTC") from exc


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
"""A timezone-aware datetime, normalised to UTC; naive datetimes are refused."""

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
NoteText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)]
ServiceName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=r"^[^\s,]+$"),
]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]
SectionText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=50_000)]
"""A postmortem section's full text; empty clears the section."""
Person = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
TicketUrl = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=2_000, pattern=r"^https?://[^\s]+$")
]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2_000)]
LabelKey = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=63, pattern=r"^[A-Za-z_][A-Za-z0-9_.-]*$"
    ),
]
"""A label's name: a letter or underscore, then letters, digits, ``_``, ``.`` or ``-``."""
LabelValue = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=r"^[^\s,=]+$"),
]
"""A label's value, validated like a service name (no spaces, commas or ``=``)."""
Comment = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5_000)]
AlertKey = Annotated[str, StringConstraints(min_length=1, max_length=255)]
"""Identifies an alert within its incident: a fingerprint, a dedup key."""
AlertName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
AlertText = Annotated[str, StringConstraints(max_length=10_000)]
LinkUrl = Annotated[str, StringConstraints(max_length=2_000)]


STREAM_PREFIX = "incident-"
"""How every stream's name starts: one stream per incident, ``incident-<uuid>``."""


def stream_id_for(incident_id: UUID) -> str:
    """The name of the stream holding one incident's events."""
    return f"{STREAM_PREFIX}{incident_id}"


def incident_id_of(stream_id: str) -> UUID:
    """The incident a stream holds (``stream_id_for`` reversed); a bare incident id reads as itself.

    ValueError when the text is neither a stream id nor an incident id.
    """
    return UUID(stream_id.removeprefix(STREAM_PREFIX))
