"""Domain errors: each names the broken rule precisely; the API maps them to 4xx answers."""

from __future__ import annotations


class DomainError(Exception):
    """A command was refused; nothing is stored."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class IncidentNotFound(DomainError):
    """The command names an incident that was never declared."""


class IncidentAlreadyExists(DomainError):
    """A declaration reuses the id of an incident that exists."""


class EntryNotFound(DomainError):
    """The command names a timeline entry the incident does not have."""


class InvalidTransition(DomainError):
    """The incident's status does not allow this change."""


class RuleViolation(DomainError):
    """The command breaks a rule of the domain (time order, duplicate change, ...)."""


class IncidentEnded(DomainError):
    """New alerts arrived for a resolved or closed incident: they belong to a new one."""
