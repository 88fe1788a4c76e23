"""One webhook POST against real receivers on 127.0.0.1: statuses as they come, no
redirect followed, time bounded, and every failure an outcome with a safe text."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from outbound.http_sender import Attempt, Sender, retry_after_seconds
from tests.outbound.local_servers import LocalServer, certificate_for

SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
HEADERS = {
    "webhook-id": "msg_1",
    "webhook-signature": SIGNATURE,
    "content-type": "application/json",
}
BODY = b'{"type":"incident.declared","data":{"title":"private words"}}'


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer() as running:
        yield running


@pytest.fixture
def sender() -> Iterator[Sender]:
    sending = Sender(allow_private=True, timeout=2.0)
    yield sending
    sending.close()


def assert_safe(attempt: Attempt) -> None:
    """The error text names neither a header value nor the body."""
    assert attempt.error is not None
    assert SIGNATURE not in attempt.error
    assert "v1," not in attempt.error
    assert "private words" not in attempt.error


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_a_200_is_a_status_without_error(server: LocalServer, sender: Sender) -> None:
    attempt = sender.post(f"{server.url}/ok", HEADERS, BODY)
    assert attempt.status == 200
    assert attempt.error is None
    assert attempt.retry_after is None
    assert attempt.duration_ms > 0
    ((path, headers, body),) = server.received
    assert path == "/ok"
    assert body == BODY
    assert headers["webhook-signature"] == SIGNATURE
    assert headers["Content-Length"] == str(len(BODY))


def test_a_500_is_a_status(server: LocalServer, sender: Sender) -> None:
    attempt = sender.post(f"{server.url}/fail", HEADERS, BODY)
    assert (attempt.status, attempt.error) == (500, None)


def test_a_redirect_is_not_followed(server: LocalServer, sender: Sender) -> None:
    attempt = sender.post(f"{server.url}/redirect", HEADERS, BODY)
    assert (attempt.status, attempt.error) == (302, None)
    assert [path for path, _, _ in server.received] == ["/redirect"]


def test_a_429_says_when_to_retry(server: LocalServer, sender: Sender) -> None:
    attempt = sender.post(f"{server.url}/busy", HEADERS, BODY)
    assert attempt.status == 429
    assert attempt.retry_after == 2.0


def test_a_503_may_say_when_to_retry_as_a_date(server: LocalServer, sender: Sender) -> None:
    attempt = sender.post(f"{server.url}/unavailable", HEADERS, BODY)
    assert attempt.status == 503
    assert attempt.retry_after is not None
    assert 100 <= attempt.retry_after <= 120


def test_posts_share_kept_alive_connections(server: LocalServer, sender: Sender) -> None:
    statuses = [sender.post(f"{server.url}/ok", HEADERS, BODY).status for _ in range(5)]
    assert statuses == [200] * 5
    assert len(server.received) == 5


def test_a_large_answer_is_read_no_further_than_the_limit(
    server: LocalServer, sender: Sender
) -> None:
    attempt = sender.post(f"{server.url}/big", HEADERS, BODY)
    assert (attempt.status, attempt.error) == (200, None)
    assert sender.post(f"{server.url}/ok", HEADERS, BODY).status == 200


def test_a_slow_receiver_times_out(server: LocalServer) -> None:
    sender = Sender(allow_private=True, timeout=0.5)
    try:
        attempt = sender.post(f"{server.url}/slow", HEADERS, BODY)
    finally:
        sender.close()
    assert attempt.status is None
    assert attempt.error is not None
    assert "timed out after 0.5 s" in attempt.error
    assert 400 < attempt.duration_ms < 3000
    assert_safe(attempt)


def test_a_receiver_answering_byte_by_byte_is_bounded_by_the_whole_timeout(
    server: LocalServer,
) -> None:
    # Each byte comes well within the read timeout; the answer as a whole would take 11 s.
    sender = Sender(allow_private=True, timeout=1.0)
    try:
        attempt = sender.post(f"{server.url}/drip", HEADERS, BODY)
    finally:
        sender.close()
    assert attempt.error is not None
    assert "timed out after 1 s" in attempt.error
    assert attempt.duration_ms < 2500


def test_a_refused_connection_is_an_error(sender: Sender) -> None:
    attempt = sender.post(f"http://127.0.0.1:{free_port()}/ok", HEADERS, BODY)
    assert attempt.status is None
    assert attempt.error == "connection refused"
    assert attempt.retry_after is None


def test_private_addresses_are_refused_unless_allowed(server: LocalServer) -> None:
    sender = Sender(allow_private=False)
    try:
        attempt = sender.post(f"{server.url}/ok", HEADERS, BODY)
    finally:
        sender.close()
    assert attempt.status is None
    assert attempt.error is not None
    assert attempt.error.startswith("refused: 127.0.0.1 is a loopback/private address")
    assert server.received == []
    assert_safe(attempt)


def test_tls_to_a_server_that_does_not_speak_it_is_an_error(
    server: LocalServer, sender: Sender
) -> None:
    attempt = sender.post(f"https://127.0.0.1:{server.port}/ok", HEADERS, BODY)
    assert attempt.status is None
    assert attempt.error is not None
    assert attempt.error.startswith("TLS handshake failed")
    assert_safe(attempt)


def test_a_header_that_would_split_the_request_is_an_error_that_does_not_show_it(
    server: LocalServer, sender: Sender
) -> None:
    headers = {**HEADERS, "webhook-signature": f"{SIGNATURE}\r\nx-injected: 1"}
    attempt = sender.post(f"{server.url}/ok", headers, BODY)
    assert attempt.status is None
    assert_safe(attempt)
    assert server.received == []


def test_a_url_without_a_scheme_is_an_error(sender: Sender) -> None:
    attempt = sender.post("ftp://127.0.0.1/", HEADERS, BODY)
    assert attempt.error == "the URL is not an http:// or https:// URL"


def test_proxy_settings_in_the_environment_are_ignored(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{free_port()}")
    sender = Sender(allow_private=True)
    try:
        assert sender.post(f"{server.url}/ok", HEADERS, BODY).status == 200
    finally:
        sender.close()


NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("2", 2.0),
        (" 30 ", 30.0),
        ("0", 0.0),
        ("86400", 86400.0),
        ("999999999", 86400.0),
        (format_datetime(NOW + timedelta(minutes=5), usegmt=True), 300.0),
        ("Wed, 04 Mar 2026 05:07:07 GMT", 60.0),
        (format_datetime(NOW - timedelta(minutes=5), usegmt=True), 0.0),
        (format_datetime(NOW + timedelta(days=30), usegmt=True), 86400.0),
        (None, None),
        ("", None),
        ("-1", None),
        ("1.5", None),
        ("soon", None),
        ("\u0662", None),  # a digit, but not an ASCII one
    ],
)
def test_retry_after_is_seconds_from_now_at_most_a_day(
    value: str | None, seconds: float | None
) -> None:
    assert retry_after_seconds(value, NOW) == seconds


def test_a_certificate_the_system_does_not_trust_is_an_error(tmp_path: Path) -> None:
    with LocalServer(tls=certificate_for("hooks.example", tmp_path)) as server:
        sender = Sender(allow_private=True, timeout=2.0)
        try:
            attempt = sender.post(f"{server.url}/ok", HEADERS, BODY)
        finally:
            sender.close()
        assert server.received == []
    assert attempt.status is None
    assert attempt.error is not None
    assert attempt.error.startswith("TLS certificate not accepted:")
    assert_safe(attempt)
