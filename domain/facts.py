"""The facts of an issue summary: impact, root cause, resolution, mitigation, people, services.

Impact, root cause and resolution recorded during the incident seed the postmortem's
draft sections of the same names (see ``seed_section``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from domain import commands as c
from domain import events as e
from domain.errors import RuleViolation
from domain.state import Incident, frozen_map, occurred, require_incident
from domain.values import PostmortemStatus, Section


def _unchanged(name: str, current: str | None, new: str) -> None:
    if current == new:
        raise RuleViolation(f"{name} already says exactly this")


def seed_section(
    state: Incident, section: Section, previous: str | None, text: str, at: datetime
) -> list[e.DomainEvent]:
    """The draft section a fact writes, if nobody wrote that section by hand.

    The postmortem is the one place the document reads impact, root cause and
    resolution from; facts recorded during the incident are its first draft. A section
    that is empty or still says the previous fact follows the fact. A section someone
    rewrote, or a revision in review or published, is never touched.
    """
    pm = state.postmortem
    if pm.status is not PostmortemStatus.DRAFT:
        return []
    current = pm.sections.get(section, "")
    if (current and current != previous) or current == text:
        return []
    return [
        e.PostmortemSectionEdited(occurred_at=at, revision=pm.revision, section=section, text=text)
    ]


def _fact(
    name: str, event: Callable[..., e.DomainEvent], section: Section
) -> Callable[[Incident, Any], list[e.DomainEvent]]:
    """The decider of a fact that also seeds the postmortem section of the same name."""

    def decide(state: Incident, cmd: Any) -> list[e.DomainEvent]:
        require_incident(state, cmd)
        current, new = getattr(state, name), getattr(cmd, name)
        _unchanged(name, current, new)
        return [
            event(occurred_at=cmd.at, **{name: new}),
            *seed_section(state, section, current, new, cmd.at),
        ]

    return decide


def _mitigate(state: Incident, cmd: c.MarkMitigated) -> list[e.DomainEvent]:
    started = require_incident(state, cmd)
    if state.mitigated_at is not None:
        raise RuleViolation(f"incident was already mitigated at {state.mitigated_at.isoformat()}")
    resolved = state.resolved_at
    if resolved is not None and cmd.occurred_at is None:
        raise RuleViolation(
            f"incident was resolved at {resolved.isoformat()}; a mitigation now would come after"
            " the resolution: give occurred_at at or before it"
        )
    when = occurred(cmd)
    if when < started:
        raise RuleViolation(
            f"mitigated at {when.isoformat()} is before started_at {started.isoformat()}"
        )
    if resolved is not None and when > resolved:
        raise RuleViolation(
            f"mitigated at {when.isoformat()} is after resolved_at {resolved.isoformat()}"
        )
    return [e.IncidentMitigated(occurred_at=when)]


def _assign_role(state: Incident, cmd: c.AssignRole) -> list[e.DomainEvent]:
    require_incident(state, cmd)
    previous = state.roles.get(cmd.role)
    if previous == cmd.person:
        raise RuleViolation(f"{cmd.person} is already {cmd.role.value}")
    return [e.RoleAssigned(occurred_at=cmd.at, role=cmd.role, person=cmd.person, previous=previous)]


def _add_participant(state: Incident, cmd: c.AddParticipant) -> list[e.DomainEvent]:
    require_incident(state, cmd)
    if cmd.person in state.participants:
        raise RuleViolation(f"{cmd.person} is already a participant")
    return [e.ParticipantAdded(occurred_at=cmd.at, person=cmd.person)]


def _change_services(state: Incident, cmd: c.ChangeServices) -> list[e.DomainEvent]:
    require_incident(state, cmd)
    services = tuple(dict.fromkeys(cmd.services))
    if services == state.services:
        raise RuleViolation("the incident already affects exactly these services")
    return [e.ServicesChanged(occurred_at=cmd.at, services=services)]


DECIDERS: dict[type[c.Command], Callable[[Incident, Any], list[e.DomainEvent]]] = {
    c.UpdateImpact: _fact("impact", e.ImpactUpdated, Section.IMPACT),
    c.UpdateRootCause: _fact("root_cause", e.RootCauseUpdated, Section.ROOT_CAUSE),
    c.UpdateResolution: _fact("resolution", e.ResolutionUpdated, Section.RESOLUTION),
    c.MarkMitigated: _mitigate,
    c.AssignRole: _assign_role,
    c.AddParticipant: _add_participant,
    c.ChangeServices: _change_services,
}

EVOLVERS: dict[type[e.DomainEvent], Callable[[Incident, Any], Incident]] = {
    e.ImpactUpdated: lambda s, ev: replace(s, impact=ev.impact),
    e.RootCauseUpdated: lambda s, ev: replace(s, root_cause=ev.root_cause),
    e.ResolutionUpdated: lambda s, ev: replace(s, resolution=ev.resolution),
    e.IncidentMitigated: lambda s, ev: replace(s, mitigated_at=ev.occurred_at),
    e.RoleAssigned: lambda s, ev: replace(s, roles=frozen_map({**s.roles, ev.role: ev.person})),
    e.ParticipantAdded: lambda s, ev: replace(s, participants=s.participants | {ev.person}),
    e.ServicesChanged: lambda s, ev: replace(s, services=ev.services),
}
