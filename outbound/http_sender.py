"""One webhook POST: no redirects, bounded in time, and an outcome instead of an exception.

The sender is httpcore rather than httpx: httpx reads proxies from the environment
(``HTTPS_PROXY``), which would carry requests past the address guard, and follows
redirects when asked, which a webhook must never do (a 3xx to 127.0.0.1 is a way past
the guard too). Error texts are written here from the failure's kind (with the guard's own
reasons and TLS's), never copied from httpcore's messages, so no header value (signatures)
or body can end up in a delivery record.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpcore

from outbound.address_guard import DestinationRefused, GuardedBackend, UnresolvedHost

MAX_ANSWER_BYTES = 64 * 1024
MAX_RETRY_AFTER = 24 * 60 * 60.0
RETRY_AFTER_STATUSES = frozenset({429, 503})

_FAILURES = (
    httpcore.TimeoutException,
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.UnsupportedProtocol,
)
"""What httpcore raises when the network, the receiver or the URL fails a request."""

_deadline: ContextVar[float | None] = ContextVar("webhook_deadline", default=None)
"""When the current POST must be over (``time.monotonic``), whatever each step took."""


@dataclass(frozen=True)
class Attempt:
    """What one POST came to: a status, or an error text fit to show to the subscriber."""

    status: int | None
    duration_ms: float
    error: str | None
    retry_after: float | None
    """Seconds the receiver asked to wait (429 and 503 only), at most a day."""


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """A ``Retry-After`` value (delta-seconds or an HTTP date) in seconds from ``now``,
    at most a day; None when absent or not understood."""
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; "-0000" parses as naive
        when = when.replace(tzinfo=UTC)
    return min(max((when - now).total_seconds(), 0.0), MAX_RETRY_AFTER)


def _within(timeout: float | None, expired: type[Exception]) -> float | None:
    """The step's timeout, shortened to what is left of the POST's deadline."""
    deadline = _deadline.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise expired("the request's time is up")
    return left if timeout is None else min(timeout, left)


class _BoundedStream(httpcore.NetworkStream):
    """A connection whose every read and write ends by the current POST's deadline.

    httpcore's timeouts bound each read, so a receiver sending one byte every few seconds
    could hold a delivery for hours; the deadline bounds the whole exchange.
    """

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _within(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _within(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        timeout = _within(timeout, httpcore.ConnectTimeout)
        return _BoundedStream(self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _BoundedBackend(GuardedBackend):
    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        timeout = _within(timeout, httpcore.ConnectTimeout)
        return _BoundedStream(
            super().connect_tcp(host, port, timeout, local_address, socket_options)
        )


class Sender:
    """Posts webhooks through one pool of guarded connections, kept alive between posts."""

    def __init__(
        self, *, allow_private: bool, timeout: float = 15.0, max_connections: int = 20
    ) -> None:
        self.timeout = timeout
        self._pool = httpcore.ConnectionPool(
            network_backend=_BoundedBackend(allow_private),
            retries=0,
            max_connections=max_connections,
        )

    def post(self, url: str, headers: dict[str, str], body: bytes) -> Attempt:
        """POST ``body`` to ``url`` once; network failures come back as the Attempt's error."""
        timeouts = dict.fromkeys(("connect", "read", "write", "pool"), self.timeout)
        started = time.monotonic()
        token = _deadline.set(started + self.timeout)
        status: int | None = None
        retry_after: float | None = None
        error: str | None = None
        try:
            with self._pool.stream(
                "POST",
                url,
                headers=list(headers.items()),
                content=body,
                extensions={"timeout": timeouts},
            ) as response:
                status = response.status
                if status in RETRY_AFTER_STATUSES:
                    retry_after = retry_after_seconds(
                        _header(response.headers, b"retry-after"), datetime.now(UTC)
                    )
                _drain(response)
        except _FAILURES as exc:
            error = _error_text(exc, self.timeout)
        finally:
            _deadline.reset(token)
        duration_ms = (time.monotonic() - started) * 1000
        return Attempt(status, duration_ms, error, retry_after)

    def close(self) -> None:
        """Close every pooled connection."""
        self._pool.close()


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _drain(response: httpcore.Response) -> None:
    """Read at most MAX_ANSWER_BYTES of the answer, and drop them.

    Once the status has come, the receiver has answered: a body that stalls, breaks off
    or runs past the limit changes nothing, and leaving the block closes the connection.
    """
    received = 0
    try:
        for chunk in response.iter_stream():
            received += len(chunk)
            if received >= MAX_ANSWER_BYTES:
                break
    except (httpcore.TimeoutException, httpcore.NetworkError, httpcore.ProtocolError):
        pass


def _error_text(exc: Exception, timeout: float) -> str:
    """What went wrong, in words that name no header or body."""
    seconds = f"{timeout:g} s"
    if isinstance(exc, DestinationRefused):
        return f"refused: {exc}"
    if isinstance(exc, httpcore.PoolTimeout):
        return f"timed out after {seconds} waiting for a free connection"
    if isinstance(exc, httpcore.ConnectTimeout):
        return f"timed out after {seconds} connecting"
    if isinstance(exc, httpcore.WriteTimeout):
        return f"timed out after {seconds} sending the request"
    if isinstance(exc, httpcore.TimeoutException):
        return f"timed out after {seconds} waiting for the answer"
    if isinstance(exc, httpcore.ConnectError):
        return _connect_error_text(exc)
    if isinstance(exc, httpcore.WriteError):
        return "the connection broke while sending the request"
    if isinstance(exc, httpcore.ReadError | httpcore.RemoteProtocolError):
        return "the connection closed or broke before an HTTP answer came"
    if isinstance(exc, httpcore.UnsupportedProtocol):
        return "the URL is not an http:// or https:// URL"
    if isinstance(exc, httpcore.LocalProtocolError):
        return "the request could not be sent: a header or the URL is not valid HTTP"
    return "the request failed"


def _connect_error_text(exc: httpcore.ConnectError) -> str:
    if isinstance(exc, UnresolvedHost):
        return str(exc)
    # httpcore wraps the socket's error as the argument of its own; its pool re-raises
    # that ``from None``, so the argument is where the cause is sure to be found.
    cause = next((arg for arg in exc.args if isinstance(arg, OSError)), exc.__cause__)
    if isinstance(cause, ssl.SSLCertVerificationError):
        return f"TLS certificate not accepted: {cause.verify_message}"
    if isinstance(cause, ssl.SSLError):
        return f"TLS handshake failed: {cause.reason or 'unknown reason'}"
    if isinstance(cause, ConnectionRefusedError):
        return "connection refused"
    if isinstance(cause, OSError):
        return f"could not connect: {cause.strerror or type(cause).__name__}"
    return "could not connect"
