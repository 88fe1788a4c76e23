"""What search indexes: one document per incident, note, postmortem section text and action item.

- incident: its title; as body its summary, impact, root cause, resolution and the
  names of its alerts.
- note: its current text (as amended); a redacted note has no document.
- postmortem: per section, the latest draft text (``root_cause@draft``) while a revision
  is being written, and the text each published revision gave it (``root_cause@2``). A
  published revision holds the sections edited in it; a section it kept unchanged is
  found in the revision that last changed it, so one text is never found twice.
- action item: its title.

Documents fold from events like every read model: ``apply_to_rows`` over rows keyed by
``doc_key``, where ``None`` marks a document removed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from uuid import UUID

from domain import events as e
from domain.erasable_text import RedactedText
from domain.values import Section
from projections.base import Envelope
from projections.search_tables import ORDINALS_PER_POSITION

Row = dict[str, Any]

KINDS = ("incident", "note", "postmortem", "action_item")

PARTS = ("summary", "impact", "root_cause", "resolution")
"""The incident's texts its document's body is made of, in this order, before alert names."""

DRAFT = "draft"

_MARKERS = re.compile("[\x02\x03]")
"""Control characters the search marks matches with in snippets: never part of a text."""


def doc_key(incident_id: UUID, kind: str, ref: str) -> int:
    """A document's key: 16 bits of a hash of its incident, then 47 of a hash of what it is.

    Computed without a lookup and the same in every rebuild, so a worker process of a
    partitioned rebuild gives a document the key every other writer gives it. The
    incident's bits keep its documents side by side in the table: a batch of events
    writes a few stretches of it rather than pages all over it, which makes a rebuild
    about a third faster on SQLite. Keys collide only where both parts do: for 600,000
    documents of 8,000 incidents (a log of a million events) with a probability of
    about (n²/2¹⁷ + Σ nᵢ²/2) / 2⁴⁷ ≈ 2·10⁻⁷.
    """
    started, near = _incident_bits(incident_id.int)
    what = started.copy()
    what.update(f"{kind}/{ref}".encode())
    return near | int.from_bytes(what.digest(), "big") >> 17


@lru_cache(maxsize=65_536)
def _incident_bits(incident_id: int) -> tuple[Any, int]:
    """A hash fed the incident's id, which each of its documents' keys goes on from (a
    copy costs less than hashing the id again), and the incident's part of those keys.
    Events of one incident come together: cached, by the id's number, which hashes
    without a call into Python (a UUID's own hash does not)."""
    incident = incident_id.to_bytes(16, "big")
    started = hashlib.blake2b(incident, digest_size=8)
    return started, int.from_bytes(hashlib.blake2b(incident, digest_size=2).digest(), "big") << 47


def section_ref(section: str, revision: int | None) -> str:
    """``root_cause@draft`` for the draft being written, ``root_cause@2`` once published."""
    return f"{section}@{DRAFT if revision is None else revision}"


@lru_cache(maxsize=4096)
def _incident_path(incident_id: UUID) -> str:
    return f"/incidents/{incident_id}"


def link(incident_id: UUID, kind: str, ref: str) -> str:
    """The API path of where a document's text lives."""
    base = _incident_path(incident_id)
    if kind == "note":
        return f"{base}/timeline#{ref}"
    if kind == "postmortem":
        revision = ref.partition("@")[2]
        return (
            f"{base}/postmortem" if revision == DRAFT else f"{base}/postmortem?revision={revision}"
        )
    if kind == "action_item":
        return f"{base}/action-items/{ref}"
    return base


def clean(text: str | None) -> str:
    """Text as indexed: without the characters snippets mark matches with."""
    if not text:
        return ""
    # Two substring tests cost a tenth of the substitution, and almost no text holds either.
    if "\x02" in text or "\x03" in text:
        return _MARKERS.sub("", text)
    return text


def incident_body(parts: dict[str, Any]) -> str:
    """The incident document's body: its texts, then its alerts' names, a paragraph each."""
    texts = [parts.get(name) for name in PARTS]
    return "\n\n".join(t for t in [*texts, *parts.get("alerts", [])] if t)


def _document(
    env: Envelope,
    kind: str,
    ref: str,
    title: str,
    body: str,
    *,
    part: int = 0,
    key: int | None = None,
) -> Row:
    """A document written whole by ``env``; ``part`` tells apart the documents one event
    writes (a publication's sections); ``key`` is its doc_key when known already."""
    incident_id = env.incident_id
    recorded = env.recorded
    return {
        "doc_key": doc_key(incident_id, kind, ref) if key is None else key,
        "ordinal": recorded.position * ORDINALS_PER_POSITION + part,
        "incident_id": incident_id,
        "kind": kind,
        "ref": ref,
        "title": clean(title),
        "body": clean(body),
        "occurred_at": recorded.occurred_at,
        "position": recorded.position,
        "parts": None,
    }


@dataclass
class Documents:
    """The documents one batch reads and writes, by key; ``None`` marks one removed."""

    rows: dict[int, Row | None] = field(default_factory=dict)
    replaced: set[int] = field(default_factory=set)
    """Documents written whole without reading them first: they may be stored already."""
    alert_names: set[tuple[UUID, str]] = field(default_factory=set)
    """(incident, alert name) pairs first seen in this batch."""

    def changed(self, env: Envelope, key: int, **values: Any) -> Row | None:
        """The stored or new document ``key`` with ``values`` set; None if there is none."""
        row = self.rows.get(key)
        if row is None:
            return None
        row.update(values, position=env.recorded.position)
        return row


def _declared(docs: Documents, env: Envelope, ev: e.IncidentDeclared) -> None:
    parts: dict[str, Any] = {"summary": clean(ev.summary) or None, "alerts": []}
    row = _document(env, "incident", "", ev.title, incident_body(parts))
    row["parts"] = parts
    docs.rows[row["doc_key"]] = row


def _part(name: str) -> Callable[[Documents, Envelope, Any], None]:
    """An applier setting one of the incident document's parts to the event's field."""

    def apply(docs: Documents, env: Envelope, ev: Any) -> None:
        row = docs.rows.get(incident_key(env))
        if row is None:
            return
        parts = {**row["parts"], name: clean(getattr(ev, name))}
        docs.changed(env, row["doc_key"], parts=parts, body=incident_body(parts))

    return apply


def _alert_fired(docs: Documents, env: Envelope, ev: e.AlertFired) -> None:
    row = docs.rows.get(incident_key(env))
    name = clean(ev.name)
    if row is None or not name or name in row["parts"]["alerts"]:
        return
    parts = {**row["parts"], "alerts": [*row["parts"]["alerts"], name]}
    docs.changed(env, row["doc_key"], parts=parts, body=incident_body(parts))
    docs.alert_names.add((env.incident_id, name))


def _note(docs: Documents, env: Envelope, ev: e.NoteAdded) -> None:
    if isinstance(ev.text, RedactedText):  # erased: nothing of it may be found
        return
    row = _document(env, "note", str(ev.note_id), "", ev.text)
    docs.rows[row["doc_key"]] = row


def _amended(docs: Documents, env: Envelope, ev: e.NoteAmended) -> None:
    key = doc_key(env.incident_id, "note", str(ev.note_id))
    row = docs.rows.get(key)
    if row is None:  # redacted before: nothing left to amend
        return
    if isinstance(ev.text, str):
        row["body"] = clean(ev.text)
    if ev.note_occurred_at is not None:
        row["occurred_at"] = ev.note_occurred_at
    row["position"] = env.recorded.position


def _redacted(docs: Documents, env: Envelope, ev: e.NoteRedacted) -> None:
    docs.rows[doc_key(env.incident_id, "note", str(ev.note_id))] = None


def _section_edited(docs: Documents, env: Envelope, ev: e.PostmortemSectionEdited) -> None:
    """The draft's section as the edit wrote it: the whole document, however it read."""
    key = draft_key(env.incident_id, ev.section.value)
    if not ev.text:  # a cleared section: nothing of it left to find in the draft
        docs.rows[key] = None
        return
    ref = section_ref(ev.section.value, None)
    row = _document(env, "postmortem", ref, "", ev.text, key=key)
    docs.rows[key] = row
    docs.replaced.add(key)


def _published(docs: Documents, env: Envelope, ev: e.PostmortemPublished) -> None:
    """The draft's texts become the published revision's: found there from now on."""
    for part, section in enumerate(Section, start=1):
        key = draft_key(env.incident_id, section.value)
        draft = docs.rows.get(key)
        if draft is None:
            continue
        ref = section_ref(section.value, ev.revision)
        row = _document(env, "postmortem", ref, "", draft["body"], part=part)
        docs.rows[row["doc_key"]] = row
        docs.rows[key] = None


def _item_added(docs: Documents, env: Envelope, ev: e.ActionItemAdded) -> None:
    row = _document(env, "action_item", str(ev.item_id), ev.title, "")
    docs.rows[row["doc_key"]] = row


def _item_retitled(docs: Documents, env: Envelope, ev: e.ActionItemRetitled) -> None:
    docs.changed(
        env, doc_key(env.incident_id, "action_item", str(ev.item_id)), title=clean(ev.title)
    )


APPLIERS: dict[type[e.DomainEvent], Callable[[Documents, Envelope, Any], None]] = {
    e.IncidentDeclared: _declared,
    e.ImpactUpdated: _part("impact"),
    e.RootCauseUpdated: _part("root_cause"),
    e.ResolutionUpdated: _part("resolution"),
    e.AlertFired: _alert_fired,
    e.NoteAdded: _note,
    e.NoteAmended: _amended,
    e.NoteRedacted: _redacted,
    e.PostmortemSectionEdited: _section_edited,
    e.PostmortemPublished: _published,
    e.ActionItemAdded: _item_added,
    e.ActionItemRetitled: _item_retitled,
}
"""The events that change what is found; every other event changes nothing here."""


def incident_key(env: Envelope) -> int:
    """The key of the document of the incident ``env`` belongs to."""
    return _incident_document_key(env.incident_id)


# Cached, as _incident_bits is: an incident's events come together, and each change to
# its texts or alerts, each section edit and each publication asks for the same keys again.
@lru_cache(maxsize=65_536)
def _incident_document_key(incident_id: UUID) -> int:
    return doc_key(incident_id, "incident", "")


@lru_cache(maxsize=65_536)
def draft_key(incident_id: UUID, section: str) -> int:
    """The key of one section's draft document."""
    return doc_key(incident_id, "postmortem", section_ref(section, None))


def _note_key(env: Envelope, ev: e.NoteAmended) -> tuple[int, ...]:
    return (doc_key(env.incident_id, "note", str(ev.note_id)),)


def _item_key(env: Envelope, ev: e.ActionItemRetitled) -> tuple[int, ...]:
    return (doc_key(env.incident_id, "action_item", str(ev.item_id)),)


def _incident_keys(env: Envelope, ev: Any) -> tuple[int, ...]:
    return (incident_key(env),)


def _all_drafts(env: Envelope, ev: e.PostmortemPublished) -> tuple[int, ...]:
    return tuple(draft_key(env.incident_id, section.value) for section in Section)


EARLIER: dict[type[e.DomainEvent], Callable[[Envelope, Any], tuple[int, ...]]] = {
    e.ImpactUpdated: _incident_keys,
    e.RootCauseUpdated: _incident_keys,
    e.ResolutionUpdated: _incident_keys,
    e.AlertFired: _incident_keys,
    e.NoteAmended: _note_key,
    e.PostmortemPublished: _all_drafts,
    e.ActionItemRetitled: _item_key,
}
"""For the events that change documents earlier events made, the keys of those documents.

A redaction deletes and a section edit rewrites its document whole: neither reads it."""


def earlier_keys(batch: Iterable[Envelope]) -> set[int]:
    """The documents events of ``batch`` change that earlier batches may have written."""
    keys: set[int] = set()
    for env in batch:
        find = EARLIER.get(type(env.event))
        if find is not None:
            keys.update(find(env, env.event))
    return keys


def apply_to_documents(docs: Documents, env: Envelope) -> None:
    """Fold one event into the documents; events that change nothing searchable are ignored."""
    applier = APPLIERS.get(type(env.event))
    if applier is not None:
        applier(docs, env, env.event)
