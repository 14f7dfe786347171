"""The address rules of every server-side connection (vinculo.core.outbound): the verdict for each
kind of address, the numeric spellings of 127.0.0.1, names resolving to several addresses, the
check at connection time, and connections pinned to the address that was checked."""

from __future__ import annotations

import http.server
import ipaddress
import threading

import pytest
from django.core.checks import run_checks

from vinculo.core import outbound
from vinculo.core.outbound import (
    AddressRefused,
    HostNotFound,
    address_refusal,
    check_host,
    connect_target,
    http_connection,
    open_connection,
    resolve_target,
)


@pytest.fixture
def private_refused(settings):
    """The production default (the test settings allow private targets for the local servers)."""
    settings.VINCULO_ALLOW_PRIVATE_TARGETS = False


VERDICTS = [
    # loopback
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("::1", "loopback"),
    # private
    ("10.0.0.1", "private"),
    ("172.16.5.4", "private"),
    ("172.31.255.255", "private"),
    ("192.168.1.20", "private"),
    ("fc00::1", "private"),
    ("fd12:3456::1", "private"),
    ("64:ff9b:1::a00:1", "private"),  # NAT64 for local use
    # shared (carrier-grade NAT)
    ("100.64.0.1", "shared"),
    ("100.127.255.254", "shared"),
    # link-local
    ("169.254.1.1", "link-local"),
    ("fe80::1", "link-local"),
    ("fe80::1%eth0", "link-local"),
    # multicast
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("ff02::1", "multicast"),
    # unspecified, broadcast, reserved
    ("0.0.0.0", "unspecified"),
    ("::", "unspecified"),
    ("0.1.2.3", "reserved"),
    ("255.255.255.255", "broadcast"),
    ("240.0.0.1", "reserved"),
    ("192.0.0.8", "reserved"),
    ("192.0.2.10", "reserved"),
    ("198.18.0.1", "reserved"),
    ("198.51.100.1", "reserved"),
    ("203.0.113.5", "reserved"),
    ("2001:db8::1", "reserved"),
    ("2001::1", "reserved"),  # Teredo
    ("100::1", "reserved"),  # discard-only
    ("fec0::1", "reserved"),  # site-local, deprecated
    # cloud metadata
    ("169.254.169.254", "metadata"),
    ("169.254.170.2", "metadata"),
    ("100.100.100.200", "metadata"),
    ("192.0.0.192", "metadata"),
    ("168.63.129.16", "metadata"),
    ("fd00:ec2::254", "metadata"),
    ("fd20:ce::254", "metadata"),
    # IPv6 forms of IPv4 addresses: judged by the IPv4 address
    ("::ffff:127.0.0.1", "loopback"),
    ("::ffff:7f00:1", "loopback"),
    ("::ffff:10.1.2.3", "private"),
    ("::ffff:169.254.169.254", "metadata"),
    ("::127.0.0.1", "loopback"),  # IPv4-compatible
    ("::8.8.8.8", "reserved"),  # IPv4-compatible, deprecated
    ("64:ff9b::7f00:1", "loopback"),  # NAT64 of 127.0.0.1
    ("64:ff9b::a9fe:a9fe", "metadata"),  # NAT64 of 169.254.169.254
    ("2002:7f00:1::1", "loopback"),  # 6to4 of 127.0.0.1
    ("2002:c0a8:101::1", "private"),  # 6to4 of 192.168.1.1
    # public
    ("8.8.8.8", None),
    ("1.1.1.1", None),
    ("93.184.215.14", None),
    ("11.0.0.1", None),
    ("172.32.0.1", None),
    ("100.128.0.1", None),
    ("169.255.0.1", None),
    ("2606:4700:4700::1111", None),
    ("2a00:1450:4003:80f::200e", None),
    ("::ffff:8.8.8.8", None),
    ("64:ff9b::808:808", None),
    ("2002:808:808::1", None),
]


@pytest.mark.parametrize(("address", "verdict"), VERDICTS)
def test_each_kind_of_address_gets_its_verdict(address, verdict):
    assert address_refusal(address, allow_private=False) == verdict


@pytest.mark.parametrize(("address", "verdict"), VERDICTS)
def test_allowing_private_targets_allows_loopback_private_and_shared_only(address, verdict):
    expected = None if verdict in ("loopback", "private", "shared") else verdict

    assert address_refusal(address, allow_private=True) == expected


def test_the_setting_decides_when_not_told(settings):
    settings.VINCULO_ALLOW_PRIVATE_TARGETS = False
    assert (address_refusal("127.0.0.1"), address_refusal("169.254.169.254")) == ("loopback", "metadata")
    settings.VINCULO_ALLOW_PRIVATE_TARGETS = True
    assert (address_refusal("127.0.0.1"), address_refusal("169.254.169.254")) == (None, "metadata")


@pytest.mark.parametrize(
    ("host", "address", "kind"),
    [
        ("127.0.0.1", "127.0.0.1", "loopback"),
        ("localhost", "127.0.0.1", "loopback"),
        ("LOCALHOST.", "127.0.0.1", "loopback"),
        ("imap.localhost", "127.0.0.1", "loopback"),
        ("0x7f000001", "127.0.0.1", "loopback"),
        ("2130706433", "127.0.0.1", "loopback"),
        ("0177.0.0.1", "127.0.0.1", "loopback"),
        ("017700000001", "127.0.0.1", "loopback"),
        ("127.1", "127.0.0.1", "loopback"),
        ("::1", "::1", "loopback"),
        ("[::1]", "::1", "loopback"),
        ("::ffff:127.0.0.1", "::ffff:127.0.0.1", "loopback"),
        ("0", "0.0.0.0", "unspecified"),
        ("0xa9fea9fe", "169.254.169.254", "metadata"),
    ],
)
def test_every_spelling_of_a_refused_address_is_refused(private_refused, host, address, kind):
    with pytest.raises(AddressRefused) as refused:
        resolve_target(host, 993)

    assert (refused.value.address, refused.value.kind) == (ipaddress.ip_address(address), kind)
    with pytest.raises(AddressRefused):
        check_host(host)


def test_a_name_is_refused_when_any_of_its_addresses_is(private_refused, fake_dns):
    fake_dns["mixed.example.test"] = ["93.184.215.14", "10.0.0.5"]
    fake_dns["public.example.test"] = ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]

    with pytest.raises(AddressRefused) as refused:
        resolve_target("mixed.example.test", 993)
    target = resolve_target("public.example.test", 993)

    assert (str(refused.value.address), refused.value.kind) == ("10.0.0.5", "private")
    assert (target.host, target.port) == ("public.example.test", 993)
    assert [str(a.ip) for a in target.addresses] == ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]


def test_a_name_that_does_not_resolve_is_not_found_but_passes_the_check_at_save_time():
    with pytest.raises(HostNotFound):
        resolve_target("imap.nowhere.invalid", 993)
    with pytest.raises(HostNotFound):
        resolve_target("  ", 993)

    assert check_host("imap.nowhere.invalid") is None


def test_the_connection_goes_to_the_checked_address_without_resolving_again(fake_dns, tcp_listener):
    fake_dns["imap.pinned.example.test"] = ["127.0.0.1"]
    target = resolve_target("imap.pinned.example.test", tcp_listener.port)
    fake_dns["imap.pinned.example.test"] = ["10.9.9.9"]  # the DNS answer changes after the check

    sock = connect_target(target, timeout=5)
    try:
        peer = sock.getpeername()
    finally:
        sock.close()

    assert peer == ("127.0.0.1", tcp_listener.port)
    assert tcp_listener.accept_all() == 1
    assert fake_dns.lookups == ["imap.pinned.example.test"]


def test_a_name_that_rebinds_to_a_refused_address_is_refused_at_connection_time(
    private_refused, fake_dns, tcp_listener
):
    fake_dns["rebind.example.test"] = ["93.184.215.14"]
    check_host("rebind.example.test")  # at save time: public
    fake_dns["rebind.example.test"] = ["127.0.0.1"]  # at connection time: this machine

    with pytest.raises(AddressRefused) as refused:
        open_connection("rebind.example.test", tcp_listener.port, timeout=5)

    assert (str(refused.value.address), refused.value.kind) == ("127.0.0.1", "loopback")
    assert tcp_listener.accept_all() == 0


def test_the_rules_are_applied_again_when_connecting(settings, fake_dns, tcp_listener):
    fake_dns["dev.example.test"] = ["127.0.0.1"]
    target = resolve_target("dev.example.test", tcp_listener.port)  # allowed while private targets are
    settings.VINCULO_ALLOW_PRIVATE_TARGETS = False

    with pytest.raises(AddressRefused):
        connect_target(target, timeout=5)

    assert tcp_listener.accept_all() == 0


def test_a_refused_connection_to_a_checked_address_raises_the_socket_error(tcp_listener):
    port = tcp_listener.port
    tcp_listener.sock.close()

    with pytest.raises(ConnectionRefusedError):
        open_connection("127.0.0.1", port, timeout=5)


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: list[tuple[str, str]] = []

    def do_GET(self):
        _Recorder.seen.append((self.path, self.headers["Host"]))
        body = b"ok"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def http_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    _Recorder.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def test_http_connections_are_pinned_and_keep_the_host_name(fake_dns, http_server):
    port = http_server.server_address[1]
    fake_dns["hooks.example.test"] = ["127.0.0.1"]

    connection = http_connection(f"http://hooks.example.test:{port}/leads?page=1", timeout=5)
    try:
        connection.request("GET", "/leads?page=1")
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()

    assert (response.status, body) == (200, b"ok")
    assert _Recorder.seen == [("/leads?page=1", f"hooks.example.test:{port}")]


def test_http_connections_follow_the_same_rules(private_refused, fake_dns, http_server):
    port = http_server.server_address[1]
    fake_dns["hooks.example.test"] = ["127.0.0.1"]
    connection = http_connection(f"https://hooks.example.test:{port}/", timeout=5)

    with pytest.raises(AddressRefused):
        connection.request("GET", "/")

    assert isinstance(connection, outbound.PinnedHTTPSConnection)
    assert _Recorder.seen == []
    for url in ("ftp://hooks.example.test/", "https:///path", "hooks.example.test"):
        with pytest.raises(ValueError, match="an http:// or https:// URL with a host is needed"):
            http_connection(url, timeout=5)


def test_check_deploy_warns_when_private_targets_are_allowed(settings):
    def deploy_warnings():
        return [
            m.id for m in run_checks(include_deployment_checks=True, tags=["security"]) if m.id.startswith("vinculo")
        ]

    settings.VINCULO_ALLOW_PRIVATE_TARGETS = True
    assert deploy_warnings() == ["vinculo.W001"]
    settings.VINCULO_ALLOW_PRIVATE_TARGETS = False
    assert deploy_warnings() == []
