"""A wrk script that POSTs a new Alertmanager notification with every request.

Each request's body is the same Alertmanager 0.25 webhook document (payload version 4,
shaped as tests/fixtures/monitoring/alertmanager-0.25-firing.json) with a group
of its own: the group key, alert name and fingerprints carry ``<window prefix>-<thread>-<n>``,
so every notification declares a new incident with its alerts and none is a redelivery.
Building the body in Lua keeps wrk the load generator (no body files, no Python per
request). When wrk ends, the script writes the incident id of every 2xx answer, one a
line, to a file, so that each answer can be checked against the log.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HOOK_PATH = "/hooks/alertmanager"
ALERTS = 10
"""Alerts per notification: as many as the in-process workload (bench/alertmanager.py),
so the two rates compare; each notification stores a declaration and 10 alerts."""
MARKER = "@GROUP@"
"""Replaced in Lua by the request's group; '@' has no meaning in a Lua pattern."""
STARTS = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0)


def notification_template() -> dict[str, Any]:
    """One firing notification of ``ALERTS`` alerts, its group named ``MARKER``."""
    alerts = [
        {
            "status": "firing",
            "labels": {
                "alertname": f"Bench-{MARKER}",
                "instance": f"host-{number:02d}:9100",
                "service": "checkout",
                "severity": "warning",
            },
            "annotations": {
                "summary": f"Benchmark alert {number} of group {MARKER}",
                "runbook_url": "https://runbooks.example.internal/bench",
            },
            "startsAt": (STARTS + timedelta(seconds=number)).isoformat().replace("+00:00", "Z"),
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus:9090/graph",
            "fingerprint": f"{MARKER}-{number:02d}",
        }
        for number in range(ALERTS)
    ]
    return {
        "receiver": "incident-ledger",
        "status": "firing",
        "alerts": alerts,
        "groupLabels": {"alertname": f"Bench-{MARKER}"},
        "commonLabels": {"alertname": f"Bench-{MARKER}", "service": "checkout"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "version": "4",
        "groupKey": f'{{}}/{{}}:{{alertname="Bench-{MARKER}"}}',
        "truncatedAlerts": 0,
    }


def _lua_string(text: str) -> str:
    # A long bracket needs no escaping; JSON, tokens and paths never contain "]==]".
    return f"[==[{text}]==]"


def write(path: Path, prefix: str, token: str, answers_file: Path) -> Path:
    """The script: ingest-token bearer auth, one new group per request, 2xx answers kept."""
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    lines = ['wrk.method = "POST"']
    # The spaces inside the brackets: "[[" would start a long string.
    lines += [f"wrk.headers[ {_lua_string(k)} ] = {_lua_string(v)}" for k, v in headers.items()]
    lines += [
        f"local template = {_lua_string(json.dumps(notification_template()))}",
        "local threads = {}",
        "setup = function(thread)",
        "  table.insert(threads, thread)",
        f"  thread:set('prefix', {_lua_string(prefix)} .. '-' .. #threads)",
        "end",
        "local sent = 0",
        # A global, so that done() can read it from each thread's own Lua state.
        "answered = {}",
        "request = function()",
        "  sent = sent + 1",
        f"  local body = template:gsub({_lua_string(MARKER)}, prefix .. '-' .. sent)",
        f"  return wrk.format(nil, {_lua_string(HOOK_PATH)}, nil, body)",
        "end",
        # The hook answers {"incidents": [{"id": ...}]}: the incident the notification landed in.
        "response = function(status, headers, body)",
        "  if status >= 200 and status < 300 then",
        "    answered[#answered + 1] = body:match('\"id\":%s*\"([%x%-]+)\"') or '?'",
        "  end",
        "end",
        "done = function(summary, latency, requests)",
        f"  local out = io.open({_lua_string(str(answers_file))}, 'w')",
        "  for _, thread in ipairs(threads) do",
        "    for _, id in ipairs(thread:get('answered')) do out:write(id, '\\n') end",
        "  end",
        "  out:close()",
        "end",
    ]
    path.write_text("\n".join(lines) + "\n")
    return path
