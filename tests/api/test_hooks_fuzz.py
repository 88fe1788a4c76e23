"""The captured payloads, mutated: fields dropped, replaced by wrong types and odd values.

Whatever arrives, a hook never answers 5xx, and a refused request (4xx) writes nothing.
The PagerDuty route refuses in PagerDuty's 400 shape, the others in problem+json.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.helpers import PROBLEM_JSON
from tests.api.hooks_support import (
    AM_ROUTING_KEY,
    ENQUEUE,
    PDPYRAS_ROUTING_KEY,
    captured,
    ingest_token,
    integration,
    sender,
    store_of,
)

TARGETS = [
    ("alertmanager-0.25-firing", "/hooks/alertmanager"),
    ("alertmanager-0.25-resolved", "/hooks/alertmanager"),
    ("alertmanager-0.25-pagerduty-trigger", ENQUEUE),
    ("alertmanager-0.25-pagerduty-resolve", ENQUEUE),
    ("pdpyras-5.4.1-trigger", ENQUEUE),
    ("pdpyras-5.4.1-resolve", ENQUEUE),
]

ODD = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
        "2999-01-01T00:00:00Z",
        "0001-01-01T00:00:00Z",
        "2026-11-27T01:57:56",
        "4",
        "1",
        "trigger",
        "resolve",
        "acknowledge",
        "firing",
        "resolved",
        "x" * 300,
        "y" * 20_000,
        AM_ROUTING_KEY,
    ]
)
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    ODD,
    st.lists(st.integers(0, 3), max_size=3),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3),
)
MUTATIONS = st.lists(
    st.tuples(st.sampled_from(["drop", "replace", "replace"]), st.integers(0, 10_000), VALUES),
    min_size=1,
    max_size=3,
)


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path of every value below ``node`` (not ``node`` itself)."""
    found: list[tuple[Any, ...]] = []
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, value in items:
        found.append((*prefix, key))
        found += paths(value, (*prefix, key))
    return found


def mutate(body: dict[str, Any], mutations: list[tuple[str, int, Any]]) -> Any:
    body = copy.deepcopy(body)
    for operation, index, value in mutations:
        everything = paths(body)
        if not everything:
            break
        path = everything[index % len(everything)]
        parent: Any = body
        for key in path[:-1]:
            parent = parent[key]
        if operation == "drop" and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = value
    return body


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    target=st.sampled_from(TARGETS), mutations=MUTATIONS, raw_cut=st.none() | st.integers(0, 400)
)
def test_mutated_payloads_never_fail_the_server_and_refusals_store_nothing(
    client: TestClient,
    target: tuple[str, str],
    mutations: list[tuple[str, int, Any]],
    raw_cut: int | None,
) -> None:
    state = client.app.state  # type: ignore[attr-defined]
    if not getattr(state, "fuzz_ready", False):  # once per database, not per example
        integration(client, "am-pd", routing_key=AM_ROUTING_KEY)
        integration(client, "pdpyras", routing_key=PDPYRAS_ROUTING_KEY)
        state.fuzz_token = ingest_token(client)
        state.fuzz_ready = True
    name, path = target
    body = mutate(captured(name), mutations)
    authorization = None if path == ENQUEUE else f"Bearer {state.fuzz_token}"
    store = store_of(client)
    before = store.head_position()
    with sender(client, authorization) as hook:
        if raw_cut is None:
            response = hook.post(path, json=body)
        else:  # a truncated document
            raw = json.dumps(body).encode()[:raw_cut]
            response = hook.post(path, content=raw, headers={"Content-Type": "application/json"})

    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert store.head_position() == before, f"refused with {response.status_code} but stored"
        if path == ENQUEUE:
            assert response.status_code == 400
            assert response.json()["status"] == "invalid event"
        else:
            assert response.headers["content-type"] == PROBLEM_JSON
    else:
        assert response.status_code == (202 if path == ENQUEUE else 200)
