"""Horizontal bar charts drawn as inline SVG: rows of labelled bars, laid out here and drawn by
the ``_charts.html`` macros, so a chart needs no script and its text is escaped like every
other text of a page.

A chart is drawn at its own size, one unit a CSS pixel, never shrunk to its box: its text
stays as large as the page's small print, and a narrow screen scrolls the chart sideways.
The chart is as wide as its text needs: the label column fits the longest label, and each
row's figures fit after its bar, with widths estimated generously from the characters.

Colours are CSS classes (insights.css): the Content-Security-Policy allows no inline style.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

BAR_AREA = 360
"""How long the longest bar is drawn."""
LABEL_SIZE = 13
VALUE_SIZE = 12
"""Font sizes (px) of a row's label and of its figures, as insights.css sets them."""
GAP = 8
ROW_HEIGHT = 28
BAR_HEIGHT = 18
PAD = 6
LABEL_CHARACTERS = 18
"""A row's label is cut to this many characters (the whole label is its tooltip)."""

_NARROW = frozenset(" .,:;'|!()[]ijlrtf")
_WIDE = frozenset("mwMW@%…—")


@dataclass(frozen=True, slots=True)
class Part:
    """One part of a row's bar: how much of what (``kind`` names its colour), and its tooltip."""

    kind: str
    value: float
    title: str
    thin: bool = False
    """Drawn thinner, on top of the parts before it (a median over its 90th percentile)."""


@dataclass(frozen=True, slots=True)
class Rect:
    kind: str
    x: float
    y: float
    width: float
    height: float
    title: str


@dataclass(frozen=True, slots=True)
class Row:
    label: str
    full_label: str
    y: float
    rects: list[Rect]
    text: str
    text_x: float

    @property
    def middle(self) -> float:
        return self.y + ROW_HEIGHT / 2


@dataclass(frozen=True, slots=True)
class BarChart:
    """A chart ready to draw: its size, its rows, and what it shows in words."""

    title: str
    description: str
    width: int
    height: int
    label_width: int
    rows: list[Row]


@dataclass(frozen=True, slots=True)
class Line:
    """What a chart's row is made of before it is laid out."""

    label: str
    parts: Sequence[Part]
    text: str


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARACTERS else label[: LABEL_CHARACTERS - 1] + "…"


def text_width(text: str, size: float) -> float:
    """How wide ``text`` is drawn at ``size`` px in a sans-serif face, rather over than under:
    narrow letters 0.35 em, wide ones and other scripts 1 em, capitals and digits 0.75 em,
    the rest 0.62 em."""
    ems = 0.0
    for character in text:
        if character in _NARROW:
            ems += 0.35
        elif character in _WIDE or not character.isascii():
            ems += 1.0
        elif character.isupper() or character.isdigit():
            ems += 0.75
        else:
            ems += 0.62
    return ems * size


def bar_chart(title: str, description: str, lines: Sequence[Line], scale: float = 0) -> BarChart:
    """Each line as a row of bars on one scale: ``scale`` (when larger) or the longest line's
    total. Parts stack left to right; a thin part starts again at zero, over the others."""
    longest = max((_stacked(line.parts) for line in lines), default=0.0)
    top = max(scale, longest) or 1.0
    labels = [_short(line.label) for line in lines]
    label_width = math.ceil(max((text_width(label, LABEL_SIZE) for label in labels), default=0))
    start = float(label_width + GAP)
    right = start
    rows = []
    for number, (line, label) in enumerate(zip(lines, labels, strict=True)):
        y = PAD + number * ROW_HEIGHT
        rects, x = [], start
        for part in line.parts:
            width = BAR_AREA * part.value / top
            if part.thin:
                inset = BAR_HEIGHT / 4
                bar_y = y + (ROW_HEIGHT - BAR_HEIGHT) / 2 + inset
                rects.append(Rect(part.kind, start, bar_y, width, BAR_HEIGHT / 2, part.title))
                continue
            bar_y = y + (ROW_HEIGHT - BAR_HEIGHT) / 2
            rects.append(Rect(part.kind, x, bar_y, width, BAR_HEIGHT, part.title))
            x += width
        end = max([x, *(r.x + r.width for r in rects)])
        rows.append(Row(label, line.label, y, rects, line.text, end + GAP))
        right = max(right, end + GAP + text_width(line.text, VALUE_SIZE))
    height = 2 * PAD + ROW_HEIGHT * max(len(rows), 1)
    return BarChart(title, description, math.ceil(right + PAD), height, int(start), rows)


def _stacked(parts: Sequence[Part]) -> float:
    """How far a row's bar reaches: the sum of its stacked parts, or its longest thin part."""
    stacked = sum(part.value for part in parts if not part.thin)
    return max([stacked, *(part.value for part in parts if part.thin)])
