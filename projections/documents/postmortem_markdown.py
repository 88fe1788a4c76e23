"""The postmortem as a Markdown document: summary, timeline, cause and fix, measures, lessons."""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.values import ActionKind, Role, Section
from projections.action_items import is_finished
from projections.documents.action_items import ActionItem
from projections.documents.markdown_text import cell, inline, link_target, prose
from projections.documents.postmortem import PostmortemDocument

NOT_WRITTEN = "_Not written yet._"

STATUS_LABELS = {
    "open": "open",
    "in_progress": "in progress",
    "done": "done",
    "wont_do": "won't do",
}


def _when(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC")


def _duration(delta: timedelta) -> str:
    """``1 d 2 h 5 min``; seconds only for spans under a minute."""
    total = int(delta.total_seconds())
    if total < 60:
        return f"{max(total, 0)} s"
    minutes, _ = divmod(total, 60)
    hours, mins = divmod(minutes, 60)
    days, hrs = divmod(hours, 24)
    parts = [f"{days} d" if days else "", f"{hrs} h" if hrs else "", f"{mins} min" if mins else ""]
    return " ".join(part for part in parts if part)


def _bullet(label: str, text: str) -> str:
    """A bold-labelled list item; ``text`` is Markdown already (escaped where it must be)."""
    return f"- **{label}:** {text}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A table of cells that are Markdown already (``cell()`` for user text)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _part(text: str | None) -> str:
    """A written part of the postmortem, or the mark of one not written yet."""
    return prose(text) if text else NOT_WRITTEN


def _status_line(doc: PostmortemDocument) -> str:
    line = f"**Revision {doc.revision}**"
    if doc.status == "published" and doc.published_at is not None:
        line += f" · published {_when(doc.published_at)}"
        if doc.published_by:
            line += f" by {inline(doc.published_by)}"
    elif doc.status == "in_review" and doc.review_requested_at is not None:
        line += f" · in review since {_when(doc.review_requested_at)}"
    else:
        line += " · draft"
    if doc.revision < doc.latest_revision:
        line += f" · superseded by revision {doc.latest_revision}"
    return line


def _proof_line(doc: PostmortemDocument) -> list[str]:
    """Where the log stood, signed, when the shown revision was published (when proven)."""
    proof = doc.proof
    if proof is None:
        return []
    return [
        f"Published as of log position {proof.position}, chain {proof.chain_hash},"
        f" signed {proof.signed_at} (key {proof.key_id}); document SHA-256"
        f" {proof.document_sha256}",
        "",
    ]


def _after(value: datetime | None, start: datetime, what: str) -> str | None:
    if value is None:
        return None
    return f"{_when(value)} ({_duration(value - start)} after {what})"


def _issue_summary(doc: PostmortemDocument) -> list[str]:
    """Duration, severity, people and times; the impact once, from its section."""
    inc, sections = doc.incident, doc.sections
    lines = ["## Issue Summary", ""]
    summary = sections.get(Section.SUMMARY) or inc.summary
    if summary:
        lines += [prose(summary), ""]
    if inc.resolved_at is not None:
        duration = (
            f"{_duration(inc.resolved_at - inc.started_at)}"
            f" ({_when(inc.started_at)} to {_when(inc.resolved_at)})"
        )
    else:
        duration = f"ongoing since {_when(inc.started_at)}"
    people = [
        (role.value.replace("_", " ").capitalize(), inc.roles.get(role.value)) for role in Role
    ]
    facts: list[tuple[str, str | None]] = [
        ("Duration", duration),
        ("Severity", inc.severity.value),
        ("Status", inc.status.value),
        ("Services", inline(", ".join(inc.services)) or "none recorded"),
        *((label, inline(person) if person else None) for label, person in people),
        ("Participants", inline(", ".join(inc.participants)) or None),
        ("Started", _when(inc.started_at)),
        ("Detected", _after(inc.detected_at, inc.started_at, "start")),
        ("Acknowledged", _after(inc.acknowledged_at, inc.detected_at, "detection")),
        ("Mitigated", _after(inc.mitigated_at, inc.detected_at, "detection")),
        ("Resolved", _after(inc.resolved_at, inc.detected_at, "detection")),
    ]
    lines += [_bullet(label, text) for label, text in facts if text]
    lines += ["", "### Impact", "", _part(sections.get(Section.IMPACT)), ""]
    detection = sections.get(Section.DETECTION)
    if detection:
        lines += ["### Detection", "", prose(detection), ""]
    return lines


def _timeline(doc: PostmortemDocument) -> list[str]:
    lines = ["## Timeline", ""]
    if not doc.timeline:
        return [*lines, "_No entries._", ""]
    rows = [
        [
            entry.occurred_at.strftime("%Y-%m-%d %H:%M:%S"),
            entry.recorded_at.strftime("%Y-%m-%d %H:%M:%S"),
            entry.kind.replace("_", " "),
            cell(entry.text),
            cell(entry.actor) if entry.actor else "—",
        ]
        for entry in doc.timeline
    ]
    header = ["Occurred (UTC)", "Recorded (UTC)", "Event", "What happened", "By"]
    return [*lines, *_table(header, rows), ""]


def _root_cause_and_resolution(doc: PostmortemDocument) -> list[str]:
    sections = doc.sections
    return [
        "## Root Cause and Resolution",
        "",
        "### Root Cause",
        "",
        _part(sections.get(Section.ROOT_CAUSE)),
        "",
        "### Resolution",
        "",
        _part(sections.get(Section.RESOLUTION)),
        "",
    ]


def _status(item: ActionItem) -> str:
    label = STATUS_LABELS[item.status.value]
    if item.reason and is_finished(item.status):
        label += f" ({cell(item.reason)})"
    return f"{label} (overdue)" if item.overdue else label


def _ticket(url: str | None) -> str:
    if not url:
        return "—"
    name = url.rstrip("/").rsplit("/", 1)[-1] or url
    return f"[{cell(name)}]({link_target(url)})"


def _measures(doc: PostmortemDocument) -> list[str]:
    lines = ["## Corrective and Preventative Measures", ""]
    header = ["Action item", "Owner", "Due", "Priority", "Status", "Ticket"]
    for kind in ActionKind:
        lines += [f"### {kind.value.capitalize()}", ""]
        rows = [
            [
                cell(item.title),
                cell(item.owner),
                item.due_date.isoformat(),
                item.priority.value,
                _status(item),
                _ticket(item.ticket_url),
            ]
            for item in doc.action_items
            if item.kind is kind
        ]
        lines += [*_table(header, rows), ""] if rows else ["_None._", ""]
    return lines


def render_postmortem(doc: PostmortemDocument) -> str:
    """The whole postmortem document; sections come from ``doc.revision``.

    Impact, root cause and resolution appear once each, from the postmortem's sections
    (seeded by the facts recorded during the incident). Every user text is escaped
    (``markdown_text``), so no content can change the document's structure.
    """
    lines = [f"# Postmortem: {inline(doc.incident.title)}", "", _status_line(doc), ""]
    lines += _proof_line(doc)
    lines += _issue_summary(doc)
    lines += _timeline(doc)
    lines += _root_cause_and_resolution(doc)
    lines += _measures(doc)
    lessons = doc.sections.get(Section.LESSONS_LEARNED)
    if lessons:
        lines += ["## Lessons Learned", "", prose(lessons), ""]
    return "\n".join(lines).rstrip("\n") + "\n"
