"""Sending through the organisation's own SMTP server: the `org_smtp` transport
(vinculo/messaging/transports.py), set up under Settings → E-mail sending.

The connection follows the rules of every connection to a server a user typed
(vinculo/core/outbound.py): to the address checked at connection time and no other, with the
server's name kept for SNI and the certificate check. SSL/TLS from the first byte, or STARTTLS
(refused when the server does not offer it), or none only to a server on this machine. The login
sends the user name and password as UTF-8 (AUTH PLAIN, else LOGIN).

What people are told is generic — "could not connect", "could not log in", "refused the sender",
"refused the message" — never what the server or the socket said (that goes to the server log):
the settings page is seen by admins, and the failure reasons by every member the mail concerns.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.message import sanitize_address
from django.utils.translation import gettext_lazy

from vinculo.core import crypto, outbound
from vinculo.messaging.models import OrganizationSmtp, SmtpSecurity
from vinculo.messaging.smtp import PinnedSMTP, PinnedSMTPSSL, is_local_host, login_utf8, quit_quietly, tls_context
from vinculo.messaging.transports import ORG_SMTP, Transport, TransportError, register_transport

logger = logging.getLogger(__name__)

SMTP_TIMEOUT = 15  # seconds for connecting and for each command
CONNECT_FAILED = gettext_lazy("Could not connect to the SMTP server: check the server name, the port and the security.")
LOGIN_FAILED = gettext_lazy("Could not log in to the SMTP server: check the user name and the password.")
SENDER_REFUSED = gettext_lazy("The SMTP server refused the sender: check the from address.")
MESSAGE_REFUSED = gettext_lazy("The SMTP server refused the message.")
SECRET_UNREADABLE = gettext_lazy("The stored password cannot be read (the encryption key changed): enter it again.")
SETTINGS_GONE = gettext_lazy("The organisation's SMTP server this message was to leave through was removed.")


def _connect_failed(smtp_settings: OrganizationSmtp, reason: object) -> TransportError:
    logger.warning(
        "organisation %s: could not connect to SMTP %s:%s: %s",
        smtp_settings.organization_id,
        smtp_settings.host,
        smtp_settings.port,
        reason,
    )
    return TransportError(str(CONNECT_FAILED), temporary=True, connection_lost=True)


def smtp_connect(smtp_settings: OrganizationSmtp) -> smtplib.SMTP:
    """A logged-in connection to the checked address of the organisation's SMTP server; raises
    TransportError with a generic reason."""
    try:
        password = crypto.decrypt(smtp_settings.password_encrypted)
    except crypto.SecretUnreadable as exc:
        raise TransportError(str(SECRET_UNREADABLE), temporary=False, route_broken=True) from exc
    smtp: smtplib.SMTP | None = None
    try:
        target = outbound.resolve_target(smtp_settings.host, smtp_settings.port)
        if smtp_settings.security == SmtpSecurity.SSL:
            smtp = PinnedSMTPSSL(target, context=tls_context(), timeout=SMTP_TIMEOUT)
        else:
            smtp = PinnedSMTP(target, timeout=SMTP_TIMEOUT)
        smtp.connect(target.host, target.port)
        smtp.ehlo()
        if smtp_settings.security == SmtpSecurity.STARTTLS:
            if not smtp.has_extn("starttls"):
                raise _connect_failed(smtp_settings, "no STARTTLS offered")
            smtp.starttls(context=tls_context())
            smtp.ehlo()
        elif smtp_settings.security == SmtpSecurity.NONE:
            peer = smtp.sock.getpeername()[0] if smtp.sock is not None else ""
            if not is_local_host(str(peer)):
                raise _connect_failed(smtp_settings, "no encryption is only allowed to this machine")
    except TransportError:
        quit_quietly(smtp)
        raise
    except (outbound.OutboundError, OSError, ValueError, smtplib.SMTPException) as exc:
        quit_quietly(smtp)
        raise _connect_failed(smtp_settings, f"{type(exc).__name__}: {exc}") from exc
    try:
        if smtp_settings.username:
            login_utf8(smtp, smtp_settings.username, password)
    except (smtplib.SMTPException, OSError) as exc:
        quit_quietly(smtp)
        if isinstance(exc, (smtplib.SMTPServerDisconnected, TimeoutError)) or (
            isinstance(exc, smtplib.SMTPResponseException) and 400 <= exc.smtp_code < 500
        ):
            raise _connect_failed(smtp_settings, f"{type(exc).__name__}: {exc}") from exc
        logger.info("organisation %s: SMTP login refused: %s", smtp_settings.organization_id, exc)
        raise TransportError(str(LOGIN_FAILED), temporary=False, route_broken=True) from exc
    return smtp


def _refused(smtp_settings: OrganizationSmtp, exc: smtplib.SMTPException) -> TransportError:
    """A refusal after the login, told generically (the server's words go to the log)."""
    logger.info("organisation %s: SMTP refusal: %s", smtp_settings.organization_id, exc)
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return TransportError(str(SENDER_REFUSED), temporary=400 <= exc.smtp_code < 500, route_broken=True)
    code = 554
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code = next(iter(exc.recipients.values()), (550, b""))[0]
    elif isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code
    return TransportError(str(MESSAGE_REFUSED), temporary=400 <= code < 500)


@dataclass
class OrgSmtpConnection:
    """The connection of one organisation's messages in a batch: connected at the first message."""

    smtp_settings: OrganizationSmtp
    smtp: smtplib.SMTP | None = None

    def send(self, email: EmailMessage) -> None:
        encoding = email.encoding or settings.DEFAULT_CHARSET
        sender = sanitize_address(email.from_email, encoding)
        recipients = [sanitize_address(address, encoding) for address in email.recipients()]
        raw = email.message().as_bytes(linesep="\r\n")  # type: ignore[call-arg]
        if self.smtp is None:
            self.smtp = smtp_connect(self.smtp_settings)
        try:
            self.smtp.sendmail(sender, recipients, raw)
        except smtplib.SMTPServerDisconnected as exc:
            self.smtp = None
            raise _connect_failed(self.smtp_settings, exc) from exc
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as exc:
            raise _refused(self.smtp_settings, exc) from exc
        except OSError as exc:
            quit_quietly(self.smtp)
            self.smtp = None
            raise _connect_failed(self.smtp_settings, exc) from exc

    def close(self) -> None:
        quit_quietly(self.smtp)
        self.smtp = None


def org_smtp_connection_open(ref: str, organization_id: int | None) -> OrgSmtpConnection:
    """The connection for the route `org_smtp:<ref>` of a message of `organization_id` (the
    worker runs outside any scope: the settings must be that organisation's)."""
    try:
        pk = int(ref)
    except ValueError:
        pk = 0
    found = (
        OrganizationSmtp.dangerously_unscoped.filter(pk=pk, organization_id=organization_id).first()
        if organization_id is not None
        else None
    )
    if found is None:
        raise TransportError(str(SETTINGS_GONE), temporary=False, route_broken=True)
    return OrgSmtpConnection(smtp_settings=found)


def register() -> None:
    """Make the `org_smtp` transport known (MessagingConfig.ready())."""
    register_transport(Transport(name=ORG_SMTP, open=org_smtp_connection_open))
