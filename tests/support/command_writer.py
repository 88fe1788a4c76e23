"""Random command streams the domain accepts, written by one or more concurrent writers."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from application.service import IncidentService, Outcome
from domain import commands as c
from domain.action_items import NEXT_ACTION_STATUSES
from domain.errors import DomainError
from domain.incident import NEXT_STATUSES, Incident
from domain.values import (
    ActionKind,
    ActionStatus,
    IncidentKind,
    Priority,
    Role,
    Section,
    Severity,
    Status,
)


@dataclass
class Model:
    """What a writer needs to know of an incident to send only commands it accepts."""

    status: Status = Status.INVESTIGATING
    severity: Severity = Severity.SEV3
    acknowledged: bool = False
    notes: list[UUID] = field(default_factory=list)


def uuid_from(rng: random.Random) -> UUID:
    return UUID(int=rng.getrandbits(128), version=4)


class CommandWriter:
    """Sends random commands the domain accepts, for its own incidents.

    Most commands make one event; a summary fact (impact, root cause, resolution) makes
    two while it seeds the postmortem's draft section, so ``events`` counts what landed.

    One writer per thread: it keeps its own view of its incidents instead of loading them,
    so it is fast enough to write thousands of events. If the domain refuses a command
    anyway (rules changed), the incident is reloaded and the command skipped.
    """

    def __init__(
        self,
        service: IncidentService,
        rng: random.Random,
        *,
        actor: str = "writer",
        declare_share: float = 0.12,
        extras_share: float = 0.25,
    ) -> None:
        self.service = service
        self.rng = rng
        self.actor = actor
        self.declare_share = declare_share
        self.extras_share = extras_share
        self.incidents: dict[UUID, Model] = {}
        self.outcomes: list[Outcome] = []
        self.refused = 0
        self.refused_extras = 0

    def now(self) -> datetime:
        return self.service.now()

    def next_command(self) -> tuple[c.Command, Model]:
        rng = self.rng
        now = self.now()
        if not self.incidents or rng.random() < self.declare_share:
            incident_id = uuid_from(rng)
            severity = rng.choice(list(Severity))
            command: c.Command = c.DeclareIncident(
                incident_id=incident_id,
                at=now,
                title=f"{self.actor} incident {len(self.incidents) + 1}",
                severity=severity,
                services=tuple(rng.sample(["checkout", "payments", "search", "auth"], 2)),
                summary=rng.choice([None, "Seen by customers"]),
                started_at=now - timedelta(minutes=rng.randint(0, 90)),
            )
            return command, Model(severity=severity)
        incident_id = rng.choice(list(self.incidents))
        model = self.incidents[incident_id]
        if rng.random() < self.extras_share:
            return extra_command(self.service.load(incident_id), rng, now, self.actor), model
        options: list[str] = ["note", "note"]
        if model.status is not Status.CLOSED:
            options += ["severity"]
            if not model.acknowledged:
                options += ["acknowledge", "acknowledge"]
        if NEXT_STATUSES[model.status]:
            options += ["status", "status", "status"]
        if model.notes:
            options += ["amend", "amend", "redact"]
        choice = rng.choice(options)
        if choice == "acknowledge":
            command = c.AcknowledgeIncident(incident_id=incident_id, at=now)
        elif choice == "status":
            target = rng.choice(sorted(NEXT_STATUSES[model.status], key=lambda s: s.value))
            command = c.ChangeStatus(incident_id=incident_id, at=now, status=target)
        elif choice == "severity":
            target_severity = rng.choice([s for s in Severity if s is not model.severity])
            command = c.ChangeSeverity(
                incident_id=incident_id,
                at=now,
                severity=target_severity,
                reason=rng.choice([None, "Impact changed"]),
            )
        elif choice == "note":
            command = c.AddNote(
                incident_id=incident_id,
                at=now,
                note_id=uuid_from(rng),
                text=f"{self.actor} note #{rng.randint(1, 9999)}",
                occurred_at=rng.choice([None, now - timedelta(minutes=rng.randint(1, 300))]),
            )
        elif choice == "amend":
            shape = rng.choice(["text", "time", "both"])
            command = c.AmendNote(
                incident_id=incident_id,
                at=now,
                note_id=rng.choice(model.notes),
                text=f"Amended #{rng.randint(1, 999)}" if shape != "time" else None,
                occurred_at=now - timedelta(minutes=rng.randint(0, 400))
                if shape != "text"
                else None,
            )
        else:
            command = c.RedactNote(
                incident_id=incident_id, at=now, note_id=rng.choice(model.notes), reason="PII"
            )
        return command, model

    def step(self) -> Outcome | None:
        """Send one command; its outcome, or None when the domain refused it."""
        command, model = self.next_command()
        try:
            outcome = self.service.execute(command, {"actor": self.actor})
        except DomainError:
            if type(command) in EXTRAS:
                self.refused_extras += 1
                return None
            self.refused += 1
            self._reload(command.incident_id)
            return None
        self._applied(command, model)
        self.outcomes.append(outcome)
        return outcome

    @property
    def events(self) -> int:
        """How many events this writer's commands appended."""
        return sum(len(outcome.result.positions) for outcome in self.outcomes)

    def write(self, count: int) -> None:
        """Send commands until ``count`` of them were stored."""
        target = len(self.outcomes) + count
        while len(self.outcomes) < target:
            self.step()
            assert self.refused <= 10 + len(self.outcomes) // 10, "the domain refuses too much"

    def _applied(self, command: c.Command, model: Model) -> None:
        if isinstance(command, c.DeclareIncident):
            self.incidents[command.incident_id] = model
        elif isinstance(command, c.AcknowledgeIncident):
            model.acknowledged = True
        elif isinstance(command, c.ChangeStatus):
            model.status = command.status
        elif isinstance(command, c.ChangeSeverity):
            model.severity = command.severity
        elif isinstance(command, c.AddNote):
            model.notes.append(command.note_id)
        elif isinstance(command, c.RedactNote):
            model.notes.remove(command.note_id)

    def _reload(self, incident_id: UUID) -> None:
        state = self.service.load(incident_id)
        if not state.exists:
            self.incidents.pop(incident_id, None)
            return
        self.incidents[incident_id] = Model(
            status=state.status,
            severity=state.severity,
            acknowledged=state.acknowledged_at is not None,
            notes=sorted(state.notes - state.redacted_notes),
        )


EXTRAS: frozenset[type[c.Command]] = frozenset(
    {
        c.UpdateImpact,
        c.UpdateRootCause,
        c.UpdateResolution,
        c.MarkMitigated,
        c.AssignRole,
        c.AddParticipant,
        c.ChangeServices,
        c.EditPostmortemSection,
        c.RequestPostmortemReview,
        c.ApprovePostmortem,
        c.PublishPostmortem,
        c.ChangeLabels,
        c.ChangeKind,
        c.AddActionItem,
        c.ReassignActionItem,
        c.RescheduleActionItem,
        c.ChangeActionItemStatus,
        c.LinkTicket,
    }
)
"""Commands beyond the incident's lifecycle and notes; the domain may refuse them."""


def extra_command(state: Incident, rng: random.Random, now: datetime, actor: str) -> c.Command:
    """A facts, postmortem or action-item command for this state (it may still be refused)."""
    assert state.id is not None
    assert state.started_at is not None
    incident_id = state.id
    tag = f"{actor} #{rng.randint(1, 99_999)}"
    started = state.started_at.date()
    options: list[Callable[[], c.Command]] = [
        lambda: c.UpdateImpact(incident_id=incident_id, at=now, impact=f"Impact {tag}"),
        lambda: c.UpdateRootCause(incident_id=incident_id, at=now, root_cause=f"Cause {tag}"),
        lambda: c.UpdateResolution(incident_id=incident_id, at=now, resolution=f"Fix {tag}"),
        lambda: c.AssignRole(
            incident_id=incident_id,
            at=now,
            role=rng.choice(list(Role)),
            person=rng.choice(["alice", "bob", "carol"]),
        ),
        lambda: c.AddParticipant(incident_id=incident_id, at=now, person=f"person-{tag}"),
        lambda: c.ChangeServices(
            incident_id=incident_id,
            at=now,
            services=tuple(rng.sample(["checkout", "payments", "search", "auth", "db"], 2)),
        ),
        lambda: c.EditPostmortemSection(
            incident_id=incident_id, at=now, section=rng.choice(list(Section)), text=f"Text {tag}"
        ),
        lambda: c.EditPostmortemSection(
            incident_id=incident_id, at=now, section=rng.choice(list(Section)), text=f"Text {tag}"
        ),
        lambda: c.AddActionItem(
            incident_id=incident_id,
            at=now,
            item_id=uuid_from(rng),
            title=f"Action {tag}",
            kind=rng.choice(list(ActionKind)),
            owner=rng.choice(["alice", "bob"]),
            due_date=started + timedelta(days=rng.randint(0, 30)),
            priority=rng.choice(list(Priority)),
        ),
        lambda: c.RequestPostmortemReview(incident_id=incident_id, at=now, reviewers=("carol",)),
        lambda: c.ApprovePostmortem(incident_id=incident_id, at=now, reviewer="carol"),
        lambda: c.PublishPostmortem(incident_id=incident_id, at=now),
        lambda: c.ChangeLabels(
            incident_id=incident_id, at=now, labels={"team": rng.choice(["db", "payments"])}
        ),
        lambda: c.ChangeKind(incident_id=incident_id, at=now, kind=rng.choice(list(IncidentKind))),
    ]
    if state.mitigated_at is None:
        options.append(lambda: c.MarkMitigated(incident_id=incident_id, at=now))
    if state.action_items:
        item_id = rng.choice(sorted(state.action_items))
        item = state.action_items[item_id]
        target = rng.choice(sorted(NEXT_ACTION_STATUSES[item.status], key=lambda s: s.value))
        options += [
            lambda: c.ReassignActionItem(
                incident_id=incident_id, at=now, item_id=item_id, owner=f"owner-{tag}"
            ),
            lambda: c.RescheduleActionItem(
                incident_id=incident_id,
                at=now,
                item_id=item_id,
                due_date=started + timedelta(days=rng.randint(31, 60)),
            ),
            lambda: c.ChangeActionItemStatus(
                incident_id=incident_id,
                at=now,
                item_id=item_id,
                status=target,
                reason="Not worth it" if target is ActionStatus.WONT_DO else None,
            ),
            lambda: c.ChangeActionItemStatus(
                incident_id=incident_id,
                at=now,
                item_id=item_id,
                status=target,
                reason="Not worth it" if target is ActionStatus.WONT_DO else None,
            ),
            lambda: c.LinkTicket(
                incident_id=incident_id,
                at=now,
                item_id=item_id,
                ticket_url=f"https://tickets.example.com/{rng.randint(1, 99_999)}",
            ),
        ]
    return rng.choice(options)()


def write_concurrently(
    services: Sequence[IncidentService], seed: int, per_writer: int
) -> list[CommandWriter]:
    """One CommandWriter per service, each in its own thread, ``per_writer`` events each."""
    writers = [
        CommandWriter(service, random.Random(seed + i), actor=f"writer-{i}")
        for i, service in enumerate(services)
    ]
    errors: list[BaseException] = []

    def work(writer: CommandWriter) -> None:
        try:
            writer.write(per_writer)
        except BaseException as exc:  # surfaced below, in the calling thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in writers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return writers
