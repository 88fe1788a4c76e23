"""Incidents like a given one: what they share with it, and how close their words are."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from api.dependencies import ConnectionDep
from api.routers.common import NOT_FOUND, found
from api.schemas.examples import answers
from api.schemas.search import SIMILAR_LIST, SimilarIncident, SimilarList
from projections.errors import NotFound
from projections.similar import similar_incidents

router = APIRouter(tags=["search"])


@router.get(
    "/incidents/{incident_id}/similar",
    summary="Incidents like this one",
    responses={**NOT_FOUND, **answers(SIMILAR_LIST)},
)
def similar(
    incident_id: UUID,
    conn: ConnectionDep,
    limit: Annotated[int, Query(ge=1, le=50, description="How many incidents at most.")] = 10,
) -> SimilarList:
    """Other incidents that affected the same services or had alerts of the same names,
    those sharing most first; then those whose texts share the most telling words of
    this incident's title and summary. Each says why it came up."""
    with found():
        rows = similar_incidents(conn, incident_id, limit=limit)
        if rows is None:
            raise NotFound.incident(incident_id)
    return SimilarList(
        incident_id=incident_id, items=[SimilarIncident.from_row(row) for row in rows]
    )
