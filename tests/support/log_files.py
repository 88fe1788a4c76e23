"""Export files changed on purpose: an event line altered or removed, then the rest of the file
(header, trailer digest and count, and if asked the chain) made to agree again, so that
exactly one check is left to catch the change.

The chain is recomputed with the reader's own line hashing: a file forged that way is one
whose chain holds, which is the point (the chain hashing itself is tested against
``eventstore.chain`` in tests/eventstore/test_export_chain.py).
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from eventstore.chain import GENESIS
from eventstore.transfer.event_lines import parse_event
from eventstore.transfer.line_chain import link_row

_LINE = orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE


def sealed(lines: list[bytes], *, rechain: bool = False) -> bytes:
    """A file whose header and trailer agree with ``lines`` (header + event lines, no
    trailer): count, SHA-256 and head position; with ``rechain`` the event lines' chain
    hashes and the trailer's head too, and the checkpoint dropped (no key signs it again)."""
    header = orjson.loads(lines[0])
    body = _rechained(lines[1:]) if rechain else lines[1:]
    events = [orjson.loads(line) for line in body if _is_event(line)]
    header["head_position"] = events[-1]["position"] if events else 0
    trailer: dict[str, Any] = {
        "events": len(events),
        "sha256": hashlib.sha256(b"".join(body)).hexdigest(),
        "trailer": "incident-ledger-log",
    }
    if header["format_version"] >= 2:
        trailer["chain_hash"] = events[-1]["chain_hash"] if events else GENESIS.hex()
    return orjson.dumps(header, option=orjson.OPT_APPEND_NEWLINE) + b"".join(body) + _line(trailer)


def resealed(file: bytes, *, rechain: bool = False) -> bytes:
    """``file`` (header, events, trailer) with its header and trailer made to agree again."""
    return sealed(file.splitlines(keepends=True)[:-1], rechain=rechain)


def as_version_1(file: bytes) -> bytes:
    """``file`` as the previous release would have written it: no chain hashes, no checkpoint,
    no text keys."""
    lines = file.splitlines(keepends=True)
    header = orjson.loads(lines[0])
    header["format_version"] = 1
    body = []
    for line in filter(_is_event, lines[1:-1]):
        event = orjson.loads(line)
        del event["chain_hash"]
        body.append(_line(event))
    return sealed([orjson.dumps(header, option=orjson.OPT_APPEND_NEWLINE), *body])


def changed_event(file: bytes, index: int, old: bytes, new: bytes) -> bytes:
    """``file`` with ``old`` replaced by ``new`` once in line ``index`` after the header
    (0 = the first event), and the trailer's count and SHA-256 fixed: only the chain can
    tell."""
    lines = file.splitlines(keepends=True)
    assert old in lines[1 + index], (old, lines[1 + index])
    lines[1 + index] = lines[1 + index].replace(old, new, 1)
    return _trailer_fixed(lines)


def without_event(file: bytes, index: int) -> bytes:
    """``file`` without event line ``index`` (0 = first event), the trailer's count and
    SHA-256 fixed."""
    lines = file.splitlines(keepends=True)
    del lines[1 + index]
    return _trailer_fixed(lines)


def with_trailer(file: bytes, **fields: Any) -> bytes:
    """``file`` with fields of its trailer replaced."""
    lines = file.splitlines(keepends=True)
    trailer = orjson.loads(lines[-1])
    trailer.update(fields)
    return b"".join(lines[:-1]) + _line(trailer)


def event_lines(file: bytes) -> list[dict[str, Any]]:
    """The event lines of ``file``, parsed (its text key lines left out)."""
    return [orjson.loads(line) for line in file.splitlines()[1:-1] if _is_event(line)]


def _trailer_fixed(lines: list[bytes]) -> bytes:
    trailer = orjson.loads(lines[-1])
    body = lines[1:-1]
    trailer["events"] = sum(map(_is_event, body))
    trailer["sha256"] = hashlib.sha256(b"".join(body)).hexdigest()
    return b"".join(lines[:-1]) + _line(trailer)


def _is_event(line: bytes) -> bool:
    return b'"event_id":' in line and not line.startswith((b'{"text_key"', b'{"text_erasure"'))


def _rechained(body: list[bytes]) -> list[bytes]:
    previous, out = GENESIS, []
    for line in body:
        if not _is_event(line):
            out.append(line)
            continue
        event = orjson.loads(line)
        event.pop("chain_hash", None)
        try:
            previous = link_row(previous, parse_event(dict(event), chained=False))
        except (ValueError, KeyError):
            out.append(line)  # not an event line the reader accepts: it stops there anyway
            continue
        out.append(_line({**event, "chain_hash": previous.hex()}))
    return out


def _line(value: dict[str, Any]) -> bytes:
    return orjson.dumps(value, option=_LINE)
