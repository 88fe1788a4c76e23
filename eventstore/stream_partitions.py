"""Splitting the log into disjoint sets of streams, in SQL that both backends run as is.

A stream's key is the last two characters of its id. For an incident stream these are
two hex digits of a random UUID: 256 keys over which streams spread evenly. Each
partition holds a set of keys; the first also holds every stream whose key is none of
them, so every event belongs to exactly one partition.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, func, or_, select, true

from eventstore.schema import events

KEYS = tuple(f"{number:02x}" for number in range(256))

MAX_PARTITIONS = len(KEYS)


def stream_key() -> ColumnElement[str]:
    """The key of an event's stream (substr and length mean the same on both backends)."""
    return func.substr(events.c.stream_id, func.length(events.c.stream_id) - 1, 2)


@dataclass(frozen=True, slots=True)
class StreamPartition:
    """The streams with one of ``keys``, and, when ``rest``, those with a key not in KEYS."""

    keys: tuple[str, ...]
    rest: bool = False

    def condition(self) -> ColumnElement[bool]:
        """The condition on ``events`` that holds for the events of these streams."""
        if not self.rest:
            return stream_key().in_(self.keys)
        others = sorted(set(KEYS) - set(self.keys))
        return stream_key().not_in(others) if others else true()


def split_streams(weights: Mapping[str, int], count: int) -> list[StreamPartition]:
    """``count`` partitions of about equal weight, given the events (or a sample) per key."""
    if not 1 <= count <= MAX_PARTITIONS:
        raise ValueError(f"{count} partitions: from 1 to {MAX_PARTITIONS}")
    loads = [0] * count
    loads[0] = sum(weight for key, weight in weights.items() if key not in KEYS)
    chosen: list[list[str]] = [[] for _ in range(count)]
    # Heaviest first, each to the lightest partition so far: within one key of even.
    for key in sorted(KEYS, key=lambda key: (-weights.get(key, 0), key)):
        lightest = loads.index(min(loads))
        chosen[lightest].append(key)
        loads[lightest] += weights.get(key, 0) or 1
    return [
        StreamPartition(tuple(sorted(keys)), rest=index == 0) for index, keys in enumerate(chosen)
    ]


def sample_stream_keys(
    conn: Connection, until: int, *, samples: int = 32, width: int = 500
) -> Counter[str]:
    """Events per stream key in ``samples`` ranges of ``width`` positions spread evenly
    over the log up to ``until``: all of them when the log is that short."""
    if until <= samples * width:
        where: ColumnElement[bool] = events.c.position <= until
    else:
        starts = (index * (until - width) // (samples - 1) for index in range(samples))
        where = or_(*(events.c.position.between(s + 1, s + width) for s in starts))
    key = stream_key().label("key")
    query = select(key, func.count()).where(where).group_by(key)
    return Counter({str(row[0]): int(row[1]) for row in conn.execute(query)})


def partition_streams(conn: Connection, until: int, count: int) -> Sequence[StreamPartition]:
    """``count`` partitions of the log up to ``until`` holding about as many events each."""
    return split_streams(sample_stream_keys(conn, until), count)
