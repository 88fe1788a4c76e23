"""User text in Markdown, read back by a CommonMark parser as a renderer would read it."""

from __future__ import annotations

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from projections.documents.markdown_text import cell, inline, link_target, prose

PARSER = MarkdownIt("commonmark").enable("table")

HOSTILE = [
    "# Heading",
    "   ## Indented heading",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "a | b | c",
    "line one\nline two\r\nline three",
    "**bold** _em_ `code` [link](https://example.com) ![img](https://example.com/x.png)",
    "&lt;script&gt; typed as entities",
    "back\\slash at the end\\",
    "~~gone~~ and <!-- a comment -->",
]


def tokens(markdown: str) -> list[Token]:
    """Every token, inline children included."""
    found: list[Token] = []
    for token in PARSER.parse(markdown):
        found.append(token)
        found.extend(token.children or [])
    return found


def text_of(markdown: str) -> str:
    return "".join(t.content for t in tokens(markdown) if t.type in ("text", "code_inline"))


@pytest.mark.parametrize("text", HOSTILE)
def test_inline_text_reads_literally(text: str) -> None:
    markdown = f"- **Label:** {inline(text)}"

    kinds = {t.type for t in tokens(markdown)}
    assert kinds <= {
        "bullet_list_open",
        "list_item_open",
        "paragraph_open",
        "inline",
        "strong_open",
        "text",
        "strong_close",
        "paragraph_close",
        "list_item_close",
        "bullet_list_close",
        "softbreak",
    }
    assert "\n" not in inline(text)
    assert text_of(markdown) == "Label: " + " ".join(text.replace("\r\n", "\n").split("\n"))


@pytest.mark.parametrize("text", HOSTILE)
def test_a_cell_keeps_its_row_and_column(text: str) -> None:
    markdown = "\n".join(["| a | b |", "|---|---|", f"| {cell(text)} | after |"])

    rendered = PARSER.render(markdown)
    assert rendered.count("<td>") == 2
    for raw in ("<script", "<img", "<!--"):
        assert raw not in rendered
    assert rendered.count("<br>") == text.count("\n")  # our own line breaks, nothing else
    assert "<td>after</td>" in rendered


def test_prose_keeps_its_formatting_but_opens_no_heading_and_carries_no_html() -> None:
    text = "\n".join(
        [
            "# Not a heading",
            "Title line",
            "===",
            "Another",
            "---",
            "- a list item with `<code>` and **bold**",
            "<div onclick=x>raw html</div>",
            "1. numbered",
        ]
    )

    found = tokens(prose(text))

    kinds = {t.type for t in found}
    assert not {"heading_open", "html_block", "html_inline", "hr"} & kinds
    assert {"bullet_list_open", "ordered_list_open", "code_inline", "strong_open"} <= kinds
    assert "<code>" in [t.content for t in found if t.type == "code_inline"]
    assert "# Not a heading" in text_of(prose(text))


def test_an_unclosed_fence_is_closed_inside_its_section() -> None:
    markdown = "\n\n".join(["## Root Cause", prose("Logs:\n```\n# not a heading\n<b>"), "## Next"])

    found = tokens(markdown)

    headings = [found[i + 1].content for i, t in enumerate(found) if t.type == "heading_open"]
    assert headings == ["Root Cause", "Next"]
    [fence] = [t for t in found if t.type == "fence"]
    assert fence.content == "# not a heading\n<b>\n", "inside a fence the text is literal"


def test_a_closed_fence_is_left_as_written() -> None:
    text = "~~~~ yaml\npool: 50\n~~~\nstill code\n~~~~\nafter"

    assert prose(text) == text
    [fence] = [t for t in tokens(prose(text)) if t.type == "fence"]
    assert fence.content == "pool: 50\n~~~\nstill code\n"


def test_a_link_target_cannot_end_the_link_or_the_row() -> None:
    url = "https://tracker.example.com/browse/OPS-1)|<x>"
    markdown = "\n".join(["| t |", "|---|", f"| [OPS]({link_target(url)}) |"])

    [link] = [t for t in tokens(markdown) if t.type == "link_open"]
    assert link.attrs["href"] == "https://tracker.example.com/browse/OPS-1%29%7C%3Cx%3E"
    assert PARSER.render(markdown).count("<td>") == 1
