"""Two texts compared for people to read: a line diff whose changed lines carry the words
that changed, ready for a template to mark up with ``<del>`` and ``<ins>``.

Pure functions over strings; nothing here knows about postmortems or HTML.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

Kind = Literal["same", "removed", "added", "gap"]

_TOKEN = re.compile(r"\s+|\w+|[^\w\s]")
"""Words, runs of whitespace and single punctuation marks: the units a change is shown in."""

PAIR_SIMILARITY = 0.4
"""Below this, a removed and an added line are two different lines, not one line edited:
highlighting their few common words would only make noise."""


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of a line's text, ``changed`` when it is not in the other text."""

    text: str
    changed: bool


@dataclass(frozen=True, slots=True)
class Line:
    """One row of a diff: a line both texts share, one only the old or the new text has, or
    (``gap``) ``skipped`` unchanged lines left out."""

    kind: Kind
    old: int | None
    """Its number in the old text, from 1 (None when the old text does not have it)."""
    new: int | None
    segments: tuple[Segment, ...] = ()
    skipped: int = 0

    @property
    def whole(self) -> bool:
        """Whether the whole line is new or gone (rather than a few words of it)."""
        return self.kind in ("removed", "added") and all(s.changed for s in self.segments)


def tokens(text: str) -> list[str]:
    """``text`` cut into words, whitespace and punctuation; joined they give ``text`` back."""
    return _TOKEN.findall(text)


def _joined(segments: Iterable[Segment]) -> Iterator[Segment]:
    """Adjacent runs of the same kind as one run."""
    current: Segment | None = None
    for segment in segments:
        if current is not None and current.changed == segment.changed:
            current = Segment(current.text + segment.text, segment.changed)
            continue
        if current is not None:
            yield current
        current = segment
    if current is not None:
        yield current


def _merge(segments: Iterable[Segment]) -> tuple[Segment, ...]:
    """Runs joined; a blank between two changes counts as changed, so two changed words in
    a row read as one change (``<del>two words</del>``) rather than two."""
    runs = list(_joined(segments))
    for i in range(1, len(runs) - 1):
        if not runs[i].changed and runs[i].text.isspace():
            runs[i] = Segment(runs[i].text, True)
    return tuple(_joined(runs))


def word_diff(old: str, new: str) -> tuple[tuple[Segment, ...], tuple[Segment, ...]]:
    """The old line and the new line as segments, the words each does not share marked."""
    a, b = tokens(old), tokens(new)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    removed: list[Segment] = []
    added: list[Segment] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        same = tag == "equal"
        if i2 > i1:
            removed.append(Segment("".join(a[i1:i2]), not same))
        if j2 > j1:
            added.append(Segment("".join(b[j1:j2]), not same))
    return _merge(removed), _merge(added)


def _whole(text: str) -> tuple[Segment, ...]:
    return (Segment(text, True),) if text else ()


def _replaced(
    a: Sequence[str], b: Sequence[str], i1: int, i2: int, j1: int, j2: int
) -> Iterator[Line]:
    """A block of old lines replaced by new ones: old lines first, then new ones, each pair
    of similar lines (taken in order) showing the words that changed."""
    pairs = min(i2 - i1, j2 - j1)
    removed: list[Line] = []
    added: list[Line] = []
    for k in range(max(i2 - i1, j2 - j1)):
        old = a[i1 + k] if k < i2 - i1 else None
        new = b[j1 + k] if k < j2 - j1 else None
        similar = (
            k < pairs
            and old is not None
            and new is not None
            and difflib.SequenceMatcher(None, old, new, autojunk=False).ratio() >= PAIR_SIMILARITY
        )
        if similar and old is not None and new is not None:
            old_segments, new_segments = word_diff(old, new)
        else:
            old_segments = _whole(old) if old is not None else ()
            new_segments = _whole(new) if new is not None else ()
        if old is not None:
            removed.append(Line("removed", i1 + k + 1, None, old_segments))
        if new is not None:
            added.append(Line("added", None, j1 + k + 1, new_segments))
    yield from removed
    yield from added


def line_diff(old: str | None, new: str | None) -> list[Line]:
    """Every line of both texts in order: shared, removed or added (None reads as empty)."""
    a, b = (old or "").splitlines(), (new or "").splitlines()
    lines: list[Line] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            lines += [
                Line("same", i1 + k + 1, j1 + k + 1, (Segment(a[i1 + k], False),))
                for k in range(i2 - i1)
            ]
        else:
            lines += _replaced(a, b, i1, i2, j1, j2)
    return lines


def collapse(lines: Sequence[Line], context: int = 2) -> list[Line]:
    """``lines`` with each long run of shared lines cut down to ``context`` lines on each
    side of a change and one ``gap`` row saying how many were left out."""
    shown: list[Line] = []
    run: list[Line] = []

    def flush(at_start: bool, at_end: bool) -> None:
        keep_head = 0 if at_start else context
        keep_tail = 0 if at_end else context
        if len(run) <= keep_head + keep_tail + 1:
            shown.extend(run)
            return
        tail = run[len(run) - keep_tail :] if keep_tail else []
        skipped = len(run) - keep_head - len(tail)
        first = run[keep_head]
        shown.extend(run[:keep_head])
        shown.append(Line("gap", first.old, first.new, skipped=skipped))
        shown.extend(tail)

    for line in lines:
        if line.kind == "same":
            run.append(line)
            continue
        if run:
            flush(at_start=not shown, at_end=False)
            run = []
        shown.append(line)
    if run:
        flush(at_start=not shown, at_end=True)
    return shown


def has_changes(lines: Sequence[Line]) -> bool:
    """Whether a diff has any removed or added line."""
    return any(line.kind in ("removed", "added") for line in lines)
