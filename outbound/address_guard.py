"""Where webhooks may be sent: public addresses only, unless private ones are allowed.

A webhook URL is chosen by whoever creates the subscription, and the service posts to it
from inside its own network. Without a guard, a URL could make it reach cloud metadata
(169.254.169.254), the database or an admin port on localhost. Checking the URL once is
not enough, since a name can resolve to a public address when the subscription is made
and to 127.0.0.1 later (DNS rebinding), so ``GuardedBackend`` checks every connection.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import httpcore

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[tuple[Any, ...]]]
"""``socket.getaddrinfo`` or a stand-in: ``(host, port)`` to ``(family, type, proto,
canonname, sockaddr)`` entries, the address being ``sockaddr[0]``."""

MAX_URL_LENGTH = 2000
ALLOW_HTTP = "INCIDENTS_WEBHOOKS_ALLOW_HTTP"
ALLOW_PRIVATE = "INCIDENTS_WEBHOOKS_ALLOW_PRIVATE"
PRIVATE_HINT = f"(set {ALLOW_PRIVATE}=true to allow private addresses)"

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# ``is_global`` is the rule; these are refused besides because Python's answer has changed
# between patch releases (3.11.7 calls 192.0.0.8, 64:ff9b:1::1 and fec0::1 global), and a
# guard should not depend on which one runs.
_REFUSED = tuple(
    ipaddress.ip_network(network)
    for network in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "::/96",  # unspecified, loopback and the deprecated IPv4-compatible addresses
        "64:ff9b:1::/48",  # NAT64 for local use
        "100::/64",
        "2001::/23",  # IETF protocol assignments, Teredo among them
        "2001:db8::/32",
        "fc00::/7",
        "fe80::/10",
        "fec0::/10",
        "ff00::/8",
    )
)


class UnsafeDestination(ValueError):
    """A webhook URL that may not be used; the message is safe to show to a client."""


class DestinationRefused(httpcore.ConnectError):
    """A connection the guard did not open: the host resolves to a refused address."""


class UnresolvedHost(httpcore.ConnectError):
    """A connection the guard could not open: the host resolves to no address."""


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, 6to4, NAT64), if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_allowed_ip(ip: IPAddress, allow_private: bool) -> bool:
    """Whether webhooks may connect to ``ip``: any address when private ones are allowed,
    else only globally routable unicast ones."""
    if allow_private:
        return True
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            ip = embedded
    if not ip.is_global or ip.is_multicast:
        return False
    return not any(ip in network for network in _REFUSED if network.version == ip.version)


def _addresses(host: str, port: int, resolve: Resolver) -> list[IPAddress]:
    """Every address ``host`` resolves to, in the resolver's order, without repeats."""
    found: list[IPAddress] = []
    for entry in resolve(host, port):
        ip = ipaddress.ip_address(str(entry[4][0]).split("%", 1)[0])
        if ip not in found:
            found.append(ip)
    return found


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _refusal(host: str, addresses: Iterable[IPAddress], allow_private: bool) -> str | None:
    """Why ``host`` may not be reached through ``addresses``, or None when it may."""
    for ip in addresses:
        if not is_allowed_ip(ip, allow_private):
            embedded = _embedded_ipv4(ip) if isinstance(ip, ipaddress.IPv6Address) else None
            shown = str(ip) if embedded is None else f"{ip} ({embedded})"
            if _literal(host) is not None:
                return f"{shown} is a loopback/private address"
            return f"host {host} resolves to {shown}, a loopback/private address"
    return None


def check_url(
    url: str, *, allow_http: bool, allow_private: bool, resolve: Resolver = socket.getaddrinfo
) -> str:
    """The URL in normal form (lower-case scheme and host, ASCII only), or UnsafeDestination
    saying why webhooks may not be sent to it."""
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeDestination(f"url: longer than {MAX_URL_LENGTH} characters")
    if any(character.isspace() or not character.isprintable() for character in url):
        # urlsplit silently drops tabs and line breaks; what is checked must be what is sent.
        raise UnsafeDestination("url: may not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeDestination("url: is not a valid URL (check the host and port)") from None
    scheme = parts.scheme.lower()
    if scheme != "https" and not (allow_http and scheme == "http"):
        if allow_http:
            raise UnsafeDestination("url: must be http:// or https://")
        raise UnsafeDestination(f"url: must be https:// (set {ALLOW_HTTP}=true to allow http://)")
    if "@" in parts.netloc:
        raise UnsafeDestination("url: may not contain a user name or password")
    if "\\" in parts.netloc:
        raise UnsafeDestination("url: may not contain a backslash in the host")
    if "#" in url:
        raise UnsafeDestination("url: may not contain a fragment (#...)")
    if not parts.hostname:
        raise UnsafeDestination("url: has no host")
    if port is not None and not 1 <= port <= 65535:
        raise UnsafeDestination("url: the port must be between 1 and 65535")
    host = _ascii_host(parts.hostname)
    default_port = 443 if scheme == "https" else 80
    try:
        addresses = _addresses(host, port or default_port, resolve)
    except (OSError, UnicodeError):
        addresses = []
    if not addresses:
        raise UnsafeDestination(f"url: host {host} does not resolve")
    reason = _refusal(host, addresses, allow_private)
    if reason is not None:
        raise UnsafeDestination(f"url: {reason} {PRIVATE_HINT}")
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != default_port:
        netloc += f":{port}"
    path = quote(parts.path, safe="/%:@!$&'()*+,;=~") or "/"
    query = quote(parts.query, safe="/?%:@!$&'()*+,;=~")
    return urlunsplit((scheme, netloc, path, query, ""))


def _ascii_host(hostname: str) -> str:
    """The host as it goes on the wire: an internationalised name in its IDNA form."""
    if hostname.isascii():
        return hostname
    try:
        return hostname.encode("idna").decode("ascii")
    except UnicodeError:
        raise UnsafeDestination("url: the host is not a valid domain name") from None


class GuardedBackend(httpcore.NetworkBackend):
    """Opens TCP connections only to allowed addresses, checked at every connection.

    The guard resolves the name itself and connects to the address it checked, so the
    name is not looked up a second time, where a rebinding server could answer
    differently. TLS still verifies the name in the URL, not the address: httpcore's
    ``HTTPConnection._connect`` (httpcore/_sync/connection.py, 1.0.x) calls
    ``stream.start_tls(server_hostname=sni_hostname or self._origin.host)`` on the stream
    this returns, and the origin keeps the host of the URL.
    """

    def __init__(self, allow_private: bool, resolve: Resolver = socket.getaddrinfo) -> None:
        self.allow_private = allow_private
        self._resolve = resolve
        self._sockets = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        """A connection to the first allowed address ``host`` resolves to that answers."""
        # The lookup itself is bounded by the system resolver's own timeouts
        # (resolv.conf), not by ``timeout``: getaddrinfo cannot be interrupted.
        try:
            addresses = _addresses(host, port, self._resolve)
        except (OSError, UnicodeError) as exc:
            raise UnresolvedHost(f"host {host} does not resolve") from exc
        if not addresses:
            raise UnresolvedHost(f"host {host} does not resolve")
        reason = _refusal(host, addresses, self.allow_private)
        if reason is not None:
            raise DestinationRefused(f"{reason} {PRIVATE_HINT}")
        deadline = None if timeout is None else time.monotonic() + timeout

        def connect(ip: IPAddress) -> httpcore.NetworkStream:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise httpcore.ConnectTimeout(f"no answer from {host} in time")
            return self._sockets.connect_tcp(str(ip), port, left, local_address, socket_options)

        # Every address is tried in turn, as socket.create_connection does, so a name with
        # an IPv6 address that this host cannot route still reaches its IPv4 one; all of
        # them share the one connect timeout.
        for ip in addresses[:-1]:
            try:
                return connect(ip)
            except (httpcore.ConnectError, httpcore.ConnectTimeout):
                continue
        return connect(addresses[-1])

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        """Refused: a webhook goes to a TCP address, which the guard can check."""
        raise DestinationRefused("webhooks are not sent over Unix sockets")

    def sleep(self, seconds: float) -> None:
        self._sockets.sleep(seconds)
