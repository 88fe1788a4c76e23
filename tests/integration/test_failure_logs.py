"""A request with a known token fails inside a real server; no log line holds the token,
and the keep-alive connection it came on still serves the next request."""

from __future__ import annotations

import http.client
import io
import json
import logging
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import structlog
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from application.logging_config import configure_logging
from application.service import IncidentService
from application.settings import Settings
from tests.api.test_database_faults import ReadOnlySwitch
from tests.integration.servers import free_port

TOKEN = "il_known-token-that-must-never-be-logged"
DECLARE = {"title": "Checkout returns 502", "severity": "SEV2", "services": ["checkout"]}
HEADERS = {
    "Authorization": f"Bearer {TOKEN}",
    "Content-Type": "application/json",
    "Cookie": "session=cookie-secret-value",
    "Idempotency-Key": "idempotency-secret-value",
}
SECRETS = (TOKEN, "cookie-secret-value", "idempotency-secret-value")


class Log(io.StringIO):
    """stderr for the server: every rendered line, structlog's and the standard library's."""

    def isatty(self) -> bool:
        return False


def broken_execute(*_: Any, **__: Any) -> Any:
    raise RuntimeError("the service failed in a way nobody expected")


@contextmanager
def served(app: FastAPI) -> Iterator[tuple[str, int]]:
    """uvicorn in a thread, configured as ``incidents serve`` configures it."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", log_config=None)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield "127.0.0.1", port
    finally:
        server.should_exit = True
        thread.join(10)


@contextmanager
def capturing() -> Iterator[Log]:
    """stderr replaced while the app is configured and runs (in the test's body: pytest
    puts its own stderr back between a fixture's setup and the test)."""
    captured, original = Log(), sys.stderr
    sys.stderr = captured
    try:
        yield captured
    finally:
        sys.stderr = original
        root = logging.getLogger()
        root.handlers[:] = [h for h in root.handlers if getattr(h, "stream", None) is not captured]


def settings_for(database_url: str, log_format: str = "json") -> Settings:
    return Settings(database_url=database_url, admin_token=TOKEN, log_format=log_format)  # type: ignore[arg-type]


def test_an_unexpected_failure_is_a_500_on_a_connection_that_stays_usable(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(IncidentService, "submit", broken_execute)
    with capturing() as log, served(create_app(settings_for(database_url))) as (host, port):
        connection = http.client.HTTPConnection(host, port, timeout=10)
        try:
            connection.request("POST", "/incidents", body=json.dumps(DECLARE), headers=HEADERS)
            failed = connection.getresponse()
            body = json.loads(failed.read())
            assert failed.status == 500
            assert failed.getheader("Content-Type") == "application/problem+json"
            assert body["detail"] == "the server failed to handle this request; it has been logged"
            assert failed.getheader("Connection") != "close"
            assert connection.sock is not None, "the server dropped the connection"
            local = connection.sock.getsockname()
            connection.request("GET", "/healthz")
            liveness = connection.getresponse()
            assert liveness.status == 200
            assert json.loads(liveness.read()) == {"status": "ok"}
            assert connection.sock.getsockname() == local
        finally:
            connection.close()
        # The standard library's records (uvicorn's own) take the same path.
        logging.getLogger("uvicorn.error").error(
            "Exception in ASGI application",
            exc_info=ValueError(f"headers: [(b'authorization', b'Bearer {TOKEN}')]"),
        )
    lines = [json.loads(line) for line in log.getvalue().splitlines() if line.startswith("{")]
    failures = [line for line in lines if line["event"] == "request.failed"]
    assert len(failures) == 1
    frames = failures[0]["exception"][0]["frames"]
    assert frames
    assert all("locals" not in frame for frame in frames)
    assert any(line.get("logger") == "uvicorn.error" for line in lines)
    for secret in SECRETS:
        assert secret not in log.getvalue()


def test_failures_captured_by_structlog_carry_no_secret(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(settings_for(database_url))
    # Before the server starts its threads: a listener added while one of them makes its
    # first connection races SQLAlchemy's own.
    switch = ReadOnlySwitch(app.state.engine)
    with TestClient(app) as client:
        client.headers.update(HEADERS)
        with structlog.testing.capture_logs() as captured:
            switch.set(True)
            assert client.post("/incidents", json=DECLARE).status_code == 503
            switch.set(False)
            monkeypatch.setattr(IncidentService, "submit", broken_execute)
            assert client.post("/incidents", json=DECLARE).status_code == 500
    events = {entry["event"] for entry in captured}
    assert {"request.database_fault", "request.failed"} <= events
    for secret in SECRETS:
        assert secret not in repr(captured)


def test_the_console_renderer_shows_no_frame_locals() -> None:
    authorization = f"Bearer {TOKEN}"  # a local of the failing frame, as headers are
    with capturing() as log:
        configure_logging(Settings(log_format="console"))
        try:
            raise RuntimeError("while handling " + authorization.split()[0])
        except RuntimeError:
            structlog.get_logger().exception("request.failed", authorization=authorization)
    output = log.getvalue()
    assert "RuntimeError: while handling Bearer" in output
    assert TOKEN not in output
