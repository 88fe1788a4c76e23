"""Recently read streams, decoded, kept to be replayed again cheaply.

Reading the past (``?as_of=``) replays an incident's stream up to a cut, and someone
auditing an incident asks for one moment after another. Reading and decoding the
stream is most of the cost of each answer. A stream's events never change, so a
decoded prefix of it stays right — until an erasure (a note redacted, an alert's text
erased), which is an event of the same stream: a read that finds one among the newer
versions reads the whole stream again, opened as it now is. Otherwise each read fetches
only the versions after the prefix. The fetch starts at the newest cached version and checks that it is the same event
(same id); if the database was replaced under the cache, the stream is read afresh.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from sqlalchemy import Connection

from domain.erasable_text import ERASING_SCOPES
from eventstore.records import RecordedEvent
from eventstore.store import read_stream_in
from projections.base import Envelope, envelope

MAX_EVENTS = 50_000
"""Decoded events kept in all (a few tens of MiB); the least recently read go first."""


class DecodedStreams:
    """A bounded, thread-safe cache of whole streams, decoded, in version order."""

    def __init__(self, max_events: int = MAX_EVENTS) -> None:
        self.max_events = max_events
        self._streams: OrderedDict[str, list[Envelope]] = OrderedDict()
        self._held = 0
        self._lock = threading.Lock()

    def read(self, conn: Connection, stream_id: str) -> list[Envelope]:
        """Every event of the stream committed so far, decoded, in version order."""
        with self._lock:
            cached = self._streams.get(stream_id, [])
        newer = self._newer(conn, stream_id, cached)
        if newer is not None and cached and any(r.type in ERASING_SCOPES for r in newer):
            newer = None  # an erasure since: cached events may hold the text it erased
        if newer is None:  # the cached prefix is not this database's: start over
            cached = []
            newer = read_stream_in(conn, stream_id)
        whole = cached + [envelope(recorded) for recorded in newer]
        self._keep(stream_id, whole)
        return whole

    @staticmethod
    def _newer(
        conn: Connection, stream_id: str, cached: list[Envelope]
    ) -> list[RecordedEvent] | None:
        if not cached:
            return read_stream_in(conn, stream_id)
        newest = cached[-1].recorded
        found = read_stream_in(conn, stream_id, after_version=newest.version - 1)
        if not found or found[0].event_id != newest.event_id:
            return None
        return found[1:]

    def _keep(self, stream_id: str, whole: list[Envelope]) -> None:
        with self._lock:
            previous = self._streams.pop(stream_id, None)
            if previous is not None:
                self._held -= len(previous)
            if not whole or len(whole) > self.max_events:
                return
            # Lists are replaced, never changed in place: readers holding one are safe.
            self._streams[stream_id] = whole
            self._held += len(whole)
            while self._held > self.max_events:
                _, evicted = self._streams.popitem(last=False)
                self._held -= len(evicted)
