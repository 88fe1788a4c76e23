"""Corrective and preventative measures: per incident, and the board across incidents."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query, Request, status

from api.cursor import BOARD_CURSOR, next_link
from api.dependencies import ConnectionDep, ServiceDep
from api.query_flags import QueryFlag
from api.routers.common import COMMAND_ERRORS, NOT_FOUND, CommandsDep, require_summary
from api.schemas.action_items import (
    ActionItemCreated,
    ActionItemList,
    ActionItemPage,
    ActionItemPatch,
    AddActionItemRequest,
)
from api.schemas.common import CommandResult
from api.schemas.examples import ACTION_ITEM_LIST, ACTION_ITEM_PAGE, answers
from application.text_fields import SingleLine
from domain.values import ActionKind, ActionStatus
from projections.action_items import get_action_item, list_action_items
from projections.documents.action_items import ActionItem
from projections.documents.examples import ACTION_ITEM

router = APIRouter(tags=["action items"])

PER_INCIDENT_LIMIT = 10_000
"""More than any incident has; the per-incident list is not paginated."""


@router.post(
    "/incidents/{incident_id}/action-items",
    status_code=status.HTTP_201_CREATED,
    summary="Add a corrective or preventative action item",
    responses=COMMAND_ERRORS,
)
async def add_action_item(
    incident_id: UUID, body: AddActionItemRequest, commands: CommandsDep
) -> ActionItemCreated:
    """Adds a corrective or preventative action item with an owner and a due date; `Location` names
    the new item."""
    item_id = body.id or commands.new_id("action_item")
    command = body.command(incident_id, commands.now(), item_id=item_id)
    done = await commands.run(command, location=f"/incidents/{incident_id}/action-items/{item_id}")
    return ActionItemCreated(item_id=item_id, **done.model_dump())


@router.patch(
    "/incidents/{incident_id}/action-items/{item_id}",
    summary=(
        "Retitle, reprioritise, reassign, reschedule, change the status of, or (un)link a ticket"
        " to an action item"
    ),
    description=(
        "Each given field becomes one command, applied in the order title, priority, owner,"
        ' due_date, status, ticket_url. `"ticket_url": null` removes the ticket link; an absent field changes'
        " nothing. `reason` is only given with `status` wont_do. The whole patch is checked"
        " first: if any part breaks a rule, nothing is stored. The result is where the last"
        " command landed."
    ),
    responses=COMMAND_ERRORS,
)
async def patch_action_item(
    incident_id: UUID, item_id: UUID, body: ActionItemPatch, commands: CommandsDep
) -> CommandResult:
    return await commands.run(body.commands(incident_id, item_id, commands.now))


@router.get(
    "/incidents/{incident_id}/action-items",
    summary="An incident's action items, soonest due first",
    responses={**NOT_FOUND, **answers(ACTION_ITEM_LIST)},
)
def incident_action_items(
    incident_id: UUID, conn: ConnectionDep, service: ServiceDep
) -> ActionItemList:
    """Every action item of the incident, soonest due first, with whether it is overdue."""
    require_summary(conn, incident_id)
    today = service.now().date()
    rows = list_action_items(conn, incident_id=incident_id, today=today, limit=PER_INCIDENT_LIMIT)
    return ActionItemList(
        incident_id=incident_id, items=[ActionItem.from_row(row, today) for row in rows]
    )


@router.get(
    "/incidents/{incident_id}/action-items/{item_id}",
    summary="One action item of an incident",
    responses={
        404: {"description": "No such incident, or no such action item of it"},
        **answers(ACTION_ITEM),
    },
)
def action_item(
    incident_id: UUID, item_id: UUID, conn: ConnectionDep, service: ServiceDep
) -> ActionItem:
    """The action item as it stands, with whether it is overdue; where `Location` points when
    the item is added."""
    require_summary(conn, incident_id)
    row = get_action_item(conn, incident_id, item_id)
    if row is None:
        raise HTTPException(404, f"incident {incident_id} has no action item {item_id}")
    return ActionItem.from_row(row, service.now().date())


@router.get(
    "/action-items",
    summary="The action-item board across incidents, soonest due first",
    responses=answers(ACTION_ITEM_PAGE),
)
def board(
    conn: ConnectionDep,
    service: ServiceDep,
    request: Request,
    owner: Annotated[
        SingleLine[str] | None, Query(max_length=200, description="Only items this person owns.")
    ] = None,
    status_: Annotated[
        ActionStatus | None, Query(alias="status", description="Only items in this status.")
    ] = None,
    kind: Annotated[
        ActionKind | None, Query(description="Only corrective or only preventative items.")
    ] = None,
    incident_id: UUID | None = None,
    overdue: Annotated[
        QueryFlag | None,
        Query(description="true: only items past due and not finished; false: only the others."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> ActionItemPage:
    """Action items across all incidents, filtered by owner, status, kind, incident or overdue,
    soonest due first, one page at a time."""
    today = service.now().date()
    rows = list_action_items(
        conn,
        owner=owner,
        status=status_.value if status_ else None,
        kind=kind.value if kind else None,
        incident_id=incident_id,
        overdue=overdue,
        today=today,
        limit=limit + 1,
        cursor=BOARD_CURSOR.decode(cursor),
    )
    page, next_cursor = BOARD_CURSOR.page(rows, limit)
    return ActionItemPage(
        items=[ActionItem.from_row(row, today) for row in page],
        next=next_cursor,
        next_url=next_link(request, next_cursor),
    )
