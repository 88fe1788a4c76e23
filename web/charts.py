"""Horizontal bar charts drawn as inline SVG: rows of labelled bars, laid out here and drawn by
the ``_charts.html`` macros, so a chart needs no script and its text is escaped like every
other text of a page.

Colours are CSS classes (insights.css): the Content-Security-Policy allows no inline style.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 720
LABEL_WIDTH = 130
VALUE_WIDTH = 230
ROW_HEIGHT = 28
BAR_HEIGHT = 18
PAD = 6
LABEL_CHARACTERS = 18
"""A row's label is cut to this many characters (the whole label is its tooltip)."""


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


def bar_chart(title: str, description: str, lines: Sequence[Line], scale: float = 0) -> BarChart:
    """Each line as a row of bars on one scale: ``scale`` (when larger) or the longest line's
    total. Parts stack left to right; a thin part starts again at zero, over the others."""
    area = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    longest = max((_stacked(line.parts) for line in lines), default=0.0)
    top = max(scale, longest) or 1.0
    rows = []
    for number, line in enumerate(lines):
        y = PAD + number * ROW_HEIGHT
        rects, x = [], float(LABEL_WIDTH)
        for part in line.parts:
            width = area * part.value / top
            if part.thin:
                inset = BAR_HEIGHT / 4
                bar_y = y + (ROW_HEIGHT - BAR_HEIGHT) / 2 + inset
                rects.append(Rect(part.kind, LABEL_WIDTH, bar_y, width, BAR_HEIGHT / 2, part.title))
                continue
            bar_y = y + (ROW_HEIGHT - BAR_HEIGHT) / 2
            rects.append(Rect(part.kind, x, bar_y, width, BAR_HEIGHT, part.title))
            x += width
        end = max([x, *(r.x + r.width for r in rects)])
        rows.append(Row(_short(line.label), line.label, y, rects, line.text, end + 8))
    height = 2 * PAD + ROW_HEIGHT * max(len(rows), 1)
    return BarChart(title, description, WIDTH, height, LABEL_WIDTH, rows)


def _stacked(parts: Sequence[Part]) -> float:
    """How far a row's bar reaches: the sum of its stacked parts, or its longest thin part."""
    stacked = sum(part.value for part in parts if not part.thin)
    return max([stacked, *(part.value for part in parts if part.thin)])
