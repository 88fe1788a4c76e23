"""The search read model: what it finds, in what order, and that rebuilds find the same.

Each database test runs on SQLite (FTS5) and PostgreSQL (tsvector) (tests/conftest.py).
"""

from __future__ import annotations

import random
import re
from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import Engine, func, select

from application.service import IncidentService
from domain import commands as c
from domain.values import ActionKind, AlertSource, Section, Severity, Status
from projections.checkpoints import load_checkpoints
from projections.rebuild import rebuild, rebuild_outdated
from projections.runner import ProjectionRunner, default_projections
from projections.search import SearchProjection
from projections.search_index import fts_table
from projections.search_queries import SEARCH_CURSOR, SearchFilters, search
from projections.search_syntax import QuerySyntaxError, fts5_query, parse
from projections.search_tables import ORDINALS_PER_POSITION, search_documents
from projections.tables import checkpoints
from projections.worker import ProjectionWorker
from tests.clocks import FakeClock
from tests.projections.rebuild_support import BASE, make_service
from tests.support.command_writer import CommandWriter
from tests.support.read_models import assert_same_rows, snapshot

ALICE = {"actor": "alice"}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(BASE, timedelta(seconds=30))


@pytest.fixture
def service(engine: Engine, clock: FakeClock) -> IncidentService:
    return make_service(engine, clock)


def declare(service: IncidentService, title: str, **fields: Any) -> UUID:
    incident_id = uuid4()
    fields.setdefault("severity", Severity.SEV2)
    service.execute(
        c.DeclareIncident(incident_id=incident_id, at=service.now(), title=title, **fields), ALICE
    )
    return incident_id


def note(service: IncidentService, incident_id: UUID, text: str) -> UUID:
    note_id = uuid4()
    service.execute(
        c.AddNote(incident_id=incident_id, at=service.now(), note_id=note_id, text=text), ALICE
    )
    return note_id


def run(service: IncidentService, command_type: type[c.Command], **fields: Any) -> None:
    service.execute(command_type(at=service.now(), **fields), ALICE)


def found(engine: Engine, q: str, **filters: Any) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return search(conn, parse(q), limit=100, filters=SearchFilters(**filters)).hits


def refs(engine: Engine, q: str, **filters: Any) -> list[tuple[str, str]]:
    """(kind, ref) of every hit, best first."""
    return [(hit["kind"], hit["ref"]) for hit in found(engine, q, **filters)]


def publish(service: IncidentService, incident_id: UUID, texts: dict[Section, str]) -> None:
    for section, text in texts.items():
        run(
            service,
            c.EditPostmortemSection,
            incident_id=incident_id,
            section=section,
            text=text,
            editor="alice",
        )
    run(service, c.RequestPostmortemReview, incident_id=incident_id, reviewers=("bob",))
    run(service, c.ApprovePostmortem, incident_id=incident_id, reviewer="bob")
    run(service, c.PublishPostmortem, incident_id=incident_id)


# --- the query syntax, without a database -------------------------------------------------


def test_the_syntax_reads_words_phrases_prefixes_exclusions_and_or() -> None:
    query = parse('timeout "connection pool" pay* -staging -"load test" dns OR tls')
    assert fts5_query(query) == (
        '("timeout" AND "connection pool" AND "pay"* AND ("dns" OR "tls"))'
        ' NOT "staging" NOT "load test"'
    )


@pytest.mark.parametrize(
    "typed",
    ['a"b', '"unclosed phrase', "NOT", "AND OR", "title:x", "x) OR (y", "*pay", "^a", "NEAR(a b)"],
)
def test_anything_typed_becomes_quoted_strings_never_fts5_operators(typed: str) -> None:
    rendered = fts5_query(parse(typed))
    # Between the operators this renderer writes, everything is inside quotes.
    outside = rendered.replace(" AND ", " ").replace(" OR ", " ").replace(" NOT ", " ")
    parts = outside.split('"')
    assert all(not piece.strip(" ()*") for piece in parts[0::2]), rendered


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("   ", "q must not be empty"),
        ("-staging", "q has no word to look for"),
        ('-"load test" -x', "q has no word to look for"),
        ("!!! ---", "q has no word to look for"),
        ("p*", "q: p* is too short a prefix"),
        ("x" * 501, "q must have at most 500 characters"),
        (" ".join(f"w{i}" for i in range(25)), "q must have at most 24 words"),
    ],
)
def test_a_query_asking_for_nothing_or_too_much_is_refused(typed: str, message: str) -> None:
    with pytest.raises(QuerySyntaxError, match=re.escape(message)):
        parse(typed)


# --- what is found ------------------------------------------------------------------------


def test_a_phrase_in_a_note_is_found_until_the_note_is_redacted(
    engine: Engine, service: IncidentService
) -> None:
    incident_id = declare(service, "Checkout returns 502")
    secret = note(service, incident_id, "Customer jane@example.com saw the payment page hang")
    note(service, incident_id, "The payment page recovered after the rollback")

    assert refs(engine, '"payment page hang"') == [("note", str(secret))]

    run(service, c.RedactNote, incident_id=incident_id, note_id=secret, reason="Personal data")

    # Applied inline: the next read does not find it, in the documents nor in the index.
    assert refs(engine, '"payment page hang"') == []
    assert refs(engine, "jane") == []
    assert [kind for kind, _ in refs(engine, "payment")] == ["note"]
    with engine.connect() as conn:
        keys = conn.execute(select(search_documents.c.ref)).scalars().all()
    assert str(secret) not in keys
    assert ProjectionRunner().rebuild(engine) > 0
    assert refs(engine, "jane") == []
    assert refs(engine, '"payment page hang"') == []


def test_a_note_holding_the_characters_snippets_mark_matches_with_is_indexed_without_them(
    engine: Engine, service: IncidentService
) -> None:
    incident_id = declare(service, "Checkout returns 502")
    marked = note(service, incident_id, "pool\x02exhausted\x03 at 17:02")
    plain = note(service, incident_id, "nothing marked here")

    assert refs(engine, "poolexhausted") == [("note", str(marked))]
    with engine.connect() as conn:
        query = select(search_documents.c.ref, search_documents.c.body)
        bodies = {row.ref: row.body for row in conn.execute(query)}
    assert bodies[str(marked)] == "poolexhausted at 17:02"
    assert bodies[str(plain)] == "nothing marked here"


def test_an_amended_note_is_found_by_its_new_text_only(
    engine: Engine, service: IncidentService
) -> None:
    incident_id = declare(service, "Checkout returns 502")
    note_id = note(service, incident_id, "Rolled back deploy 4811")
    run(service, c.AmendNote, incident_id=incident_id, note_id=note_id, text="Rolled back 4812")

    assert refs(engine, "4812") == [("note", str(note_id))]
    assert refs(engine, "4811") == []
    assert refs(engine, "deploy") == []


def test_the_postmortem_is_found_as_drafted_and_as_each_revision_published_it(
    engine: Engine, service: IncidentService
) -> None:
    incident_id = declare(service, "Checkout returns 502")
    run(service, c.ChangeStatus, incident_id=incident_id, status=Status.RESOLVED)
    publish(
        service,
        incident_id,
        {
            Section.SUMMARY: "Checkout failed for 42 minutes.",
            Section.ROOT_CAUSE: "Deploy 4812 halved the connection pool.",
            Section.RESOLUTION: "Rolled back deploy 4812.",
        },
    )
    assert refs(engine, '"halved the connection pool"') == [("postmortem", "root_cause@1")]

    run(
        service,
        c.EditPostmortemSection,
        incident_id=incident_id,
        section=Section.ROOT_CAUSE,
        text="A pool limit removed by a config push.",
        editor="alice",
    )
    assert refs(engine, '"config push"') == [("postmortem", "root_cause@draft")]
    # The published text stays findable where it was published; an unchanged section is
    # found once, in the revision that wrote it.
    assert refs(engine, '"halved the connection pool"') == [("postmortem", "root_cause@1")]
    assert refs(engine, '"42 minutes"') == [("postmortem", "summary@1")]

    run(service, c.RequestPostmortemReview, incident_id=incident_id, reviewers=("bob",))
    run(service, c.ApprovePostmortem, incident_id=incident_id, reviewer="bob")
    run(service, c.PublishPostmortem, incident_id=incident_id)
    assert refs(engine, '"config push"') == [("postmortem", "root_cause@2")]
    hit = found(engine, '"config push"')[0]
    assert hit["link"] == f"/incidents/{incident_id}/postmortem?revision=2"


def test_incidents_and_action_items_are_found_by_their_texts(
    engine: Engine, service: IncidentService
) -> None:
    incident_id = declare(service, "Checkout returns 502", summary="Errors after deploy")
    run(service, c.UpdateImpact, incident_id=incident_id, impact="Thirty percent of orders lost")
    run(service, c.UpdateRootCause, incident_id=incident_id, root_cause="Exhausted pool")
    alert = c.AlertReport(key="k1", status="firing", name="HighErrorRate")
    run(
        service,
        c.RecordAlerts,
        incident_id=incident_id,
        source=AlertSource.GENERIC,
        alerts=(alert,),
    )
    item_id = uuid4()
    run(
        service,
        c.AddActionItem,
        incident_id=incident_id,
        item_id=item_id,
        title="Alert on pool saturation",
        kind=ActionKind.PREVENTATIVE,
        owner="alice",
        due_date=date(2026, 4, 1),
    )
    run(
        service, c.RetitleActionItem, incident_id=incident_id, item_id=item_id, title="Autoscale it"
    )

    for q in ("percent orders", "exhausted", "HighErrorRate", "deploy"):
        assert ("incident", "") in refs(engine, q), q
    assert refs(engine, "autoscale") == [("action_item", str(item_id))]
    assert refs(engine, "saturation") == []
    hit = found(engine, "autoscale")[0]
    assert hit["link"] == f"/incidents/{incident_id}/action-items/{item_id}"
    assert hit["incident_title"] == "Checkout returns 502"


def test_a_title_hit_ranks_above_a_passing_mention(
    engine: Engine, service: IncidentService
) -> None:
    mention = declare(service, "Search is slow")
    note(
        service,
        mention,
        "Looked at dashboards for checkout, search, login and the payments gateway, then"
        " went on with the database and the cache, which were both fine.",
    )
    titled = declare(service, "Payments gateway down")

    hits = found(engine, "payments")
    assert [(hit["incident_id"], hit["kind"]) for hit in hits] == [
        (titled, "incident"),
        (mention, "note"),
    ]
    assert hits[0]["rank"] > hits[1]["rank"]


def test_phrases_prefixes_exclusions_either_and_diacritics(
    engine: Engine, service: IncidentService
) -> None:
    incident_id = declare(service, "Café checkout down")
    pool = note(service, incident_id, "The connection pool was exhausted")
    reversed_ = note(service, incident_id, "Exhausted was the pool of connections")
    payment = note(service, incident_id, "Payments stalled on the Zürich cluster")
    staging = note(service, incident_id, "Payments stalled on staging too")

    assert refs(engine, '"connection pool"') == [("note", str(pool))]
    assert {r for _, r in refs(engine, "pool exhausted")} == {str(pool), str(reversed_)}
    assert {r for _, r in refs(engine, "pay*")} == {str(payment), str(staging)}
    assert refs(engine, "payments -staging") == [("note", str(payment))]
    assert refs(engine, 'payments -"on staging"') == [("note", str(payment))]
    assert {r for _, r in refs(engine, "zurich OR connection")} == {str(payment), str(pool)}
    assert refs(engine, "cafe") == [("incident", "")]
    assert refs(engine, "CAFÉ") == [("incident", "")]
    assert refs(engine, "zürich") == refs(engine, "ZURICH") == [("note", str(payment))]


def test_punctuation_separates_words_alike_on_both_backends(
    engine: Engine, service: IncidentService
) -> None:
    incident_id = declare(service, "Failover on db-03")
    failover = note(service, incident_id, "db-03 failed over in 3.5s; see ops@example.com")

    for q in ("03", "db-03", '"db 03"', "3.5s", "5s", "ops@example.com", "example"):
        assert ("note", str(failover)) in refs(engine, q), q
    assert refs(engine, "03", kind="incident") == [("incident", "")]


def test_snippets_are_escaped_html_with_the_matches_marked(
    engine: Engine, service: IncidentService
) -> None:
    incident_id = declare(service, "Checkout returns 502")
    note(service, incident_id, 'A timeout: <script>alert("x")</script> & <b>more</b>')

    (hit,) = found(engine, "timeout")
    snippet = hit["snippet"]
    assert snippet.startswith("A <mark>timeout</mark>:")
    assert "alert(&quot;x&quot;)" in snippet
    assert "&amp;" in snippet
    assert snippet.replace("<mark>", "").replace("</mark>", "").count("<") == 0
    if engine.dialect.name == "sqlite":
        assert snippet.endswith(
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;more&lt;/b&gt;"
        )
    else:  # ts_headline leaves out what its parser reads as HTML tags
        assert snippet.endswith(" alert(&quot;x&quot;)  &amp;  more")
    (titled,) = found(engine, "checkout")
    assert titled["snippet"] == "<mark>Checkout</mark> returns 502"


def test_filters_by_kind_service_label_and_time(
    engine: Engine, service: IncidentService, clock: FakeClock
) -> None:
    payments = declare(service, "Payments down", services=("payments",), labels={"team": "pay"})
    early = note(service, payments, "disk full on the primary")
    clock.now = BASE + timedelta(days=2)
    later = note(service, payments, "disk full again")
    other = declare(service, "Search down", services=("search",))
    elsewhere = note(service, other, "disk full on the replica")

    assert {r for _, r in refs(engine, "disk", service="payments")} == {str(early), str(later)}
    assert {r for _, r in refs(engine, "disk", label=("team", "pay"))} == {str(early), str(later)}
    assert refs(engine, "disk", label=("team", "search")) == []
    assert refs(engine, "down", kind="incident", service="search") == [("incident", "")]
    day = BASE + timedelta(days=1)
    assert {r for _, r in refs(engine, "disk", occurred_from=day)} == {str(later), str(elsewhere)}
    assert refs(engine, "disk", occurred_to=day) == [("note", str(early))]


def retry_notes(service: IncidentService, count: int, most: int) -> None:
    """``count`` notes on a new incident saying "retry" 1 to ``most`` times, in turn."""
    incident_id = declare(service, "Checkout returns 502")
    for number in range(count):
        note(service, incident_id, "retry " * (1 + number % most) + f"step {number}")


def page_through(
    engine: Engine,
    q: str,
    size: int,
    *,
    ranked_at_most: int | None = None,
    ranked: list[int | None] | None = None,
) -> list[list[dict[str, Any]]]:
    """Every page of hits of ``q``, ``size`` a page, each asked with the previous page's
    cursor; each page's ``ranked_newest`` goes into ``ranked``."""
    pages, after = [], None
    with engine.connect() as conn:
        for _ in range(100):
            hits = search(
                conn, parse(q), limit=size + 1, after=after, ranked_at_most=ranked_at_most
            )
            if ranked is not None:
                ranked.append(hits.ranked_newest)
            page, cursor = SEARCH_CURSOR.page(hits.hits, size)
            pages.append(page)
            if cursor is None:
                return pages
            after = SEARCH_CURSOR.decode(cursor)
    raise AssertionError(f"the cursor of {q!r} still goes on after 100 pages")


def test_pages_follow_the_cursor_without_repeating_or_skipping(
    engine: Engine, service: IncidentService
) -> None:
    retry_notes(service, 23, 4)
    everything = found(engine, "retry")
    assert len(everything) == 23

    pages = page_through(engine, "retry", 5)
    assert [len(page) for page in pages] == [5, 5, 5, 5, 3]
    seen = [hit["doc_key"] for page in pages for hit in page]
    assert seen == [hit["doc_key"] for hit in everything]


# --- a query matching more than it ranks ------------------------------------------------------


def _ranked(engine: Engine, q: str, at_most: int, **filters: Any) -> tuple[list[str], int | None]:
    """The refs of every hit, best first, when at most ``at_most`` matches are ranked."""
    with engine.connect() as conn:
        hits = search(
            conn, parse(q), limit=100, filters=SearchFilters(**filters), ranked_at_most=at_most
        )
    return [hit["ref"] for hit in hits.hits], hits.ranked_newest


def test_a_query_matching_more_documents_than_it_ranks_ranks_the_newest(
    engine: Engine, service: IncidentService
) -> None:
    incident_id = declare(service, "Checkout returns 502")
    # The oldest note is the best match by far; the newer ones mention the word once.
    oldest = note(service, incident_id, "retry retry retry retry")
    newer = [str(note(service, incident_id, f"retry number {n} of many words")) for n in range(6)]

    everything, newest = _ranked(engine, "retry", at_most=7)
    assert newest is None  # seven matches, seven ranked
    assert everything[0] == str(oldest)
    assert sorted(everything[1:]) == sorted(newer)

    capped, newest = _ranked(engine, "retry", at_most=4)
    assert newest == 4
    assert sorted(capped) == sorted(newer[-4:])  # the four newest, the best of them first

    # A word only old documents hold is found, whatever the cap.
    assert _ranked(engine, "checkout", at_most=1) == ([""], None)


def test_of_hits_ranked_alike_the_newest_comes_first(
    engine: Engine, service: IncidentService
) -> None:
    incident_id = declare(service, "Checkout returns 502")
    written = [str(note(service, incident_id, "the same retry text")) for _ in range(4)]

    hits = found(engine, "retry")
    assert len({hit["rank"] for hit in hits}) == 1
    assert [hit["ref"] for hit in hits] == written[::-1]


def test_filters_choose_the_matches_before_the_newest_are_taken(
    engine: Engine, service: IncidentService
) -> None:
    incident_id = declare(service, "Checkout returns 502")
    notes = [str(note(service, incident_id, f"retry {n}")) for n in range(3)]
    for number in range(4):  # newer than every note
        run(
            service,
            c.AddActionItem,
            incident_id=incident_id,
            item_id=uuid4(),
            title=f"retry budget {number}",
            kind=ActionKind.PREVENTATIVE,
            owner="alice",
            due_date=date(2026, 4, 1),
        )

    found_notes, newest = _ranked(engine, "retry", at_most=2, kind="note")
    assert newest == 2
    assert sorted(found_notes) == sorted(notes[-2:])
    assert _ranked(engine, "retry", at_most=3, kind="note")[1] is None


def test_pages_of_a_capped_query_end_with_the_newest_matches(
    engine: Engine, service: IncidentService
) -> None:
    retry_notes(service, 9, 3)
    ranked: list[int | None] = []
    pages = page_through(engine, "retry", 2, ranked_at_most=5, ranked=ranked)
    assert ranked == [5, 5, 5]
    seen = [hit["ref"] for page in pages for hit in page]
    assert seen == _ranked(engine, "retry", at_most=5)[0]
    assert len(seen) == 5


def _ordinals(engine: Engine) -> dict[tuple[str, str], int]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(search_documents.c.kind, search_documents.c.ref, search_documents.c.ordinal)
        )
        return {(kind, ref): ordinal for kind, ref, ordinal in rows}


def test_ordinals_follow_the_order_documents_were_written_in(
    engine: Engine, service: IncidentService
) -> None:
    assert len(Section) < ORDINALS_PER_POSITION  # a publication's sections fit one position
    incident_id = declare(service, "Checkout returns 502")
    first = note(service, incident_id, "first note")
    second = note(service, incident_id, "second note")
    before = _ordinals(engine)
    assert before[("incident", "")] < before[("note", str(first))] < before[("note", str(second))]

    run(service, c.AmendNote, incident_id=incident_id, note_id=first, text="first, amended")
    run(service, c.ChangeStatus, incident_id=incident_id, status=Status.RESOLVED)
    publish(service, incident_id, {s: f"{s.value} text" for s in Section})
    after = _ordinals(engine)
    assert after[("note", str(first))] == before[("note", str(first))]  # amended in place
    published = [after[("postmortem", f"{s.value}@1")] for s in Section]
    assert len(set(published)) == len(Section)
    assert min(published) > after[("note", str(second))]
    assert len(set(after.values())) == len(after)


# --- rebuilds and catching up ----------------------------------------------------------------

QUERIES = ("note", "amended OR cause", '"writer note"', "act* OR text", "writer -incident")
"""Queries that each find something in CommandWriter's histories."""


def _results(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    return {
        q: [(h["doc_key"], h["snippet"], round(h["rank"], 9)) for h in found(engine, q)]
        for q in QUERIES
    }


def _index_rows(engine: Engine) -> int:
    """How many documents the full-text index holds (SQLite) or can match (PostgreSQL)."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            fts = fts_table(search_documents)
            conn.exec_driver_sql(f'INSERT INTO "{fts}"("{fts}") VALUES (\'integrity-check\')')
            return int(conn.exec_driver_sql(f'SELECT count(*) FROM "{fts}_docsize"').scalar_one())
        return int(
            conn.exec_driver_sql(
                "SELECT count(*) FROM search_documents WHERE document IS NOT NULL"
            ).scalar_one()
        )


def _history(engine: Engine, seed: int, commands: int) -> IncidentService:
    rng = random.Random(seed)
    service = make_service(engine, FakeClock(BASE, lambda: timedelta(seconds=rng.randint(1, 90))))
    CommandWriter(service, rng, declare_share=0.1, extras_share=0.5).write(commands)
    return service


def test_rebuilds_in_one_and_in_two_processes_find_what_the_inline_model_finds(
    engine: Engine,
) -> None:
    _history(engine, 20261206, 400)
    with engine.connect() as conn:
        documents = conn.execute(select(func.count()).select_from(search_documents)).scalar_one()
    assert documents > 100
    inline_rows, inline_results = snapshot(engine), _results(engine)
    assert all(inline_results.values()), "every query should find something in this history"
    assert _index_rows(engine) == documents

    rebuild(engine, default_projections(), processes=2, parallel_from=0, batch_size=7)
    assert_same_rows(inline_rows, snapshot(engine), "two processes: ")
    assert _results(engine) == inline_results
    assert _index_rows(engine) == documents

    rebuild(engine, [SearchProjection()], processes=1)
    assert_same_rows(inline_rows, snapshot(engine), "one process: ")
    assert _results(engine) == inline_results
    assert _index_rows(engine) == documents

    # After a rebuild, the index follows new writes as before.
    service = make_service(engine, FakeClock(BASE + timedelta(days=3)))
    incident_id = declare(service, "Afterwards")
    note_id = note(service, incident_id, "zanzibar appeared after the rebuild")
    assert refs(engine, "zanzibar") == [("note", str(note_id))]
    run(service, c.RedactNote, incident_id=incident_id, note_id=note_id, reason="Test")
    assert refs(engine, "zanzibar") == []


def test_a_new_search_model_fills_from_the_log_written_before_it(
    engine: Engine, clock: FakeClock
) -> None:
    others = [p for p in default_projections() if not isinstance(p, SearchProjection)]
    earlier = IncidentService(make_service(engine, clock).store, ProjectionRunner(others))
    incident_id = declare(earlier, "Written before search existed")
    note_id = note(earlier, incident_id, "quokka sighted in the datacenter")
    assert refs(engine, "quokka") == []

    # The first append with the search model applies the whole log before its own events.
    later = make_service(engine, clock)
    note(later, incident_id, "second note")
    assert refs(engine, "quokka") == [("note", str(note_id))]
    assert refs(engine, "written") == [("incident", "")]


def test_a_worker_fills_a_new_search_model_from_the_log(engine: Engine, clock: FakeClock) -> None:
    others = [p for p in default_projections() if not isinstance(p, SearchProjection)]
    earlier = IncidentService(make_service(engine, clock).store, ProjectionRunner(others))
    incident_id = declare(earlier, "Written before search existed")
    note_id = note(earlier, incident_id, "wombat sighted in the datacenter")

    ProjectionWorker(engine, [SearchProjection()], batch_size=2).run(once=True)

    assert refs(engine, "wombat") == [("note", str(note_id))]


def test_a_new_version_of_the_search_model_is_rebuilt_with_its_index(
    engine: Engine, service: IncidentService
) -> None:
    incident_id = declare(service, "Checkout returns 502")
    note_id = note(service, incident_id, "platypus in the payment path")
    with engine.begin() as conn:
        conn.execute(checkpoints.update().where(checkpoints.c.name == "search").values(version=0))

    assert rebuild_outdated(engine, default_projections()) == ["search"]

    assert refs(engine, "platypus") == [("note", str(note_id))]
    with engine.connect() as conn:
        assert load_checkpoints(conn)["search"].version == SearchProjection.version
    later = note(service, incident_id, "platypus again")
    assert {r for _, r in refs(engine, "platypus")} == {str(note_id), str(later)}
