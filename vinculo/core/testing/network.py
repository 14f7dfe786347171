"""Network fixtures for the tests of outbound connections (vinculo.core.outbound).

- `fake_dns`: the answers the resolver gives, per name, for the length of a test: what a name
  resolves to at save time and at connection time can differ, as with DNS rebinding. Names it
  does not know resolve as usual. It records every lookup.
- `tcp_listener`: a TCP socket listening on a free port of 127.0.0.1 that counts the connections
  made to it, to show that a refused connection never reached it (or that one did).

The test settings allow private targets (VINCULO_ALLOW_PRIVATE_TARGETS, config/test_settings.py)
so that the suite's local servers can be reached; a test of the address rules turns it off with
pytest-django's `settings` fixture.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from vinculo.core import outbound


@dataclass
class FakeDns:
    """`fake_dns["imap.example.test"] = ["203.0.113.7"]` sets what the name resolves to."""

    answers: dict[str, list[str]] = field(default_factory=dict)
    lookups: list[str] = field(default_factory=list)

    def __setitem__(self, name: str, addresses: list[str]) -> None:
        self.answers[name] = list(addresses)

    def resolve(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        self.lookups.append(str(host))
        if host not in self.answers:
            return socket.getaddrinfo(host, port, *args, **kwargs)
        results: list[tuple[Any, ...]] = []
        for text in self.answers[host]:
            if ipaddress.ip_address(text).version == 4:
                results.append((socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (text, port or 0)))
            else:
                results.append((socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (text, port or 0, 0, 0)))
        return results


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> FakeDns:
    dns = FakeDns()
    monkeypatch.setattr(outbound, "getaddrinfo", dns.resolve)
    return dns


@dataclass
class TcpListener:
    """A listening socket on 127.0.0.1; `accept_all()` takes the connections made so far."""

    sock: socket.socket
    peers: list[tuple[Any, ...]] = field(default_factory=list)

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    def accept_all(self) -> int:
        """How many connections were made to it so far (each is accepted and closed)."""
        self.sock.setblocking(False)
        while True:
            try:
                conn, peer = self.sock.accept()
            except BlockingIOError:
                return len(self.peers)
            self.peers.append(peer)
            conn.close()


@pytest.fixture
def tcp_listener() -> Iterator[TcpListener]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    try:
        yield TcpListener(sock)
    finally:
        sock.close()
