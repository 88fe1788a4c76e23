"""Messages for Slack-compatible incoming webhooks: ``{"text": ..., "blocks": [...]}``.

Slack shows the blocks and uses ``text`` for notifications; Mattermost and Rocket.Chat
show ``text``, so it carries the whole story on one line. Only what a channel needs to
hear becomes a message: an incident declared, its severity or status changing, its
postmortem published, new action items and the notes written for the public.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from typing import Any

import orjson

from domain.values import NoteVisibility, Status, incident_id_of
from eventstore.records import RecordedEvent
from outbound.payloads import IncidentFacts, rfc3339

TEXT_LIMIT = 3000
"""The most characters Slack takes in a section's text; every text field is kept to it."""
LINE_NOTE_LIMIT = 300
"""How much of a note the one-line ``text`` quotes; the section quotes up to TEXT_LIMIT."""
SERVICES_LIMIT = 500
ELLIPSIS = "…"


@dataclass(frozen=True, slots=True)
class _Line:
    """What an event says: an emoji, a headline, and optionally a text a person wrote."""

    emoji: str
    headline: str
    note: str | None = None
    page: str = ""
    """Where the link goes, below the incident's page in the web interface."""


def escape(text: str) -> str:
    """User text made literal for Slack: ``&``, ``<`` and ``>`` as entities, so a note
    cannot mention ``<!channel>`` or forge a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _declared(data: dict[str, Any]) -> _Line:
    return _Line(":rotating_light:", f"{data['severity']} declared", data.get("summary"))


def _severity_changed(data: dict[str, Any]) -> _Line:
    before, after = data["from_severity"], data["to_severity"]
    # SEV1 is the worst: a smaller number is a raise.
    emoji, verb = (":arrow_up:", "raised") if after < before else (":arrow_down:", "lowered")
    return _Line(emoji, f"Severity {verb} {before} → {after}", data.get("reason"))


def _acknowledged(data: dict[str, Any]) -> _Line:
    return _Line(":eyes:", "Acknowledged")


def _status_changed(data: dict[str, Any]) -> _Line:
    after = data["to_status"]
    if after == Status.RESOLVED:
        return _Line(":white_check_mark:", "Resolved")
    if after == Status.CLOSED:
        return _Line(":lock:", "Closed")
    return _Line(":arrows_counterclockwise:", f"Status {data['from_status']} → {after}")


def _mitigated(data: dict[str, Any]) -> _Line:
    return _Line(":large_green_circle:", "Mitigated (impact stopped)")


def _postmortem_published(data: dict[str, Any]) -> _Line:
    return _Line(":memo:", "Postmortem published", page="/postmortem")


def _action_item_added(data: dict[str, Any]) -> _Line:
    item = f"{data['title']} ({data['owner']}, due {data['due_date']}, {data['priority']})"
    return _Line(":clipboard:", "Action item added", item)


def _note_added(data: dict[str, Any]) -> _Line | None:
    if data.get("visibility") != NoteVisibility.PUBLIC:
        return None  # internal notes are for the responders, not for a channel
    text = data["text"]
    if not isinstance(text, str):  # redacted before it was delivered: the text is gone
        return _Line(":loudspeaker:", "Public update (redacted)", f"Redacted: {text['reason']}")
    return _Line(":loudspeaker:", "Public update", text)


LINES: dict[str, Callable[[dict[str, Any]], _Line | None]] = {
    "incident.declared": _declared,
    "incident.severity_changed": _severity_changed,
    "incident.acknowledged": _acknowledged,
    "incident.status_changed": _status_changed,
    "incident.mitigated": _mitigated,
    "postmortem.published": _postmortem_published,
    "action_item.added": _action_item_added,
    "timeline.note_added": _note_added,
}
"""The events a channel hears about, and what each says."""


def slack_body(event: RecordedEvent, incident: IncidentFacts | None, base_url: str) -> bytes | None:
    """The message for ``event``, or None when it is nothing a channel needs to hear."""
    describe = LINES.get(event.type)
    line = describe(event.data) if describe is not None else None
    if line is None:
        return None
    incident_id = incident_id_of(event.stream_id)
    title = event.data.get("title") if event.type == "incident.declared" else None
    title = title or (incident.title if incident else f"incident {str(incident_id)[:8]}")
    url = f"{base_url.rstrip('/')}/ui/incidents/{incident_id}{line.page}"
    state = " · ".join(part for part in _state(event, incident) if part)
    link = f"<{escape(url)}|Open incident>"

    one_line = f"{line.emoji} {escape(line.headline)}: {escape(title)} — {state} · {link}"
    if line.note:
        flat = " ".join(line.note.split())
        one_line = _fit(one_line + " — ", _cut(flat, LINE_NOTE_LIMIT), escape)
    section = f"{line.emoji} *{escape(line.headline)}*: *<{escape(url)}|{escape(title)}>*\n{state}"
    if incident and incident.services:
        section += f" · {escape(_cut(', '.join(incident.services), SERVICES_LIMIT))}"
    if line.note:
        section = _fit(section + "\n", line.note, _quoted)
    context = _fit(f"{_when(event)} · by ", str(event.metadata.get("actor") or "someone"), escape)
    message = {
        "text": _fit("", one_line, str),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": _fit("", section, str)}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": context}]},
        ],
    }
    return orjson.dumps(message)


def _state(event: RecordedEvent, incident: IncidentFacts | None) -> tuple[str, str]:
    """The severity and status the message shows: the event's own when it sets them."""
    data = event.data
    severity: str | None = None
    status: str | None = None
    if event.type == "incident.declared":
        severity, status = data.get("severity"), Status.INVESTIGATING.value
    elif event.type == "incident.severity_changed":
        severity = data.get("to_severity")
    elif event.type == "incident.status_changed":
        status = data.get("to_status")
    severity = severity or (incident.severity if incident else "")
    status = status or (incident.status if incident else "")
    return escape(str(severity)), escape(str(status))


def _when(event: RecordedEvent) -> str:
    """The time in each reader's own time zone (Slack's date token), UTC as the fallback."""
    moment = event.occurred_at.astimezone(UTC)
    fallback = rfc3339(moment)
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def _quoted(text: str) -> str:
    return "> " + escape(text).replace("\n", "\n> ")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def _fit(fixed: str, free: str, render: Callable[[str], str]) -> str:
    """``fixed`` then ``free`` rendered, with ``free`` cut so the whole is TEXT_LIMIT
    characters at most. It is cut before rendering, so no entity is cut in half."""
    room = TEXT_LIMIT - len(fixed)
    whole = render(free)
    if len(whole) <= room:
        return fixed + whole
    keep = room - len(ELLIPSIS)
    while keep > 0 and len(render(free[:keep])) > room - len(ELLIPSIS):
        keep -= max(len(render(free[:keep])) - (room - len(ELLIPSIS)), 1)
    return fixed + render(free[: max(keep, 0)]) + ELLIPSIS
