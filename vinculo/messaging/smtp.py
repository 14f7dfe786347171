"""SMTP connections to servers users name (a mailbox's, an organisation's): to the address the
outbound rules checked and no other (`PinnedSMTP`, `PinnedSMTPSSL`), certificates checked against
the system's authorities plus VINCULO_MAILBOX_CA_FILE, a login with a UTF-8 user name and password,
and plain connections only to this machine (`is_local_host`)."""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import smtplib
import socket
import ssl

from django.conf import settings

from vinculo.core import outbound

LOCAL_HOSTS = frozenset({"localhost", "localhost.localdomain"})


def is_local_host(host: str) -> bool:
    name = host.strip().rstrip(".").lower()
    if name in LOCAL_HOSTS:
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False


def tls_context() -> ssl.SSLContext:
    """The system's authorities, plus those of VINCULO_MAILBOX_CA_FILE when set."""
    context = ssl.create_default_context()
    extra = getattr(settings, "MAILBOX_CA_FILE", "")
    if extra:
        context.load_verify_locations(cafile=extra)
    return context


class PinnedSMTP(smtplib.SMTP):
    """SMTP to an address checked by vinculo.core.outbound, never to a new answer of the resolver."""

    def __init__(self, target: outbound.Target, *, timeout: float) -> None:
        self.target = target
        super().__init__(timeout=timeout)
        self._host = target.host  # what starttls() checks the certificate against

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return outbound.connect_target(self.target, timeout=timeout)


class PinnedSMTPSSL(smtplib.SMTP_SSL):
    """SMTP over TLS from the first byte, to an address checked by vinculo.core.outbound."""

    def __init__(self, target: outbound.Target, *, context: ssl.SSLContext, timeout: float) -> None:
        self.target = target
        super().__init__(context=context, timeout=timeout)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        sock = outbound.connect_target(self.target, timeout=timeout)
        try:
            return self.context.wrap_socket(sock, server_hostname=self.target.host)
        except BaseException:
            sock.close()
            raise


def login_utf8(smtp: smtplib.SMTP, username: str, password: str) -> None:
    """AUTH PLAIN (else LOGIN) as UTF-8; raises SMTPAuthenticationError when refused."""
    smtp.ehlo_or_helo_if_needed()
    offered = smtp.esmtp_features.get("auth", "").upper().split()
    user, secret = username.encode(), password.encode()
    if "PLAIN" in offered:
        token = base64.b64encode(b"\0" + user + b"\0" + secret).decode("ascii")
        code, text = smtp.docmd("AUTH", f"PLAIN {token}")
    elif "LOGIN" in offered:
        code, text = smtp.docmd("AUTH", "LOGIN")
        if code == 334:
            code, text = smtp.docmd(base64.b64encode(user).decode("ascii"))
        if code == 334:
            code, text = smtp.docmd(base64.b64encode(secret).decode("ascii"))
    elif offered:
        smtp.login(username, password)  # CRAM-MD5 and the like (ASCII only)
        return
    else:
        raise smtplib.SMTPNotSupportedError("the server offers no AUTH")
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, text)


def quit_quietly(smtp: smtplib.SMTP | None) -> None:
    if smtp is None:
        return
    with contextlib.suppress(smtplib.SMTPException, OSError):
        smtp.quit()
    with contextlib.suppress(OSError):
        smtp.close()
