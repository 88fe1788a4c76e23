"""The line and word diff the postmortem pages show (web/diffs.py): pure functions."""

from __future__ import annotations

from web.diffs import Line, Segment, collapse, has_changes, line_diff, tokens, word_diff


def marked(segments: tuple[Segment, ...], tag: str) -> str:
    """Segments as the template writes them, changed runs in ``<tag>``."""
    return "".join(f"<{tag}>{s.text}</{tag}>" if s.changed else s.text for s in segments)


def shape(lines: list[Line]) -> list[tuple[str, int | None, int | None]]:
    return [(line.kind, line.old, line.new) for line in lines]


def test_tokens_join_back_to_the_text() -> None:
    text = "The pool (payments) ran dry, at 10:42 — twice.\tAgain"
    assert "".join(tokens(text)) == text
    assert tokens("ran dry, twice") == ["ran", " ", "dry", ",", " ", "twice"]


def test_a_changed_line_marks_only_the_words_that_changed() -> None:
    old, new = word_diff("The pool ran dry today.", "The pool was exhausted today.")
    assert marked(old, "del") == "The pool <del>ran dry</del> today."
    assert marked(new, "ins") == "The pool <ins>was exhausted</ins> today."


def test_words_only_added_leave_the_old_line_unmarked() -> None:
    old, new = word_diff("Checkout failed.", "Checkout failed for everyone.")
    assert old == (Segment("Checkout failed.", False),)
    assert marked(new, "ins") == "Checkout failed<ins> for everyone</ins>."


def test_equal_texts_have_no_changes() -> None:
    lines = line_diff("a\nb", "a\nb")
    assert shape(lines) == [("same", 1, 1), ("same", 2, 2)]
    assert not has_changes(lines)
    assert line_diff(None, None) == [] == line_diff("", None)


def test_a_text_written_from_nothing_is_all_added() -> None:
    lines = line_diff(None, "One.\nTwo.")
    assert shape(lines) == [("added", None, 1), ("added", None, 2)]
    assert [line.segments for line in lines] == [
        (Segment("One.", True),),
        (Segment("Two.", True),),
    ]


def test_a_cleared_text_is_all_removed() -> None:
    assert shape(line_diff("One.\nTwo.", "")) == [("removed", 1, None), ("removed", 2, None)]


def test_similar_lines_pair_up_and_unlike_lines_do_not() -> None:
    lines = line_diff(
        "Intro.\nThe pool ran dry.\nCompletely unrelated words here",
        "Intro.\nThe pool ran out.\n42",
    )
    assert shape(lines) == [
        ("same", 1, 1),
        ("removed", 2, None),
        ("removed", 3, None),
        ("added", None, 2),
        ("added", None, 3),
    ]
    _, edited_old, unlike_old, edited_new, unlike_new = lines
    assert marked(edited_old.segments, "del") == "The pool ran <del>dry</del>."
    assert marked(edited_new.segments, "ins") == "The pool ran <ins>out</ins>."
    assert unlike_old.segments == (Segment("Completely unrelated words here", True),)
    assert unlike_new.segments == (Segment("42", True),)


def test_crlf_and_lf_line_ends_compare_equal() -> None:
    assert not has_changes(line_diff("a\r\nb", "a\nb"))


def test_collapse_keeps_context_around_changes_and_counts_the_rest() -> None:
    old = "\n".join(f"line {n}" for n in range(1, 21))
    new = old.replace("line 10", "line ten")
    rows = collapse(line_diff(old, new), context=2)
    assert shape(rows) == [
        ("gap", 1, 1),
        ("same", 8, 8),
        ("same", 9, 9),
        ("removed", 10, None),
        ("added", None, 10),
        ("same", 11, 11),
        ("same", 12, 12),
        ("gap", 13, 13),
    ]
    assert (rows[0].skipped, rows[-1].skipped) == (7, 8)


def test_collapse_leaves_short_runs_whole() -> None:
    rows = collapse(line_diff("a\nb\nc\nd", "a\nb\nc\nD"), context=2)
    assert [row.kind for row in rows] == ["same", "same", "same", "removed", "added"]
    assert collapse([], context=2) == []
