"""Answers of GET /search and GET /incidents/{id}/similar."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from projections.documents.examples import INCIDENT_ID
from web.install import PREFIX
from web.search_reads import hit_page, hit_title

Kind = Literal["incident", "note", "postmortem", "action_item"]

NOTE_ID = "0eb435bd-fd71-4121-81da-67a0f5d6c053"
OTHER_ID = "7d1f6c0a-58b4-4a8e-9e43-2f1b0c9d8e71"

HIT_EXAMPLE: dict[str, Any] = {
    "kind": "note",
    "incident_id": INCIDENT_ID,
    "incident_title": "Checkout API returns 502",
    "ref": NOTE_ID,
    "title": "Note",
    "snippet": "Rolled back deploy 4812: the <mark>connection</mark> <mark>pool</mark> was halved",
    "rank": 1.84,
    "occurred_at": "2026-03-02T10:40:00Z",
    "link": f"/incidents/{INCIDENT_ID}/timeline#{NOTE_ID}",
    "web_link": f"{PREFIX}/incidents/{INCIDENT_ID}#entry-{NOTE_ID}",
}
SEARCH_PAGE: dict[str, Any] = {
    "items": [HIT_EXAMPLE],
    "ranked_newest": None,
    "next_cursor": None,
    "next_url": None,
}

SIMILAR_EXAMPLE: dict[str, Any] = {
    "incident_id": OTHER_ID,
    "title": "Payments API times out",
    "status": "resolved",
    "severity": "SEV2",
    "declared_at": "2026-02-11T08:15:00Z",
    "link": f"/incidents/{OTHER_ID}",
    "web_link": f"{PREFIX}/incidents/{OTHER_ID}",
    "shared_services": ["payments"],
    "shared_alert_names": ["HighErrorRate"],
    "text_rank": 0.42,
    "snippet": "The <mark>payments</mark> <mark>pool</mark> ran out of connections",
    "why": [
        "shares the service payments",
        "shares the alert HighErrorRate",
        "its text shares words with this incident's title and summary",
    ],
}
SIMILAR_LIST: dict[str, Any] = {"incident_id": INCIDENT_ID, "items": [SIMILAR_EXAMPLE]}


class SearchHit(BaseModel):
    """One document matching the query: where it is, what it is, and the words that matched."""

    model_config = ConfigDict(json_schema_extra={"examples": [HIT_EXAMPLE]})

    kind: Kind = Field(
        description="What matched: the incident, a note, a postmortem section or an action item."
    )
    incident_id: UUID = Field(description="The incident it belongs to.")
    incident_title: str | None = Field(
        description="That incident's title (null for a moment when read models run in workers)."
    )
    ref: str | None = Field(
        description=(
            "Which one: a note's or action item's id, a postmortem section and revision"
            ' ("root_cause@2", or "root_cause@draft" for the text being written); null for'
            " the incident itself."
        )
    )
    title: str = Field(description="The hit's title: the incident's or item's, else what it is.")
    snippet: str = Field(
        description=(
            "HTML: a passage of the text, escaped, with each matching word in <mark></mark>."
            " Insert it as HTML as it is; it holds no other markup."
        )
    )
    rank: float = Field(
        description=(
            "How well it matches, higher is better; a title match ranks above a mention in a"
            " text. Compare ranks within one search only: the scale depends on the database."
        )
    )
    occurred_at: datetime = Field(
        description="When it happened: the note's time, the declaration, the edit or publication."
    )
    link: str = Field(description="The API path of the resource holding the hit.")
    web_link: str = Field(description="The page of the web interface showing the hit.")

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> SearchHit:
        kind, ref, incident_id = row["kind"], row["ref"], row["incident_id"]
        return cls(
            kind=kind,
            incident_id=incident_id,
            incident_title=row["incident_title"],
            ref=ref or None,
            title=hit_title(kind, ref, row["title"]),
            snippet=row["snippet"],
            rank=row["rank"],
            occurred_at=row["occurred_at"],
            link=row["link"],
            web_link=hit_page(incident_id, kind, ref),
        )


class SearchPage(BaseModel):
    """A page of search hits, best first."""

    model_config = ConfigDict(json_schema_extra={"examples": [SEARCH_PAGE]})

    items: list[SearchHit] = Field(description="The hits on this page, best first.")
    ranked_newest: int | None = Field(
        default=None,
        description=(
            "When the query matched more documents than this number, only the newest this"
            " many were ranked (and are paged through): add words, or narrow it with from and"
            " to, to reach older ones. Null when every match was ranked."
        ),
    )
    next_cursor: str | None = Field(
        description="Cursor for the next page (pass it as cursor with the same query); null on the last."
    )
    next_url: str | None = Field(default=None, description="The next page's URL; null on the last.")


class SimilarIncident(BaseModel):
    """An incident like the one asked about, and why it came up."""

    model_config = ConfigDict(json_schema_extra={"examples": [SIMILAR_EXAMPLE]})

    incident_id: UUID = Field(description="The similar incident.")
    title: str = Field(description="Its title.")
    status: str = Field(description="Its status now.")
    severity: str = Field(description="Its severity now.")
    declared_at: datetime = Field(description="When it was declared.")
    link: str = Field(description="Its API path.")
    web_link: str = Field(description="Its page in the web interface.")
    shared_services: list[str] = Field(description="Services both incidents affect.")
    shared_alert_names: list[str] = Field(description="Names of alerts both incidents had.")
    text_rank: float | None = Field(
        description=(
            "How well its text matches the words of this incident's title and summary (any"
            " of them), higher is better; null when it came up for what it shares only."
        )
    )
    snippet: str | None = Field(
        description="HTML: where its text matched, escaped, matches in <mark></mark>; null without."
    )
    why: list[str] = Field(description="Why it came up, in words.")

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> SimilarIncident:
        incident_id = row["incident_id"]
        why = [f"shares the service {name}" for name in row["shared_services"]]
        why += [f"shares the alert {name}" for name in row["shared_alert_names"]]
        if row["text_rank"] is not None:
            why.append("its text shares words with this incident's title and summary")
        return cls(
            **row,
            link=f"/incidents/{incident_id}",
            web_link=f"{PREFIX}/incidents/{incident_id}",
            why=why,
        )


class SimilarList(BaseModel):
    """Incidents like this one: most services and alert names in common first, then by text."""

    model_config = ConfigDict(json_schema_extra={"examples": [SIMILAR_LIST]})

    incident_id: UUID = Field(description="The incident asked about.")
    items: list[SimilarIncident] = Field(description="Similar incidents, most alike first.")
