"""Markdown's syntax taken out of a passage of a Markdown text, so a search hit's passage
reads as text: ``**Bold** and a [link](https://…)`` becomes ``Bold and a link``.

A passage is a cut: it may start or end inside a link or an emphasis, so this works on
patterns rather than a parse, and leaves alone what it does not recognise. The passage's
matches are marked with control characters no stored text holds, which the patterns keep
where they are, except inside a link's target: that goes whole, with any match in it.
"""

from __future__ import annotations

import re

_FENCE = re.compile(r"^[ \t]*(?:`{3,}|~{3,})[^\n]*$", re.M)
_RULE = re.compile(r"^[ \t]*([-*_])(?:[ \t]*\1){2,}[ \t]*$", re.M)
_TABLE_RULE = re.compile(r"^[ \t]*\|?(?:[ \t]*:?-{3,}:?[ \t]*\|?)+[ \t]*$", re.M)
_HEADING = re.compile(r"^[ \t]*#{1,6}[ \t]+", re.M)
_QUOTE = re.compile(r"^[ \t]*(?:>[ \t]?)+", re.M)
_ITEM = re.compile(r"^[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+", re.M)
_IMAGE_OR_LINK = re.compile(r"!?\[([^\]\n]*)\]\([^)\n…]*\)?")
_REFERENCE = re.compile(r"\[([^\]\n]+)\]\[[^\]\n]*\]")
_LINK_TAIL = re.compile(r"\]\((?:[a-z][a-z0-9+.-]*:|/|#)[^)\s…]*\)?")
_LINK_HEAD = re.compile(r"!?\[(?=[^\[\]\n]*(?:…|$))")
_AUTOLINK = re.compile(r"<((?:https?|mailto):[^>\s]+)>")
_CODE = re.compile(r"(`+)(.+?)\1")
_STRONG = re.compile(r"(\*\*|__|~~)(?=\S)([^\n]+?)(?<=\S)\1")
_STAR = re.compile(r"(?<![\w*])\*(?=[^\s*])([^*\n]+?)(?<=[^\s*])\*(?![\w*])")
_UNDERSCORE = re.compile(r"(?<![\w_])_(?=[^\s_])([^_\n]+?)(?<=[^\s_])_(?![\w_])")
_LEFT_OVER = re.compile(r"\*\*|~~|`")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!>~|])")


def _inline(text: str) -> str:
    """Emphasis and links out of text that is not code."""
    text = _IMAGE_OR_LINK.sub(r"\1", text)
    text = _REFERENCE.sub(r"\1", text)
    text = _LINK_TAIL.sub("", text)
    text = _LINK_HEAD.sub("", text)
    text = _AUTOLINK.sub(r"\1", text)
    for pattern in (_STRONG, _STRONG, _STAR, _UNDERSCORE):  # twice: ***both*** is nested
        text = pattern.sub(lambda m: m.group(m.lastindex or 0), text)
    return _LEFT_OVER.sub("", _ESCAPE.sub(r"\1", text))


def plain_markdown(passage: str) -> str:
    """The passage without Markdown's syntax: block markers, emphasis, code ticks, link
    targets; list items start with a bullet, so items run together still read apart."""
    text = _FENCE.sub("", passage)
    text = _RULE.sub("", text)
    text = _TABLE_RULE.sub("", text)
    text = _HEADING.sub("", text)
    text = _QUOTE.sub("", text)
    text = _ITEM.sub("• ", text)
    pieces, start = [], 0
    for code in _CODE.finditer(text):  # code keeps its characters, loses its ticks
        pieces += [_inline(text[start : code.start()]), code.group(2)]
        start = code.end()
    pieces.append(_inline(text[start:]))
    return "".join(pieces)
