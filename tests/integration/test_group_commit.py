"""Group commit under real load: many clients, one or two ``serve`` processes, a SIGKILL.

Each server commits whatever commands are waiting in one transaction. These tests send
a mix of commands that must land and commands that must be refused (a stale If-Match,
a broken rule, an Idempotency-Key reused for another request, duplicates of one key)
from 64 clients at once, then read the log itself: every 2xx is in it exactly once,
every 4xx left nothing, each stream's versions run without a gap, and no two requests
won the same If-Match. A server killed with SIGKILL in the middle of batches keeps
every command it acknowledged and none half of a command it did not.
"""

from __future__ import annotations

import json
import os
import random
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID, uuid4

import httpx
import pytest

from domain.values import stream_id_for
from eventstore import EventStore, RecordedEvent
from eventstore.engine import create_engine
from tests.integration.servers import ADMIN_TOKEN, Served, incidents_server

CLIENTS = 64
ROUNDS = 5
INCIDENTS = 4
SHARED_KEYS = 8


def read_log(database_url: str) -> list[RecordedEvent]:
    engine = create_engine(database_url)
    try:
        store = EventStore(engine)
        found: list[RecordedEvent] = []
        while batch := store.read_all(found[-1].position if found else 0, 5000):
            found.extend(batch)
        return found
    finally:
        engine.dispose()


def mentions(event: RecordedEvent, marker: str) -> bool:
    return marker in json.dumps(event.data)


@dataclass
class Tally:
    """What the clients were told, by kind of request."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    accepted_notes: list[str] = field(default_factory=list)
    refused_markers: list[tuple[int, str]] = field(default_factory=list)
    if_match_wins: list[tuple[str, int, int]] = field(default_factory=list)
    shared_key_answers: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    unexpected: list[str] = field(default_factory=list)

    def add(self, kind: str, value: object) -> None:
        with self.lock:
            getattr(self, kind).append(value)


def client_session(
    n: int, url: str, incidents: list[str], tally: Tally, rng: random.Random
) -> None:
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
        for k in range(ROUNDS):
            incident = incidents[(n + k) % len(incidents)]
            marker = f"c{n}.{k}"
            action = rng.choice(["note", "stale", "rule", "race", "shared", "mismatch"])
            if action == "note":
                answer = http.post(f"/incidents/{incident}/notes", json={"text": marker})
                if answer.status_code == 201:
                    tally.add("accepted_notes", marker)
                else:
                    tally.add("unexpected", f"note {answer.status_code} {answer.text}")
            elif action == "stale":  # If-Match 0 on an incident that exists: 412
                answer = http.post(
                    f"/incidents/{incident}/notes",
                    json={"text": f"stale-{marker}"},
                    headers={"If-Match": '"0"'},
                )
                tally.add("refused_markers", (answer.status_code, f"stale-{marker}"))
            elif action == "rule":  # amending a note that does not exist: 404
                answer = http.patch(
                    f"/incidents/{incident}/timeline/{uuid4()}", json={"text": f"rule-{marker}"}
                )
                tally.add("refused_markers", (answer.status_code, f"rule-{marker}"))
            elif action == "race":  # read the version, then change under If-Match
                version = int(http.get(f"/incidents/{incident}").headers["etag"].strip('"'))
                answer = http.post(
                    f"/incidents/{incident}/notes",
                    json={"text": f"race-{marker}"},
                    headers={"If-Match": f'"{version}"'},
                )
                if answer.status_code == 201:
                    tally.add("if_match_wins", (incident, version, answer.json()["version"]))
                    tally.add("accepted_notes", f"race-{marker}")
                elif answer.status_code != 412:
                    tally.add("unexpected", f"race {answer.status_code} {answer.text}")
            elif action == "shared":  # one key, one body, from many clients: one note
                key = f"shared-{n % SHARED_KEYS}"
                answer = http.post(
                    f"/incidents/{incidents[0]}/notes",
                    json={"text": f"note of {key}"},
                    headers={"Idempotency-Key": key},
                )
                with tally.lock:
                    tally.shared_key_answers.setdefault(key, []).append(
                        (answer.status_code, answer.text)
                    )
            else:  # the same key as above with another body: 422, nothing stored
                key = f"shared-{n % SHARED_KEYS}"
                http.post(
                    f"/incidents/{incidents[0]}/notes",
                    json={"text": f"note of {key}"},
                    headers={"Idempotency-Key": key},
                )
                answer = http.post(
                    f"/incidents/{incidents[0]}/notes",
                    json={"text": f"mismatch-{marker}"},
                    headers={"Idempotency-Key": key},
                )
                tally.add("refused_markers", (answer.status_code, f"mismatch-{marker}"))


@pytest.fixture(params=[1, 2], ids=["one-server", "two-servers"])
def servers(
    request: pytest.FixtureRequest, database_url: str, tmp_path: Path
) -> Iterator[list[Served]]:
    with ExitStack() as stack:
        yield [
            stack.enter_context(incidents_server(database_url, tmp_path))
            for _ in range(request.param)
        ]


def test_mixed_commands_from_64_clients_land_once_or_leave_nothing(
    servers: list[Served], database_url: str
) -> None:
    with servers[0].admin() as admin:
        incidents = []
        for i in range(INCIDENTS):
            declared = admin.post("/incidents", json={"title": f"Load {i}", "severity": "SEV3"})
            assert declared.status_code == 201, declared.text
            incidents.append(declared.json()["id"])
    tally = Tally()

    def session(n: int) -> None:
        url = servers[n % len(servers)].url
        client_session(n, url, incidents, tally, random.Random(n))

    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(session, range(CLIENTS)))

    assert tally.unexpected == []
    log = read_log(database_url)
    # Every acknowledged note is in the log exactly once.
    texts = Counter(e.data.get("text") for e in log if e.type == "timeline.note_added")
    for marker in tally.accepted_notes:
        assert texts[marker] == 1, marker
    # Every refused request was refused as it should be and left nothing.
    expected_status = {"stale": 412, "rule": 404, "mismatch": 422}
    for status, marker in tally.refused_markers:
        assert status == expected_status[marker.split("-")[0]], (status, marker)
        assert not any(mentions(e, marker) for e in log), marker
    # Each shared key: one note, every answer the same.
    for key, answers in tally.shared_key_answers.items():
        assert {status for status, _ in answers} == {201}, answers
        assert len({json.loads(text)["note_id"] for _, text in answers}) == 1
        assert texts[f"note of {key}"] == 1, key
    # No two requests won the same If-Match, and each winner landed right after it.
    wins = [(incident, version) for incident, version, _ in tally.if_match_wins]
    assert len(wins) == len(set(wins))
    assert all(landed == version + 1 for _, version, landed in tally.if_match_wins)
    # Versions run from 1 without a gap in every stream, positions rise with them.
    for incident in incidents:
        stream = [e for e in log if e.stream_id == stream_id_for(UUID(incident))]
        assert [e.version for e in stream] == list(range(1, len(stream) + 1))
        assert [e.position for e in stream] == sorted(e.position for e in stream)
    # Nothing in the log that no client was told about.
    notes_told = set(tally.accepted_notes) | {f"note of {key}" for key in tally.shared_key_answers}
    assert set(texts) <= notes_told | {
        f"note of shared-{i}" for i in range(SHARED_KEYS)
    }  # a mismatch session stores its key's note first


KILL_CLIENTS = 32


def test_a_sigkill_during_batches_keeps_every_acknowledged_command_whole(
    database_url: str, tmp_path: Path
) -> None:
    acknowledged: list[str] = []
    sent: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    with incidents_server(database_url, tmp_path) as served:
        with served.admin() as admin:
            incident = admin.post(
                "/incidents", json={"title": "Killed mid-batch", "severity": "SEV2"}
            ).json()["id"]
            item = admin.post(
                f"/incidents/{incident}/action-items",
                json={
                    "title": "Start",
                    "kind": "corrective",
                    "owner": "ana",
                    "due_date": "2027-01-31",
                },
            ).json()["item_id"]

        def writer(n: int) -> None:
            headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
            with httpx.Client(base_url=served.url, headers=headers, timeout=10) as http:
                k = 0
                while not stop.is_set():
                    marker = f"k{n}.{k}"
                    k += 1
                    with lock:
                        sent.append(marker)
                    try:
                        if n % 2:
                            # Two events in one command: a new title and a new owner.
                            answer = http.patch(
                                f"/incidents/{incident}/action-items/{item}",
                                json={"title": f"title {marker}", "owner": f"owner {marker}"},
                            )
                        else:
                            answer = http.post(
                                f"/incidents/{incident}/notes", json={"text": f"note {marker}"}
                            )
                    except httpx.HTTPError:
                        return  # the server is gone
                    if answer.status_code in (200, 201):
                        with lock:
                            acknowledged.append(marker)

        assert served.process is not None
        with ThreadPoolExecutor(KILL_CLIENTS) as pool:
            futures = [pool.submit(writer, n) for n in range(KILL_CLIENTS)]
            deadline = time.monotonic() + 30
            while len(acknowledged) < 300 and time.monotonic() < deadline:
                time.sleep(0.05)
            os.killpg(served.process.pid, signal.SIGKILL)
            served.process.wait(10)
            stop.set()
            for future in futures:
                future.result()

    assert len(acknowledged) >= 300, "the server did not get busy before it was killed"
    log = read_log(database_url)
    stream = [e for e in log if e.stream_id == stream_id_for(UUID(incident))]
    assert [e.version for e in stream] == list(range(1, len(stream) + 1))
    found: Counter[str] = Counter()
    for event in stream:
        for name in ("text", "title", "owner"):  # not "previous": an older command's marker
            value = event.data.get(name)
            if isinstance(value, str) and " k" in value:
                found[value.split(" ", 1)[1]] += 1
    for marker in acknowledged:
        n = int(marker[1:].split(".")[0])
        assert found[marker] == (2 if n % 2 else 1), marker
    for marker in set(sent) - set(acknowledged):
        n = int(marker[1:].split(".")[0])
        assert found[marker] in ((0, 2) if n % 2 else (0, 1)), marker  # whole or not at all

    # A server started on what is left agrees with the log: the read models were
    # committed with the events they were made from.
    with incidents_server(database_url, tmp_path) as restarted:
        summary = restarted.get(f"/incidents/{incident}")
        assert summary["version"] == len(stream)
        noted = set()
        page = restarted.get(f"/incidents/{incident}/timeline")
        while True:
            noted |= {e["text"] for e in page["entries"] if e["kind"] == "note"}
            if page["next"] is None:
                break
            page = restarted.get(f"/incidents/{incident}/timeline?cursor={page['next']}")
        assert noted == {e.data["text"] for e in stream if e.type == "timeline.note_added"}
