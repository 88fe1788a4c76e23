"""Postmortem rules (domain/postmortem.py), as given-events / when-command / then-events."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from domain.commands import (
    Command,
    EditPostmortemSection,
    PublishPostmortem,
    RequestPostmortemReview,
)
from domain.errors import IncidentNotFound, InvalidTransition, RuleViolation
from domain.events import (
    DomainEvent,
    IncidentStatusChanged,
    PostmortemApproved,
    PostmortemPublished,
    PostmortemReviewRequested,
    PostmortemSectionEdited,
)
from domain.incident import decide, evolve, fold
from domain.state import Postmortem
from domain.values import REQUIRED_TO_PUBLISH, PostmortemStatus, Section, Status, Verdict
from tests.domain.scenario import INCIDENT_ID, NOW, declared, given

AUTHOR = "alice"
REVIEWER = "bob"

RESOLVED = NOW - timedelta(minutes=20)
WRITTEN = NOW - timedelta(minutes=10)

TEXTS: dict[Section, str] = {
    Section.SUMMARY: "Checkout failed for 42 minutes after deploy 42.",
    Section.IMPACT: "30% of checkouts failed with HTTP 502.",
    Section.DETECTION: "The checkout error-rate alert paged on-call.",
    Section.ROOT_CAUSE: "Deploy 42 halved the payments connection pool.",
    Section.RESOLUTION: "Rolled back deploy 42.",
    Section.LESSONS_LEARNED: "Config changes need the same canary as code.",
}


def status_changed(from_status: Status, to_status: Status) -> IncidentStatusChanged:
    return IncidentStatusChanged(occurred_at=RESOLVED, from_status=from_status, to_status=to_status)


def history_to(status: Status) -> tuple[DomainEvent, ...]:
    """Events taking a fresh incident to ``status``."""
    start: tuple[DomainEvent, ...] = (declared(),)
    if status is Status.INVESTIGATING:
        return start
    if status is Status.CLOSED:
        return (
            *start,
            status_changed(Status.INVESTIGATING, Status.RESOLVED),
            status_changed(Status.RESOLVED, Status.CLOSED),
        )
    return (*start, status_changed(Status.INVESTIGATING, status))


def resolved() -> tuple[DomainEvent, ...]:
    return history_to(Status.RESOLVED)


def edited(section: Section, text: str | None = None, revision: int = 1) -> PostmortemSectionEdited:
    return PostmortemSectionEdited(
        occurred_at=WRITTEN,
        revision=revision,
        section=section,
        text=TEXTS[section] if text is None else text,
        editor=AUTHOR,
    )


def review_requested(revision: int = 1) -> PostmortemReviewRequested:
    return PostmortemReviewRequested(occurred_at=WRITTEN, revision=revision, reviewers=(REVIEWER,))


def approved(revision: int = 1) -> PostmortemApproved:
    return PostmortemApproved(occurred_at=WRITTEN, revision=revision, reviewer=REVIEWER)


def published(revision: int = 1) -> PostmortemPublished:
    return PostmortemPublished(occurred_at=WRITTEN, revision=revision)


def complete(revision: int = 1) -> tuple[DomainEvent, ...]:
    """Edits filling every required section of ``revision``."""
    return tuple(edited(section, revision=revision) for section in REQUIRED_TO_PUBLISH)


def in_review() -> tuple[DomainEvent, ...]:
    return (*resolved(), *complete(), review_requested())


def published_once() -> tuple[DomainEvent, ...]:
    return (*in_review(), approved(), published())


def edit(section: Section, text: str) -> EditPostmortemSection:
    return EditPostmortemSection(incident_id=INCIDENT_ID, at=NOW, section=section, text=text)


REQUEST_REVIEW = RequestPostmortemReview(incident_id=INCIDENT_ID, at=NOW, reviewers=(REVIEWER,))
PUBLISH = PublishPostmortem(incident_id=INCIDENT_ID, at=NOW)


# --- unknown incident ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [edit(Section.SUMMARY, "text"), REQUEST_REVIEW, PUBLISH],
    ids=lambda cmd: type(cmd).__name__,
)
def test_given_nothing_when_any_postmortem_command_then_incident_not_found(
    command: Command,
) -> None:
    with pytest.raises(IncidentNotFound, match=re.escape(f"incident {INCIDENT_ID} does not exist")):
        decide(given(), command)


# --- edit ---------------------------------------------------------------------------------


def test_fresh_incident_has_an_empty_draft_of_revision_one() -> None:
    assert given(declared()).postmortem == Postmortem(
        revision=1, status=PostmortemStatus.DRAFT, sections={}, published=()
    )


@pytest.mark.parametrize("section", list(Section), ids=lambda s: s.value)
def test_given_declared_when_edit_section_then_edited_in_revision_one(section: Section) -> None:
    command = edit(section, f"  {TEXTS[section]}  ")

    assert decide(given(declared()), command) == [
        PostmortemSectionEdited(occurred_at=NOW, revision=1, section=section, text=TEXTS[section])
    ]


def test_given_draft_when_edit_section_again_then_same_revision() -> None:
    command = edit(Section.SUMMARY, "A better summary.")

    assert decide(given(declared(), edited(Section.SUMMARY)), command) == [
        PostmortemSectionEdited(
            occurred_at=NOW, revision=1, section=Section.SUMMARY, text="A better summary."
        )
    ]


def test_given_section_when_edit_with_same_text_then_refused() -> None:
    command = edit(Section.ROOT_CAUSE, f" {TEXTS[Section.ROOT_CAUSE]} ")

    with pytest.raises(
        RuleViolation, match=re.escape("section root_cause already has exactly this text")
    ):
        decide(given(declared(), edited(Section.ROOT_CAUSE)), command)


def test_given_empty_section_when_edit_with_empty_text_then_refused() -> None:
    with pytest.raises(
        RuleViolation, match=re.escape("section impact already has exactly this text")
    ):
        decide(given(declared()), edit(Section.IMPACT, "   "))


def test_given_section_when_clear_it_then_edited_with_empty_text() -> None:
    assert decide(given(declared(), edited(Section.IMPACT)), edit(Section.IMPACT, "")) == [
        PostmortemSectionEdited(occurred_at=NOW, revision=1, section=Section.IMPACT, text="")
    ]


def test_given_same_text_in_another_section_when_edit_then_accepted() -> None:
    text = TEXTS[Section.SUMMARY]

    assert decide(given(declared(), edited(Section.SUMMARY)), edit(Section.IMPACT, text)) == [
        PostmortemSectionEdited(occurred_at=NOW, revision=1, section=Section.IMPACT, text=text)
    ]


def test_edits_set_sections_in_state() -> None:
    state = given(
        declared(),
        edited(Section.SUMMARY, "first"),
        edited(Section.IMPACT),
        edited(Section.SUMMARY, "second"),
    )

    assert state.postmortem == Postmortem(
        revision=1,
        status=PostmortemStatus.DRAFT,
        sections={Section.SUMMARY: "second", Section.IMPACT: TEXTS[Section.IMPACT]},
        last_editor=AUTHOR,
    )


def test_given_in_review_when_edit_then_same_revision_and_still_in_review() -> None:
    command = edit(Section.SUMMARY, "Reviewer asked for a shorter summary.")

    events = decide(given(*in_review()), command)

    assert events == [
        PostmortemSectionEdited(
            occurred_at=NOW,
            revision=1,
            section=Section.SUMMARY,
            text="Reviewer asked for a shorter summary.",
        )
    ]
    pm = fold(events, given(*in_review())).postmortem
    assert (pm.revision, pm.status) == (1, PostmortemStatus.IN_REVIEW)
    assert pm.sections[Section.SUMMARY] == "Reviewer asked for a shorter summary."


# --- request review -----------------------------------------------------------------------


def test_given_draft_with_a_section_when_request_review_then_review_requested() -> None:
    assert decide(given(declared(), edited(Section.IMPACT)), REQUEST_REVIEW) == [
        PostmortemReviewRequested(occurred_at=NOW, revision=1, reviewers=(REVIEWER,))
    ]


def test_given_empty_postmortem_when_request_review_then_refused() -> None:
    with pytest.raises(
        RuleViolation,
        match=re.escape("the postmortem is empty; write at least one section before review"),
    ):
        decide(given(declared()), REQUEST_REVIEW)


def test_given_only_cleared_sections_when_request_review_then_refused() -> None:
    state = given(declared(), edited(Section.SUMMARY), edited(Section.SUMMARY, ""))

    with pytest.raises(
        RuleViolation,
        match=re.escape("the postmortem is empty; write at least one section before review"),
    ):
        decide(state, REQUEST_REVIEW)


@pytest.mark.parametrize(
    ("history", "revision", "status"),
    [
        pytest.param(in_review(), 1, "in_review", id="in_review"),
        pytest.param(published_once(), 1, "published", id="published"),
        pytest.param(
            (*published_once(), edited(Section.IMPACT, revision=2), review_requested(2)),
            2,
            "in_review",
            id="revision-2-in_review",
        ),
    ],
)
def test_given_not_draft_when_request_review_then_invalid_transition(
    history: tuple[DomainEvent, ...], revision: int, status: str
) -> None:
    with pytest.raises(
        InvalidTransition,
        match=re.escape(
            f"revision {revision} of the postmortem is {status}; only a draft can be sent to"
            " review (edit a section to start a new revision)"
        ),
    ):
        decide(given(*history), REQUEST_REVIEW)


def test_review_requested_sets_status_in_state() -> None:
    pm = given(*in_review()).postmortem

    assert (pm.revision, pm.status, pm.published) == (1, PostmortemStatus.IN_REVIEW, ())


# --- publish ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [Status.RESOLVED, Status.CLOSED], ids=lambda s: s.value)
def test_given_complete_in_review_and_incident_over_when_publish_then_published(
    status: Status,
) -> None:
    state = given(*history_to(status), *complete(), review_requested(), approved())

    assert decide(state, PUBLISH) == [PostmortemPublished(occurred_at=NOW, revision=1)]


def test_given_draft_when_publish_then_must_be_in_review() -> None:
    state = given(*resolved(), *complete())

    with pytest.raises(
        InvalidTransition,
        match=re.escape("the postmortem must be in review before it is published"),
    ):
        decide(state, PUBLISH)


def test_given_empty_draft_when_publish_then_must_be_in_review() -> None:
    with pytest.raises(
        InvalidTransition,
        match=re.escape("the postmortem must be in review before it is published"),
    ):
        decide(given(*resolved()), PUBLISH)


def test_given_published_when_publish_again_then_refused() -> None:
    with pytest.raises(
        InvalidTransition,
        match=re.escape("revision 1 of the postmortem is already published"),
    ):
        decide(given(*published_once()), PUBLISH)


@pytest.mark.parametrize(
    ("written", "missing"),
    [
        pytest.param([Section.IMPACT], "summary, root_cause, resolution", id="none"),
        pytest.param([Section.SUMMARY], "root_cause, resolution", id="summary-only"),
        pytest.param([Section.SUMMARY, Section.RESOLUTION], "root_cause", id="no-root_cause"),
        pytest.param([Section.ROOT_CAUSE, Section.RESOLUTION], "summary", id="no-summary"),
        pytest.param(
            [Section.SUMMARY, Section.ROOT_CAUSE, Section.LESSONS_LEARNED],
            "resolution",
            id="no-resolution",
        ),
    ],
)
def test_given_in_review_with_missing_sections_when_publish_then_missing_listed(
    written: list[Section], missing: str
) -> None:
    state = given(*resolved(), *(edited(s) for s in written), review_requested())

    with pytest.raises(
        RuleViolation, match=re.escape(f"cannot publish: section(s) {missing} are empty")
    ):
        decide(state, PUBLISH)


def test_given_in_review_with_cleared_required_section_when_publish_then_listed() -> None:
    state = given(*resolved(), *complete(), edited(Section.ROOT_CAUSE, ""), review_requested())

    with pytest.raises(
        RuleViolation, match=re.escape("cannot publish: section(s) root_cause are empty")
    ):
        decide(state, PUBLISH)


@pytest.mark.parametrize(
    "status",
    [Status.INVESTIGATING, Status.IDENTIFIED, Status.MONITORING],
    ids=lambda s: s.value,
)
def test_given_incident_not_over_when_publish_then_refused(status: Status) -> None:
    state = given(*history_to(status), *complete(), review_requested())

    with pytest.raises(
        RuleViolation,
        match=re.escape(
            f"cannot publish the postmortem of an incident that is {status.value}; resolve it first"
        ),
    ):
        decide(state, PUBLISH)


def test_given_reopened_incident_when_publish_then_refused() -> None:
    state = given(
        *resolved(),
        *complete(),
        review_requested(),
        status_changed(Status.RESOLVED, Status.INVESTIGATING),
    )

    with pytest.raises(
        RuleViolation,
        match=re.escape(
            "cannot publish the postmortem of an incident that is investigating; resolve it first"
        ),
    ):
        decide(state, PUBLISH)


def test_published_sets_status_and_records_revision_in_state() -> None:
    pm = given(*published_once()).postmortem

    assert pm == Postmortem(
        revision=1,
        status=PostmortemStatus.PUBLISHED,
        sections={s: TEXTS[s] for s in REQUIRED_TO_PUBLISH},
        published=(1,),
        reviewers=(REVIEWER,),
        verdicts={REVIEWER: Verdict.APPROVED},
        last_editor=AUTHOR,
    )


# --- editing a published postmortem -------------------------------------------------------


def test_given_published_when_edit_then_next_revision() -> None:
    command = edit(Section.LESSONS_LEARNED, TEXTS[Section.LESSONS_LEARNED])

    assert decide(given(*published_once()), command) == [
        PostmortemSectionEdited(
            occurred_at=NOW,
            revision=2,
            section=Section.LESSONS_LEARNED,
            text=TEXTS[Section.LESSONS_LEARNED],
        )
    ]


def test_given_published_when_edit_with_published_text_then_refused() -> None:
    command = edit(Section.SUMMARY, TEXTS[Section.SUMMARY])

    with pytest.raises(
        RuleViolation, match=re.escape("section summary already has exactly this text")
    ):
        decide(given(*published_once()), command)


def test_given_published_when_edited_then_draft_of_next_revision_from_published_text() -> None:
    state = given(*published_once(), edited(Section.SUMMARY, "Revised summary.", revision=2))

    assert state.postmortem == Postmortem(
        revision=2,
        status=PostmortemStatus.DRAFT,
        sections={
            Section.SUMMARY: "Revised summary.",
            Section.ROOT_CAUSE: TEXTS[Section.ROOT_CAUSE],
            Section.RESOLUTION: TEXTS[Section.RESOLUTION],
        },
        published=(1,),
        last_editor=AUTHOR,
    )


def test_given_next_revision_draft_when_edit_again_then_same_revision() -> None:
    state = given(*published_once(), edited(Section.SUMMARY, "Revised summary.", revision=2))

    assert decide(state, edit(Section.IMPACT, TEXTS[Section.IMPACT])) == [
        PostmortemSectionEdited(
            occurred_at=NOW, revision=2, section=Section.IMPACT, text=TEXTS[Section.IMPACT]
        )
    ]


def test_given_next_revision_draft_when_request_review_then_for_that_revision() -> None:
    state = given(*published_once(), edited(Section.SUMMARY, "Revised summary.", revision=2))

    assert decide(state, REQUEST_REVIEW) == [
        PostmortemReviewRequested(occurred_at=NOW, revision=2, reviewers=(REVIEWER,))
    ]


def test_given_next_revision_in_review_when_publish_then_that_revision_published() -> None:
    state = given(
        *published_once(),
        edited(Section.SUMMARY, "Revised summary.", revision=2),
        review_requested(2),
        approved(2),
    )

    assert decide(state, PUBLISH) == [PostmortemPublished(occurred_at=NOW, revision=2)]


def test_published_revisions_accumulate_in_state() -> None:
    state = given(
        *published_once(),
        edited(Section.SUMMARY, "Revised summary.", revision=2),
        review_requested(2),
        approved(2),
        published(2),
        edited(Section.IMPACT, revision=3),
        review_requested(3),
        approved(3),
        published(3),
    )

    assert state.postmortem.published == (1, 2, 3)
    assert (state.postmortem.revision, state.postmortem.status) == (3, PostmortemStatus.PUBLISHED)
    assert decide(state, edit(Section.DETECTION, TEXTS[Section.DETECTION])) == [
        PostmortemSectionEdited(
            occurred_at=NOW, revision=4, section=Section.DETECTION, text=TEXTS[Section.DETECTION]
        )
    ]


def test_given_next_revision_draft_then_published_list_is_unchanged() -> None:
    state = given(
        *published_once(),
        edited(Section.SUMMARY, "Revised summary.", revision=2),
        edited(Section.SUMMARY, "Revised again.", revision=2),
    )

    assert state.postmortem.published == (1,)
    assert state.postmortem.revision == 2


# --- evolve -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "event",
    [edited(Section.IMPACT, revision=2), review_requested(), published()],
    ids=lambda ev: type(ev).__name__,
)
def test_postmortem_events_increment_version_and_leave_the_given_state_alone(
    event: DomainEvent,
) -> None:
    before = given(*in_review())
    snapshot = given(*in_review())

    after = evolve(before, event)

    assert after.version == before.version + 1
    assert before == snapshot


def test_postmortem_sections_in_state_cannot_be_changed_in_place() -> None:
    state = given(declared(), edited(Section.SUMMARY))

    with pytest.raises(TypeError):
        state.postmortem.sections[Section.SUMMARY] = "tampered"  # type: ignore[index]
    assert state.postmortem.sections[Section.SUMMARY] == TEXTS[Section.SUMMARY]
