"""The organisation's e-mail sending: its own SMTP server (saved, removed, tested), and retrying a
message that failed or was kept in the outbox.

The SMTP settings are checked like every server a user names (vinculo/core/outbound.py): a host
that is, or resolves to, this machine, a private network or a metadata service is refused (unless
VINCULO_ALLOW_PRIVATE_TARGETS, for development), with a field error and nothing saved.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import formataddr
from typing import Any

from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from vinculo.accounts.models import Membership
from vinculo.accounts.permissions import require_org_admin, require_write
from vinculo.core import crypto, outbound
from vinculo.messaging import org_smtp
from vinculo.messaging.models import MessageState, OrganizationSmtp, OutgoingMessage, SmtpSecurity
from vinculo.messaging.tasks import send_outgoing
from vinculo.messaging.transports import ORG_SMTP, OUTBOX, RELAY, TransportError, system_route

logger = logging.getLogger(__name__)

HOST_REFUSED = gettext_lazy("This address is local, private or reserved: Vínculo does not connect to it.")
MAX_PASSWORD = 500
_HOSTNAME = re.compile(r"^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(?:\.(?!-)[a-z0-9-]{1,63}(?<!-))*\.?$", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class RetryConflict(Exception):
    """The message is in a state that cannot be retried (sent, queued, suppressed)."""


@dataclass(frozen=True)
class TestResult:
    ok: bool
    message: str


def org_smtp_get(*, organization_id: int) -> OrganizationSmtp | None:
    return OrganizationSmtp.dangerously_unscoped.filter(organization_id=organization_id).first()


def _text(data: Mapping[str, Any], field: str, errors: dict[str, list[str]], *, max_length: int) -> str:
    value = data.get(field)
    if value is None:
        return ""
    if not isinstance(value, str):
        errors.setdefault(field, []).append(_("Enter text."))
        return ""
    value = value.strip()
    if len(value) > max_length:
        errors.setdefault(field, []).append(_("At most %(n)s characters.") % {"n": max_length})
    elif _CONTROL.search(value):
        errors.setdefault(field, []).append(_("Enter text without control characters."))
    return value


def _clean(data: Mapping[str, Any], existing: OrganizationSmtp | None) -> dict[str, Any]:
    """The values to save, or ValidationError with every field's error."""
    errors: dict[str, list[str]] = {}
    host = _text(data, "host", errors, max_length=253).lower()
    if not host and "host" not in errors:
        errors["host"] = [_("This field is required.")]
    elif host and "host" not in errors:
        try:
            ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            if not _HOSTNAME.match(host):
                errors["host"] = [_("Enter a server name such as smtp.example.com, or an IP address.")]
    port: int | None = None
    raw_port = data.get("port")
    if isinstance(raw_port, bool) or raw_port in (None, ""):
        errors["port"] = [_("Enter a whole number.") if raw_port not in (None, "") else _("This field is required.")]
    else:
        try:
            port = int(str(raw_port).strip())
        except (TypeError, ValueError):
            errors["port"] = [_("Enter a whole number.")]
        else:
            if not 1 <= port <= 65535:
                errors["port"] = [_("Enter a port between 1 and 65535.")]
    security = data.get("security") or SmtpSecurity.STARTTLS
    if security not in SmtpSecurity.values:
        errors["security"] = [_("Choose STARTTLS, SSL/TLS or none.")]
    username = _text(data, "username", errors, max_length=254)
    password = data.get("password")
    if password is None or password == "":
        password = None  # keep the stored one
    elif not isinstance(password, str) or len(password) > MAX_PASSWORD or _CONTROL.search(password):
        errors["password"] = [_("Enter a password of at most %(n)s characters, on one line.") % {"n": MAX_PASSWORD}]
    if username and password is None and (existing is None or not existing.password_encrypted):
        errors.setdefault("password", []).append(_("Enter the password of this user name."))
    from_email = _text(data, "from_email", errors, max_length=254).lower()
    if not from_email and "from_email" not in errors:
        errors["from_email"] = [_("This field is required.")]
    elif from_email:
        try:
            validate_email(from_email)
        except ValidationError:
            errors["from_email"] = [_("Enter a valid e-mail address.")]
    from_name = _text(data, "from_name", errors, max_length=100)
    if host and "host" not in errors:
        try:
            outbound.check_host(host)
        except outbound.AddressRefused as exc:
            logger.info("organisation SMTP server refused: %s", exc)
            errors["host"] = [str(HOST_REFUSED)]
        else:
            if security == SmtpSecurity.NONE and not org_smtp.is_local_host(host):
                errors.setdefault("security", []).append(
                    _("Without encryption the password would travel in clear: choose STARTTLS or SSL/TLS.")
                )
    if errors:
        raise ValidationError(errors)
    return {
        "host": host,
        "port": port,
        "security": security,
        "username": username,
        "password": password,
        "from_email": from_email,
        "from_name": from_name,
    }


@transaction.atomic
def org_smtp_save(*, actor: Membership, data: Mapping[str, Any]) -> OrganizationSmtp:
    """Create or change the organisation's SMTP server (owners and admins). A blank password keeps
    the stored one; a blank user name means no login (and forgets the password)."""
    require_org_admin(actor)
    existing = OrganizationSmtp.objects.select_for_update().filter(organization_id=actor.organization_id).first()
    values = _clean(data, existing)
    password = values.pop("password")
    row = existing or OrganizationSmtp(organization_id=actor.organization_id)
    for field, value in values.items():
        setattr(row, field, value)
    if not values["username"]:
        row.password_encrypted = ""
    elif password is not None:
        row.password_encrypted = crypto.encrypt(password)
    row.save()
    return row


@transaction.atomic
def org_smtp_delete(*, actor: Membership) -> bool:
    """Forget the organisation's SMTP server: its mail goes back to the install's relay (or the
    outbox). True when there was one."""
    require_org_admin(actor)
    deleted, _rows = OrganizationSmtp.objects.filter(organization_id=actor.organization_id).delete()
    return bool(deleted)


def org_smtp_send_test(*, actor: Membership) -> TestResult:
    """Send a short e-mail through the organisation's SMTP server to the member asking, now (like
    the mailbox test: the check of the settings is the one e-mail sent inside a request)."""
    require_org_admin(actor)
    found = org_smtp_get(organization_id=actor.organization_id)
    if found is None:
        return TestResult(ok=False, message=_("Save the SMTP server first."))
    user = actor.user
    email = EmailMessage(
        subject=_("Vínculo: test e-mail from %(organization)s") % {"organization": actor.organization.name},
        body=_(
            "This e-mail was sent through the SMTP server of %(organization)s. "
            "Reminders, notifications and what members write from Vínculo leave the same way."
        )
        % {"organization": actor.organization.name},
        from_email=formataddr((found.from_name or actor.organization.name, found.from_email)),
        to=[user.email],
        headers={"Auto-Submitted": "auto-generated"},
    )
    connection = org_smtp.OrgSmtpConnection(smtp_settings=found)
    try:
        connection.send(email)
    except TransportError as exc:
        return TestResult(ok=False, message=exc.reason)
    finally:
        connection.close()
    return TestResult(
        ok=True,
        message=_("Sent to %(address)s: the SMTP server accepted the login and the message.") % {"address": user.email},
    )


def message_retry(*, actor: Membership, message: OutgoingMessage) -> OutgoingMessage:
    """Queue a failed message again (or one kept in the outbox, once a server is configured), as
    new: attempts from zero, sent within seconds. Its route is chosen again when the system chose
    it (the organisation's server, the relay or the outbox); a member's mailbox route is kept.
    Raises RetryConflict for a message that is sent, on its way or suppressed, or kept in the
    outbox while there is still no server to send it."""
    require_write(actor)
    with transaction.atomic():
        locked = OutgoingMessage.objects.select_for_update().filter(pk=message.pk).first()
        if locked is None:
            raise RetryConflict(_("This message no longer exists."))
        if locked.state not in (MessageState.FAILED, MessageState.OUTBOX):
            raise RetryConflict(
                _("Only a message that failed or was kept in the outbox can be sent again; this one is %(state)s.")
                % {"state": locked.get_state_display()}
            )
        transport, ref = locked.transport, locked.transport_ref
        if transport in (RELAY, OUTBOX, ORG_SMTP):
            route = system_route(organization=locked.organization)
            transport, ref = route.transport, route.ref
        if transport == OUTBOX:
            raise RetryConflict(
                _("No SMTP server is configured: set one up under Settings → E-mail sending, then send it again.")
            )
        now = timezone.now()
        locked.state = MessageState.QUEUED
        locked.attempts = 0
        locked.last_error = ""
        locked.next_attempt_at = now
        locked.transport, locked.transport_ref = transport, ref
        locked.save(
            update_fields=[
                "state",
                "attempts",
                "last_error",
                "next_attempt_at",
                "transport",
                "transport_ref",
                "updated_at",
            ]
        )
        pk = locked.pk
        transaction.on_commit(lambda: _enqueue(pk))
    return locked


def _enqueue(message_id: int) -> None:
    try:
        send_outgoing.enqueue(message_id)
    except Exception:
        logger.exception("could not enqueue outgoing message %s; the workers' sweep will send it", message_id)
