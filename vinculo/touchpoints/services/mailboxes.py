"""Connecting IMAP mailboxes: create, change, delete, test the connection.

A mailbox is a member's own (`user` set: only they see it and change it) or shared by an owner or
admin of the organisation (`user` empty: every member sees it, only owners and admins change it).
The password is encrypted at rest (vinculo.touchpoints.crypto) and never shown back, returned by
the API, written to the audit trail or logged; leaving it empty when editing keeps the stored one.

Server addresses follow the rules of every server-side connection (vinculo.core.outbound): a host
that is, or resolves to, a local, private, link-local, reserved or cloud-metadata address is refused
when saved (a field error on `host`), and again at every connection, which goes to the address that
was checked (`PinnedIMAP4`, `PinnedIMAP4SSL`), so that a DNS answer changed after the check is never
used. VINCULO_ALLOW_PRIVATE_TARGETS allows this machine and private networks (development, tests).

Who configures what: owners and admins configure the shared mailboxes; any member who may write
connects their own (only they see it and its errors). Both follow the same address rules, so a
member's own mailbox reaches no more than a mail program on the member's computer would: public
servers only.

Transport security policy (`imap_connect`): with "SSL/TLS" on, IMAP over TLS (port 993); with it
off, the connection must be upgraded with STARTTLS before the password is sent, and a server that
does not offer STARTTLS is refused, except when the address connected to is this machine
(127.0.0.0/8, ::1: only reachable with private targets allowed, e.g. the test suite's dovecot).

What a failed connection tells the user is "could not connect" or "could not log in", never what
the socket or the server said (a closed port, a silent one and one that is not IMAP look the same,
so the connection test cannot map ports); the reason goes to the server log.

Sending (optional: an SMTP server, `smtp_host`): the SMTP host follows the same address rules, and
its security is SSL/TLS or STARTTLS, or none for a server on this machine only (refused when saved
for any other host, and again at the connection). The SMTP user name and password default to the
IMAP ones; an SMTP password is encrypted and write-only like the IMAP one. A shared mailbox that
sends may be the organisation's default sender (one at most): members without a mailbox of their
own that sends write through it. The sending itself is vinculo/touchpoints/services/mail_send.py.
"""

from __future__ import annotations

import base64
import contextlib
import imaplib
import ipaddress
import logging
import re
import socket
import ssl
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from vinculo.accounts.models import Membership
from vinculo.accounts.permissions import can_manage_org, require_org_admin, require_write
from vinculo.contacts.validation import clean_email
from vinculo.core import outbound
from vinculo.core.audit import audit_create, audit_delete, audit_update, diff, snapshot
from vinculo.core.validation import Errors, add_error, clean_text
from vinculo.messaging.smtp import is_local_host, tls_context
from vinculo.touchpoints import crypto
from vinculo.touchpoints.models import Mailbox, SmtpSecurity

logger = logging.getLogger(__name__)

IMAP_TIMEOUT = 20  # seconds for connecting and for each command
MAX_PASSWORD = 500
TEXT_FIELDS = {"name": 100, "username": 254, "folder": 100}
OPTIONAL_TEXT_FIELDS = {"smtp_username": 254, "sent_folder": 100}
BOOL_FIELDS = ("use_ssl", "create_leads", "is_active", "save_sent_copy", "is_default_sender")
SMTP_FIELDS = ("smtp_host", "smtp_port", "smtp_security", "smtp_password", *OPTIONAL_TEXT_FIELDS)
MAILBOX_FIELDS = (
    *TEXT_FIELDS,
    *BOOL_FIELDS,
    *SMTP_FIELDS,
    "email_address",
    "host",
    "port",
    "password",
    "shared",
)
# what the audit trail keeps: never a password
AUDITED = [
    "name",
    "email_address",
    "host",
    "port",
    "use_ssl",
    "username",
    "folder",
    "create_leads",
    "is_active",
    "smtp_host",
    "smtp_port",
    "smtp_security",
    "smtp_username",
    "save_sent_copy",
    "sent_folder",
    "is_default_sender",
]
# what the connection to the SMTP server depends on: a change clears "needs attention"
SMTP_CONNECTION = ("smtp_host", "smtp_port", "smtp_security", "smtp_username", "username", "sent_folder")
SMTP_DEFAULT_PORTS = {SmtpSecurity.SSL: 465, SmtpSecurity.STARTTLS: 587, SmtpSecurity.NONE: 25}
_HOSTNAME = re.compile(r"^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(?:\.(?!-)[a-z0-9-]{1,63}(?<!-))*\.?$", re.IGNORECASE)
# what users are told (the reasons go to the server log)
HOST_REFUSED = gettext_lazy("This address is local, private or reserved: Vínculo does not connect to it.")
CONNECT_FAILED = gettext_lazy("Could not connect to the server: check the server name, the port and SSL/TLS.")
LOGIN_FAILED = gettext_lazy("Could not log in: check the user name and the password.")


class ImapFailure(Exception):
    """The server could not be reached, refused the login or the folder; the message says which,
    in words for the person who set the mailbox up (never with the password, never with what the
    socket said)."""


def _clean_host(value: Any, errors: Errors, field: str = "host") -> str | None:
    if not isinstance(value, str) or not value.strip():
        add_error(errors, field, _("This field is required."))
        return None
    host = value.strip().lower()
    try:
        ipaddress.ip_address(host.strip("[]"))
        return host
    except ValueError:
        pass
    if not _HOSTNAME.match(host):
        if field == "smtp_host":
            add_error(errors, field, _("Enter a server name such as smtp.example.com, or an IP address."))
        else:
            add_error(errors, field, _("Enter a server name such as imap.example.com, or an IP address."))
        return None
    return host


def _clean_port(value: Any, errors: Errors, field: str = "port") -> int | None:
    if isinstance(value, bool):
        add_error(errors, field, _("Enter a whole number."))
        return None
    try:
        port = int(str(value).strip())
    except (TypeError, ValueError):
        add_error(errors, field, _("Enter a whole number."))
        return None
    if not 1 <= port <= 65535:
        add_error(errors, field, _("Enter a port between 1 and 65535."))
        return None
    return port


def _screen_host(data: Mapping[str, Any]) -> dict[str, str]:
    """The error of each host (IMAP, SMTP) that is, or resolves to, a refused address
    (vinculo.core.outbound), by field. Called before the service's transaction: a slow DNS answer
    must not hold the database."""
    refused: dict[str, str] = {}
    for field in ("host", "smtp_host"):
        host = _clean_host(data.get(field), {}, field) if data.get(field) else None
        if host is None:
            continue
        try:
            outbound.check_host(host)
        except outbound.AddressRefused as exc:
            logger.info("mailbox server refused: %s", exc)
            refused[field] = str(HOST_REFUSED)
    return refused


def _clean_password(value: Any, field: str, errors: Errors) -> str | None:
    if not isinstance(value, str):
        add_error(errors, field, _("Enter text."))
    elif len(value) > MAX_PASSWORD:
        add_error(errors, field, _("At most %(n)s characters.") % {"n": MAX_PASSWORD})
    elif "\0" in value or "\r" in value or "\n" in value:
        add_error(errors, field, _("Enter text without control characters."))
    else:
        return value
    return None


def _apply_sending(mailbox: Mailbox, data: Mapping[str, Any], errors: Errors, refused: Mapping[str, str]) -> None:
    """The SMTP settings given in `data` (see the module docstring)."""
    if "smtp_host" in data:
        if data["smtp_host"] in (None, ""):
            mailbox.smtp_host = ""
        else:
            host = _clean_host(data["smtp_host"], errors, "smtp_host")
            if host is not None and refused.get("smtp_host"):
                add_error(errors, "smtp_host", refused["smtp_host"])
            elif host is not None:
                mailbox.smtp_host = host
    if data.get("smtp_security") not in (None, ""):
        if data["smtp_security"] not in SmtpSecurity.values:
            add_error(errors, "smtp_security", _("Choose SSL/TLS, STARTTLS or none."))
        else:
            mailbox.smtp_security = data["smtp_security"]
            if data.get("smtp_port") in (None, ""):
                mailbox.smtp_port = SMTP_DEFAULT_PORTS[SmtpSecurity(mailbox.smtp_security)]
    if data.get("smtp_port") not in (None, ""):
        port = _clean_port(data["smtp_port"], errors, "smtp_port")
        if port is not None:
            mailbox.smtp_port = port
    for name, max_length in OPTIONAL_TEXT_FIELDS.items():
        if name in data:
            value = clean_text(data[name], name, errors, max_length=max_length, single_line=True)
            if value is not None:
                setattr(mailbox, name, value)
    password = data.get("smtp_password")
    if password not in (None, ""):
        cleaned = _clean_password(password, "smtp_password", errors)
        if cleaned is not None:
            mailbox.smtp_password_encrypted = crypto.encrypt(cleaned)
    if (
        mailbox.smtp_host
        and mailbox.smtp_security == SmtpSecurity.NONE
        and not is_local_host(mailbox.smtp_host)
        and "smtp_host" not in errors
    ):
        add_error(
            errors,
            "smtp_security",
            _("Without encryption the password would travel in the clear: choose SSL/TLS or STARTTLS."),
        )
    if mailbox.is_default_sender and "is_default_sender" not in errors:
        if mailbox.user_id is not None:
            add_error(errors, "is_default_sender", _("Only a shared mailbox can be the organisation's sender."))
        elif not mailbox.smtp_host and "smtp_host" not in errors:
            add_error(errors, "is_default_sender", _("Set the SMTP server first: this mailbox does not send."))


def _apply(
    actor: Membership,
    mailbox: Mailbox,
    data: Mapping[str, Any],
    errors: Errors,
    *,
    creating: bool,
    refused: Mapping[str, str] | None = None,
) -> None:
    refused = refused or {}
    host_refused = refused.get("host")
    for key in set(data) - set(MAILBOX_FIELDS):
        add_error(errors, key, _("Unknown field."))
    for name, max_length in TEXT_FIELDS.items():
        if name == "folder" and data.get("folder") in (None, ""):
            if "folder" in data:
                mailbox.folder = "INBOX"
            continue
        if name in data or creating:
            value = clean_text(data.get(name), name, errors, max_length=max_length, required=True, single_line=True)
            if value is not None:
                setattr(mailbox, name, value)
    if "email_address" in data or creating:
        try:
            mailbox.email_address = clean_email(data.get("email_address"))
        except ValidationError as exc:
            errors.setdefault("email_address", []).extend(exc.messages)
    if "host" in data or creating:
        host = _clean_host(data.get("host"), errors)
        if host is not None and host_refused:
            add_error(errors, "host", host_refused)
        elif host is not None:
            mailbox.host = host
    if "port" in data and data["port"] not in (None, ""):
        port = _clean_port(data["port"], errors)
        if port is not None:
            mailbox.port = port
    for name in BOOL_FIELDS:
        if name in data and data[name] is not None:
            if not isinstance(data[name], bool):
                add_error(errors, name, _("Enter true or false."))
            else:
                setattr(mailbox, name, data[name])
    password = data.get("password")
    if password not in (None, ""):
        cleaned = _clean_password(password, "password", errors)
        if cleaned is not None:
            mailbox.password_encrypted = crypto.encrypt(cleaned)
    elif creating:
        add_error(errors, "password", _("This field is required."))
    _apply_sending(mailbox, data, errors, refused)


def can_change_mailbox(actor: Membership, mailbox: Mailbox) -> bool:
    """A member changes their own mailbox; owners and admins change the shared ones."""
    if mailbox.user_id is not None:
        return bool(mailbox.user_id == actor.user_id)
    return can_manage_org(actor)


def require_change_mailbox(actor: Membership, mailbox: Mailbox) -> None:
    require_write(actor)
    if not can_change_mailbox(actor, mailbox):
        require_org_admin(actor)  # raises with the message about shared mailboxes


def mailbox_create(*, actor: Membership, data: Mapping[str, Any]) -> Mailbox:
    """A new mailbox; `shared: true` (owners and admins only) makes it the organisation's."""
    require_write(actor)
    errors: Errors = {}
    shared = data.get("shared", False)
    if not isinstance(shared, bool):
        add_error(errors, "shared", _("Enter true or false."))
        shared = False
    if shared:
        require_org_admin(actor)
    refused = _screen_host(data)
    mailbox = Mailbox(organization_id=actor.organization_id, user=None if shared else actor.user)
    _apply(actor, mailbox, data, errors, creating=True, refused=refused)
    if mailbox.port == 993 and "port" not in data and mailbox.use_ssl is False:
        mailbox.port = 143
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        if mailbox.is_default_sender:
            Mailbox.objects.filter(is_default_sender=True).update(is_default_sender=False, updated_at=timezone.now())
        mailbox.save()
        audit_create(
            instance=mailbox, actor=actor.user, values=snapshot(mailbox, AUDITED), organization=actor.organization
        )
    return mailbox


def mailbox_update(*, actor: Membership, mailbox: Mailbox, data: Mapping[str, Any]) -> Mailbox:
    """Change the given fields (PATCH semantics); an empty password keeps the stored one. Changing
    the server, account or folder starts reading the folder again from the beginning (messages
    already stored are recognised by their Message-ID and not stored twice)."""
    require_change_mailbox(actor, mailbox)
    refused = _screen_host(data)
    with transaction.atomic():
        return _mailbox_update(actor, mailbox, data, refused)


def _mailbox_update(
    actor: Membership, mailbox: Mailbox, data: Mapping[str, Any], refused: Mapping[str, str]
) -> Mailbox:
    mailbox = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
    require_change_mailbox(actor, mailbox)
    errors: Errors = {}
    if "shared" in data:
        add_error(errors, "shared", _("A mailbox cannot change owner; delete it and connect it again."))
    before = snapshot(mailbox, AUDITED)
    old_secret, old_smtp_secret = mailbox.password_encrypted, mailbox.smtp_password_encrypted
    _apply(actor, mailbox, data, errors, creating=False, refused=refused)
    if errors:
        raise ValidationError(errors)
    after = snapshot(mailbox, AUDITED)
    if any(before[k] != after[k] for k in ("host", "port", "username", "folder")):
        mailbox.uid_validity, mailbox.last_uid = None, 0
    if any(before[k] != after[k] for k in ("host", "port", "use_ssl", "username", "folder")) or (
        mailbox.password_encrypted != old_secret
    ):
        mailbox.last_error = ""
    if any(before[k] != after[k] for k in SMTP_CONNECTION) or (
        (mailbox.password_encrypted, mailbox.smtp_password_encrypted) != (old_secret, old_smtp_secret)
    ):
        mailbox.outgoing_error = ""
    if not mailbox.smtp_host:
        mailbox.is_default_sender = False
    if mailbox.is_default_sender and not before["is_default_sender"]:
        Mailbox.objects.filter(is_default_sender=True).exclude(pk=mailbox.pk).update(
            is_default_sender=False, updated_at=timezone.now()
        )
    mailbox.save()
    changes = diff(before, snapshot(mailbox, AUDITED))
    if mailbox.password_encrypted != old_secret:
        changes["password"] = ["***", "***"]
    if mailbox.smtp_password_encrypted != old_smtp_secret:
        changes["smtp_password"] = ["***", "***"]
    audit_update(instance=mailbox, actor=actor.user, changes=changes, organization=actor.organization)
    return mailbox


@transaction.atomic
def mailbox_delete(*, actor: Membership, mailbox: Mailbox) -> None:
    """Disconnect the mailbox; the e-mails it brought stay on the timelines."""
    require_change_mailbox(actor, mailbox)
    audit_delete(instance=mailbox, actor=actor.user, values=snapshot(mailbox, AUDITED), organization=actor.organization)
    mailbox.delete()


# --- connecting ------------------------------------------------------------------------------------


def _login(imap: imaplib.IMAP4, username: str, password: str) -> None:
    """LOGIN takes ASCII only; a non-ASCII password goes with AUTHENTICATE PLAIN (UTF-8, base64)."""
    if password.isascii() and username.isascii():
        imap.login(username, password)
    else:
        imap.authenticate("PLAIN", lambda _challenge: f"\0{username}\0{password}".encode())


class PinnedIMAP4(imaplib.IMAP4):
    """IMAP to an address checked by vinculo.core.outbound, never to a new answer of the resolver;
    `host` stays the server's name (STARTTLS checks the certificate against it)."""

    def __init__(self, target: outbound.Target, *, timeout: float) -> None:
        self.target = target
        super().__init__(target.host, target.port, timeout=timeout)

    def _create_socket(self, timeout: float | None = None) -> socket.socket:
        sys.audit("imaplib.open", self, self.host, self.port)
        return outbound.connect_target(self.target, timeout=timeout or IMAP_TIMEOUT)


class PinnedIMAP4SSL(imaplib.IMAP4_SSL):
    """IMAP over TLS to an address checked by vinculo.core.outbound; SNI and the certificate check
    use the server's name."""

    def __init__(self, target: outbound.Target, *, ssl_context: ssl.SSLContext, timeout: float) -> None:
        self.target = target
        super().__init__(target.host, target.port, ssl_context=ssl_context, timeout=timeout)

    def _create_socket(self, timeout: float | None = None) -> socket.socket:
        sys.audit("imaplib.open", self, self.host, self.port)
        sock = outbound.connect_target(self.target, timeout=timeout or IMAP_TIMEOUT)
        try:
            return self.ssl_context.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


def _reason(exc: BaseException) -> str:
    """What went wrong, for the server log (the server's answer arrives as bytes)."""
    detail = exc.args[0] if len(exc.args) == 1 else None
    text = detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(exc)
    return f"{type(exc).__name__}: {text}"[:300]


def _connect_failed(mailbox: Mailbox, reason: object) -> ImapFailure:
    logger.warning("mailbox %s: could not connect to %s:%s: %s", mailbox.pk, mailbox.host, mailbox.port, reason)
    return ImapFailure(str(CONNECT_FAILED))


def imap_connect(mailbox: Mailbox) -> imaplib.IMAP4:
    """A logged-in connection to the checked address of the mailbox's server, following the
    transport policy of the module docstring."""
    try:
        password = crypto.decrypt(mailbox.password_encrypted)
    except crypto.SecretUnreadable as exc:
        raise ImapFailure(
            _("The stored password cannot be read (the encryption key changed): enter it again.")
        ) from exc
    context = tls_context()
    imap: imaplib.IMAP4
    try:
        target = outbound.resolve_target(mailbox.host, mailbox.port)
        if mailbox.use_ssl:
            imap = PinnedIMAP4SSL(target, ssl_context=context, timeout=IMAP_TIMEOUT)
        else:
            imap = PinnedIMAP4(target, timeout=IMAP_TIMEOUT)
            if "STARTTLS" in imap.capabilities:
                imap.starttls(ssl_context=context)
            elif not is_local_host(str(imap.sock.getpeername()[0])):
                imap.shutdown()
                raise _connect_failed(mailbox, "no STARTTLS: the password would travel unencrypted")
    except ImapFailure:
        raise
    except (outbound.OutboundError, OSError, UnicodeError, imaplib.IMAP4.error) as exc:
        # ssl.SSLError, socket.timeout and refused connections are OSErrors
        raise _connect_failed(mailbox, _reason(exc)) from exc
    try:
        _login(imap, mailbox.username, password)
    except (imaplib.IMAP4.error, OSError) as exc:
        _close(imap)
        logger.info("mailbox %s: login refused by %s: %s", mailbox.pk, mailbox.host, _reason(exc))
        raise ImapFailure(str(LOGIN_FAILED)) from exc
    return imap


def _close(imap: imaplib.IMAP4) -> None:
    with contextlib.suppress(OSError, imaplib.IMAP4.error):
        imap.logout()


def imap_utf7(name: str) -> str:
    """A folder name in IMAP's modified UTF-7 (RFC 3501 5.1.3): "Elementos envíados" becomes
    "Elementos env&AO0-ados"."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            encoded = base64.b64encode("".join(pending).encode("utf-16-be")).decode().rstrip("=")
            out.append("&" + encoded.replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(out)


def imap_utf7_decode(name: str) -> str:
    """The folder name a server lists, from modified UTF-7 back to text ("Elementos env&AO0-ados"
    becomes "Elementos envíados"); a malformed name is returned as it came."""
    out: list[str] = []
    position = 0
    while position < len(name):
        start = name.find("&", position)
        if start < 0:
            out.append(name[position:])
            break
        end = name.find("-", start)
        if end < 0:
            return name
        out.append(name[position:start])
        chunk = name[start + 1 : end]
        if not chunk:
            out.append("&")
        else:
            data = chunk.replace(",", "/")
            try:
                out.append(base64.b64decode(data + "=" * (-len(data) % 4)).decode("utf-16-be"))
            except (ValueError, UnicodeDecodeError):
                return name
        position = end + 1
    return "".join(out)


def imap_quote(folder: str) -> str:
    """A folder name as an IMAP quoted string, in modified UTF-7."""
    return '"' + imap_utf7(folder).replace("\\", "\\\\").replace('"', '\\"') + '"'


def imap_select(imap: imaplib.IMAP4, folder: str) -> int | None:
    """Open `folder` read-only (nothing is marked as read); returns its UIDVALIDITY."""
    name = imap_utf7(folder)
    quoted = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    try:
        status, _data = imap.select(quoted, readonly=True)
    except imaplib.IMAP4.error as exc:
        raise ImapFailure(_("The folder “%(folder)s” cannot be opened.") % {"folder": folder}) from exc
    if status != "OK":
        raise ImapFailure(_("The folder “%(folder)s” cannot be opened.") % {"folder": folder})
    _typ, values = imap.response("UIDVALIDITY")
    try:
        return int(values[0]) if values and values[0] else None
    except (TypeError, ValueError):
        return None


@dataclass
class ConnectionCheck:
    ok: bool
    message: str


def mailbox_test_connection(*, actor: Membership, mailbox: Mailbox) -> ConnectionCheck:
    """Connect, log in and open the folder, without reading anything; the outcome is recorded on
    the mailbox (`last_error`), as a fetch would."""
    require_change_mailbox(actor, mailbox)
    try:
        imap = imap_connect(mailbox)
        try:
            imap_select(imap, mailbox.folder)
        finally:
            _close(imap)
    except ImapFailure as exc:
        check = ConnectionCheck(ok=False, message=str(exc))
    else:
        check = ConnectionCheck(ok=True, message=_("Connected: the server accepted the login and the folder."))
    Mailbox.objects.filter(pk=mailbox.pk).update(
        last_error="" if check.ok else check.message, updated_at=timezone.now()
    )
    mailbox.last_error = "" if check.ok else check.message
    return check
