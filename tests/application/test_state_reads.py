"""What a command reads to decide: a cached incident's text is not opened again.

The service folds an incident's state forward from its cache and reads the cached newest
event only to see that it is still stored. Its text is in the cached state already, so
its key is not read; the text of events newer than the cache is opened, all in one read.
On SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import Engine, event

from application.service import IncidentService
from domain import commands as c
from domain.errors import RuleViolation
from domain.values import AlertSource, AlertStatus, Severity, stream_id_for
from eventstore.sealed_text import TextVault, install_vault
from projections.runner import ProjectionRunner
from tests.application.test_group_commit import ALICE, declare, service_with


@pytest.fixture
def sealing(engine: Engine) -> Engine:
    install_vault(engine, TextVault(b"\x07" * 32))
    return engine


@contextmanager
def key_reads(engine: Engine) -> Iterator[list[str]]:
    """The statements run on ``engine`` meanwhile that read data keys."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "text_keys" in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def add_note(service: IncidentService, incident_id: UUID, text: str) -> UUID:
    note_id = uuid4()
    command = c.AddNote(incident_id=incident_id, at=service.now(), note_id=note_id, text=text)
    service.execute(command, ALICE)
    return note_id


def test_a_command_on_a_cached_incident_reads_no_key_of_text_it_folded(sealing: Engine) -> None:
    service = service_with(sealing, ProjectionRunner())
    incident = declare(service)
    first = add_note(service, incident, "Checkout pods restarted")
    with key_reads(sealing) as reads:
        add_note(service, incident, "Rolled back deploy 4812")
    assert reads == []
    # The cached state holds the first note's text: amending it to the same text is
    # refused as the domain refuses it from a state read afresh.
    same = c.AmendNote(
        incident_id=incident, at=service.now(), note_id=first, text="Checkout pods restarted"
    )
    with pytest.raises(RuleViolation, match="changes nothing"):
        service.execute(same, ALICE)


def test_text_newer_than_the_cache_is_opened_in_one_read(sealing: Engine) -> None:
    writer = service_with(sealing, ProjectionRunner())
    incident = declare(writer)
    reader = service_with(sealing, ProjectionRunner())
    assert reader.load(incident).version == 1  # cached at the declaration
    first = add_note(writer, incident, "Checkout pods restarted")
    add_note(writer, incident, "Rolled back deploy 4812")
    with key_reads(sealing) as reads:
        state = reader.load(incident)
    assert len(reads) == 1
    assert state.version == 3
    same = c.AmendNote(
        incident_id=incident, at=reader.now(), note_id=first, text="Checkout pods restarted"
    )
    with pytest.raises(RuleViolation, match="changes nothing"):
        reader.execute(same, ALICE)
    changed = c.AmendNote(
        incident_id=incident, at=reader.now(), note_id=first, text="Checkout pods restarted twice"
    )
    assert reader.execute(changed, ALICE).result.version == 4


def test_a_cache_that_is_not_this_logs_reads_the_stream_afresh_opening_each_text_once(
    sealing: Engine,
) -> None:
    service = service_with(sealing, ProjectionRunner())
    incident = uuid4()
    # A sender's details may look like sealed text. Opened once, they are the sender's
    # dict; opened again, they would be taken for an envelope that does not open, and the
    # incident could not be read.
    shaped = {"sealed": "aes-256-gcm", "nonce": "AAAAAAAAAAAAAAAA", "ciphertext": "AAAA"}
    alert = c.AlertReport(key="fp-1", status=AlertStatus.FIRING, name="Error rate", details=shaped)
    recorded = c.RecordAlerts(
        incident_id=incident,
        at=service.now(),
        source=AlertSource.ALERTMANAGER,
        alerts=(alert,),
        title="Error rate above 5%",
        severity=Severity.SEV2,
    )
    service.execute(recorded, ALICE)
    add_note(service, incident, "Checkout pods restarted")
    # A cache whose newest event this log does not hold (a restore from an older backup,
    # tests/api/test_service_state_cache.py): the stream is read again from its start.
    state, _ = service._cache[stream_id_for(incident)]
    service._cache[stream_id_for(incident)] = (state, uuid4())
    with key_reads(sealing) as reads:
        again = service.load(incident)
    assert again.version == state.version
    assert len(reads) == 1
