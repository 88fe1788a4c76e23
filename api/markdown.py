"""The postmortem as a Markdown document: summary, timeline, cause and fix, measures, lessons."""

from __future__ import annotations

from datetime import datetime, timedelta

from api.schemas_postmortem import ActionItem, PostmortemDocument
from domain.values import ActionKind, Role, Section

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


def _cell(text: str) -> str:
    """Text safe inside a table cell: no pipes breaking columns, no newlines ending rows."""
    return (
        text.replace("\\", "\\\\").replace("|", "\\|").replace("\r\n", "\n").replace("\n", "<br>")
    )


def _bullet(label: str, text: str) -> str:
    """A bold-labelled list item; continuation lines stay inside the item."""
    return f"- **{label}:** " + text.strip().replace("\n", "\n  ")


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(cell) for cell in row) + " |" for row in rows]
    return lines


def _status_line(doc: PostmortemDocument) -> str:
    line = f"**Revision {doc.revision}**"
    if doc.status == "published" and doc.published_at is not None:
        line += f" · published {_when(doc.published_at)}"
        if doc.published_by:
            line += f" by {doc.published_by}"
    elif doc.status == "in_review" and doc.review_requested_at is not None:
        line += f" · in review since {_when(doc.review_requested_at)}"
    else:
        line += " · draft"
    if doc.revision < doc.latest_revision:
        line += f" · superseded by revision {doc.latest_revision}"
    return line


def _after(value: datetime | None, start: datetime, what: str) -> str | None:
    if value is None:
        return None
    return f"{_when(value)} ({_duration(value - start)} after {what})"


def _issue_summary(doc: PostmortemDocument) -> list[str]:
    inc, sections = doc.incident, doc.sections
    lines = ["## Issue Summary", ""]
    summary = sections.get(Section.SUMMARY) or inc.summary
    if summary:
        lines += [summary, ""]
    if inc.resolved_at is not None:
        duration = (
            f"{_duration(inc.resolved_at - inc.started_at)}"
            f" ({_when(inc.started_at)} to {_when(inc.resolved_at)})"
        )
    else:
        duration = f"ongoing since {_when(inc.started_at)}"
    impact = inc.impact or sections.get(Section.IMPACT)
    root_cause = inc.root_cause or sections.get(Section.ROOT_CAUSE)
    facts: list[tuple[str, str | None]] = [
        ("Duration", duration),
        ("Severity", inc.severity.value),
        ("Status", inc.status.value),
        ("Services", ", ".join(inc.services) or "none recorded"),
        ("Impact", impact or NOT_WRITTEN),
        ("Root cause", root_cause or NOT_WRITTEN),
        *((role.value.replace("_", " ").capitalize(), inc.roles.get(role.value)) for role in Role),
        ("Participants", ", ".join(inc.participants) or None),
        ("Started", _when(inc.started_at)),
        ("Detected", _after(inc.detected_at, inc.started_at, "start")),
        ("Acknowledged", _after(inc.acknowledged_at, inc.detected_at, "detection")),
        ("Mitigated", _after(inc.mitigated_at, inc.detected_at, "detection")),
        ("Resolved", _after(inc.resolved_at, inc.detected_at, "detection")),
    ]
    lines += [_bullet(label, text) for label, text in facts if text]
    lines.append("")
    for section, shown in ((Section.IMPACT, impact), (Section.DETECTION, None)):
        text = sections.get(section)
        if text and text != shown:
            lines += [f"### {section.value.capitalize()}", "", text, ""]
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
            entry.text,
            entry.actor or "—",
        ]
        for entry in doc.timeline
    ]
    header = ["Occurred (UTC)", "Recorded (UTC)", "Event", "What happened", "By"]
    return [*lines, *_table(header, rows), ""]


def _root_cause_and_resolution(doc: PostmortemDocument) -> list[str]:
    inc, sections = doc.incident, doc.sections
    root_cause = sections.get(Section.ROOT_CAUSE) or inc.root_cause or NOT_WRITTEN
    resolution = sections.get(Section.RESOLUTION) or inc.resolution or NOT_WRITTEN
    return [
        "## Root Cause and Resolution",
        "",
        "### Root Cause",
        "",
        root_cause,
        "",
        "### Resolution",
        "",
        resolution,
        "",
    ]


def _status(item: ActionItem) -> str:
    label = STATUS_LABELS[item.status.value]
    if item.reason and item.status.value in ("done", "wont_do"):
        label += f" ({item.reason})"
    return f"{label} (overdue)" if item.overdue else label


def _ticket(url: str | None) -> str:
    if not url:
        return "—"
    name = url.rstrip("/").rsplit("/", 1)[-1] or url
    return f"[{name}]({url})"


def _measures(doc: PostmortemDocument) -> list[str]:
    lines = ["## Corrective and Preventative Measures", ""]
    header = ["Action item", "Owner", "Due", "Priority", "Status", "Ticket"]
    for kind in ActionKind:
        lines += [f"### {kind.value.capitalize()}", ""]
        rows = [
            [
                item.title,
                item.owner,
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
    """The whole postmortem document; sections come from ``doc.revision``."""
    lines = [f"# Postmortem: {doc.incident.title}", "", _status_line(doc), ""]
    lines += _issue_summary(doc)
    lines += _timeline(doc)
    lines += _root_cause_and_resolution(doc)
    lines += _measures(doc)
    lessons = doc.sections.get(Section.LESSONS_LEARNED)
    if lessons:
        lines += ["## Lessons Learned", "", lessons, ""]
    return "\n".join(lines).rstrip("\n") + "\n"
