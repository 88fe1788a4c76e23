"""What a read can fail with: the thing asked for does not exist (at the moment asked about)."""

from __future__ import annotations

from uuid import UUID


class NotFound(LookupError):
    """The incident, revision or moment a read names does not exist; ``detail`` says which."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    @classmethod
    def incident(cls, incident_id: UUID) -> NotFound:
        """No incident of this id was ever declared."""
        return cls(f"incident {incident_id} does not exist")
