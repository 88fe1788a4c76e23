"""Searching the documents: matches best first, with filters, a keyset cursor and snippets.

``rank`` is higher for a better match: FTS5's bm25 negated on SQLite, ``ts_rank`` on
PostgreSQL. Both weigh a word in a title ten times one in a body, so a title hit ranks
above a passing mention. The two scales differ: a rank compares hits of one search.

A query that matches more than ``RANKED_AT_MOST`` documents ranks the newest that many
(by ordinal: the order documents were written in) and says so. Ranking is what a query
costs, match by match; a pair of words that most notes hold would otherwise take half a
second to rank, to show the best 20 of half a million hits.

Snippets are HTML: the document's text escaped, then each match wrapped in
``<mark>…</mark>`` (FTS5's ``snippet()``, PostgreSQL's ``ts_headline``, both marking
with control characters no indexed text holds, which are replaced after escaping).
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    Connection,
    Double,
    Float,
    FromClause,
    TextClause,
    bindparam,
    cast,
    column,
    func,
    literal_column,
    select,
    table,
    text,
)

from projections.keysets import Keyset, position
from projections.search_documents import link
from projections.search_index import CONFIGURATION, FTS_SUFFIX
from projections.search_syntax import SearchQuery, fts5_query, tsquery
from projections.search_tables import search_documents
from projections.tables import incident_summaries

Row = dict[str, Any]

TITLE_WEIGHT = 10.0
BODY_WEIGHT = 1.0
PG_WEIGHTS = "'{0, 0, 0.1, 1}'::float4[]"
"""ts_rank's weights of D, C, B (body) and A (title): the same ratio as the BM25 weights."""

START, STOP = "\x02", "\x03"
"""How both engines mark a match in a snippet before it is escaped and turned into <mark>."""
SNIPPET_WORDS = 16
"""Words of FTS5's snippet, around the best match."""
HEADLINE_OPTIONS = f"StartSel={START}, StopSel={STOP}, MaxWords=24, MinWords=12"
"""ts_headline's options: a text of up to 12 words is shown whole, as FTS5 shows up to 16."""

_ADJACENT = re.compile(f"{STOP}(\\s+){START}")

_FTS = search_documents.name + FTS_SUFFIX
_fts = table(_FTS, column("rowid"))


_RANK = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?", re.ASCII)


def _finite(text: str) -> float:
    # float() alone would take other scripts' digits, "inf" and "1_0".
    if not _RANK.fullmatch(text):
        raise ValueError("not a rank")
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("not a rank")
    return value


SEARCH_CURSOR: Keyset[float, int] = Keyset(("rank", "ordinal"), _finite, position)
"""Search hits, best first: by rank, then the newest of equal ranks first (ordinal)."""

RANKED_AT_MOST = 10_000
"""Matches ranked at most: the newest, when a query matches more."""


@dataclass(frozen=True, slots=True)
class Found:
    """A page of hits, best first."""

    hits: list[Row]
    ranked_newest: int | None = None
    """How many of the newest matches were ranked when there were more; None when every
    match was."""


@dataclass(frozen=True, slots=True)
class SearchFilters:
    """What a hit must also be; ``None`` leaves a filter out."""

    kind: str | None = None
    service: str | None = None
    label: tuple[str, str] | None = None
    """A (key, value) label of the hit's incident."""
    occurred_from: datetime | None = None
    occurred_to: datetime | None = None
    """Hits that happened before this time (exclusive)."""
    other_than: UUID | None = None
    """Leaves out this incident's documents."""


@dataclass(frozen=True, slots=True)
class _Engine:
    """What differs by backend: where matches are found and ranked, and how."""

    source: FromClause
    key: ColumnElement[int]
    """The document's key in ``source``."""
    matches: ColumnElement[bool] | TextClause
    rank: ColumnElement[float]


def _engine(conn: Connection, query: SearchQuery) -> _Engine:
    d = search_documents
    if conn.dialect.name == "postgresql":
        vector: ColumnElement[Any] = literal_column(f'"{d.name}".document')
        wanted = tsquery(query)
        return _Engine(
            source=d,
            key=d.c.ordinal,
            matches=vector.op("@@")(wanted),
            # As double precision: real comes back as its shortest decimal, which a cursor
            # would compare against a different number.
            rank=cast(func.ts_rank(literal_column(PG_WEIGHTS), vector, wanted), Double),
        )
    return _Engine(
        source=_fts,
        key=_fts.c.rowid,
        matches=text(f'"{_FTS}" MATCH :fts_query').bindparams(fts_query=fts5_query(query)),
        rank=-func.bm25(literal_column(f'"{_FTS}"'), TITLE_WEIGHT, BODY_WEIGHT, type_=Float),
    )


def _conditions(filters: SearchFilters) -> list[ColumnElement[bool]]:
    d, s = search_documents, incident_summaries
    found: list[ColumnElement[bool]] = []
    if filters.kind is not None:
        found.append(d.c.kind == filters.kind)
    if filters.service is not None:
        found.append(s.c.services.contains(f",{filters.service},", autoescape=True))
    if filters.label is not None:
        key, value = filters.label
        found.append(s.c.labels_text.contains(f",{key}={value},", autoescape=True))
    if filters.occurred_from is not None:
        found.append(d.c.occurred_at >= filters.occurred_from)
    if filters.occurred_to is not None:
        found.append(d.c.occurred_at < filters.occurred_to)
    if filters.other_than is not None:
        found.append(d.c.incident_id != filters.other_than)
    return found


def _newest_ranked(
    conn: Connection,
    engine: _Engine,
    source: FromClause,
    conditions: list[ColumnElement[bool]],
    at_most: int,
) -> int | None:
    """The lowest ordinal to rank when more than ``at_most`` documents match, else None.

    FTS5 walks its matches by rowid (the ordinal) newest first and stops; PostgreSQL
    walks the ordinal's index backwards where the words are common, and sorts the few
    matches of rare words.
    """
    newest = (
        select(engine.key)
        .select_from(source)
        .where(engine.matches, *conditions)
        .order_by(engine.key.desc())
        .offset(at_most - 1)
        .limit(2)
    )
    found = conn.execute(newest).scalars().all()
    return found[0] if len(found) == 2 else None


def _ranked(
    conn: Connection,
    query: SearchQuery,
    filters: SearchFilters,
    limit: int,
    after: tuple[float, int] | None,
    at_most: int,
) -> tuple[list[tuple[int, float]], bool]:
    """The keys and ranks of the best ``limit`` matches after the cursor, and whether
    only the newest ``at_most`` matches were ranked.

    Only what a filter needs is joined: ranking a common word's matches alone costs less
    than half of ranking them joined to their rows.
    """
    d, s = search_documents, incident_summaries
    engine = _engine(conn, query)
    rank, key = engine.rank, engine.key
    source = engine.source
    conditions = _conditions(filters)
    summaries = filters.service is not None or filters.label is not None
    if conditions and source is not d:
        source = source.join(d, d.c.ordinal == key)
    if summaries:
        source = source.join(s, s.c.incident_id == d.c.incident_id)
    statement = (
        select(key, rank)
        .select_from(source)
        .where(engine.matches, *conditions)
        .order_by(rank.desc(), key.desc())
        .limit(limit)
    )
    lowest = _newest_ranked(conn, engine, source, conditions, at_most)
    if lowest is not None:
        statement = statement.where(key >= lowest)
    if after is not None:
        score, last = after
        at = bindparam("after_rank", score, type_=Float)
        statement = statement.where((rank < at) | ((rank == at) & (key < last)))
    return [(found, score) for found, score in conn.execute(statement)], lowest is not None


def search(
    conn: Connection,
    query: SearchQuery,
    *,
    limit: int,
    filters: SearchFilters | None = None,
    after: tuple[float, int] | None = None,
    ranked_at_most: int | None = None,
) -> Found:
    """The best ``limit`` hits after the cursor ``after``, each with its incident's title and
    an HTML snippet; of the newest ``ranked_at_most`` (RANKED_AT_MOST) matches when more
    match."""
    d, s = search_documents, incident_summaries
    at_most = RANKED_AT_MOST if ranked_at_most is None else ranked_at_most
    ranked, capped = _ranked(conn, query, filters or SearchFilters(), limit, after, at_most)
    newest = at_most if capped else None
    if not ranked:
        return Found([], newest)
    keys = [key for key, _ in ranked]
    details = (
        select(
            d.c.ordinal,
            d.c.doc_key,
            d.c.incident_id,
            d.c.kind,
            d.c.ref,
            d.c.title,
            d.c.occurred_at,
            s.c.title.label("incident_title"),
        )
        # Outer: with projection workers, a document may be written before its summary.
        .select_from(d.outerjoin(s, s.c.incident_id == d.c.incident_id))
        .where(d.c.ordinal.in_(keys))
    )
    rows = {
        row.ordinal: {**row._mapping, "link": link(row.incident_id, row.kind, row.ref)}
        for row in conn.execute(details)
    }
    snippets = _snippets(conn, query, keys)
    hits = [
        {**rows[key], "rank": score, "snippet": snippets.get(key, "")}
        for key, score in ranked
        if key in rows
    ]
    return Found(hits, newest)


def _snippets(conn: Connection, query: SearchQuery, keys: Sequence[int]) -> dict[int, str]:
    """Each document's snippet, by key; only the page's documents are read again."""
    if not keys:
        return {}
    d = search_documents
    if conn.dialect.name == "postgresql":
        wanted = tsquery(query)
        options: ColumnElement[str] = bindparam("headline_options", HEADLINE_OPTIONS)
        config: ColumnElement[str] = literal_column(f"'{CONFIGURATION}'::regconfig")
        statement = select(
            d.c.ordinal,
            func.ts_headline(config, d.c.title, wanted, options),
            func.ts_headline(config, d.c.body, wanted, options),
            d.c.body != "",
        ).where(d.c.ordinal.in_(keys))
    else:
        fts: ColumnElement[Any] = literal_column(f'"{_FTS}"')
        statement = (
            select(
                d.c.ordinal,
                func.snippet(fts, 0, START, STOP, "…", SNIPPET_WORDS),
                func.snippet(fts, 1, START, STOP, "…", SNIPPET_WORDS),
                d.c.body != "",
            )
            .select_from(_fts.join(d, d.c.ordinal == _fts.c.rowid))
            .where(
                text(f'"{_FTS}" MATCH :fts_query').bindparams(fts_query=fts5_query(query)),
                _fts.c.rowid.in_(keys),
            )
        )
    return {
        key: marked(title, body, has_body) for key, title, body, has_body in conn.execute(statement)
    }


def marked(title: str | None, body: str | None, has_body: bool) -> str:
    """The snippet shown for a hit: from the body where it matched, else from the title
    where that matched, else the start of the body (or the title, without one). HTML."""
    title, body = title or "", body or ""
    chosen = next((part for part in (body, title) if START in part), body if has_body else title)
    # Words matched side by side read as one match, as FTS5 marks a phrase.
    joined = _ADJACENT.sub(r"\1", chosen.strip())
    escaped = html.escape(joined, quote=True)
    return escaped.replace(START, "<mark>").replace(STOP, "</mark>")
