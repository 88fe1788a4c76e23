"""Reading a log file as it streams in: every line checked, the whole file verified at its end."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from domain.erasable_text import SEALED_FIELDS, sealing_scope
from eventstore.chain import GENESIS
from eventstore.sealed_text import is_envelope
from eventstore.transfer.event_lines import EventRow, parse_event
from eventstore.transfer.format import Header, LogFileError, load_line, parse_header
from eventstore.transfer.line_chain import link_row
from eventstore.transfer.text_keys import (
    ErasureRecord,
    KeyRecord,
    is_key_line,
    parse_key_line,
)
from eventstore.transfer.trailer import Trailer, parse_trailer

_ESCAPED_NUL = b"\\u0000"


class LogFileReader:
    """Yields the events of a log file and raises LogFileError for anything it cannot vouch for.

    Nothing is trusted until the end: the last event is yielded before the trailer is
    read, so a caller must write what it gets inside a transaction and commit only once
    ``events()`` has finished without an error.

    The chain is recomputed in the same pass: each yielded event carries its chain hash,
    checked against the line's own for a version 2 file (the first that differs is
    refused) and computed for a version 1 file, which has none.
    """

    def __init__(self, lines: Iterable[bytes], *, known_types: Mapping[str, int] | None = None):
        self._lines = iter(lines)
        self._known_types = known_types
        first = next(self._lines, b"")
        if not first:
            raise LogFileError("the file is empty; an export has at least a header and a trailer")
        try:
            self.header: Header = parse_header(load_line(_complete(first)))
        except ValueError as exc:
            raise LogFileError(str(exc), line=1) from None
        self.trailer: Trailer | None = None
        self.events_read = 0
        self.head_hash = GENESIS
        """The recomputed chain hash of the last event read."""
        self.key_records: list[KeyRecord | ErasureRecord] = []
        """The text keys and erasures after the events (version 2), read by the end."""
        self._keys_seen: set[tuple[str, ...]] = set()
        self._sealed: list[tuple[int, str, str]] = []
        """(position, key id, scope) of each event with sealed text."""

    def events(self) -> Iterator[EventRow]:
        """Every event in log order; after the last one, the trailer is checked against them."""
        digest = hashlib.sha256()
        versions: dict[str, int] = {}
        chained = self.header.chained
        previous = GENESIS
        position = 0
        number = 1
        for number, line in enumerate(self._lines, start=2):
            if self.trailer is not None:
                raise LogFileError("there is more after the trailer", line=number)
            try:
                value = load_line(_complete(line))
                if chained and is_key_line(value):
                    self._add_key(parse_key_line(value))
                    digest.update(line)
                    continue
                if "event_id" not in value:
                    self.trailer = self._trailer(value)
                    continue
                if self.key_records:
                    raise ValueError("an event line after the text keys: events come first")
                event = parse_event(value, chained=chained)
                if event.type in SEALED_FIELDS:
                    self._note_sealed(event, value["data"])
                self._check(event, value, position, versions, line)
                previous = link_row(previous, event)
                if not chained:
                    event = event._replace(chain_hash=previous.hex())
                elif event.chain_hash != previous.hex():
                    raise ValueError(_unchained(event))
            except ValueError as exc:
                raise LogFileError(str(exc), line=number) from None
            digest.update(line)
            position = event.position
            versions[event.stream_id] = event.version
            self.events_read += 1
            self.head_hash = previous
            yield event
        self._verify(digest.hexdigest(), position, number)

    def _note_sealed(self, event: EventRow, data: dict[str, Any]) -> None:
        if any(is_envelope(data.get(field)) for field in SEALED_FIELDS[event.type]):
            scope = sealing_scope(event.stream_id, event.type, data)
            self._sealed.append((event.position, event.event_id.replace("-", ""), scope or ""))

    def _check_keys(self) -> None:
        """Every sealed event has its key or its scope's erasure in the file: without either,
        its text could be opened by nobody and read models could not be built from it."""
        keys = {(r.scope, r.key_id) for r in self.key_records if isinstance(r, KeyRecord)}
        erased = {r.scope for r in self.key_records if isinstance(r, ErasureRecord)}
        for position, key_id, scope in self._sealed:
            if (scope, key_id) not in keys and scope not in erased:
                raise LogFileError(
                    f"the event at position {position} holds sealed text, but the file has"
                    f" neither its key nor an erasure of {scope!r}: text key lines are missing"
                )
        sealed = self.key_positions()
        for scope, key_id in sorted(keys - sealed.keys()):
            raise LogFileError(
                f"a text key line for scope {scope!r} and key id {key_id}, which no event"
                " of the file with sealed text bears: a key is kept under its event's position"
            )

    def key_positions(self) -> dict[tuple[str, str], int]:
        """The position of each sealed event read, by its key's scope and key id."""
        return {(scope, key_id): position for position, key_id, scope in self._sealed}

    def _add_key(self, record: KeyRecord | ErasureRecord) -> None:
        # Each key once and each scope erased once, as the tables hold them: a repeated
        # line is refused here, by its number, not by the database at the commit.
        name = (
            ("text key", record.scope, record.key_id)
            if isinstance(record, KeyRecord)
            else ("text erasure", record.scope)
        )
        if name in self._keys_seen:
            raise ValueError(f"a second {name[0]} line for scope {record.scope!r}")
        self._keys_seen.add(name)
        self.key_records.append(record)

    def _trailer(self, value: dict[str, Any]) -> Trailer:
        if "trailer" not in value:
            raise ValueError(
                f"a line of an unknown kind (fields {sorted(value)}): a format version"
                f" {self.header.format_version} file holds event lines and one trailer"
            )
        return parse_trailer(value, chained=self.header.chained)

    def _check(
        self,
        event: EventRow,
        value: dict[str, Any],
        position: int,
        versions: dict[str, int],
        line: bytes,
    ) -> None:
        if event.position <= position:
            raise ValueError(
                f"position {event.position} does not follow position {position}:"
                " events must be in increasing position order"
            )
        expected = versions.get(event.stream_id, 0) + 1
        if event.version != expected:
            raise ValueError(
                f"stream {event.stream_id} goes to version {event.version}"
                f" where version {expected} must come next"
            )
        if self._known_types is not None:
            newest = self._known_types.get(event.type)
            if newest is None:
                raise ValueError(f"event type {event.type!r} is unknown to this release")
            if event.schema_version > newest:
                raise ValueError(
                    f"{event.type} schema version {event.schema_version} is newer than this"
                    f" release reads (up to {newest}); import with a newer release"
                )
        # PostgreSQL's JSONB cannot hold U+0000; refuse it on every backend alike. The
        # byte search is cheap and rules out nearly every line before the exact check.
        if _ESCAPED_NUL in line and _has_nul(value):
            raise ValueError(f"event {event.event_id} contains a NUL character (U+0000)")

    def _verify(self, digest: str, position: int, last_line: int) -> None:
        if self.trailer is None:
            raise LogFileError(
                f"the file ends at line {last_line} without a trailer: it is incomplete"
                " (truncated or cut short)"
            )
        if self.trailer.events != self.events_read:
            raise LogFileError(
                f"the trailer counts {self.trailer.events} events but the file holds"
                f" {self.events_read}: lines are missing or were added"
            )
        if self.trailer.sha256 != digest:
            raise LogFileError(
                "the SHA-256 of the event lines does not match the trailer's:"
                " the file was altered or corrupted after export"
            )
        if self.header.head_position != position:
            raise LogFileError(
                f"the header's head position {self.header.head_position} is not the last"
                f" event's position {position}"
            )
        if self.header.chained:
            self._verify_head(position)
            self._check_keys()

    def _verify_head(self, position: int) -> None:
        assert self.trailer is not None
        head = self.head_hash.hex()
        if self.trailer.chain_hash != head:
            raise LogFileError(
                f"the trailer's chain hash is not the chain's head at position {position}"
                f" ({head}): the trailer was altered"
            )
        signed = self.trailer.checkpoint
        if signed is not None and (signed.position, signed.chain_hash) != (position, head):
            raise LogFileError(
                f"the trailer's checkpoint is of position {signed.position}, chain"
                f" {signed.chain_hash}, not of the file's head (position {position},"
                f" chain {head})"
            )


def _unchained(event: EventRow) -> str:
    if len(event.chain_hash) != 64 or event.chain_hash.strip("0123456789abcdef"):
        return f"chain_hash must be 64 lowercase hexadecimal digits, not {event.chain_hash!r}"
    return (
        f"position {event.position} does not chain: its chain_hash is not the hash of its"
        " content after the event before it (an event was changed, removed, inserted or"
        " moved here)"
    )


def _complete(line: bytes) -> bytes:
    if not line.endswith(b"\n"):
        raise ValueError("the line is cut short (no newline at its end): the file is truncated")
    return line


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False
