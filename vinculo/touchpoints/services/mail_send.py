"""Sending through a mailbox's own SMTP server: the `mailbox` transport of the messaging layer
(vinculo/messaging/transports.py, docs/adr/0006-outgoing-routes.md).

What a member writes from Vínculo (an e-mail from a contact's page, a quote) leaves through the SMTP
server of the mailbox that holds the From address, so that SPF and DKIM align with it: the
member's own mailbox when it sends (`smtp_host` set), else the organisation's default shared
sender; without either, the install's relay as before. The route is chosen when the message is
queued (`mailbox_route`); the worker opens the connection (`MailboxConnection`).

- Connections follow the rules of every connection to a server a user typed
  (vinculo/core/outbound.py): to the address checked at connection time and no other (`PinnedSMTP`,
  `PinnedSMTPSSL` replace smtplib's socket), with the server's name kept for SNI and the
  certificate check. SSL/TLS from the first byte, or STARTTLS (refused when the server does not
  offer it), or none for a server on this machine only (the address really connected to).
- The login sends the user name and password as UTF-8 (AUTH PLAIN, else LOGIN): smtplib's own
  encodes them as ASCII and cannot send a password such as "contraseña". Only a server on this
  machine reached without encryption may skip the login, when it offers none (a development
  server); any other server that offers no login is "could not log in".
- What users are told: "could not connect", "could not log in" (the mailbox is also marked as
  needing attention, shown on its page, and the message fails: retrying cannot help until someone
  fixes the password), or "the server refused the message" with the server's code and text (the
  member's own server speaking to them). Details go to the server log, never a password.
- After a successful send the exact bytes sent (the same Message-ID) are appended to the
  mailbox's Sent folder with the \\Seen flag, through the pinned IMAP connection, unless the
  mailbox says its server saves them itself (Gmail does). The folder is the one typed, else the
  one the server marks \\Sent (RFC 6154), else a usual name. When the mailbox's reader later
  fetches that folder, the message is recognised by its Message-ID and not stored twice.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import re
import smtplib
import time
from dataclasses import dataclass, field
from email.utils import formataddr

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.message import sanitize_address
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from vinculo.accounts.models import Membership, Organization, User
from vinculo.core import outbound
from vinculo.messaging.smtp import PinnedSMTP, PinnedSMTPSSL, login_utf8, quit_quietly
from vinculo.messaging.transports import Route, Transport, TransportError, register_transport
from vinculo.touchpoints import crypto
from vinculo.touchpoints.models import Mailbox, SmtpSecurity
from vinculo.touchpoints.selectors.mail import sending_mailbox_for
from vinculo.touchpoints.services.mailboxes import (
    ConnectionCheck,
    ImapFailure,
    imap_connect,
    imap_quote,
    imap_utf7_decode,
    is_local_host,
    require_change_mailbox,
    tls_context,
)

logger = logging.getLogger(__name__)

TRANSPORT = "mailbox"
SMTP_TIMEOUT = 20  # seconds for connecting and for each command
SMTP_CONNECT_FAILED = gettext_lazy(
    "Could not connect to the SMTP server: check the server name, the port and the security."
)
SMTP_LOGIN_FAILED = gettext_lazy("Could not log in to the SMTP server: check the user name and the password.")
SMTP_REFUSED = gettext_lazy("The server refused the message: %(answer)s")
SECRET_UNREADABLE = gettext_lazy("The stored password cannot be read (the encryption key changed): enter it again.")
MAILBOX_GONE = gettext_lazy("The mailbox this message was to leave through was disconnected or no longer sends.")
SENT_COPY_FAILED = gettext_lazy("The copy in the Sent folder could not be saved: %(reason)s")
NO_SENT_FOLDER = gettext_lazy("No Sent folder was found: type its name in the mailbox's settings.")
# usual names of the Sent folder, for servers that do not mark it \Sent
SENT_NAMES = (
    "Sent",
    "Sent Items",
    "Sent Messages",
    "Sent Mail",
    "INBOX.Sent",
    "INBOX/Sent",
    "[Gmail]/Sent Mail",
    "Enviados",
    "Elementos enviados",
    "INBOX.Enviados",
)
_LIST_LINE = re.compile(rb'^\((?P<flags>[^)]*)\)\s+(?:"(?:[^"\\]|\\.)*"|NIL)\s+(?P<name>.*)$', re.IGNORECASE)


# --- choosing the route -----------------------------------------------------------------------------


def mailbox_route(organization: Organization, user: User) -> Route | None:
    """The route of what `user` writes on behalf of `organization`: their own mailbox that sends,
    else the organisation's default sender; None for the relay. Runs in the organisation's scope."""
    mailbox = sending_mailbox_for(organization_id=organization.pk, user_id=user.pk)
    if mailbox is None:
        return None
    return Route(transport=TRANSPORT, ref=str(mailbox.pk), address=mailbox.email_address)


def register() -> None:
    """Make the `mailbox` transport known to the messaging layer (TouchpointsConfig.ready())."""
    register_transport(Transport(name=TRANSPORT, open=mailbox_connection_open, member_route=mailbox_route))


# --- connecting -------------------------------------------------------------------------------------


def _answer(code: int, text: bytes | str) -> str:
    message = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(message.split())}".strip()[:300]


def _credentials(mailbox: Mailbox) -> tuple[str, str]:
    try:
        password = crypto.decrypt(mailbox.smtp_password_encrypted or mailbox.password_encrypted)
    except crypto.SecretUnreadable as exc:
        raise TransportError(str(SECRET_UNREADABLE), temporary=False, route_broken=True) from exc
    return mailbox.smtp_username or mailbox.username, password


def _connect_failed(mailbox: Mailbox, reason: object) -> TransportError:
    logger.warning(
        "mailbox %s: could not connect to SMTP %s:%s: %s", mailbox.pk, mailbox.smtp_host, mailbox.smtp_port, reason
    )
    return TransportError(str(SMTP_CONNECT_FAILED), temporary=True, connection_lost=True)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{type(exc).__name__}: {_answer(exc.smtp_code, exc.smtp_error)}"
    return f"{type(exc).__name__}: {exc}"[:300]


def smtp_connect(mailbox: Mailbox) -> smtplib.SMTP:
    """A logged-in connection to the checked address of the mailbox's SMTP server, following the
    security policy of the module docstring. Raises TransportError; a refused login also marks the
    mailbox as needing attention."""
    if not mailbox.smtp_host:
        raise TransportError(str(MAILBOX_GONE), temporary=False, route_broken=True)
    username, password = _credentials(mailbox)
    smtp: smtplib.SMTP | None = None
    try:
        target = outbound.resolve_target(mailbox.smtp_host, mailbox.smtp_port)
        if mailbox.smtp_security == SmtpSecurity.SSL:
            smtp = PinnedSMTPSSL(target, context=tls_context(), timeout=SMTP_TIMEOUT)
        else:
            smtp = PinnedSMTP(target, timeout=SMTP_TIMEOUT)
        smtp.connect(target.host, target.port)
        smtp.ehlo()
        if mailbox.smtp_security == SmtpSecurity.STARTTLS:
            if not smtp.has_extn("starttls"):
                raise _connect_failed(mailbox, "no STARTTLS: the password would travel unencrypted")
            smtp.starttls(context=tls_context())
            smtp.ehlo()
        elif mailbox.smtp_security == SmtpSecurity.NONE:
            peer = smtp.sock.getpeername()[0] if smtp.sock is not None else ""
            if not is_local_host(str(peer)):
                raise _connect_failed(mailbox, "no encryption is only allowed to this machine")
    except TransportError:
        quit_quietly(smtp)
        raise
    except (outbound.OutboundError, OSError, ValueError, smtplib.SMTPException) as exc:
        # ssl.SSLError, socket.timeout and refused connections are OSErrors; UnicodeError a ValueError
        quit_quietly(smtp)
        raise _connect_failed(mailbox, _reason(exc)) from exc
    try:
        if mailbox.smtp_security != SmtpSecurity.NONE or smtp.has_extn("auth"):
            login_utf8(smtp, username, password)
        # else: a development server on this machine that asks for no login (MailHog, aiosmtpd)
    except (smtplib.SMTPException, OSError) as exc:
        quit_quietly(smtp)
        if isinstance(exc, (smtplib.SMTPServerDisconnected, TimeoutError)) or (
            isinstance(exc, smtplib.SMTPResponseException) and 400 <= exc.smtp_code < 500
        ):
            raise _connect_failed(mailbox, _reason(exc)) from exc  # the server is busy: try later
        logger.info("mailbox %s: SMTP login refused by %s: %s", mailbox.pk, mailbox.smtp_host, _reason(exc))
        mailbox_outgoing_note(mailbox, str(SMTP_LOGIN_FAILED))
        raise TransportError(str(SMTP_LOGIN_FAILED), temporary=False, route_broken=True) from exc
    return smtp


def mailbox_outgoing_note(mailbox: Mailbox, note: str) -> None:
    """Record on the mailbox what needs the attention of whoever set it up ("" when all is well)."""
    if mailbox.outgoing_error != note:
        mailbox.outgoing_error = note
        Mailbox.dangerously_unscoped.filter(pk=mailbox.pk).update(outgoing_error=note, updated_at=timezone.now())


# --- the messaging layer's connection ---------------------------------------------------------------


def _envelope(email: EmailMessage) -> tuple[str, list[str], bytes]:
    """The envelope sender, recipients and the exact bytes to send (and to copy to Sent)."""
    encoding = email.encoding or settings.DEFAULT_CHARSET
    sender = sanitize_address(email.from_email, encoding)
    recipients = [sanitize_address(address, encoding) for address in email.recipients()]
    # Django's MIME classes take `linesep`, as its own SMTP backend uses them
    return sender, recipients, email.message().as_bytes(linesep="\r\n")  # type: ignore[call-arg]


def _refused(exc: smtplib.SMTPException) -> TransportError:
    """A refusal after the login: the member's own server speaking to them (code and text)."""
    code: int
    text: bytes | str
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(exc.recipients.values()), (550, b"recipient refused"))
    elif isinstance(exc, smtplib.SMTPResponseException):
        code, text = exc.smtp_code, exc.smtp_error
    else:
        code, text = 554, str(exc)
    answer = _answer(code, text)
    return TransportError(str(SMTP_REFUSED) % {"answer": answer}, temporary=400 <= code < 500)


@dataclass
class MailboxConnection:
    """The connection of one mailbox's messages in a batch: connected at the first message; at
    `close()` the copies of what was sent are appended to the Sent folder."""

    mailbox: Mailbox
    smtp: smtplib.SMTP | None = None
    copies: list[bytes] = field(default_factory=list)

    def send(self, email: EmailMessage) -> None:
        sender, recipients, raw = _envelope(email)
        if self.smtp is None:
            self.smtp = smtp_connect(self.mailbox)
        try:
            self.smtp.sendmail(sender, recipients, raw)
        except smtplib.SMTPServerDisconnected as exc:
            self.smtp = None
            raise _connect_failed(self.mailbox, _reason(exc)) from exc
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as exc:
            logger.info("mailbox %s: message refused: %s", self.mailbox.pk, _reason(exc))
            raise _refused(exc) from exc
        except OSError as exc:
            quit_quietly(self.smtp)
            self.smtp = None
            raise _connect_failed(self.mailbox, _reason(exc)) from exc
        if self.mailbox.outgoing_error:
            mailbox_outgoing_note(self.mailbox, "")
        if self.mailbox.save_sent_copy:
            self.copies.append(raw)

    def close(self) -> None:
        quit_quietly(self.smtp)
        self.smtp = None
        copies, self.copies = self.copies, []
        if copies:
            sent_copies_save(self.mailbox, copies)


def mailbox_connection_open(ref: str, organization_id: int | None) -> MailboxConnection:
    """The connection for the route `mailbox:<ref>` of a message of `organization_id` (the worker
    runs outside any organisation's scope: the mailbox must be that organisation's)."""
    try:
        pk = int(ref)
    except ValueError:
        pk = 0
    mailbox = (
        Mailbox.dangerously_unscoped.filter(pk=pk, organization_id=organization_id).exclude(smtp_host="").first()
        if organization_id is not None
        else None
    )
    if mailbox is None:
        raise TransportError(str(MAILBOX_GONE), temporary=False, route_broken=True)
    return MailboxConnection(mailbox=mailbox)


# --- the copy in Sent ---------------------------------------------------------------------------------


def _list_entries(imap: imaplib.IMAP4) -> list[tuple[set[str], str]]:
    """(flags, decoded name) of every folder the server lists."""
    status, data = imap.list()
    if status != "OK":
        return []
    entries: list[tuple[set[str], str]] = []
    for item in data:
        raw: bytes
        if isinstance(item, tuple):  # the name came as a literal
            match = _LIST_LINE.match(bytes(item[0] or b""))
            if match is None:
                continue
            raw = bytes(item[1] or b"")
        elif isinstance(item, bytes):
            match = _LIST_LINE.match(item)
            if match is None:
                continue
            raw = match.group("name").strip()
            if raw.startswith(b'"') and raw.endswith(b'"'):
                raw = re.sub(rb"\\(.)", rb"\1", raw[1:-1])
        else:
            continue
        flags = {f.lower() for f in match.group("flags").decode("ascii", "replace").split()}
        entries.append((flags, imap_utf7_decode(raw.decode("utf-8", "replace"))))
    return entries


def sent_folder_find(imap: imaplib.IMAP4) -> str:
    """The folder the server marks \\Sent, else the first usual name it has; raises ImapFailure."""
    entries = _list_entries(imap)
    for flags, name in entries:
        if "\\sent" in flags:
            return name
    names = {name.casefold(): name for _flags, name in entries}
    for candidate in SENT_NAMES:
        if candidate.casefold() in names:
            return names[candidate.casefold()]
    raise ImapFailure(str(NO_SENT_FOLDER))


def _append(imap: imaplib.IMAP4, folder: str, raw: bytes) -> None:
    when = imaplib.Time2Internaldate(time.time())
    status, data = imap.append(imap_quote(folder), r"(\Seen)", when, raw)
    if status != "OK" and b"TRYCREATE" in b" ".join(d for d in data if isinstance(d, bytes)).upper():
        imap.create(imap_quote(folder))
        status, data = imap.append(imap_quote(folder), r"(\Seen)", when, raw)
    if status != "OK":
        raise ImapFailure(_("The server refused to store the copy in “%(folder)s”.") % {"folder": folder})


def sent_copies_save(mailbox: Mailbox, copies: list[bytes]) -> str:
    """Append the copies to the mailbox's Sent folder (found and remembered when not typed); a
    failure is noted on the mailbox and logged, never raised: the messages have gone out. Returns
    the folder, or "" when the copies could not be saved."""
    try:
        imap = imap_connect(mailbox)
    except ImapFailure as exc:
        mailbox_outgoing_note(mailbox, str(SENT_COPY_FAILED) % {"reason": exc})
        return ""
    try:
        folder = mailbox.sent_folder or sent_folder_find(imap)
        for raw in copies:
            _append(imap, folder, raw)
    except ImapFailure as exc:
        mailbox_outgoing_note(mailbox, str(SENT_COPY_FAILED) % {"reason": exc})
        return ""
    except (OSError, imaplib.IMAP4.error) as exc:
        logger.warning("mailbox %s: Sent copy failed: %s: %s", mailbox.pk, type(exc).__name__, exc)
        mailbox_outgoing_note(mailbox, str(SENT_COPY_FAILED) % {"reason": _("the connection was lost")})
        return ""
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            imap.logout()
    if not mailbox.sent_folder:
        mailbox.sent_folder = folder
        Mailbox.dangerously_unscoped.filter(pk=mailbox.pk, sent_folder="").update(
            sent_folder=folder, updated_at=timezone.now()
        )
    return folder


# --- "send a test e-mail" -----------------------------------------------------------------------------


def mailbox_send_test(*, actor: Membership, mailbox: Mailbox) -> ConnectionCheck:
    """Send a short e-mail through the mailbox's SMTP server to the member asking, now (the one
    e-mail sent inside a request: it is the check of the settings, like the IMAP connection test),
    and save its copy in Sent as every message would. The outcome is recorded on the mailbox."""
    require_change_mailbox(actor, mailbox)
    if not mailbox.smtp_host:
        return ConnectionCheck(ok=False, message=_("Set the SMTP server first: this mailbox does not send."))
    user = actor.user
    email = EmailMessage(
        subject=_("Vínculo: test e-mail from %(address)s") % {"address": mailbox.email_address},
        body=_(
            "This e-mail was sent through the SMTP server of the mailbox “%(name)s” (%(host)s). "
            "What you write from Vínculo leaves the same way."
        )
        % {"name": mailbox.name, "host": mailbox.smtp_host},
        from_email=formataddr((user.full_name, mailbox.email_address)),
        to=[user.email],
        headers={"Auto-Submitted": "auto-generated"},
    )
    connection = MailboxConnection(mailbox=mailbox)
    try:
        connection.send(email)
    except TransportError as exc:
        connection.close()
        if not exc.route_broken:
            mailbox_outgoing_note(mailbox, exc.reason)
        return ConnectionCheck(ok=False, message=exc.reason)
    mailbox_outgoing_note(mailbox, "")
    copies = bool(connection.copies)
    connection.close()
    message = _("Sent to %(address)s: the SMTP server accepted the login and the message.") % {"address": user.email}
    if copies and not mailbox.outgoing_error:
        message += " " + _("A copy was saved in “%(folder)s”.") % {"folder": mailbox.sent_folder}
    elif copies:
        message += " " + mailbox.outgoing_error
    return ConnectionCheck(ok=not mailbox.outgoing_error, message=message)
