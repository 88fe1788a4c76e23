"""Incidents like a given one: sharing its services or alert names, or its words.

Shared services and alert names count first (most shared first); among the rest, and
to order incidents sharing as many, the text search ranks other incidents' documents by
the words of this one's title and summary, any of them (OR).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Integer, case, func, literal, select

from projections.search_queries import SearchFilters, search
from projections.search_syntax import MAX_TERMS, any_of
from projections.search_tables import search_alert_names
from projections.tables import incident_summaries

Row = dict[str, Any]

MIN_WORD = 3
STOP_WORDS = frozenset(
    (
        *("about", "after", "all", "and", "are", "but", "for", "from", "had", "has", "have"),
        *("into", "its", "not", "off", "out", "our", "than", "that", "the", "their", "then"),
        *("there", "these", "they", "this", "was", "were", "what", "when", "which", "while"),
        *("who", "will", "with", "incident", "issue"),
    )
)
"""Words too common to tell incidents apart; the text search ranks the rest."""

_WORDS = re.compile(r"[^\W_]+")


@dataclass
class Similar:
    """One similar incident and why it came up."""

    incident_id: UUID
    shared_services: list[str] = field(default_factory=list)
    shared_alert_names: list[str] = field(default_factory=list)
    text_rank: float | None = None
    snippet: str | None = None

    @property
    def shared(self) -> int:
        return len(self.shared_services) + len(self.shared_alert_names)


def telling_words(*texts: str | None) -> list[str]:
    """The distinct words of ``texts`` worth searching for, in order, at most MAX_TERMS."""
    words: list[str] = []
    for piece in texts:
        for word in _WORDS.findall((piece or "").casefold()):
            telling = len(word) >= MIN_WORD and not word.isdigit() and word not in STOP_WORDS
            if telling and word not in words:
                words.append(word)
    return words[:MAX_TERMS]


def _services(text: str) -> list[str]:
    return [name for name in text.split(",") if name]


def _sharing(conn: Connection, incident_id: UUID, services: list[str], limit: int) -> list[Similar]:
    """Incidents sharing services or alert names with this one, most shared first."""
    s, a = incident_summaries, search_alert_names
    mine = select(a.c.name).where(a.c.incident_id == incident_id).scalar_subquery()
    alerts = (
        select(a.c.incident_id, func.count().label("alerts"))
        .where(a.c.name.in_(mine), a.c.incident_id != incident_id)
        .group_by(a.c.incident_id)
        .subquery()
    )
    in_common = sum(
        (
            case((s.c.services.contains(f",{name},", autoescape=True), 1), else_=0)
            for name in services
        ),
        start=literal(0, Integer),
    )
    shared = in_common + func.coalesce(alerts.c.alerts, 0)
    rows = conn.execute(
        select(s.c.incident_id, s.c.services)
        .select_from(s.outerjoin(alerts, alerts.c.incident_id == s.c.incident_id))
        .where(s.c.incident_id != incident_id, shared > 0)
        .order_by(shared.desc(), s.c.declared_at.desc(), s.c.incident_id)
        .limit(limit)
    ).all()
    found = {
        row.incident_id: Similar(
            row.incident_id, [name for name in _services(row.services) if name in services]
        )
        for row in rows
    }
    if found:
        query = (
            select(a.c.incident_id, a.c.name)
            .where(a.c.incident_id.in_(found), a.c.name.in_(mine))
            .order_by(a.c.incident_id, a.c.name)
        )
        for other, name in conn.execute(query):
            found[other].shared_alert_names.append(name)
    return list(found.values())


def similar_incidents(conn: Connection, incident_id: UUID, *, limit: int) -> list[Row] | None:
    """Up to ``limit`` incidents like this one, each with its summary's title, status,
    severity and declaration time and why it came up; None for an unknown incident."""
    s = incident_summaries
    me = conn.execute(
        select(s.c.title, s.c.summary, s.c.services).where(s.c.incident_id == incident_id)
    ).first()
    if me is None:
        return None
    found = {
        similar.incident_id: similar
        for similar in _sharing(conn, incident_id, _services(me.services), limit)
    }
    words = telling_words(me.title, me.summary)
    if words:
        hits = search(
            conn,
            any_of(words),
            limit=limit,
            filters=SearchFilters(kind="incident", other_than=incident_id),
        ).hits
        for hit in hits:
            similar = found.setdefault(hit["incident_id"], Similar(hit["incident_id"]))
            similar.text_rank, similar.snippet = hit["rank"], hit["snippet"]
    ranked = sorted(
        found.values(),
        key=lambda x: (-x.shared, x.text_rank is None, -(x.text_rank or 0.0)),
    )[:limit]
    summaries = {
        row.incident_id: row
        for row in conn.execute(
            select(s.c.incident_id, s.c.title, s.c.status, s.c.severity, s.c.declared_at).where(
                s.c.incident_id.in_([x.incident_id for x in ranked])
            )
        )
    }
    return [
        _row(x, summaries[x.incident_id]._mapping) for x in ranked if x.incident_id in summaries
    ]


def _row(similar: Similar, summary: Any) -> Row:
    return {
        "incident_id": similar.incident_id,
        "title": summary["title"],
        "status": summary["status"],
        "severity": summary["severity"],
        "declared_at": summary["declared_at"],
        "shared_services": similar.shared_services,
        "shared_alert_names": similar.shared_alert_names,
        "text_rank": similar.text_rank,
        "snippet": similar.snippet,
    }
