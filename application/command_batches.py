"""Deciding a batch of commands in one transaction, each with its own answer.

Under the append lock the commands are decided one after the other, in arrival order,
against the state the earlier ones left: the pure ``decide``/``evolve`` of the domain,
nothing written yet. Each command's If-Match and Idempotency-Key are checked at its
turn; a command refused by a rule, a stale If-Match or a reused key gets its own
refusal and contributes nothing. What the others decided is then appended at once.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from application import idempotency
from application.idempotency import IdempotencyMismatch
from application.outcomes import (
    ANY_VERSION,
    CommandContext,
    IfMatch,
    Outcome,
    PreconditionFailed,
)
from domain.commands import Command
from domain.events import encode, event_type, schema_version
from domain.incident import Incident, decide, evolve
from domain.values import incident_id_of, stream_id_for
from eventstore import AppendResult, NewEvent
from eventstore.store import Append, stream_position_in


@dataclass(slots=True)
class PendingCommand:
    """Commands for one incident, to land together or not at all, and who waits for them."""

    incident_id: UUID
    commands: list[Command]
    context: CommandContext
    future: Future[Outcome] = field(default_factory=Future)


def check_precondition(if_match: IfMatch, state: Incident) -> None:
    """PreconditionFailed unless the incident matches If-Match (``*``: it exists)."""
    matches = state.exists if if_match == ANY_VERSION else state.version == if_match
    if not matches:
        raise PreconditionFailed(if_match, state.version)


@dataclass(frozen=True, slots=True)
class Appended:
    """The command's events are the batch's append number ``index``."""

    index: int


@dataclass(frozen=True, slots=True)
class Unchanged:
    """The command was fulfilled already: the stream's newest event is its answer.

    ``after_append``: that event is the last of the batch's append of that number;
    otherwise ``position`` was read from the log at the command's turn.
    """

    stream_id: str
    version: int
    position: int = 0
    after_append: int | None = None


@dataclass(frozen=True, slots=True)
class ReplayOf:
    """The same request as the batch's command number ``index`` (one Idempotency-Key)."""

    index: int


Answer = Outcome | BaseException | Appended | Unchanged | ReplayOf

Loader = Callable[[Connection, UUID], Incident]
"""Reads an incident's committed state (the service's cached fold)."""


@dataclass(slots=True)
class BatchDecision:
    """What a batch decided under the lock; nothing of it is written yet."""

    answers: list[Answer] = field(default_factory=list)
    appends: list[Append] = field(default_factory=list)
    states: dict[str, tuple[Incident, int | None]] = field(default_factory=dict)
    """Each stream's state as the batch leaves it, and the append that made it."""
    keys: dict[tuple[str, str], tuple[str, int]] = field(default_factory=dict)
    """Idempotency keys accepted in this batch: the request hash, the command's number."""
    key_times: dict[int, datetime] = field(default_factory=dict)
    """When each keyed command was asked (the service's clock), by command number."""

    def outcome(self, index: int, results: list[AppendResult]) -> Outcome | BaseException:
        """Command ``index``'s answer, once the appends have their results."""
        answer = self.answers[index]
        if isinstance(answer, Appended):
            result = results[answer.index]
            return Outcome(incident_id_of(result.stream_id), result)
        if isinstance(answer, Unchanged):
            position = answer.position
            if answer.after_append is not None:
                position = results[answer.after_append].position
            result = AppendResult(answer.stream_id, answer.version, (position,))
            return Outcome(incident_id_of(answer.stream_id), result, unchanged=True)
        if isinstance(answer, ReplayOf):
            original = self.outcome(answer.index, results)
            if isinstance(original, Outcome):
                return Outcome(original.incident_id, original.result, replayed=True)
            return original
        return answer


def decide_batch(
    conn: Connection,
    batch: list[PendingCommand],
    load: Loader,
    now: Callable[[], datetime],
) -> BatchDecision:
    """Decide every command of ``batch`` in order; refusals are answers, not failures.

    Anything the database raises is not one command's refusal: it propagates, and the
    batch's transaction fails as a whole.
    """
    decision = BatchDecision()
    for index, pending in enumerate(batch):
        try:
            answer = _decide_one(conn, index, pending, decision, load, now)
        except DBAPIError:
            raise
        except Exception as exc:
            answer = exc
        decision.answers.append(answer)
    return decision


def _decide_one(
    conn: Connection,
    index: int,
    pending: PendingCommand,
    decision: BatchDecision,
    load: Loader,
    now: Callable[[], datetime],
) -> Answer:
    ctx = pending.context
    key = ctx.idempotency
    if key is not None:
        # Keys are stored, found and expired by the service's clock; read only when a key
        # is given, so commands without one use the clock exactly as before.
        key_time = now()
        earlier = decision.keys.get((key.principal, key.key))
        if earlier is not None:
            if earlier[0] != key.request_hash:
                raise IdempotencyMismatch(
                    f"Idempotency-Key {key.key!r} was used for a different request;"
                    " use a new key for a new request"
                )
            return ReplayOf(earlier[1])
        original = idempotency.find(conn, key, key_time)
        if original is not None:
            return Outcome(idempotency.incident_of(original), original, replayed=True)
        decision.key_times[index] = key_time
    stream_id = stream_id_for(pending.incident_id)
    known = decision.states.get(stream_id)
    state, made_by = known if known is not None else (load(conn, pending.incident_id), None)
    # RFC 9110 13.2.1: a precondition counts only where the request would otherwise
    # succeed. On an existing incident it is checked first (a stale version is 412 even
    # if the command would be refused too); on an unknown one only after the commands are
    # decided, so a command that needs the incident is 404, whatever If-Match says, and
    # only a declaration gets to the check (where "0" matches).
    if ctx.if_match is not None and state.exists:
        check_precondition(ctx.if_match, state)
    decided = state
    new_events = []
    for command in pending.commands:
        for event in decide(decided, command):
            decided = evolve(decided, event)
            new_events.append(
                NewEvent(
                    event_id=uuid4(),
                    type=event_type(event),
                    schema_version=schema_version(event),
                    data=encode(event),
                    occurred_at=event.occurred_at,
                    metadata=ctx.metadata,
                )
            )
    if ctx.if_match is not None and not state.exists:
        check_precondition(ctx.if_match, state)
    if not new_events:
        decision.key_times.pop(index, None)  # nothing appended: the key is not kept
        if made_by is not None:
            return Unchanged(stream_id, state.version, after_append=made_by)
        return Unchanged(stream_id, state.version, stream_position_in(conn, stream_id))
    number = len(decision.appends)
    decision.appends.append((stream_id, new_events, state.version))
    decision.states[stream_id] = (decided, number)
    if key is not None:
        decision.keys[(key.principal, key.key)] = (key.request_hash, index)
    return Appended(number)
