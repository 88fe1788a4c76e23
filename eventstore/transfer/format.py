"""The file ``incidents export`` writes and ``incidents import`` reads: the log as JSON lines.

Format version 2. Line 1 is a header, then one line per event in position order, then a
trailer (shown here over several lines; each is one line in the file)::

    {"format":"incident-ledger-log","format_version":2,"source_backend":"sqlite",
     "exported_at":"2026-11-27T10:00:00.123456+00:00","head_position":1042}
    {"chain_hash":"5d1e…","data":{...},"event_id":"…","metadata":{...},
     "occurred_at":"…","position":1,"recorded_at":"…","schema_version":1,
     "stream_id":"incident-…","type":"…","version":1}
    ...
    {"chain_hash":"9f2c…","checkpoint":{"chain_hash":"9f2c…","key_id":"3b1f…",
     "position":1042,"signature":"<base64>","signed_at":"2026-12-04T10:15:02Z"},
     "events":1042,"sha256":"…","trailer":"incident-ledger-log"}

Event lines are compact JSON with every key sorted, ids as lowercase hyphenated UUIDs and
times as UTC to the microsecond (``2026-01-31T09:30:00.000000+00:00``), so one log gives
the same bytes whichever backend it was exported from (PostgreSQL's JSONB does not keep
key order); only the header differs.

Each event line's ``chain_hash`` is the log's hash chain at that position
(eventstore/chain.py), as the source database stored it with the event: 64
lowercase hexadecimal digits of

    h(0) = 32 zero bytes
    h(n) = SHA-256( h(n-1) || canonical_bytes(event n) )

where ``canonical_bytes`` is the event's ten fields in this order, each written as its
length in bytes (4 bytes, big-endian) followed by its UTF-8 text, taken from the line:

    position, version, schema_version   the integer in decimal digits: 1812
    stream_id, type                     the string as it is
    event_id                            the string as it is (already lowercase, hyphenated)
    data, metadata                      the object as JSON: keys sorted by code point, no
                                        whitespace, non-ASCII characters as themselves,
                                        only the escapes JSON requires (quote, backslash,
                                        \\b \\f \\n \\r \\t, other controls as \\u00xx),
                                        numbers as the line spells them
    occurred_at, recorded_at            the time with ``+00:00`` replaced by ``Z``:
                                        2026-01-31T09:30:00.000000Z

in the order position, stream_id, version, event_id, type, schema_version, data,
metadata, occurred_at, recorded_at. The export writes ``data`` and ``metadata`` in that
very form, so a verifier may also hash the bytes of those two values as they stand in
the line. chain.py's docstring is the reference; ``line_chain.row_bytes`` builds the
same bytes from a checked line.

The trailer's SHA-256 covers the bytes of every event line, newlines included, and with
the event count it makes a truncated, shortened or altered file detectable. Its
``chain_hash`` is the last event's (the genesis hash, 64 zeros, for an empty log). When
the exporter held the log's signing key, ``checkpoint`` is a signed checkpoint of that
head (application/log_checkpoints.py): Ed25519 over ``{"chain_hash":…,"position":…,
"signed_at":…}`` as compact JSON with sorted keys, the signature in base64 and
``key_id`` the first 16 hex digits of SHA-256 over the raw public key.

Version 1 files (no ``chain_hash`` on event lines or trailer, no checkpoint) are still
read; an import computes their chain as it loads them. A file of any other version, or a
line that is neither an event (it has ``event_id``) nor the trailer, is refused by name:
later versions may add kinds of lines, and this release must not skip what it cannot read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

FORMAT = "incident-ledger-log"
FORMAT_VERSION = 2
"""The version this release writes."""
READABLE_VERSIONS = (1, 2)
"""The versions this release reads: 1 carries no chain hashes."""

HEADER_FIELDS = frozenset(
    {"format", "format_version", "source_backend", "exported_at", "head_position"}
)


class LogFileError(ValueError):
    """The file is not a complete, intact export of a log; ``line`` is 1-based when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(f"line {line}: {message}" if line is not None else message)
        self.line = line


@dataclass(frozen=True, slots=True)
class Header:
    source_backend: str
    exported_at: datetime
    head_position: int
    format_version: int = FORMAT_VERSION

    @property
    def chained(self) -> bool:
        """Whether the file's lines carry the chain's hashes (format version 2 on)."""
        return self.format_version >= 2


def header_line(header: Header) -> bytes:
    """The first line of a log file."""
    return orjson.dumps(
        {
            "format": FORMAT,
            "format_version": header.format_version,
            "source_backend": header.source_backend,
            "exported_at": format_time(header.exported_at),
            "head_position": header.head_position,
        },
        option=orjson.OPT_APPEND_NEWLINE,
    )


def format_time(moment: datetime) -> str:
    """A time as the file writes it: UTC, to the microsecond, always the same length."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat("T", "microseconds") + "+00:00"


def load_line(line: bytes) -> dict[str, Any]:
    """A line's JSON object; ValueError when it is not one."""
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc})") from None
    if type(value) is not dict:
        raise ValueError("not a JSON object")
    return value


def parse_header(value: dict[str, Any]) -> Header:
    """The header's fields, checked; ValueError names what is wrong."""
    if value.get("format") != FORMAT:
        raise ValueError(f"not an {FORMAT} file (its header must name format {FORMAT!r})")
    version = value.get("format_version")
    if type(version) is not int or version not in READABLE_VERSIONS:
        raise ValueError(
            f"format version {version!r} is not supported; this release reads versions"
            f" {', '.join(map(str, READABLE_VERSIONS))}"
        )
    check_fields(value, HEADER_FIELDS, "the header")
    return Header(
        source_backend=text_field(value, "source_backend", 50),
        exported_at=_time(value, "exported_at"),
        head_position=integer_field(value, "head_position", minimum=0),
        format_version=version,
    )


def check_fields(value: dict[str, Any], expected: frozenset[str], what: str) -> None:
    """ValueError naming the missing and unexpected fields unless ``value`` has exactly ``expected``."""
    if value.keys() != expected:
        missing = sorted(expected - value.keys())
        unexpected = sorted(value.keys() - expected)
        raise ValueError(f"{what} has missing fields {missing} and unexpected fields {unexpected}")


def integer_field(value: dict[str, Any], name: str, *, minimum: int) -> int:
    number = value[name]
    if type(number) is not int or number < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, not {number!r}")
    return number


def text_field(value: dict[str, Any], name: str, limit: int) -> str:
    text = value[name]
    if type(text) is not str or not text or len(text) > limit:
        raise ValueError(f"{name} must be a non-empty string of at most {limit} characters")
    return text


def _time(value: dict[str, Any], name: str) -> datetime:
    text = value[name]
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an ISO 8601 time, not {text!r}") from None
    if moment.tzinfo is None:
        raise ValueError(f"{name} must carry a UTC offset, not {text!r}")
    return moment.astimezone(UTC)
