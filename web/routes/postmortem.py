"""The postmortem page: the document, an editor per section, review (reviewers, verdicts)
and publication, the due date, the published revisions, each section's history, and the
comparison of two states of it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from domain.commands import (
    ApprovePostmortem,
    Command,
    EditPostmortemSection,
    PublishPostmortem,
    RequestPostmortemChanges,
    RequestPostmortemReview,
    SetPostmortemDueDate,
)
from projections.postmortem_audit import published_revisions
from projections.summary import get_summary
from web.commands import Refusal, form_values, run
from web.postmortem_forms import (
    comment_field,
    due_date_field,
    multi_line_field,
    required_comment,
    reviewers_field,
)
from web.postmortem_reads import (
    BadReference,
    audit_log,
    compare,
    page_context,
    resolve_side,
    revision_number,
    section_of,
)
from web.postmortem_review import review_of
from web.templating import templates
from web.viewer import Viewer, ViewerDep, WriterDep

router = APIRouter(prefix="/ui", include_in_schema=False)

PAGE = "/ui/incidents/{}/postmortem"
Reference = Annotated[str | None, Query(max_length=64)]


def _page(
    request: Request,
    viewer: Viewer,
    incident_id: UUID,
    revision: int | None,
    *,
    drafts: dict[str, str] | None = None,
    errors: dict[str, Refusal] | None = None,
    status: int = 200,
) -> HTMLResponse:
    engine: Engine = request.app.state.engine
    service = request.app.state.service
    now = service.now()
    with engine.connect() as conn:
        context = page_context(conn, incident_id, revision, now)
    context.update(
        review=review_of(
            service.load(incident_id),
            context["doc"],
            viewer.name,
            now=now,
            business_days=request.app.state.settings.postmortem_due_business_days,
        ),
        viewer=viewer,
        section="incidents",
        page_url=PAGE.format(incident_id),
        drafts=drafts or {},
        errors=errors or {},
    )
    return templates.TemplateResponse(request, "postmortem.html", context, status_code=status)


@router.get("/incidents/{incident_id}/postmortem")
def postmortem(
    request: Request,
    viewer: ViewerDep,
    incident_id: UUID,
    revision: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    return _page(request, viewer, incident_id, revision_number(revision))


async def _carry_out(
    request: Request,
    viewer: Viewer,
    incident_id: UUID,
    build: Callable[[], Command],
    *,
    form: str,
    anchor: str,
    drafts: dict[str, str] | None = None,
) -> Response:
    """Run the command; back to the page on success, the page with the refusal otherwise."""
    outcome = await run(request, viewer, build, form=form)
    if isinstance(outcome, Refusal):
        errors = {form: outcome}
        return await run_in_threadpool(
            _page, request, viewer, incident_id, None, drafts=drafts, errors=errors, status=422
        )
    return RedirectResponse(f"{PAGE.format(incident_id)}#{anchor}", status_code=303)


@router.post("/incidents/{incident_id}/postmortem/sections/{section}")
async def edit_section(
    request: Request, viewer: WriterDep, incident_id: UUID, section: str
) -> Response:
    chosen = section_of(section)
    text = (await form_values(request)).get("text", "")
    now = request.app.state.service.now()

    def command() -> Command:
        return EditPostmortemSection(
            incident_id=incident_id,
            at=now,
            section=chosen,
            text=multi_line_field(text, "text"),
            editor=viewer.name,
        )

    name = f"section-{chosen.value}"
    return await _carry_out(
        request, viewer, incident_id, command, form=name, anchor=name, drafts={chosen: text}
    )


async def _one_field(
    request: Request,
    viewer: Viewer,
    incident_id: UUID,
    field: str,
    build: Callable[[str, datetime], Command],
    *,
    form: str,
    anchor: str,
    draft: str,
) -> Response:
    """A form of one field: ``build`` makes the command from its text (raising a field
    error for a bad one); refused, the page comes back with the text as typed."""
    text = (await form_values(request)).get(field, "")
    now = request.app.state.service.now()
    return await _carry_out(
        request,
        viewer,
        incident_id,
        lambda: build(text, now),
        form=form,
        anchor=anchor,
        drafts={draft: text},
    )


@router.post("/incidents/{incident_id}/postmortem/review")
async def request_review(request: Request, viewer: WriterDep, incident_id: UUID) -> Response:
    def command(text: str, now: datetime) -> Command:
        reviewers = reviewers_field(text, "reviewers")
        return RequestPostmortemReview(incident_id=incident_id, at=now, reviewers=reviewers)

    return await _one_field(
        request,
        viewer,
        incident_id,
        "reviewers",
        command,
        form="review",
        anchor="workflow",
        draft="reviewers",
    )


@router.post("/incidents/{incident_id}/postmortem/approve")
async def approve(request: Request, viewer: WriterDep, incident_id: UUID) -> Response:
    """The viewer approves the revision in review, by their own name."""

    def command(text: str, now: datetime) -> Command:
        comment = comment_field(text, "comment")
        return ApprovePostmortem(
            incident_id=incident_id, at=now, reviewer=viewer.name, comment=comment
        )

    return await _one_field(
        request,
        viewer,
        incident_id,
        "comment",
        command,
        form="approve",
        anchor="workflow",
        draft="approve-comment",
    )


@router.post("/incidents/{incident_id}/postmortem/request-changes")
async def request_changes(request: Request, viewer: WriterDep, incident_id: UUID) -> Response:
    """The viewer asks for changes, saying which; publishing waits for their approval."""

    def command(text: str, now: datetime) -> Command:
        comment = required_comment(text, "comment")
        return RequestPostmortemChanges(
            incident_id=incident_id, at=now, reviewer=viewer.name, comment=comment
        )

    return await _one_field(
        request,
        viewer,
        incident_id,
        "comment",
        command,
        form="request-changes",
        anchor="workflow",
        draft="changes-comment",
    )


@router.post("/incidents/{incident_id}/postmortem/due-date")
async def set_due_date(request: Request, viewer: WriterDep, incident_id: UUID) -> Response:
    """Set the postmortem's own due date, or clear it (an empty date) for the default rule."""

    def command(text: str, now: datetime) -> Command:
        due = due_date_field(text, "due_date")
        return SetPostmortemDueDate(incident_id=incident_id, at=now, due_date=due)

    return await _one_field(
        request,
        viewer,
        incident_id,
        "due_date",
        command,
        form="due-date",
        anchor="due",
        draft="due_date",
    )


@router.post("/incidents/{incident_id}/postmortem/publish")
async def publish(request: Request, viewer: WriterDep, incident_id: UUID) -> Response:
    now = request.app.state.service.now()

    def command() -> Command:
        return PublishPostmortem(incident_id=incident_id, at=now)

    return await _carry_out(
        request, viewer, incident_id, command, form="publish", anchor="workflow"
    )


def _comparison(
    request: Request, incident_id: UUID, from_: str | None, to: str | None
) -> tuple[dict[str, Any], int]:
    """The diff page's context for ``from`` and ``to``, and its status code."""
    engine: Engine = request.app.state.engine
    with engine.connect() as conn:
        audited = audit_log(conn, incident_id)
        summary = get_summary(conn, incident_id)
    context: dict[str, Any] = {
        "incident_id": incident_id,
        "title": summary["title"] if summary else str(incident_id),
        "page_url": PAGE.format(incident_id),
        "from_text": from_ or "",
        "to_text": to or "",
        "revisions": [row["revision"] for row in published_revisions(audited)],
        "diffs": None,
    }
    if not from_:
        return context, 200
    try:
        before = resolve_side(audited, "from", from_)
        after = resolve_side(audited, "to", to)
    except BadReference as exc:
        context["diff_error"] = exc.message
        return context, exc.status
    context.update(
        before=before,
        after=after,
        diffs=compare(before.version, after.version),
        swap_url="?" + urlencode({"from": to or str(after.version.revision), "to": from_}),
    )
    return context, 200


@router.get("/incidents/{incident_id}/postmortem/diff")
def diff(
    request: Request,
    viewer: ViewerDep,
    incident_id: UUID,
    from_: Annotated[str | None, Query(alias="from", max_length=64)] = None,
    to: Reference = None,
) -> HTMLResponse:
    context, status = _comparison(request, incident_id, from_, to)
    context.update(viewer=viewer, section="incidents")
    return templates.TemplateResponse(request, "postmortem_diff.html", context, status_code=status)
