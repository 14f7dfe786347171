"""The address rules for every connection the server opens to a host that a user typed.

Mailbox servers (IMAP now; SMTP through a member's mailbox, lead-ad APIs and outbound webhooks
later) are named by users, and the server connects from inside its own network. Without rules a
user could make it talk to what only the server can reach: services on the machine itself, the
private network behind it, the cloud provider's metadata service (server-side request forgery).
Every such connection goes through this module:

- `resolve_target(host, port)` resolves the name once (getaddrinfo, which also reads the numeric
  spellings `0x7f000001`, `2130706433`, `0177.0.0.1` and `127.1` as 127.0.0.1) and refuses the
  target when ANY of its addresses is refused (`address_refusal`); `localhost` and `*.localhost`
  are this machine whatever the resolver answers (RFC 6761);
- `connect_target(target, timeout=…)` connects to those checked addresses and no others: the name
  is not resolved again, so a DNS answer that changes after the check (DNS rebinding) is never
  used. TLS keeps `target.host`, the name, for SNI and the certificate check;
- `open_connection(host, port, timeout=…)` is both in one call;
- `check_host(host)` is the check when a host is saved; the check at connection time is the one
  that counts (DNS answers change), so a name that does not resolve at the moment passes here;
- `http_connection(url, timeout=…)` is an `http.client` connection pinned the same way (for HTTP
  fetches: lead-ad APIs, outbound webhooks). It follows no redirect; whoever follows one opens a
  new connection through this module, which checks the new address.

Refused: loopback (127.0.0.0/8, ::1), private (RFC 1918, fc00::/7), shared (100.64.0.0/10,
carrier-grade NAT), link-local (169.254.0.0/16, fe80::/10), multicast, unspecified (0.0.0.0, ::),
broadcast and reserved (0.0.0.0/8, 240.0.0.0/4, documentation, benchmarking, IETF protocol blocks,
every IPv6 address outside global unicast 2000::/3), and the cloud metadata services. An IPv6
address that carries an IPv4 one (IPv4-mapped ::ffff:a.b.c.d, IPv4-compatible ::a.b.c.d, NAT64
64:ff9b::/96, 6to4 2002::/16) is judged by the IPv4 address it carries.

`VINCULO_ALLOW_PRIVATE_TARGETS` (development, the test suite's local servers) allows loopback,
private and shared addresses. The metadata services stay refused even then (they hand out the
machine's cloud credentials, and no development server lives there), and so do the unspecified,
link-local, multicast, broadcast and reserved addresses, where no mail or web server lives.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import sys
from dataclasses import dataclass
from socket import getaddrinfo
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# the verdicts of `address_refusal`
LOOPBACK = "loopback"
PRIVATE = "private"
SHARED = "shared"
LINK_LOCAL = "link-local"
MULTICAST = "multicast"
UNSPECIFIED = "unspecified"
BROADCAST = "broadcast"
RESERVED = "reserved"
METADATA = "metadata"
# what VINCULO_ALLOW_PRIVATE_TARGETS allows
PRIVATE_KINDS = frozenset({LOOPBACK, PRIVATE, SHARED})

METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, Google Cloud, Azure, OpenStack, DigitalOcean, Hetzner, …
        "169.254.170.2",  # AWS ECS task credentials
        "169.254.170.23",  # AWS EKS Pod Identity
        "169.254.0.23",  # Tencent Cloud
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud
        "168.63.129.16",  # Azure WireServer
        "fd00:ec2::254",  # AWS, over IPv6
        "fd00:ec2::23",  # AWS EKS Pod Identity, over IPv6
        "fd20:ce::254",  # Google Cloud, over IPv6
    )
)

_IPV4_RULES: tuple[tuple[ipaddress.IPv4Network, str], ...] = tuple(
    (ipaddress.IPv4Network(network), kind)
    for network, kind in (
        ("0.0.0.0/32", UNSPECIFIED),
        ("0.0.0.0/8", RESERVED),  # "this network"
        ("10.0.0.0/8", PRIVATE),
        ("100.64.0.0/10", SHARED),
        ("127.0.0.0/8", LOOPBACK),
        ("169.254.0.0/16", LINK_LOCAL),
        ("172.16.0.0/12", PRIVATE),
        ("192.0.0.0/24", RESERVED),  # IETF protocol assignments
        ("192.0.2.0/24", RESERVED),  # documentation
        ("192.88.99.0/24", RESERVED),  # 6to4 relay anycast (deprecated)
        ("192.168.0.0/16", PRIVATE),
        ("198.18.0.0/15", RESERVED),  # benchmarking
        ("198.51.100.0/24", RESERVED),  # documentation
        ("203.0.113.0/24", RESERVED),  # documentation
        ("224.0.0.0/4", MULTICAST),
        ("255.255.255.255/32", BROADCAST),
        ("240.0.0.0/4", RESERVED),
    )
)

_IPV6_RULES: tuple[tuple[ipaddress.IPv6Network, str], ...] = tuple(
    (ipaddress.IPv6Network(network), kind)
    for network, kind in (
        ("::/128", UNSPECIFIED),
        ("::1/128", LOOPBACK),
        ("64:ff9b:1::/48", PRIVATE),  # NAT64 for local use
        ("fc00::/7", PRIVATE),
        ("fe80::/10", LINK_LOCAL),
        ("ff00::/8", MULTICAST),
        ("2001::/23", RESERVED),  # IETF protocol assignments (Teredo, benchmarking, ORCHID, …)
        ("2001:db8::/32", RESERVED),  # documentation
        ("3fff::/20", RESERVED),  # documentation
    )
)
_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")
_IPV4_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_SIX_TO_FOUR = ipaddress.IPv6Network("2002::/16")
_LOCALHOST = ipaddress.IPv4Address("127.0.0.1")


class OutboundError(Exception):
    """A connection this module would not open."""


class HostNotFound(OutboundError):
    """The name does not resolve (or is not a name at all)."""

    def __init__(self, host: str) -> None:
        super().__init__(f"{host!r} does not resolve")
        self.host = host


class AddressRefused(OutboundError):
    """The host is, or resolves to, an address the rules refuse. The message is for the server
    log; what a user is told is the caller's choice."""

    def __init__(self, host: str, address: IPAddress, kind: str) -> None:
        super().__init__(f"{host!r} is refused: {address} is a {kind} address")
        self.host = host
        self.address = address
        self.kind = kind


@dataclass(frozen=True)
class CheckedAddress:
    """One address that passed the rules, as getaddrinfo gave it (ready for `socket.connect`)."""

    ip: IPAddress
    family: int
    sockaddr: tuple[Any, ...]


@dataclass(frozen=True)
class Target:
    """A host and port whose every address passed the rules. `host` is the name as given (for
    TLS: SNI and the certificate check); connections go to `addresses` only."""

    host: str
    port: int
    addresses: tuple[CheckedAddress, ...]


def private_targets_allowed() -> bool:
    return bool(getattr(settings, "VINCULO_ALLOW_PRIVATE_TARGETS", False))


def _parse(address: IPAddress | str) -> IPAddress:
    if isinstance(address, str):
        return ipaddress.ip_address(address.split("%", 1)[0])  # without an IPv6 zone ("%eth0")
    if isinstance(address, ipaddress.IPv6Address) and address.scope_id:
        return ipaddress.IPv6Address(int(address))
    return address


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries, for the forms that reach it."""
    if address in _IPV4_MAPPED or address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _SIX_TO_FOUR:
        return ipaddress.IPv4Address((int(address) >> 80) & 0xFFFFFFFF)
    return None


def address_kind(address: IPAddress | str) -> str | None:
    """What kind of refused address this is (`LOOPBACK`, `METADATA`, …), or None for a public one,
    whatever the setting says."""
    ip = _parse(address)
    if ip in METADATA_ADDRESSES:
        return METADATA
    if isinstance(ip, ipaddress.IPv4Address):
        return next((kind for network, kind in _IPV4_RULES if ip in network), None)
    embedded = _embedded_ipv4(ip)
    if embedded is not None:
        kind = address_kind(embedded)
        if kind is None and ip in _IPV4_COMPATIBLE:
            return RESERVED  # deprecated: no server answers there
        return kind
    kind = next((kind for network, kind in _IPV6_RULES if ip in network), None)
    if kind is None and ip not in _GLOBAL_UNICAST:
        return RESERVED
    return kind


def address_refusal(address: IPAddress | str, *, allow_private: bool | None = None) -> str | None:
    """Why a connection to `address` is refused (its kind, e.g. "loopback"), or None when it is
    allowed. `allow_private` defaults to the VINCULO_ALLOW_PRIVATE_TARGETS setting."""
    kind = address_kind(address)
    if allow_private is None:
        allow_private = private_targets_allowed()
    if kind in PRIVATE_KINDS and allow_private:
        return None
    return kind


def _name(host: str) -> str:
    name = host.strip()
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]  # an IPv6 literal as written in URLs
    return name


def _is_localhost_name(name: str) -> bool:
    name = name.rstrip(".").lower()
    return name == "localhost" or name.endswith(".localhost")


def resolve_target(host: str, port: int) -> Target:
    """Resolve `host` once and check every address. Raises HostNotFound, or AddressRefused when
    any address is refused (a name with one public and one private address is refused)."""
    name = _name(host)
    if not name:
        raise HostNotFound(host)
    if _is_localhost_name(name):  # this machine by definition (RFC 6761), whatever a resolver says
        kind = address_refusal(_LOCALHOST)
        if kind is not None:
            raise AddressRefused(host, _LOCALHOST, kind)
    try:
        infos = getaddrinfo(name, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError, ValueError) as exc:  # socket.gaierror is an OSError
        raise HostNotFound(host) from exc
    addresses: list[CheckedAddress] = []
    for family, _type, _proto, _canonname, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        ip = _parse(str(sockaddr[0]))
        kind = address_refusal(ip)
        if kind is not None:
            raise AddressRefused(host, ip, kind)
        if all(a.sockaddr != sockaddr for a in addresses):
            addresses.append(CheckedAddress(ip=ip, family=family, sockaddr=tuple(sockaddr)))
    if not addresses:
        raise HostNotFound(host)
    return Target(host=name, port=port, addresses=tuple(addresses))


def check_host(host: str) -> None:
    """The check when a host is saved: raises AddressRefused when it is, or resolves to, a refused
    address now. A name that does not resolve at the moment passes (every connection checks again)."""
    try:
        resolve_target(host, 0)
    except HostNotFound:
        return


def connect_target(target: Target, *, timeout: float | None) -> socket.socket:
    """A TCP connection to one of the target's checked addresses, tried in order (as
    `socket.create_connection` does). The rules are applied again (the setting may have changed
    since the check). Raises AddressRefused, or the OSError of the last address tried."""
    last_error: OSError | None = None
    for address in target.addresses:
        kind = address_refusal(address.ip)
        if kind is not None:
            raise AddressRefused(target.host, address.ip, kind)
        sock = socket.socket(address.family, socket.SOCK_STREAM)
        try:
            sock.settimeout(timeout)
            sock.connect(address.sockaddr)
        except OSError as exc:
            sock.close()
            last_error = exc
            continue
        return sock
    raise last_error or OSError(f"no address to connect to for {target.host!r}")


def open_connection(host: str, port: int, *, timeout: float | None) -> socket.socket:
    """Resolve, check and connect in one call (see `resolve_target` and `connect_target`)."""
    return connect_target(resolve_target(host, port), timeout=timeout)


class PinnedHTTPConnection(http.client.HTTPConnection):
    """`http.client.HTTPConnection` whose socket comes from `open_connection` (no proxy tunnel)."""

    def connect(self) -> None:
        sys.audit("http.client.connect", self, self.host, self.port)
        self.sock = open_connection(self.host, self.port, timeout=self.timeout)


class PinnedHTTPSConnection(http.client.HTTPSConnection, PinnedHTTPConnection):
    """The same over TLS: HTTPSConnection wraps the pinned socket for `self.host` (SNI and the
    certificate check stay on the name)."""


def http_connection(url: str, *, timeout: float) -> http.client.HTTPConnection:
    """An HTTP(S) connection to the host of `url` that connects only to checked addresses (when
    the first request is sent). Raises ValueError for a URL that is not http(s) with a host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("an http:// or https:// URL with a host is needed")
    if parts.scheme == "https":
        return PinnedHTTPSConnection(parts.hostname, parts.port, timeout=timeout)
    return PinnedHTTPConnection(parts.hostname, parts.port, timeout=timeout)
