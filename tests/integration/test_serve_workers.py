"""``incidents serve --workers 2``: two processes decide commands on one incident and
every one of them lands once, at its own version, on SQLite and PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.integration.servers import ADMIN_TOKEN, incidents_server

CLIENTS = 8
NOTES_EACH = 15


def test_two_server_processes_record_every_command_once(database_url: str, tmp_path: Path) -> None:
    with incidents_server(database_url, tmp_path, "--workers", "2") as served:
        with served.admin() as admin:
            declared = admin.post("/incidents", json={"title": "Disk full", "severity": "SEV3"})
            assert declared.status_code == 201, declared.text
            incident = declared.json()["id"]

        def client(n: int) -> list[int]:
            headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
            with httpx.Client(base_url=served.url, headers=headers, timeout=30) as http:
                versions = []
                for k in range(NOTES_EACH):
                    answer = http.post(f"/incidents/{incident}/notes", json={"text": f"{n}.{k}"})
                    assert answer.status_code == 201, answer.text
                    versions.append(answer.json()["version"])
                return versions

        with ThreadPoolExecutor(CLIENTS) as pool:
            versions = [v for batch in pool.map(client, range(CLIENTS)) for v in batch]

        total = CLIENTS * NOTES_EACH
        assert sorted(versions) == list(range(2, total + 2))  # one version each, no gaps
        timeline = served.get(f"/incidents/{incident}/timeline")
        notes = sorted(e["text"] for e in timeline["entries"] if e["kind"] == "note")
        assert notes == sorted(f"{n}.{k}" for n in range(CLIENTS) for k in range(NOTES_EACH))
        assert served.get(f"/incidents/{incident}")["version"] == total + 1
