"""Event-store contract under real concurrency: threads racing on one engine.

* optimistic writers on one stream never lose an event nor leave a gap;
* the same events sent by several threads at once are stored once;
* (PostgreSQL) a follower paging ``read_all(after=last)`` while writers commit sees every
  committed position exactly once and in order, the guarantee the append lock exists for.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID, uuid4

import pytest

from eventstore import AppendResult, ConcurrencyError, EventStore, NewEvent

AT = datetime(2026, 5, 6, 7, 8, 9, 101112, tzinfo=UTC)
T = TypeVar("T")


def new_event(writer: int, n: int) -> NewEvent:
    return NewEvent(event_id=uuid4(), type="Noted", data={"writer": writer, "n": n}, occurred_at=AT)


def run_threads(count: int, target: Callable[[int], T]) -> list[T]:
    """Run ``target(i)`` on ``count`` threads; re-raise the first failure of any of them."""
    with ThreadPoolExecutor(max_workers=count) as pool:
        futures = [pool.submit(target, i) for i in range(count)]
        return [future.result(timeout=120) for future in futures]


# --- optimistic writers on one stream -------------------------------------------------

WRITERS = 8
TARGET = 200


def test_racing_writers_on_one_stream_fill_versions_without_gaps_or_losses(
    store: EventStore,
) -> None:
    stream = "incident-hot"
    start = threading.Barrier(WRITERS)

    def writer(i: int) -> tuple[list[tuple[AppendResult, list[UUID]]], list[tuple[int, ...]]]:
        rng = random.Random(i)
        won: list[tuple[AppendResult, list[UUID]]] = []
        conflicts: list[tuple[int, ...]] = []
        start.wait()
        while (current := store.stream_version(stream)) < TARGET:
            size = min(rng.randint(1, 3), TARGET - current)
            events = [new_event(i, len(won) * 3 + k) for k in range(size)]
            try:
                result = store.append(stream, events, expected_version=current)
            except ConcurrencyError as conflict:
                conflicts.append((current, conflict.expected, conflict.actual))
                continue
            assert result.version == current + size
            won.append((result, [e.event_id for e in events]))
        return won, conflicts

    outcomes = run_threads(WRITERS, writer)

    wins = [win for won, _ in outcomes for win in won]
    conflicts = [c for _, lost in outcomes for c in lost]
    stored = store.read_stream(stream)
    assert [r.version for r in stored] == list(range(1, TARGET + 1))
    assert len(store.read_all(limit=10 * TARGET)) == TARGET

    # Each version was won by exactly one successful append, and each such append's
    # events sit at exactly its versions and positions, in the order sent.
    claimed = Counter(
        version
        for result, ids in wins
        for version in range(result.version - len(ids) + 1, result.version + 1)
    )
    assert sorted(claimed) == list(range(1, TARGET + 1))
    assert set(claimed.values()) == {1}
    by_version = {r.version: r for r in stored}
    for result, ids in wins:
        first = result.version - len(ids) + 1
        placed = [by_version[v] for v in range(first, result.version + 1)]
        assert [r.event_id for r in placed] == ids
        assert tuple(r.position for r in placed) == result.positions

    # No successful append lost, nothing stored that no writer was told it won.
    won_ids = [event_id for _, ids in wins for event_id in ids]
    assert Counter(r.event_id for r in stored) == Counter(won_ids)
    # A lost race reports the version the loser expected and a newer actual version.
    assert all(expected == read and actual > read for read, expected, actual in conflicts)
    assert conflicts, "the writers never collided: the race was not exercised"
    print(f"\none stream: {WRITERS} writers, {len(wins)} appends, {len(conflicts)} lost races")


# --- the same events from several threads ---------------------------------------------

ROUNDS = 12
SENDERS = 8


def test_concurrent_duplicate_appends_store_one_copy_and_agree_on_the_result(
    store: EventStore,
) -> None:
    for round_ in range(ROUNDS):
        stream = f"dup-{round_}"
        events = [new_event(round_, k) for k in range(2)]
        start = threading.Barrier(SENDERS)

        def send(
            i: int,
            stream: str = stream,
            events: list[NewEvent] = events,
            start: threading.Barrier = start,
        ) -> AppendResult:
            start.wait()
            # Half of the senders pin the version the stream had when they read it.
            return store.append(stream, events, expected_version=0 if i % 2 else None)

        results = run_threads(SENDERS, send)

        assert len(set(results)) == 1, f"round {round_}: callers disagree: {set(results)}"
        stored = store.read_stream(stream)
        assert [r.event_id for r in stored] == [e.event_id for e in events]
        assert results[0] == AppendResult(stream, 2, tuple(r.position for r in stored))

    assert len(store.read_all(limit=10 * ROUNDS)) == 2 * ROUNDS


# --- a follower paging the log while writers commit (PostgreSQL) ------------------------

FOLLOWER_WRITERS = 8
EVENTS_PER_WRITER = 500
SHARED_STREAMS = 3
PAGE = 7


@pytest.mark.slow
def test_follower_sees_every_committed_position_once_and_in_order(
    backend: str, store: EventStore
) -> None:
    if backend != "postgresql":
        pytest.skip(
            "commit order can differ from position order only with concurrent writers; "
            "SQLite has one writer at a time"
        )
    writers_done = threading.Event()
    follower_stop = threading.Event()
    seen: list[Any] = []
    seen_before_done = 0
    follower_errors: list[BaseException] = []

    def follower() -> None:
        nonlocal seen_before_done
        last = 0
        try:
            while not follower_stop.is_set():
                done = writers_done.is_set()
                page = store.read_all(after_position=last, limit=PAGE)
                if page:
                    assert len(page) <= PAGE
                    assert page[0].position > last, "read_all returned the position it was given"
                    seen.extend(page)
                    if not done:
                        seen_before_done += len(page)
                    last = page[-1].position
                    continue
                if done and last == store.head_position():
                    return
                time.sleep(0.0005)
        except BaseException as exc:  # handed to the test thread below
            follower_errors.append(exc)

    def writer(i: int) -> list[tuple[AppendResult, list[UUID]]]:
        rng = random.Random(1000 + i)
        own = f"writer-{i}"
        own_version = 0
        written = 0
        appended: list[tuple[AppendResult, list[UUID]]] = []
        while written < EVENTS_PER_WRITER:
            size = min(rng.randint(1, 3), EVENTS_PER_WRITER - written)
            events = [new_event(i, written + k) for k in range(size)]
            choice = rng.random()
            if choice < 0.5:
                result = store.append(own, events, expected_version=own_version)
                own_version = result.version
            elif choice < 0.75:
                shared = f"shared-{rng.randrange(SHARED_STREAMS)}"
                result = store.append(shared, events, expected_version=None)
            else:
                shared = f"shared-{rng.randrange(SHARED_STREAMS)}"
                while True:
                    current = store.stream_version(shared)
                    try:
                        result = store.append(shared, events, expected_version=current)
                        break
                    except ConcurrencyError:
                        continue
            appended.append((result, [e.event_id for e in events]))
            written += size
        return appended

    following = threading.Thread(target=follower, name="follower")
    started = time.perf_counter()
    following.start()
    try:
        outcomes = run_threads(FOLLOWER_WRITERS, writer)
    finally:
        writers_done.set()
        following.join(timeout=60)
        follower_stop.set()
    elapsed = time.perf_counter() - started
    assert not following.is_alive(), "the follower never caught up with head_position"
    if follower_errors:
        raise follower_errors[0]

    total = FOLLOWER_WRITERS * EVENTS_PER_WRITER
    final = store.read_all(after_position=0, limit=10 * total)
    final_positions = [r.position for r in final]
    seen_positions = [r.position for r in seen]

    assert len(final) == total
    assert final_positions == sorted(set(final_positions))
    assert all(a < b for a, b in itertools.pairwise(seen_positions)), (
        "the follower saw positions out of order or twice"
    )
    missed = sorted(set(final_positions) - set(seen_positions))
    assert not missed, f"the follower skipped {len(missed)} committed positions: {missed[:20]}"
    assert seen_positions == final_positions
    assert [r.event_id for r in seen] == [r.event_id for r in final]
    # Every acknowledged append is in the log, at the positions it was told.
    by_position = {r.position: r.event_id for r in final}
    appended = [entry for outcome in outcomes for entry in outcome]
    for result, ids in appended:
        assert [by_position[p] for p in result.positions] == ids
    assert sum(len(ids) for _, ids in appended) == total
    # Every stream's versions are contiguous from 1.
    versions: dict[str, list[int]] = {}
    for r in final:
        versions.setdefault(r.stream_id, []).append(r.version)
    for stream, stream_versions in versions.items():
        assert sorted(stream_versions) == list(range(1, len(stream_versions) + 1)), stream
    assert seen_before_done > 0, "the follower only read after the writers had finished"

    print(
        f"\nfollower: {FOLLOWER_WRITERS} writers, {total} events in {len(appended)} "
        f"transactions, {elapsed:.2f} s; follower read {seen_before_done} events while "
        f"writers were running"
    )
