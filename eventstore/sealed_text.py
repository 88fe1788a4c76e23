"""Erasable text: fields sealed under per-event data keys that an erasure deletes.

The fields ``domain.erasable_text`` names are stored as an envelope instead of their
value::

    {"sealed": "aes-256-gcm", "nonce": "<12 bytes, base64>", "ciphertext": "<base64>"}

The plaintext is the field's value as compact JSON (a string's quotes included); the
associated data is the event's 16 id bytes, ``/`` and the field's name, so a ciphertext
cannot be moved to another event or field. Each sealed event has its own random 256-bit
data key in ``text_keys`` (under the event's position; key id: the event id's 32 hex
digits), wrapped with a key-encryption key derived from ``INCIDENTS_SECRET_KEY``
(``TextVault``). Every key belongs to a scope (one note, one alert of one incident); an erasing event deletes its
scope's keys and records who, when and why in ``text_erasures`` in the transaction that
appends it. From then on the envelope cannot be opened by anyone: reads show a
``{"redacted": true, ...}`` placeholder in its place. The stored event never changes, so
the hash chain (which covers the envelope) still verifies.

Reads open envelopes here (``open_sealed``), so every reader — projections, ``/events``,
the stream, ``as_of``, deliveries — sees the same thing; only the chain and the export
read the log as stored.
"""

from __future__ import annotations

import os
import weakref
from binascii import Error as Base64Error
from binascii import a2b_base64, b2a_base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap
from sqlalchemy import Connection, Engine, select

from domain.erasable_text import (
    EMPTIED_WHEN_ERASED,
    ERASING_SCOPES,
    SEALED_FIELDS,
    erasing_scope,
    sealing_scope,
)
from eventstore.records import NewEvent, RecordedEvent
from eventstore.schema import text_erasures, text_keys

ALGORITHM = "aes-256-gcm"
_KEK_INFO = b"incident-ledger text keys v1"
_WRAPPED_GCM = b"\x01"
"""The first byte of a data key wrapped with AES-256-GCM (61 bytes in all)."""
_WRAPPED_GCM_SIZE = 1 + 12 + 32 + 16
_WRAPPED_RFC3394_SIZE = 40
"""A 256-bit key wrapped with AES key wrap (RFC 3394), as keys were wrapped before."""
_LOOKUP_CHUNK = 500
_KEYS_PER_STATEMENT = 1000
"""Keys a multi-row INSERT writes at most on PostgreSQL (4 of its 65,535 parameters each)."""
_Item = TypeVar("_Item", int, str)


class SealedTextUnavailable(RuntimeError):
    """Sealed text was met (or is to be written) without the key that opens it."""


class TextVault:
    """Makes and unwraps data keys under one key-encryption key.

    A data key is wrapped with AES-256-GCM under the key-encryption key: stored as the byte
    0x01, a random 12-byte nonce, and the 48 bytes of ciphertext and tag; the associated
    data is ``text-key/`` and the key id, so a wrapped key opens only in its own row.
    Keys written before were wrapped with AES key wrap (RFC 3394, 40 bytes) and still
    unwrap; that one costs about 40 times as much in ``cryptography`` (its rounds run in
    Python), which made it most of what sealing an event and opening one cost."""

    __slots__ = ("_aes", "_kek")

    def __init__(self, kek: bytes) -> None:
        if len(kek) != 32:
            raise ValueError("the key-encryption key must be 32 bytes")
        self._kek = kek
        self._aes = AESGCM(kek)

    @classmethod
    def from_secret(cls, secret: str) -> TextVault:
        """The vault of the service's secret key (a Fernet key's text): its own derived key."""
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEK_INFO)
        return cls(hkdf.derive(secret.strip().encode()))

    def __repr__(self) -> str:
        return "TextVault(key=<hidden>)"

    def __reduce__(self) -> tuple[type[TextVault], tuple[bytes]]:
        # A rebuild's worker processes get the vault pickled; the cipher object is not.
        return (TextVault, (self._kek,))

    def wrap(self, key: bytes, key_id: str) -> bytes:
        """``key`` wrapped under this vault's key, for the row ``key_id``."""
        return self.wrap_with_nonce(key, key_id, os.urandom(12))

    def wrap_with_nonce(self, key: bytes, key_id: str, nonce: bytes) -> bytes:
        """``key`` wrapped for the row ``key_id`` with ``nonce``, 12 fresh random bytes."""
        return _WRAPPED_GCM + nonce + self._aes.encrypt(nonce, key, _key_aad(key_id))

    def unwrap(self, wrapped: bytes, key_id: str) -> bytes:
        wrapped = bytes(wrapped)
        try:
            if len(wrapped) == _WRAPPED_GCM_SIZE and wrapped[:1] == _WRAPPED_GCM:
                return self._aes.decrypt(wrapped[1:13], wrapped[13:], _key_aad(key_id))
            if len(wrapped) == _WRAPPED_RFC3394_SIZE:
                return aes_key_unwrap(self._kek, wrapped)
        except (InvalidTag, InvalidUnwrap):
            pass
        raise SealedTextUnavailable(
            "a stored text key does not unwrap with this INCIDENTS_SECRET_KEY: the log's"
            " text was sealed under another key (start the service with that key), or the"
            " key's row was altered"
        )


def _key_aad(key_id: str) -> bytes:
    return b"text-key/" + key_id.encode()


_vaults: weakref.WeakKeyDictionary[Engine, TextVault] = weakref.WeakKeyDictionary()
_default: list[TextVault] = []


def install_vault(engine: Engine, vault: TextVault) -> None:
    """Seal and open text on ``engine`` with ``vault``."""
    _vaults[engine] = vault


def install_default_vault(vault: TextVault | None) -> None:
    """The vault of engines given none of their own: for tools and tests that make
    engines themselves (the service installs its vault on its engine)."""
    _default[:] = [vault] if vault is not None else []


def vault_of(engine: Engine) -> TextVault | None:
    return _vaults.get(engine) or (_default[0] if _default else None)


# --- writing --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KeyRow:
    key_id: str
    scope: str
    wrapped_key: bytes


@dataclass(frozen=True, slots=True)
class Erasure:
    """An erasing event's effect: delete ``scope``'s keys, say who, when and why."""

    scope: str
    stream_id: str
    event_index: int
    erased_by: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class SealedBatch:
    """Events as they are stored, with the key rows and erasures their append writes."""

    events: list[NewEvent]
    keys: list[tuple[int, KeyRow]]
    erasures: list[Erasure]

    @property
    def touches_keys(self) -> bool:
        return bool(self.keys or self.erasures)


def _aad(event_id_bytes: bytes, field: str) -> bytes:
    return event_id_bytes + b"/" + field.encode()


def seal_events(engine: Engine, rows: Sequence[tuple[str, NewEvent]]) -> SealedBatch:
    """``rows`` (stream, event) with their erasable fields sealed, in order.

    Pure but for randomness: the caller writes the events, the keys and the erasures in
    one transaction (``key_statements``).
    """
    sealing = [
        (index, present)
        for index, (_, event) in enumerate(rows)
        if (fields := SEALED_FIELDS.get(event.type))
        and (present := [f for f in fields if f in event.data])
    ]
    erasures = [
        Erasure(
            erased,
            stream_id,
            index,
            actor if isinstance(actor := event.metadata.get("actor"), str) else None,
            str(event.data.get("reason", "")),
        )
        for index, (stream_id, event) in enumerate(rows)
        if event.type in ERASING_SCOPES
        and (erased := erasing_scope(stream_id, event.type, event.data)) is not None
    ]
    if not sealing:
        return SealedBatch([event for _, event in rows], [], erasures)
    vault = vault_of(engine)
    if vault is None:
        raise SealedTextUnavailable(
            f"{rows[sealing[0][0]][1].type} holds erasable text, but no text vault is"
            " installed on this engine (INCIDENTS_SECRET_KEY): it would be stored in clear"
        )
    # Every key, wrap nonce and field nonce of the batch from one draw: each draw is a
    # system call, which costs more than the encryption it feeds.
    drawn = os.urandom(sum(44 + 12 * len(present) for _, present in sealing))
    at = 0
    stored = [event for _, event in rows]
    keys: list[tuple[int, KeyRow]] = []
    for index, present in sealing:
        stream_id, event = rows[index]
        key_id = event.event_id.hex
        key = drawn[at : at + 32]
        wrapped = vault.wrap_with_nonce(key, key_id, drawn[at + 32 : at + 44])
        at += 44
        aes = AESGCM(key)
        event_id_bytes = event.event_id.bytes
        data = dict(event.data)
        for field in present:
            nonce = drawn[at : at + 12]
            at += 12
            sealed = aes.encrypt(nonce, orjson.dumps(data[field]), _aad(event_id_bytes, field))
            data[field] = {
                "sealed": ALGORITHM,
                "nonce": b2a_base64(nonce, newline=False).decode("ascii"),
                "ciphertext": b2a_base64(sealed, newline=False).decode("ascii"),
            }
        scope = sealing_scope(stream_id, event.type, event.data)
        assert scope is not None  # every sealed type has a scope (domain.erasable_text)
        keys.append((index, KeyRow(key_id, scope, wrapped)))
        # Made directly: dataclasses.replace looks up the fields on every call.
        stored[index] = NewEvent(
            event.event_id,
            event.type,
            data,
            event.occurred_at,
            event.schema_version,
            event.metadata,
        )
    return SealedBatch(stored, keys, erasures)


def _time(moment: datetime, dialect: str) -> Any:
    moment = moment.astimezone(UTC)
    return (
        moment.replace(tzinfo=None).isoformat(" ", "microseconds")
        if dialect == "sqlite"
        else moment
    )


def key_statements(
    batch: SealedBatch, positions: Sequence[int], recorded_at: datetime, dialect: str
) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """The statements (SQL, rows for executemany) that write ``batch``'s keys and erasures,
    in event order: a key sealed after an erasure of its scope survives it."""
    mark = "?" if dialect == "sqlite" else "%s"
    insert_key = (
        "INSERT INTO text_keys (position, key_id, scope, wrapped_key)"  # noqa: S608
        f" VALUES ({mark}, {mark}, {mark}, {mark})"
    )
    # The scope's keys are those of its stream's sealed events that name it: found through
    # the events' (stream, version) index and the keys' positions, in work that grows with
    # the stream, not with the log.
    sealing_types = ", ".join(f"'{kind}'" for kind in sorted(SEALED_FIELDS))
    delete_keys = (
        f"DELETE FROM text_keys WHERE scope = {mark} AND position IN"  # noqa: S608
        f" (SELECT position FROM events WHERE stream_id = {mark}"
        f" AND type IN ({sealing_types}))"
    )
    insert_erasure = (
        "INSERT INTO text_erasures (scope, position, erased_at, erased_by, reason)"  # noqa: S608
        f" VALUES ({mark}, {mark}, {mark}, {mark}, {mark}) ON CONFLICT (scope) DO UPDATE SET"
        " position = excluded.position, erased_at = excluded.erased_at,"
        " erased_by = excluded.erased_by, reason = excluded.reason"
    )

    def key(index: int, row: KeyRow) -> tuple[Any, ...]:
        return (positions[index], row.key_id, row.scope, row.wrapped_key)

    if not batch.erasures:
        rows = [key(index, row) for index, row in batch.keys]
        if dialect == "sqlite" or len(rows) < 2:
            return [(insert_key, rows)] if rows else []
        # PostgreSQL: one multi-row INSERT (one round trip) where executemany sends a row
        # at a time, as the events' own insert does.
        return [
            (
                insert_key + ", (%s, %s, %s, %s)" * (len(chunk) - 1),
                [tuple(value for row in chunk for value in row)],
            )
            for chunk in (
                rows[at : at + _KEYS_PER_STATEMENT]
                for at in range(0, len(rows), _KEYS_PER_STATEMENT)
            )
        ]
    steps: list[tuple[int, int, tuple[str, list[tuple[Any, ...]]]]] = []
    for index, row in batch.keys:
        steps.append((index, 0, (insert_key, [key(index, row)])))
    for erasure in batch.erasures:
        when = _time(recorded_at, dialect)
        erased = (
            erasure.scope,
            positions[erasure.event_index],
            when,
            erasure.erased_by,
            erasure.reason,
        )
        steps.append((erasure.event_index, 1, (delete_keys, [(erasure.scope, erasure.stream_id)])))
        steps.append((erasure.event_index, 2, (insert_erasure, [erased])))
    return [statement for _, _, statement in sorted(steps, key=lambda step: step[:2])]


# --- reading --------------------------------------------------------------------------


def is_envelope(value: Any) -> bool:
    """Whether a stored field's value is sealed text."""
    return isinstance(value, dict) and value.get("sealed") == ALGORITHM and "ciphertext" in value


def _sealed_fields(record: RecordedEvent) -> list[str]:
    fields = SEALED_FIELDS.get(record.type)
    if not fields:
        return []
    return [f for f in fields if is_envelope(record.data.get(f))]


def _chunks(items: Sequence[_Item]) -> list[Sequence[_Item]]:
    return [items[i : i + _LOOKUP_CHUNK] for i in range(0, len(items), _LOOKUP_CHUNK)]


def _wrapped_keys(conn: Connection, positions: Sequence[int]) -> dict[int, bytes]:
    """The stored keys of the events at ``positions``, by position."""
    found: dict[int, bytes] = {}
    for chunk in _chunks(positions):
        query = select(text_keys.c.position, text_keys.c.wrapped_key).where(
            text_keys.c.position.in_(chunk)
        )
        found.update((position, bytes(wrapped)) for position, wrapped in conn.execute(query))
    return found


def _erasures(conn: Connection, scopes: Sequence[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(scopes):
        query = select(
            text_erasures.c.scope,
            text_erasures.c.erased_at,
            text_erasures.c.erased_by,
            text_erasures.c.reason,
        ).where(text_erasures.c.scope.in_(chunk))
        for scope, erased_at, erased_by, reason in conn.execute(query):
            found[scope] = {
                "redacted": True,
                "redacted_at": erased_at.astimezone(UTC).isoformat(),
                "redacted_by": erased_by,
                "reason": reason,
            }
    return found


def _with_data(record: RecordedEvent, data: dict[str, Any]) -> RecordedEvent:
    # dataclasses.replace costs several times this on a slotted class: every read of a
    # sealed event goes through here.
    return RecordedEvent(
        record.position,
        record.stream_id,
        record.version,
        record.event_id,
        record.type,
        record.schema_version,
        data,
        record.metadata,
        record.occurred_at,
        record.recorded_at,
    )


def open_sealed(conn: Connection, records: list[RecordedEvent]) -> list[RecordedEvent]:
    """``records`` with every sealed field opened, or, where its key was erased, the
    erasure's ``{"redacted": true, ...}`` placeholder in its place."""
    sealed = [(index, fields) for index, r in enumerate(records) if (fields := _sealed_fields(r))]
    if not sealed:
        return records
    wrapped = _wrapped_keys(conn, [records[index].position for index, _ in sealed])
    gone = {
        index: sealing_scope(records[index].stream_id, records[index].type, records[index].data)
        for index, _ in sealed
        if records[index].position not in wrapped
    }
    erasures = _erasures(conn, sorted({s for s in gone.values() if s is not None}))
    vault = vault_of(conn.engine) if wrapped else None
    if wrapped and vault is None:
        raise SealedTextUnavailable(
            "the log holds sealed text, but no text vault is installed on this engine:"
            " set INCIDENTS_SECRET_KEY to the key it was sealed with"
        )
    opened = list(records)
    for index, fields in sealed:
        record = records[index]
        data = dict(record.data)
        key = wrapped.get(record.position)
        if key is not None and vault is not None:
            aes = AESGCM(vault.unwrap(key, record.event_id.hex))
            for field in fields:
                envelope: Mapping[str, str] = data[field]
                try:
                    plain = aes.decrypt(
                        a2b_base64(envelope["nonce"]),
                        a2b_base64(envelope["ciphertext"]),
                        _aad(record.event_id.bytes, field),
                    )
                except (InvalidTag, Base64Error, ValueError):
                    raise SealedTextUnavailable(
                        f"the sealed {field} of the event at position {record.position} does"
                        " not open with its key: the stored envelope was altered (run"
                        " `incidents verify`)"
                    ) from None
                data[field] = orjson.loads(plain)
        else:
            erased = erasures.get(gone.get(index) or "")
            if erased is None:
                # Neither a key nor an erasure: the envelope stays as stored, never guessed at.
                continue
            emptied = EMPTIED_WHEN_ERASED.get(record.type, frozenset())
            for field in fields:
                data[field] = {} if field in emptied else dict(erased)
        opened[index] = _with_data(record, data)
    return opened
