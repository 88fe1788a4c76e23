"""A postmortem is published only once a reviewer other than its last editor approved the
text as it stands, and nobody asks for changes."""

from __future__ import annotations

import re
from datetime import date

import pytest

from domain.commands import (
    ApprovePostmortem,
    EditPostmortemSection,
    PublishPostmortem,
    RequestPostmortemChanges,
    RequestPostmortemReview,
    SetPostmortemDueDate,
)
from domain.errors import InvalidTransition, RuleViolation
from domain.events import (
    DomainEvent,
    PostmortemApproved,
    PostmortemChangesRequested,
    PostmortemDueDateSet,
    PostmortemPublished,
    PostmortemReviewRequested,
    PostmortemSectionEdited,
    decode,
)
from domain.incident import decide, fold
from domain.values import REQUIRED_TO_PUBLISH, Section, Verdict
from tests.domain.scenario import INCIDENT_ID, NOW, given
from tests.domain.test_postmortem_rules import AUTHOR, REVIEWER, WRITTEN, edited, resolved


def written_and_in_review(*reviewers: str) -> tuple[DomainEvent, ...]:
    return (
        *resolved(),
        *(edited(section) for section in REQUIRED_TO_PUBLISH),
        PostmortemReviewRequested(
            occurred_at=WRITTEN, revision=1, reviewers=reviewers or (REVIEWER,)
        ),
    )


def approve(reviewer: str = REVIEWER) -> ApprovePostmortem:
    return ApprovePostmortem(incident_id=INCIDENT_ID, at=NOW, reviewer=reviewer)


def ask_changes(reviewer: str = REVIEWER) -> RequestPostmortemChanges:
    return RequestPostmortemChanges(
        incident_id=INCIDENT_ID, at=NOW, reviewer=reviewer, comment="Say why paging was late."
    )


PUBLISH = PublishPostmortem(incident_id=INCIDENT_ID, at=NOW)


def test_review_names_at_least_one_reviewer() -> None:
    state = given(*resolved(), edited(Section.SUMMARY))
    with pytest.raises(RuleViolation, match="at least one reviewer"):
        decide(state, RequestPostmortemReview(incident_id=INCIDENT_ID, at=NOW))


def test_review_by_only_the_last_editor_is_refused() -> None:
    state = given(*resolved(), edited(Section.SUMMARY))
    with pytest.raises(RuleViolation, match=f"{AUTHOR} wrote the latest edit"):
        decide(state, RequestPostmortemReview(incident_id=INCIDENT_ID, at=NOW, reviewers=(AUTHOR,)))


def test_reviewers_are_named_once_each_in_order() -> None:
    state = given(*resolved(), edited(Section.SUMMARY))
    command = RequestPostmortemReview(
        incident_id=INCIDENT_ID, at=NOW, reviewers=("carol", "bob", "carol")
    )
    assert decide(state, command) == [
        PostmortemReviewRequested(occurred_at=NOW, revision=1, reviewers=("carol", "bob"))
    ]


def test_publish_without_an_approval_is_refused() -> None:
    with pytest.raises(RuleViolation, match="needs an approval from a reviewer other than"):
        decide(given(*written_and_in_review()), PUBLISH)


def test_a_named_reviewer_approves_and_then_it_can_be_published() -> None:
    state = given(*written_and_in_review())
    events = decide(state, approve())
    assert events == [PostmortemApproved(occurred_at=NOW, revision=1, reviewer=REVIEWER)]
    assert decide(fold(events, state), PUBLISH) == [
        PostmortemPublished(occurred_at=NOW, revision=1)
    ]


def test_the_author_cannot_approve_their_own_edit() -> None:
    state = given(*written_and_in_review(REVIEWER, AUTHOR))
    with pytest.raises(RuleViolation, match=re.escape(f"{AUTHOR} wrote the latest edit")):
        decide(state, approve(AUTHOR))


def test_someone_not_named_cannot_approve() -> None:
    with pytest.raises(RuleViolation, match="mallory is not a reviewer of revision 1"):
        decide(given(*written_and_in_review()), approve("mallory"))


def test_approving_twice_the_same_text_is_refused() -> None:
    state = given(
        *written_and_in_review(),
        PostmortemApproved(occurred_at=WRITTEN, revision=1, reviewer=REVIEWER),
    )
    with pytest.raises(RuleViolation, match="already approved"):
        decide(state, approve())


def test_changes_requested_blocks_publishing_until_that_reviewer_approves() -> None:
    asked = PostmortemChangesRequested(
        occurred_at=WRITTEN, revision=1, reviewer="carol", comment="Say more."
    )
    bob = PostmortemApproved(occurred_at=WRITTEN, revision=1, reviewer=REVIEWER)
    state = given(*written_and_in_review(REVIEWER, "carol"), bob, asked)
    with pytest.raises(RuleViolation, match="carol asked for changes to revision 1"):
        decide(state, PUBLISH)
    carol = PostmortemApproved(occurred_at=NOW, revision=1, reviewer="carol")
    assert decide(fold([carol], state), PUBLISH) == [
        PostmortemPublished(occurred_at=NOW, revision=1)
    ]


def test_an_edit_in_review_clears_every_verdict() -> None:
    bob = PostmortemApproved(occurred_at=WRITTEN, revision=1, reviewer=REVIEWER)
    state = given(*written_and_in_review(), bob)
    assert state.postmortem.verdicts == {REVIEWER: Verdict.APPROVED}
    edit = EditPostmortemSection(
        incident_id=INCIDENT_ID, at=NOW, section=Section.IMPACT, text="More.", editor="carol"
    )
    after = fold(decide(state, edit), state)
    assert after.postmortem.verdicts == {}
    assert after.postmortem.last_editor == "carol"
    with pytest.raises(RuleViolation, match="needs an approval"):
        decide(after, PUBLISH)


def test_the_reviewer_who_edits_cannot_then_approve() -> None:
    edit_by_bob = PostmortemSectionEdited(
        occurred_at=WRITTEN, revision=1, section=Section.IMPACT, text="More.", editor=REVIEWER
    )
    state = given(*written_and_in_review(), edit_by_bob)
    with pytest.raises(RuleViolation, match="cannot approve their own edit"):
        decide(state, approve())


def test_verdicts_need_a_revision_in_review() -> None:
    state = given(*resolved(), edited(Section.SUMMARY))
    with pytest.raises(InvalidTransition, match="not in review"):
        decide(state, approve())
    with pytest.raises(InvalidTransition, match="not in review"):
        decide(state, ask_changes())


def test_asking_for_changes_is_recorded_with_its_comment() -> None:
    assert decide(given(*written_and_in_review()), ask_changes()) == [
        PostmortemChangesRequested(
            occurred_at=NOW, revision=1, reviewer=REVIEWER, comment="Say why paging was late."
        )
    ]


def test_a_version_one_edit_reads_with_no_editor_and_a_version_one_review_with_no_reviewers() -> (
    None
):
    edit = decode(
        "postmortem.section_edited", 1, {"revision": 1, "section": "summary", "text": "x"}, NOW
    )
    review = decode("postmortem.review_requested", 1, {"revision": 1}, NOW)
    assert isinstance(edit, PostmortemSectionEdited)
    assert edit.editor is None
    assert isinstance(review, PostmortemReviewRequested)
    assert review.reviewers == ()


def test_due_date_is_set_and_reset() -> None:
    state = given(*resolved())
    due = SetPostmortemDueDate(incident_id=INCIDENT_ID, at=NOW, due_date=date(2026, 1, 9))
    events = decide(state, due)
    assert events == [PostmortemDueDateSet(occurred_at=NOW, due_date=date(2026, 1, 9))]
    after = fold(events, state)
    assert after.postmortem.due_date == date(2026, 1, 9)
    with pytest.raises(RuleViolation, match="already has this due date"):
        decide(after, due)
    reset = SetPostmortemDueDate(incident_id=INCIDENT_ID, at=NOW, due_date=None)
    assert fold(decide(after, reset), after).postmortem.due_date is None
