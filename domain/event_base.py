"""The base of every event, in a module of its own so event families can live apart."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from domain.values import UtcDatetime


class DomainEvent(BaseModel):
    """Base of every event: immutable, strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    occurred_at: UtcDatetime
    """When the fact happened in the world, as far as the recorder knows."""
