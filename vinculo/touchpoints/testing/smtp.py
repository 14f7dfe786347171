"""A real SMTP server with an account, as a mailbox provider runs it: aiosmtpd on a free local port
that asks for a login (AUTH PLAIN or LOGIN) over TLS, either STARTTLS (port 587 style) or TLS from
the first byte (port 465 style), with a certificate made for the test (for `localhost` and
127.0.0.1) that Vínculo trusts through the MAILBOX_CA_FILE setting.

The account is the dovecot one (IMAP_USER, IMAP_PASSWORD: not ASCII on purpose), since a
mailbox's SMTP login defaults to its IMAP login.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from vinculo.accounts.testing import MailSink, free_port
from vinculo.touchpoints.testing.imap import IMAP_PASSWORD, IMAP_USER


@dataclass(frozen=True)
class Certificate:
    cert_file: Path
    key_file: Path


def make_certificate(directory: Path) -> Certificate:
    """A self-signed certificate for localhost and 127.0.0.1 (the file is also the CA to trust)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return Certificate(cert_file=cert_file, key_file=key_file)


@pytest.fixture(scope="session")
def smtp_certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return make_certificate(tmp_path_factory.mktemp("smtp-tls"))


@dataclass
class AccountSink(MailSink):
    """The messages received, and the logins tried (user name, whether accepted)."""

    logins: list[tuple[str, bool]] = field(default_factory=list)


@dataclass
class SmtpAccountServer:
    host: str
    port: int
    security: str  # "starttls" or "ssl", as a mailbox's smtp_security
    user: str
    password: str
    sink: AccountSink

    @property
    def received(self) -> list[Any]:
        return self.sink.received


def _authenticator(sink: AccountSink, user: str, password: str) -> Any:
    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode("utf-8", "replace")
        accepted = login == user and auth_data.password == password.encode()
        sink.logins.append((login, accepted))
        return AuthResult(success=accepted, handled=False)

    return authenticate


def start_smtp_account(
    certificate: Certificate, *, security: str = "starttls", user: str = IMAP_USER, password: str = IMAP_PASSWORD
) -> tuple[SmtpAccountServer, Controller]:
    """Start the server; the caller stops the controller."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate.cert_file, certificate.key_file)
    sink = AccountSink()
    options: dict[str, Any] = {
        "authenticator": _authenticator(sink, user, password),
        "auth_required": True,
    }
    if security == "ssl":
        # TLS from the first byte (aiosmtpd then offers AUTH only when not told TLS is required,
        # and warns "Requiring AUTH while not requiring TLS" at each connection: the whole
        # connection is TLS here; tests filter that warning)
        controller = Controller(
            sink, hostname="127.0.0.1", port=free_port(), ssl_context=context, auth_require_tls=False, **options
        )
    else:
        controller = Controller(
            sink, hostname="127.0.0.1", port=free_port(), tls_context=context, require_starttls=True, **options
        )
    controller.start()
    server = SmtpAccountServer(
        host="127.0.0.1", port=controller.port, security=security, user=user, password=password, sink=sink
    )
    return server, controller


@pytest.fixture
def smtp_account(
    request: pytest.FixtureRequest, settings: Any, smtp_certificate: Certificate
) -> Iterator[SmtpAccountServer]:
    """A mailbox provider's SMTP server with the dovecot account; STARTTLS unless the test is
    parametrized indirectly with "ssl". Vínculo trusts its certificate (MAILBOX_CA_FILE)."""
    security = getattr(request, "param", "starttls")
    server, controller = start_smtp_account(smtp_certificate, security=security)
    settings.MAILBOX_CA_FILE = str(smtp_certificate.cert_file)
    try:
        yield server
    finally:
        controller.stop()
