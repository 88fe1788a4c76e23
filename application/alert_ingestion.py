"""Alert groups to incidents: deterministic ids, generations, idempotent recording.

An alert group (Alertmanager's receiver and group key, a PagerDuty dedup key, ...) maps
to the incident ``uuid5(NAMESPACE, f"{group}:{generation}")``. Generation 0 is its
first incident; when that incident is resolved or closed and the group brings alerts it
has not seen, generation 1 is declared and linked to it, and so on. Ids are computed,
never looked up, so concurrent duplicate deliveries all name the same incident, and the
service decides each one on the state the previous one left: the first records, the
others find nothing new and append nothing.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from uuid import UUID, uuid5

from application.alert_labels import incident_labels
from application.service import CommandContext, IncidentService, Outcome
from domain.alerts import needs_new_incident
from domain.commands import AcknowledgeAlert, AlertReport, RecordAlerts
from domain.errors import IncidentEnded
from domain.incident import Incident, decide
from domain.values import AlertSource, AlertStatus, Severity, stream_id_for
from eventstore import AppendResult
from eventstore.store import stream_position_in

NAMESPACE = UUID("b7d1c3a0-5f2e-4e8a-9c61-0d4f7a2e9b35")
ATTEMPTS = 5
"""How often recording starts over when the incident ends under a notification's feet."""


def incident_id_for(group: str, generation: int) -> UUID:
    return uuid5(NAMESPACE, f"{group}:{generation}")


@dataclass(frozen=True, slots=True)
class AlertBatch:
    """What one notification says about one alert group."""

    source: AlertSource
    group: str
    alerts: tuple[AlertReport, ...]
    title: str
    severity: Severity
    services: tuple[str, ...] = ()
    summary: str | None = None


@dataclass(frozen=True, slots=True)
class Recorded:
    """Where a notification landed; ``unchanged``: it held nothing new for this incident."""

    incident_id: UUID
    version: int
    position: int
    unchanged: bool


class Generations:
    """Each group's newest known generation, so a lookup starts near the end (a hint only)."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._known: dict[str, int] = {}
        self._lock = threading.Lock()

    def get(self, group: str) -> int:
        with self._lock:
            return self._known.get(group, 0)

    def advance(self, group: str, generation: int) -> None:
        with self._lock:
            if len(self._known) >= self.size:
                self._known.clear()
            self._known[group] = max(generation, self._known.get(group, 0))


class AlertIngestor:
    def __init__(
        self,
        service: IncidentService,
        generations: Generations,
        *,
        auto_resolve: bool = False,
        label_keys: tuple[str, ...] = (),
    ) -> None:
        self.service = service
        self.generations = generations
        self.auto_resolve = auto_resolve
        self.label_keys = label_keys

    def latest(self, group: str) -> int:
        """The newest generation with an incident (0 when there is none yet)."""
        return self.current(group)[0]

    def current(self, group: str) -> tuple[int, Incident]:
        """The newest generation with an incident and its state (generation 0: none yet).

        Each look reads a generation and the one after it together: one read of the log
        for a group whose newest generation is known, as it is for every notification
        but the first after another process started a generation.
        """
        generation = self.generations.get(group)
        while True:
            here, after = incident_id_for(group, generation), incident_id_for(group, generation + 1)
            states = self.service.load_many((here, after))
            if not states[after].exists:
                self.generations.advance(group, generation)
                return generation, states[here]
            generation += 1

    def record(self, batch: AlertBatch, context: CommandContext) -> list[Recorded]:
        """Record a notification's alerts in their group's current incident, or a new one."""
        landed: dict[UUID, Recorded] = {}
        firing = any(report.status is AlertStatus.FIRING for report in batch.alerts)
        for attempt in range(1, ATTEMPTS + 1):
            generation, state = self.current(batch.group)
            incident_id = incident_id_for(batch.group, generation)
            command = self._command(batch, incident_id)
            if not state.exists and not firing:
                break  # resolutions of alerts no incident knows
            if (
                state.exists
                and not needs_new_incident(state, command)
                and not decide(state, command)
            ):
                # A redelivery: the state just read from the log has it all. Answering now
                # is the answer the command would get if decided before any write that
                # lands after this read, without queueing for the append lock.
                self._keep(landed, self._unchanged(incident_id, state.version))
                break
            if needs_new_incident(state, command):
                resolved = tuple(r for r in batch.alerts if r.status is AlertStatus.RESOLVED)
                if resolved:  # the old incident still learns which of its alerts ended
                    ended = command.model_copy(update={"alerts": resolved})
                    self._keep(landed, self.service.execute(ended, context))
                generation += 1
                command = self._command(
                    batch, incident_id_for(batch.group, generation), previous=incident_id
                )
            try:
                self._keep(landed, self.service.execute(command, context))
            except IncidentEnded:
                if attempt == ATTEMPTS:
                    raise
                continue  # resolved meanwhile: the alerts go to the next generation
            self.generations.advance(batch.group, generation)
            break
        return list(landed.values())

    def acknowledge(self, group: str, alert_key: str, context: CommandContext) -> list[Recorded]:
        """Acknowledge an open alert of the group's current incident; nothing if none."""
        generation, state = self.current(group)
        if not state.exists:
            return []
        incident_id = incident_id_for(group, generation)
        command = AcknowledgeAlert(
            incident_id=incident_id, at=self.service.now(), alert_key=alert_key
        )
        landed: dict[UUID, Recorded] = {}
        self._keep(landed, self.service.execute(command, context))
        return list(landed.values())

    def _command(
        self, batch: AlertBatch, incident_id: UUID, previous: UUID | None = None
    ) -> RecordAlerts:
        return RecordAlerts(
            incident_id=incident_id,
            at=self.service.now(),
            source=batch.source,
            alerts=batch.alerts,
            title=batch.title,
            severity=batch.severity,
            services=batch.services,
            summary=batch.summary,
            previous_incident_id=previous,
            auto_resolve=self.auto_resolve,
            labels=incident_labels(batch.alerts, self.label_keys),
        )

    def _unchanged(self, incident_id: UUID, version: int) -> Outcome:
        stream_id = stream_id_for(incident_id)
        with self.service.store.engine.connect() as conn:
            position = stream_position_in(conn, stream_id)
        return Outcome(incident_id, AppendResult(stream_id, version, (position,)), unchanged=True)

    @staticmethod
    def _keep(landed: dict[UUID, Recorded], outcome: Outcome) -> None:
        result = outcome.result
        landed[outcome.incident_id] = Recorded(
            outcome.incident_id, result.version, result.position, outcome.unchanged
        )
