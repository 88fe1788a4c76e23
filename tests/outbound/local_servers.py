"""Webhook receivers on 127.0.0.1 for the sender's tests, plain or TLS, each answering by path.

| path | answer |
| --- | --- |
| /ok | 200 |
| /fail | 500 |
| /redirect | 302 to /ok |
| /busy | 429, ``Retry-After: 2`` |
| /unavailable | 503, ``Retry-After`` an HTTP date two minutes ahead |
| /slow | 200 after five seconds (or when the server stops) |
| /drip | 200, its head sent one byte every 0.3 s |
| /big | 200 with a 1 MiB body |
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ssl
import threading
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests read what was received, not a log."""

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length)
        self.server.received.append((self.path, dict(self.headers.items()), body))
        with contextlib.suppress(OSError):  # the client gave up first, as some tests make it
            self._answer()

    def _answer(self) -> None:
        path = self.path
        if path == "/slow":
            self.server.stopping.wait(5)
        if path == "/drip":
            head = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
            for byte in head:
                if self.server.stopping.wait(0.3):
                    return
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
            return
        status, headers, body = {
            "/fail": (500, {}, b"broken"),
            "/redirect": (302, {"Location": f"{self.server.base_url}/ok"}, b""),
            "/busy": (429, {"Retry-After": "2"}, b""),
            "/unavailable": (503, {"Retry-After": _in_two_minutes()}, b""),
            "/big": (200, {}, b"x" * (1024 * 1024)),
        }.get(path, (200, {}, b"ok"))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _in_two_minutes() -> str:
    return format_datetime(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=2), usegmt=True)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    received: list[tuple[str, dict[str, str], bytes]]
    stopping: threading.Event
    base_url: str


class LocalServer:
    """A receiver on 127.0.0.1 with a free port; TLS when given a certificate and key."""

    def __init__(self, tls: tuple[Path, Path] | None = None) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.received = []
        self._server.stopping = threading.Event()
        self.port = self._server.server_address[1]
        scheme = "http"
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
            scheme = "https"
        self.url = self._server.base_url = f"{scheme}://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def received(self) -> list[tuple[str, dict[str, str], bytes]]:
        """Every request so far: path, headers and body."""
        return self._server.received

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def certificate_for(hostname: str, folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for ``hostname`` and its key, as PEM files in ``folder``."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / f"{hostname}.crt", folder / f"{hostname}.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file
