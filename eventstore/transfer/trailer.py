"""The last line of a log file (eventstore/transfer/format.py): count, digest, chain head and
the signed checkpoint of that head."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from eventstore.transfer.format import FORMAT, check_fields, integer_field, text_field

TRAILER_FIELDS = frozenset({"trailer", "events", "sha256"})
"""A version 1 trailer's fields."""
CHAINED_TRAILER_FIELDS = TRAILER_FIELDS | {"chain_hash"}
"""A version 2 trailer's fields, ``checkpoint`` aside (there when the export was signed)."""
CHECKPOINT_FIELDS = frozenset({"position", "chain_hash", "signed_at", "signature", "key_id"})

_HEX_64 = re.compile(r"[0-9a-f]{64}")
_SORTED_LINE = orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE


@dataclass(frozen=True, slots=True)
class SignedHead:
    """A signed checkpoint of the exported head, as the trailer carries it.

    The signature is checked where the public key is known (``incidents verify-export``);
    the file's own checks only hold its position and hash to the recomputed head.
    """

    position: int
    chain_hash: str
    signed_at: str
    signature: str
    key_id: str

    def document(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "chain_hash": self.chain_hash,
            "signed_at": self.signed_at,
            "signature": self.signature,
            "key_id": self.key_id,
        }


@dataclass(frozen=True, slots=True)
class Trailer:
    events: int
    sha256: str
    chain_hash: str | None = None
    """The head's chain hash (format version 2 on)."""
    checkpoint: SignedHead | None = None


def trailer_line(trailer: Trailer) -> bytes:
    """The last line of a log file."""
    fields: dict[str, Any] = {"trailer": FORMAT, "events": trailer.events, "sha256": trailer.sha256}
    if trailer.chain_hash is not None:
        fields["chain_hash"] = trailer.chain_hash
    if trailer.checkpoint is not None:
        fields["checkpoint"] = trailer.checkpoint.document()
    return orjson.dumps(fields, option=_SORTED_LINE)


def parse_trailer(value: dict[str, Any], *, chained: bool) -> Trailer:
    """The trailer's fields, checked; ``chained``: a version 2 file's. ValueError names what
    is wrong."""
    signed = value.pop("checkpoint", None) if chained else None
    check_fields(value, CHAINED_TRAILER_FIELDS if chained else TRAILER_FIELDS, "the trailer")
    if value["trailer"] != FORMAT:
        raise ValueError(f"the trailer must name format {FORMAT!r}")
    return Trailer(
        events=integer_field(value, "events", minimum=0),
        sha256=hex_field(value, "sha256", "the trailer's sha256"),
        chain_hash=hex_field(value, "chain_hash", "the trailer's chain_hash") if chained else None,
        checkpoint=None if signed is None else _checkpoint(signed),
    )


def hex_field(value: dict[str, Any], name: str, what: str) -> str:
    digest = value[name]
    if type(digest) is not str or _HEX_64.fullmatch(digest) is None:
        raise ValueError(f"{what} must be 64 lowercase hexadecimal digits")
    return digest


def _checkpoint(value: Any) -> SignedHead:
    if type(value) is not dict:
        raise ValueError("the trailer's checkpoint must be a JSON object")
    check_fields(value, CHECKPOINT_FIELDS, "the trailer's checkpoint")
    return SignedHead(
        position=integer_field(value, "position", minimum=0),
        chain_hash=hex_field(value, "chain_hash", "the checkpoint's chain_hash"),
        signed_at=text_field(value, "signed_at", 50),
        signature=text_field(value, "signature", 200),
        key_id=text_field(value, "key_id", 64),
    )
