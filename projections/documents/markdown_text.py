"""User text made safe to place in a Markdown document.

Whatever people type (titles, notes, names, postmortem sections) must not change the
document around it: open a heading, end a table row, swallow the rest of the document in
an unclosed code fence, or carry raw HTML. Two kinds of text:

- ``inline``: a value inside a line we write (a title, a table cell, a bullet's value).
  Every character Markdown gives a meaning to there is escaped, so it reads literally.
- ``prose``: a multi-line text its author writes in Markdown (a postmortem section). Lists,
  emphasis, links, code spans and fenced code blocks keep working; headings, setext
  underlines and raw HTML are neutralised, and a fence left open is closed.
"""

from __future__ import annotations

import re

_INLINE_SPECIAL = re.compile(r"([\\`*_\[\]~|#!])")
_HTML = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\u2028\u2029\x85\v\f]")

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_HEADING = re.compile(r"^( {0,3})(#)")
_SETEXT = re.compile(r"^( {0,3})([=-])(\2*\s*)$")
_CODE_SPAN = re.compile(r"(`+)(?!`)(.+?)(?<!`)\1(?!`)")
_HTML_ONLY = str.maketrans({"&": "&amp;", "<": "&lt;"})


def inline(text: str, *, line_break: str = " ") -> str:
    """``text`` read literally inside a line; line breaks become ``line_break``."""
    escaped = _INLINE_SPECIAL.sub(r"\\\1", text.translate(_HTML))
    return _LINE_BREAKS.sub(line_break, escaped)


def cell(text: str) -> str:
    """``text`` read literally inside a table cell, its lines kept apart with ``<br>``."""
    return inline(text.strip(), line_break="<br>")


def _outside_code_spans(line: str) -> str:
    """A prose line with raw HTML neutralised, but code spans (literal already) as written."""
    parts: list[str] = []
    last = 0
    for span in _CODE_SPAN.finditer(line):
        parts.append(line[last : span.start()].translate(_HTML_ONLY))
        parts.append(span.group(0))
        last = span.end()
    parts.append(line[last:].translate(_HTML_ONLY))
    return "".join(parts)


def _prose_line(line: str) -> str:
    line = _outside_code_spans(line)
    line = _HEADING.sub(r"\1\\\2", line)
    return _SETEXT.sub(r"\1\\\2\3", line)


def prose(text: str) -> str:
    """A Markdown text that stays inside its section of the document."""
    lines: list[str] = []
    fence: str | None = None  # the open fence's marker: its closing line needs as many
    for line in _LINE_BREAKS.split(text.strip()):
        opening = _FENCE.match(line)
        if fence is None:
            if opening and not (opening.group(1)[0] == "`" and "`" in opening.group(2)):
                fence = opening.group(1)
                lines.append(line)
            else:
                lines.append(_prose_line(line))
            continue
        # Inside a fence everything is literal, until a fence as long closes it.
        lines.append(line)
        if (
            opening
            and opening.group(1)[0] == fence[0]
            and len(opening.group(1)) >= len(fence)
            and not opening.group(2).strip()
        ):
            fence = None
    if fence is not None:
        lines.append(fence)
    return "\n".join(lines)


def link_target(url: str) -> str:
    """A URL safe as a link destination inside a table: nothing ends the link or the row."""
    return "".join(f"%{ord(ch):02X}" if ch in "()<>|\\ `" or ord(ch) < 0x21 else ch for ch in url)
