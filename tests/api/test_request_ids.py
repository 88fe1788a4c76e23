"""``X-Request-ID`` follows the correlation id's rule (1 to 200 visible ASCII characters);
a value outside it is replaced by a generated id, never stored or echoed as sent."""

from __future__ import annotations

import re
from uuid import UUID

import pytest
import structlog
from fastapi.testclient import TestClient

from api.middleware import REQUEST_ID_RULE
from domain.values import stream_id_for
from eventstore import EventStore
from tests.api.helpers import ok

GENERATED = re.compile(r"[0-9a-f]{32}")

UNUSABLE: list[str | bytes] = [
    "a b <x>",
    "café".encode(),  # raw UTF-8, as curl sends it
    "tab\there",
    "x" * 201,
    " ",
]


@pytest.mark.parametrize("sent", UNUSABLE)
def test_an_unusable_request_id_is_replaced_in_the_answer_and_the_events(
    client: TestClient, sent: str | bytes
) -> None:
    with structlog.testing.capture_logs(
        processors=[structlog.contextvars.merge_contextvars]
    ) as logs:
        response = client.post(
            "/incidents",
            json={"title": "Search is slow", "severity": "SEV4"},
            headers={"X-Request-ID": sent},
        )
    created = ok(response, 201)
    answered = response.headers["x-request-id"]
    assert GENERATED.fullmatch(answered)
    store: EventStore = client.app.state.store  # type: ignore[attr-defined]
    [event] = store.read_stream(stream_id_for(UUID(created["id"])))
    assert event.metadata["request_id"] == answered
    assert event.metadata["correlation_id"] == answered
    [replaced] = [line for line in logs if line["event"] == "request_id.replaced"]
    assert replaced["request_id"] == answered
    assert replaced["reason"] == REQUEST_ID_RULE
    assert replaced["sent_length"] == len(sent)
    text = sent.decode() if isinstance(sent, bytes) else sent
    if text.strip():  # whatever was sent, its text is not logged
        assert text not in str(logs)


def test_a_usable_request_id_is_kept_up_to_200_characters(client: TestClient) -> None:
    for sent in ("req-4812", "~!" * 100):
        assert (
            client.get("/healthz", headers={"X-Request-ID": sent}).headers["x-request-id"] == sent
        )
