"""The action-item board across incidents, with its filters and paging, and the form that
moves an item to another status (from the board or from any page that shows the item)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode, urlsplit
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Connection, Engine, select
from starlette.concurrency import run_in_threadpool

from domain.action_items import NEXT_ACTION_STATUSES
from domain.commands import ChangeActionItemStatus
from domain.values import ActionKind, ActionStatus
from projections.action_items import list_action_items
from projections.documents.action_items import ActionItem
from projections.keysets import BOARD_CURSOR, InvalidCursor
from projections.tables import incident_summaries
from web.commands import Refusal, form_values, optional, run
from web.postmortem_forms import multi_line_field
from web.postmortem_reads import ITEM_STATUS_LABELS
from web.templating import templates
from web.viewer import Viewer, ViewerDep, WriterDep

router = APIRouter(prefix="/ui", include_in_schema=False)

BOARD = "/ui/action-items"
PAGE_SIZE = 50
FILTERS = ("owner", "status", "kind", "overdue", "incident", "cursor")
OVERDUE = {"true": True, "false": False}
Text = Annotated[str | None, Query(max_length=200)]


@dataclass(frozen=True, slots=True)
class BoardItem:
    """An item as the board shows it: with its incident's title and where it may move next."""

    item: ActionItem
    incident_title: str
    next_statuses: list[str]


def _known(value: str | None, choices: Iterable[str]) -> str | None:
    return value if value in set(choices) else None


def _filters(query: dict[str, str | None]) -> dict[str, str | None]:
    """The filters asked for; a status, kind or overdue the board does not know is ignored."""
    return {
        "owner": (query.get("owner") or "").strip() or None,
        "status": _known(query.get("status"), (s.value for s in ActionStatus)),
        "kind": _known(query.get("kind"), (k.value for k in ActionKind)),
        "overdue": _known(query.get("overdue"), OVERDUE),
        "incident": query.get("incident") or None,
        "cursor": query.get("cursor") or None,
    }


def _titles(conn: Connection, ids: set[UUID]) -> dict[UUID, str]:
    if not ids:
        return {}
    t = incident_summaries
    rows = conn.execute(select(t.c.incident_id, t.c.title).where(t.c.incident_id.in_(ids)))
    return {row.incident_id: row.title for row in rows}


def _next_statuses(status: ActionStatus) -> list[str]:
    allowed = NEXT_ACTION_STATUSES[status]
    return [s.value for s in ActionStatus if s in allowed]


def _listing(request: Request, filters: dict[str, str | None]) -> dict[str, Any]:
    """The page's items for ``filters`` (or why the filters cannot be used)."""
    try:
        cursor = BOARD_CURSOR.decode(filters["cursor"])
        incident_id = UUID(filters["incident"]) if filters["incident"] else None
    except (ValueError, InvalidCursor) as exc:
        message = str(exc) if isinstance(exc, InvalidCursor) else "incident: not an incident id"
        return {"items": [], "filter_error": message, "next_url": None, "incident_title": None}
    today = request.app.state.service.now().date()
    engine: Engine = request.app.state.engine
    with engine.connect() as conn:
        rows = list_action_items(
            conn,
            owner=filters["owner"],
            status=filters["status"],
            kind=filters["kind"],
            incident_id=incident_id,
            overdue=OVERDUE.get(filters["overdue"] or ""),
            today=today,
            limit=PAGE_SIZE + 1,
            cursor=cursor,
        )
        page, after = BOARD_CURSOR.page(rows, PAGE_SIZE)
        wanted = {row["incident_id"] for row in page}
        titles = _titles(conn, wanted | {incident_id} if incident_id else wanted)
    items = [
        BoardItem(
            item=(doc := ActionItem.from_row(row, today)),
            incident_title=titles.get(doc.incident_id, str(doc.incident_id)),
            next_statuses=_next_statuses(doc.status),
        )
        for row in page
    ]
    query = {k: v for k, v in filters.items() if v and k != "cursor"}
    next_url = str(request.url.replace(path=BOARD).include_query_params(**query, cursor=after))
    return {
        "items": items,
        "next_url": next_url if after else None,
        "incident_title": titles.get(incident_id) if incident_id else None,
    }


def _here(filters: dict[str, str | None]) -> str:
    """The board's address with these filters: where a status change comes back to."""
    query = urlencode({k: v for k, v in filters.items() if v})
    return f"{BOARD}?{query}" if query else BOARD


def _render(
    request: Request,
    viewer: Viewer,
    filters: dict[str, str | None],
    *,
    errors: dict[str, Refusal] | None = None,
    failed: UUID | None = None,
    tried: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    listing = _listing(request, filters)
    shown = {board_item.item.id for board_item in listing["items"]}
    context = {
        "viewer": viewer,
        "section": "action-items",
        "filters": filters,
        "filtered": any(v for k, v in filters.items() if k != "cursor"),
        "statuses": [s.value for s in ActionStatus],
        "kinds": [k.value for k in ActionKind],
        "status_labels": ITEM_STATUS_LABELS,
        "errors": errors or {},
        # A refusal about an item this page does not list is shown above the board.
        "stray_error": (errors or {}).get(f"status-{failed}") if failed not in shown else None,
        "here": _here(filters),
        # What the refused form asked for, shown again in that item's form.
        "tried": {**(tried or {}), "item": str(failed)} if failed else {},
        **listing,
    }
    return templates.TemplateResponse(request, "action_items.html", context, status_code=status)


@router.get("/action-items")
def board(
    request: Request,
    viewer: ViewerDep,
    owner: Text = None,
    status: Text = None,
    kind: Text = None,
    overdue: Text = None,
    incident: Text = None,
    cursor: Text = None,
) -> HTMLResponse:
    query = {
        "owner": owner,
        "status": status,
        "kind": kind,
        "overdue": overdue,
        "incident": incident,
        "cursor": cursor,
    }
    return _render(request, viewer, _filters(query))


def _back(target: str | None) -> str:
    """Where to go after a change: a page of this interface, never another site."""
    if target and target.startswith("/ui/") and not target.startswith("//"):
        return target
    return BOARD


def _filters_of(back: str, incident_id: UUID) -> dict[str, str | None]:
    """The board to show a refusal on: the one the form came from, else the incident's items."""
    parts = urlsplit(back)
    if parts.path == BOARD:
        return _filters(dict(parse_qsl(parts.query)))
    return _filters({"incident": str(incident_id)})


@router.post("/incidents/{incident_id}/action-items/{item_id}/status")
async def change_status(
    request: Request, viewer: WriterDep, incident_id: UUID, item_id: UUID
) -> Response:
    values = await form_values(request)
    now = request.app.state.service.now()

    def command() -> ChangeActionItemStatus:
        reason = optional(values, "reason")
        return ChangeActionItemStatus(
            incident_id=incident_id,
            at=now,
            item_id=item_id,
            status=values.get("status", ""),
            reason=multi_line_field(reason, "reason") if reason else None,
        )

    outcome = await run(request, viewer, command, form="item-status")
    back = _back(values.get("next"))
    if isinstance(outcome, Refusal):
        errors = {f"status-{item_id}": outcome}
        filters = _filters_of(back, incident_id)
        return await run_in_threadpool(
            _render,
            request,
            viewer,
            filters,
            errors=errors,
            failed=item_id,
            tried=values,
            status=422,
        )
    return RedirectResponse(back, status_code=303)
