"""The read models of the service: what runners apply and rebuild workers reconstruct by name."""

from __future__ import annotations

from projections.action_items import ActionItemProjection
from projections.base import Projection
from projections.insights import InsightsProjection
from projections.postmortem import PostmortemProjection
from projections.relations import RelationsProjection
from projections.search import SearchProjection
from projections.summary import SummaryProjection
from projections.timeline import TimelineProjection


def default_projections() -> list[Projection]:
    """Every read model of the service, in the order they are applied."""
    return [
        SummaryProjection(),
        TimelineProjection(),
        ActionItemProjection(),
        PostmortemProjection(),
        RelationsProjection(),
        SearchProjection(),
        InsightsProjection(),
    ]


def default_names(projections: list[Projection]) -> list[str] | None:
    """The names of ``projections`` when each is a default read model on its live tables
    (another process can then make the same one from its name); None otherwise."""
    defaults = {p.name: p for p in default_projections()}
    for projection in projections:
        default = defaults.get(projection.name)
        if (
            default is None
            or type(projection) is not type(default)
            or len(projection.tables) != len(default.tables)
            or any(a is not b for a, b in zip(projection.tables, default.tables, strict=True))
        ):
            return None
    return [p.name for p in projections]
