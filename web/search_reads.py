"""What the search page reads: a page of hits from the search read model
(``projections.search_queries``, the query the /search API runs), each with what it is,
where it lives in the web interface, and its snippet made safe to insert as HTML.

The snippet comes as HTML: the document's text escaped, each match inside ``<mark>``. It
is not trusted as it is: cut at the ``<mark>`` and ``</mark>`` tags, every other piece is
unescaped, the matches marked with control characters; a postmortem's passage loses its
Markdown syntax (``web.plain_markdown``); then the text is escaped again and the marks become
the tags, so no markup but those tags can reach the page, whatever a document held or a
later change of the query function lets through.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from markupsafe import Markup
from sqlalchemy import Connection

from domain.values import Section
from projections.keysets import InvalidCursor
from projections.search_documents import DRAFT
from projections.search_queries import SEARCH_CURSOR, SearchFilters, search
from projections.search_syntax import QuerySyntaxError, parse
from web.plain_markdown import plain_markdown
from web.postmortem_reads import SECTION_TITLES
from web.templating import when

PAGE_SIZE = 20
KIND_LABELS = {
    "incident": "Incident",
    "note": "Note",
    "postmortem": "Postmortem",
    "action_item": "Action item",
}
"""The kinds of document searched, in the order the kind filter offers them."""

_MARK = re.compile(r"(</?mark>)")
_OPEN, _CLOSE = "\x02", "\x03"
_MARKS = re.compile("([\x02\x03])")
MARKDOWN_KINDS = frozenset({"postmortem"})
"""The kinds of document whose text is Markdown."""


class SearchInvalid(Exception):
    """A query or cursor the search cannot use; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class Hit:
    kind: str
    incident_id: UUID
    incident_title: str | None
    title: str
    snippet: Markup
    occurred_at: datetime
    page: str
    """Where the hit lives in the web interface."""

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)


@dataclass(frozen=True, slots=True)
class Results:
    hits: list[Hit]
    next_cursor: str | None
    ranked_newest: int | None = None
    """Set when the query matched more documents and only the newest this many were ranked."""


def _marked_text(snippet: str) -> str:
    """The snippet's text, each ``<mark>`` (balanced, never nested) as a control character."""
    pieces, marking = [], False
    for piece in _MARK.split(snippet):
        if piece == "<mark>" and not marking:
            pieces.append(_OPEN)
            marking = True
        elif piece == "</mark>" and marking:
            pieces.append(_CLOSE)
            marking = False
        else:
            pieces.append(_MARKS.sub("", html.unescape(piece)))
    if marking:
        pieces.append(_CLOSE)
    return "".join(pieces)


def _with_marks(text: str) -> Markup:
    """The text escaped, its marks (balanced again, empty ones left out) as ``<mark>`` tags."""
    pieces, marking = [], False
    for piece in _MARKS.split(text):
        if piece == _OPEN and not marking:
            pieces.append("<mark>")
            marking = True
        elif piece == _CLOSE and marking:
            pieces.append("</mark>")
            marking = False
        elif piece not in (_OPEN, _CLOSE):
            pieces.append(html.escape(piece, quote=True))
    if marking:
        pieces.append("</mark>")
    shown = "".join(pieces).replace("<mark></mark>", "")
    return Markup(shown)  # noqa: S704 - every piece but our own tags is escaped above


def safe_snippet(snippet: str, markdown: bool = False) -> Markup:
    """The snippet with ``<mark>`` kept (balanced, never nested) and everything else as text;
    without Markdown's syntax when ``markdown``."""
    text = _marked_text(snippet)
    return _with_marks(plain_markdown(text) if markdown else text)


def _section(ref: str) -> tuple[str, str]:
    section, _, revision = ref.partition("@")
    return section, revision


def hit_title(kind: str, ref: str, title: str) -> str:
    """What a hit is called: its title where it has one, else what it is."""
    if kind == "note":
        return "Note"
    if kind == "postmortem":
        section, revision = _section(ref)
        try:
            name = SECTION_TITLES[Section(section)]
        except ValueError:
            name = section
        shown = "draft" if revision == DRAFT else f"revision {revision}"
        return f"Postmortem: {name} ({shown})"
    return title


def page_title(row: dict[str, object]) -> str:
    """What the page calls a hit: as ``hit_title``, but a note (which has no title) by its
    incident's title and when it happened."""
    if row["kind"] == "note" and isinstance(row["occurred_at"], datetime):
        incident = row["incident_title"] or f"Incident {row['incident_id']}"
        return f"{incident}: note of {when(row['occurred_at'])}"
    return hit_title(str(row["kind"]), str(row["ref"] or ""), str(row["title"] or ""))


def hit_page(incident_id: UUID, kind: str, ref: str) -> str:
    """The page (and the place on it) that shows the hit."""
    page = f"/ui/incidents/{incident_id}"
    if kind == "note":
        return f"{page}#entry-{ref}"
    if kind == "postmortem":
        section, revision = _section(ref)
        query = "" if revision == DRAFT else f"?revision={revision}"
        return f"{page}/postmortem{query}#section-{section}"
    if kind == "action_item":
        return f"/ui/action-items?incident={incident_id}#item-{ref}"
    return page


def read_search(conn: Connection, q: str, kind: str | None, cursor: str | None) -> Results:
    """A page of hits for the query ``q``, best first; SearchInvalid naming ``q`` or
    ``cursor`` when either cannot be used."""
    try:
        query = parse(q)
    except QuerySyntaxError as exc:
        raise SearchInvalid("q", str(exc)) from None  # its message names q already
    try:
        after = SEARCH_CURSOR.decode(cursor)
    except InvalidCursor as exc:
        raise SearchInvalid("cursor", f"cursor: {exc}") from None
    found = search(conn, query, limit=PAGE_SIZE + 1, filters=SearchFilters(kind=kind), after=after)
    page, next_cursor = SEARCH_CURSOR.page(found.hits, PAGE_SIZE)
    hits = [
        Hit(
            kind=row["kind"],
            incident_id=row["incident_id"],
            incident_title=row["incident_title"],
            title=page_title(row),
            snippet=safe_snippet(row["snippet"] or "", row["kind"] in MARKDOWN_KINDS),
            occurred_at=row["occurred_at"],
            page=hit_page(row["incident_id"], row["kind"], row["ref"] or ""),
        )
        for row in page
    ]
    return Results(hits, next_cursor, found.ranked_newest)
