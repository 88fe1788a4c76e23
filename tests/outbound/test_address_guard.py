"""The address guard: no webhook reaches loopback, private or link-local addresses unless
private ones are allowed, whether the URL names them or a name resolves to them, now or
at delivery time."""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpcore
import pytest

from outbound.address_guard import (
    DestinationRefused,
    GuardedBackend,
    UnresolvedHost,
    UnsafeDestination,
    check_url,
    is_allowed_ip,
)
from tests.outbound.local_servers import LocalServer, certificate_for

PUBLIC = "93.184.215.14"

REFUSED = [
    "0.0.0.0",  # noqa: S104 - an address refused, not one bound to
    "::",
    "127.0.0.1",
    "127.8.9.10",
    "::1",
    "10.0.0.1",
    "10.255.255.254",
    "172.16.0.1",
    "172.31.255.254",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "fe80::1",
    "fc00::1",
    "fd12:3456::1",
    "100.64.0.1",  # carrier-grade NAT
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:169.254.169.254",
    "::127.0.0.1",  # IPv4-compatible
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "64:ff9b:1::1",  # NAT64 for local use
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    "192.0.0.8",
    "198.18.0.1",
    "192.0.2.1",
    "2001:db8::1",
    "fec0::1",
    "224.0.0.1",
    "ff02::1",
    "255.255.255.255",
    "240.0.0.1",
]
ALLOWED = ["8.8.8.8", "1.1.1.1", PUBLIC, "2606:4700:4700::1111", "::ffff:8.8.8.8"]


def resolving_to(*addresses: str) -> Callable[[str, int], Sequence[tuple[Any, ...]]]:
    """A resolver that answers every name with ``addresses``."""

    def resolve(host: str, port: int) -> list[tuple[Any, ...]]:
        entries: list[tuple[Any, ...]] = []
        for address in addresses:
            if ipaddress.ip_address(address).version == 6:
                entries.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0)))
            else:
                entries.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)))
        return entries

    return resolve


def not_resolving(host: str, port: int) -> list[tuple[Any, ...]]:
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


@pytest.mark.parametrize("address", REFUSED)
def test_private_addresses_are_refused_unless_allowed(address: str) -> None:
    ip = ipaddress.ip_address(address)
    assert not is_allowed_ip(ip, allow_private=False)
    assert is_allowed_ip(ip, allow_private=True)


@pytest.mark.parametrize("address", ALLOWED)
def test_public_addresses_are_allowed(address: str) -> None:
    assert is_allowed_ip(ipaddress.ip_address(address), allow_private=False)


def test_https_to_a_public_name_comes_back_normalised() -> None:
    url = check_url(
        "HTTPS://Hooks.EXAMPLE.com:443/in/coming?team=sre&x=1",
        allow_http=False,
        allow_private=False,
        resolve=resolving_to(PUBLIC),
    )
    assert url == "https://hooks.example.com/in/coming?team=sre&x=1"


@pytest.mark.parametrize(
    ("given", "normal"),
    [
        ("https://hooks.example.com", "https://hooks.example.com/"),
        ("https://hooks.example.com:8443/x", "https://hooks.example.com:8443/x"),
        ("https://b\u00fccher.example/caf\u00e9", "https://xn--bcher-kva.example/caf%C3%A9"),
        ("https://[2606:4700:4700::1111]/", "https://[2606:4700:4700::1111]/"),
        ("https://8.8.8.8/a%20b", "https://8.8.8.8/a%20b"),
    ],
)
def test_urls_are_normalised(given: str, normal: str) -> None:
    resolve = resolving_to(PUBLIC)
    assert check_url(given, allow_http=False, allow_private=False, resolve=resolve) == normal


def test_http_is_refused_unless_allowed() -> None:
    with pytest.raises(UnsafeDestination) as raised:
        check_url(
            "http://hooks.example.com/",
            allow_http=False,
            allow_private=False,
            resolve=resolving_to(PUBLIC),
        )
    assert str(raised.value) == (
        "url: must be https:// (set INCIDENTS_WEBHOOKS_ALLOW_HTTP=true to allow http://)"
    )
    resolve = resolving_to(PUBLIC)
    url = check_url(
        "http://hooks.example.com/", allow_http=True, allow_private=False, resolve=resolve
    )
    assert url == "http://hooks.example.com/"


@pytest.mark.parametrize(
    "url", ["ftp://hooks.example.com/", "file:///etc/passwd", "hooks.example.com"]
)
def test_other_schemes_are_refused(url: str) -> None:
    with pytest.raises(UnsafeDestination, match="must be"):
        check_url(url, allow_http=True, allow_private=True, resolve=resolving_to(PUBLIC))


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("http://127.0.0.1:8080/", "127.0.0.1"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
        ("http://[::1]/", "::1"),
        ("http://[::ffff:127.0.0.1]/", "::ffff:7f00:1 (127.0.0.1)"),
        ("http://10.0.0.1/", "10.0.0.1"),
        ("http://0.0.0.0:5432/", "0.0.0.0"),  # noqa: S104 - refused, not bound to
    ],
)
def test_private_literals_are_refused_unless_allowed(url: str, address: str) -> None:
    with pytest.raises(UnsafeDestination) as raised:
        check_url(url, allow_http=True, allow_private=False)
    message = str(raised.value)
    assert message.startswith(f"url: {address} is a loopback/private address")
    assert "INCIDENTS_WEBHOOKS_ALLOW_PRIVATE=true" in message
    assert check_url(url, allow_http=True, allow_private=True).startswith("http://")


def test_a_name_resolving_to_loopback_is_refused() -> None:
    with pytest.raises(UnsafeDestination) as raised:
        check_url(
            "http://rebind.example/",
            allow_http=True,
            allow_private=False,
            resolve=resolving_to("127.0.0.1"),
        )
    assert str(raised.value).startswith(
        "url: host rebind.example resolves to 127.0.0.1, a loopback/private address"
    )


def test_a_name_resolving_to_a_public_and_a_private_address_is_refused() -> None:
    with pytest.raises(UnsafeDestination, match=re.escape("10.1.2.3")):
        check_url(
            "https://split.example/",
            allow_http=False,
            allow_private=False,
            resolve=resolving_to(PUBLIC, "10.1.2.3"),
        )


def test_a_name_that_does_not_resolve_is_refused() -> None:
    with pytest.raises(UnsafeDestination) as raised:
        check_url(
            "https://example.invalid/", allow_http=False, allow_private=True, resolve=not_resolving
        )
    assert str(raised.value) == "url: host example.invalid does not resolve"
    with pytest.raises(UnsafeDestination, match="does not resolve"):
        check_url(
            "https://empty.example/", allow_http=False, allow_private=True, resolve=resolving_to()
        )


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://user:pass@hooks.example.com/", "user name or password"),
        ("https://user@hooks.example.com/", "user name or password"),
        ("https://hooks.example.com/#part", "fragment"),
        ("https://hooks.example.com/#", "fragment"),
        ("https:///path", "no host"),
        ("https://:443/", "no host"),
        ("https://hooks.example.com:0/", "between 1 and 65535"),
        ("https://hooks.example.com:65536/", "port"),
        ("https://hooks.example.com:http/", "port"),
        ("https://[::1/", "not a valid URL"),
        ("https://hooks.example.com/" + "a" * 2000, "longer than 2000"),
        ("https://hooks.example.com/a b", "spaces or control characters"),
        ("https://hooks.example.com/\nx", "spaces or control characters"),
        ("https://hooks.example.com\\@127.0.0.1/", "user name or password"),
        ("https://hooks.example.com\\.evil/", "backslash"),
    ],
)
def test_malformed_urls_are_refused(url: str, reason: str) -> None:
    with pytest.raises(UnsafeDestination, match=reason):
        check_url(url, allow_http=True, allow_private=True, resolve=resolving_to(PUBLIC))


def test_the_refusal_is_a_value_error_safe_to_show() -> None:
    assert issubclass(UnsafeDestination, ValueError)


# --- at connection time ------------------------------------------------------------------


def test_a_name_that_rebinds_to_loopback_is_refused_at_connection_time() -> None:
    answers = iter([[PUBLIC], ["127.0.0.1"]])

    def rebinding(host: str, port: int) -> Sequence[tuple[Any, ...]]:
        return resolving_to(*next(answers))(host, port)

    url = check_url(
        "https://rebind.example/", allow_http=False, allow_private=False, resolve=rebinding
    )
    backend = GuardedBackend(allow_private=False, resolve=rebinding)
    with pytest.raises(DestinationRefused, match=re.escape("resolves to 127.0.0.1")):
        backend.connect_tcp("rebind.example", 443, timeout=1)
    assert url == "https://rebind.example/"


def test_a_refused_connection_is_a_connect_error_for_httpcore() -> None:
    backend = GuardedBackend(allow_private=False, resolve=resolving_to("127.0.0.1"))
    with (
        httpcore.ConnectionPool(network_backend=backend, retries=0) as pool,
        pytest.raises(httpcore.ConnectError, match="loopback/private"),
    ):
        pool.request("POST", "http://rebind.example/", content=b"{}")


def test_a_literal_address_is_checked_too() -> None:
    backend = GuardedBackend(allow_private=False)
    with pytest.raises(
        DestinationRefused, match=re.escape("169.254.169.254 is a loopback/private address")
    ):
        backend.connect_tcp("169.254.169.254", 80, timeout=1)


def test_a_name_that_does_not_resolve_fails_to_connect() -> None:
    with pytest.raises(UnresolvedHost, match=re.escape("host example.invalid does not resolve")):
        GuardedBackend(allow_private=True, resolve=not_resolving).connect_tcp(
            "example.invalid", 443
        )


def test_a_local_server_is_reached_when_private_addresses_are_allowed() -> None:
    backend = GuardedBackend(allow_private=True)
    with LocalServer() as server, httpcore.ConnectionPool(network_backend=backend) as pool:
        response = pool.request("POST", f"{server.url}/ok", content=b"{}")
        assert response.status == 200
        assert server.received[0][0] == "/ok"


def test_the_next_address_is_tried_when_one_does_not_answer() -> None:
    # 127.0.0.2 is loopback too, but nothing listens there: the connection is refused.
    with LocalServer() as server:
        backend = GuardedBackend(allow_private=True, resolve=resolving_to("127.0.0.2", "127.0.0.1"))
        with httpcore.ConnectionPool(network_backend=backend) as pool:
            response = pool.request("POST", f"http://two.example:{server.port}/ok", content=b"")
        assert response.status == 200


def test_unix_sockets_are_refused() -> None:
    with pytest.raises(DestinationRefused, match="Unix sockets"):
        GuardedBackend(allow_private=True).connect_unix_socket("/run/postgresql/.s.PGSQL.5432")


def test_tls_checks_the_name_in_the_url_not_the_address(tmp_path: Path) -> None:
    cert, key = certificate_for("hooks.example", tmp_path)
    context = httpcore.default_ssl_context()
    context.load_verify_locations(cert)
    backend = GuardedBackend(allow_private=True, resolve=resolving_to("127.0.0.1"))
    with (
        LocalServer(tls=(cert, key)) as server,
        httpcore.ConnectionPool(network_backend=backend, ssl_context=context) as pool,
    ):
        response = pool.request("POST", f"https://hooks.example:{server.port}/ok", content=b"{}")
        assert response.status == 200
        # The same address under another name: the certificate does not match it.
        with pytest.raises(httpcore.ConnectError, match="certificate"):
            pool.request("POST", f"https://other.example:{server.port}/ok", content=b"{}")
