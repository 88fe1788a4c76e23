"""The service's cache of incident states never outlives the log it was read from."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

from sqlalchemy import select

from application.service import IncidentService
from domain import commands as c
from domain.values import Severity, stream_id_for
from eventstore import EventStore
from eventstore.engine import create_engine
from eventstore.schema import events
from projections.runner import ProjectionRunner

AT = datetime(2026, 11, 27, 14, 5, tzinfo=UTC)


def test_a_database_restored_from_an_older_backup_is_read_afresh(
    tmp_path: Path, sqlite_template: Path
) -> None:
    # A file copy is the simplest restore there is; the same holds for a PostgreSQL
    # restore or a promoted replica that lost its last transactions.
    live, backup = tmp_path / "incidents.db", tmp_path / "backup.db"
    shutil.copyfile(sqlite_template, live)
    engine = create_engine(f"sqlite:///{live}")
    service = IncidentService(EventStore(engine), ProjectionRunner())
    incident = uuid4()
    service.execute(
        c.DeclareIncident(incident_id=incident, at=AT, title="Disk full", severity=Severity.SEV3),
        {"actor": "alice"},
    )
    engine.dispose()
    shutil.copyfile(live, backup)  # the backup holds version 1
    for text in ("first", "second"):
        note = c.AddNote(incident_id=incident, at=AT, note_id=uuid4(), text=text)
        service.execute(note, {"actor": "alice"})
    assert service.load(incident).version == 3  # and the service has cached that state

    engine.dispose()
    for suffix in ("-wal", "-shm"):
        Path(f"{live}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(backup, live)  # restored: versions 2 and 3 are gone

    after = c.AddNote(incident_id=incident, at=AT, note_id=uuid4(), text="after the restore")
    outcome = service.execute(after, {"actor": "alice"})
    assert outcome.result.version == 2
    with engine.connect() as conn:
        query = select(events.c.version).where(events.c.stream_id == stream_id_for(incident))
        assert sorted(conn.execute(query).scalars()) == [1, 2]
    assert service.load(incident).version == 2
    engine.dispose()
