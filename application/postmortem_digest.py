"""The SHA-256 a publication proof records of a postmortem document, defined so that anyone
can recompute it from the JSON document the API serves, in any language.

The hash covers what publishing a revision fixes for good, and nothing that keeps
changing afterwards: the document's timeline, action items, incident summary and its
``latest_revision`` and ``published_revisions`` go on moving after publication (a note
added later, an item closed, a next revision), so they are left out, and the same
revision downloaded on any later day hashes the same. Exactly these members of the
document's top-level object are hashed, each present (null where the document has null):

    incident_id, revision, status, published_at, published_by,
    review_requested_at, reviewers, verdicts, sections

as one JSON object written canonically: members sorted by key (by Unicode code point, at
every depth), no whitespace, strings with only the escapes JSON requires and every other
character as itself, UTF-8. Values are those of the JSON document as served (its times
are the strings it carries), so parsing the document and writing these members this way
gives the bytes; the hash is SHA-256 of those bytes, as 64 lowercase hex digits.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import orjson

PROVEN_FIELDS = (
    "incident_id",
    "revision",
    "status",
    "published_at",
    "published_by",
    "review_requested_at",
    "reviewers",
    "verdicts",
    "sections",
)
"""The members of the postmortem JSON document that its publication proof covers."""


class NotAPostmortem(ValueError):
    """A JSON value that is not a postmortem document (a member the hash covers is missing)."""


def canonical_document(document: Mapping[str, Any]) -> bytes:
    """The bytes the proof's ``document_sha256`` is the hash of (the module's definition)."""
    missing = [name for name in PROVEN_FIELDS if name not in document]
    if missing:
        raise NotAPostmortem(f"not a postmortem document: no {', '.join(missing)}")
    proven = {name: document[name] for name in PROVEN_FIELDS}
    return orjson.dumps(proven, option=orjson.OPT_SORT_KEYS)


def document_sha256(document: Mapping[str, Any]) -> str:
    """SHA-256 of ``canonical_document(document)``, 64 lowercase hex digits."""
    return hashlib.sha256(canonical_document(document)).hexdigest()
