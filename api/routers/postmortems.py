"""Postmortems across incidents: which are due, and which are overdue."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from api.dependencies import ConnectionDep
from api.query_flags import QueryFlag
from api.schemas.examples import DUE_POSTMORTEMS, answers
from application.postmortem_due import due_date, is_overdue
from domain.values import IncidentKind, PostmortemStatus, Severity, Status
from projections.postmortem_queue import unpublished_postmortems

router = APIRouter(prefix="/postmortems", tags=["postmortem"])


class DuePostmortem(BaseModel):
    """A postmortem not yet published, and when it is due."""

    incident_id: UUID = Field(description="The incident.")
    title: str = Field(description="The incident's title.")
    severity: Severity = Field(description="The incident's severity.")
    status: Status = Field(description="The incident's status.")
    kind: IncidentKind = Field(description="The incident's kind.")
    resolved_at: datetime | None = Field(description="When the incident was resolved.")
    postmortem_status: PostmortemStatus = Field(description="draft or in_review.")
    due_date: date | None = Field(description="Its own due date, or the default rule's.")
    due_date_is_default: bool = Field(description="Whether the default rule set the date.")
    overdue: bool = Field(description="Due before today.")
    days_overdue: int = Field(description="Days past the due date; 0 when not overdue.")


class DuePostmortems(BaseModel):
    """Postmortems not yet published, soonest due first."""

    items: list[DuePostmortem] = Field(description="The postmortems, soonest due first.")
    business_days: int = Field(
        description="The default rule: due this many business days after resolution."
    )
    today: date = Field(description="The service's date (UTC) that overdue is judged on.")


@router.get(
    "",
    summary="Postmortems not yet published, soonest due first",
    responses=answers(DUE_POSTMORTEMS),
)
def list_postmortems(
    conn: ConnectionDep,
    request: Request,
    overdue: Annotated[
        QueryFlag | None,
        Query(description="true: only those due before today; false: only those not overdue."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> DuePostmortems:
    """Every postmortem never published whose incident was resolved or that has a due date of
    its own. A postmortem is overdue when its due date is before today (UTC)."""
    business_days: int = request.app.state.settings.postmortem_due_business_days
    today = request.app.state.service.now().date()
    items = []
    for row in unpublished_postmortems(conn, include_drafts_of_open=False):
        due = due_date(row["postmortem_due_date"], row["resolved_at"], business_days)
        late = is_overdue(due, False, today)
        if overdue is not None and late != overdue:
            continue
        items.append(
            DuePostmortem(
                incident_id=row["incident_id"],
                title=row["title"],
                severity=row["severity"],
                status=row["status"],
                kind=row["kind"],
                resolved_at=row["resolved_at"],
                postmortem_status=row["postmortem_status"],
                due_date=due,
                due_date_is_default=row["postmortem_due_date"] is None,
                overdue=late,
                days_overdue=(today - due).days if late and due is not None else 0,
            )
        )
    items.sort(key=lambda item: (item.due_date or date.max, str(item.incident_id)))
    return DuePostmortems(items=items[:limit], business_days=business_days, today=today)
