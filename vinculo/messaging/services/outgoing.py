"""The one way to send e-mail: `message_queue` writes an outgoing-message row in the caller's
transaction and enqueues its sending once that transaction commits; the task worker sends it
(vinculo/messaging/tasks.py). Nothing is sent inside a request, a rolled-back request sends
nothing, and a lost enqueue is found again by the periodic sweep.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from email.utils import make_msgid, parseaddr
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from vinculo.accounts.models import Organization, User
from vinculo.contacts.models import Contact
from vinculo.messaging import attachments as attachment_files
from vinculo.messaging.models import MessageKind, MessageState, OutgoingAttachment, OutgoingMessage
from vinculo.messaging.services.suppression import normalize_address, suppression_reasons
from vinculo.messaging.tasks import send_outgoing
from vinculo.messaging.transports import Route, system_route, transport_named

logger = logging.getLogger(__name__)

# headers a caller may set; the rest (From, To, Subject, Date, MIME) are the message's own
ALLOWED_HEADERS = {
    "Message-ID",
    "In-Reply-To",
    "References",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "Content-Language",
    "Auto-Submitted",
    "X-Auto-Response-Suppress",
}
MAX_SUBJECT = 998
_LINE_BREAKS = re.compile(r"[\r\n\x00]+")

Subject = str | Callable[[], str]


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mimetype: str = "application/octet-stream"


def install_mail_domain() -> str:
    """The domain of the install's sending address (DEFAULT_FROM_EMAIL), else of SITE_URL."""
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    return address.rpartition("@")[2] or urlsplit(settings.SITE_URL).hostname or "vinculo.invalid"


def new_message_id(from_email: str = "") -> str:
    """A Message-ID on the domain of the sending address (what receivers and DKIM alignment
    expect), else the install's."""
    domain = parseaddr(from_email)[1].rpartition("@")[2] if from_email else ""
    return make_msgid(domain=domain or install_mail_domain())


def _recipient(to: str | tuple[str, str]) -> tuple[str, str]:
    """(address, name) from "ana@x.es", "Ana <ana@x.es>" or ("Ana", "ana@x.es")."""
    if isinstance(to, tuple):
        name, address = to
    elif _LINE_BREAKS.search(to or ""):
        name, address = "", ""
    else:
        name, address = parseaddr(to or "")
        if not address:
            address = to or ""
    address = normalize_address(address)
    try:
        validate_email(address)
    except ValidationError:
        raise ValidationError({"to": [_("Enter a valid e-mail address.")]}) from None
    return address, _LINE_BREAKS.sub(" ", name or "").strip()[:200]


def _render(
    subject: Subject, template: str, context: Mapping[str, Any] | None, text: str, html: str
) -> tuple[str, str, str]:
    """Subject, text and HTML in the active language. `template` names `<template>.txt` (required)
    and `<template>.html` (used when it exists)."""
    subject_text = subject() if callable(subject) else str(subject)
    subject_text = _LINE_BREAKS.sub(" ", subject_text).strip()[:MAX_SUBJECT]
    if template:
        data = dict(context or {})
        text = render_to_string(f"{template}.txt", data)
        try:
            html = render_to_string(f"{template}.html", data)
        except TemplateDoesNotExist:
            html = ""
    return subject_text, text, html


def _clean_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    cleaned: dict[str, str] = {}
    for name, value in (headers or {}).items():
        if name not in ALLOWED_HEADERS:
            raise ValueError(f"header {name!r} cannot be set")
        if _LINE_BREAKS.search(str(value)):
            raise ValueError(f"header {name!r} holds a line break")
        cleaned[name] = str(value)
    return cleaned


def _blocking_reason(
    organization: Organization | None, address: str, kind: str, respect_suppression: bool | Collection[str] | None
) -> str:
    """The suppression reason that stops this message, or ""."""
    if organization is None or respect_suppression is False:
        return ""
    if respect_suppression is None and kind == MessageKind.SYSTEM:
        return ""
    reason = suppression_reasons(organization, [address]).get(address, "")
    if isinstance(respect_suppression, Collection) and reason not in respect_suppression:
        return ""
    return reason


def _existing(organization: Organization | None, idempotency_key: str) -> OutgoingMessage | None:
    return OutgoingMessage.dangerously_unscoped.filter(
        organization=organization, idempotency_key=idempotency_key
    ).first()


@transaction.atomic
def message_queue(
    *,
    organization: Organization | None,
    to: str | tuple[str, str],
    subject: Subject,
    template: str = "",
    context: Mapping[str, Any] | None = None,
    text: str = "",
    html: str = "",
    language: str = "",
    kind: str = MessageKind.ONE_OFF,
    contact: Contact | None = None,
    from_email: str = "",
    reply_to: str = "",
    attachments: Iterable[Attachment] = (),
    headers: Mapping[str, str] | None = None,
    idempotency_key: str = "",
    respect_suppression: bool | Collection[str] | None = None,
    unsubscribe_url: str = "",
    html_transform: Callable[[str], str] | None = None,
    actor: User | None = None,
    route: Route | None = None,
) -> OutgoingMessage:
    """Write one e-mail to one recipient and have the worker send it after commit.

    - The body is `template` rendered with `context`, or `text` (and `html`) as given; the subject
      is a string or a callable, evaluated like the templates in `language` (the recipient's).
    - A Message-ID is assigned unless `headers` carries one (threading callers pass In-Reply-To
      and References too).
    - Suppression: when it applies (`respect_suppression`: by default every kind but `system`;
      True/False; or the reasons that block, e.g. a double opt-in ignores an old unsubscribe) and
      the organisation suppressed the address, the row is stored as `suppressed` with the reason
      and nothing is sent: the caller reads `state` and `suppressed_reason` to tell the user.
    - `unsubscribe_url` adds List-Unsubscribe with one-click POST (RFC 8058); `html_transform`
      rewrites the HTML before it is stored (link tracking).
    - `idempotency_key`: writing the same key twice (per organisation) returns the first row.
    - `organization` None is install-level mail (kind `system` only; see OutgoingMessage).
    - `route`: the server it leaves through (vinculo/messaging/transports.py): by default the
      organisation's system route (its own SMTP server, else the install's relay, else the
      outbox); `member_route(…)` for what a member writes. A message on the outbox route is
      stored as `outbox` (kept, readable on the Outbox page) and not handed to the worker.
    - `attachments` are kept as files under the organisation (vinculo/messaging/attachments.py).

    Raises ValidationError({"to": …}) for an address that is not one, and
    ValidationError({"attachments": …}) for files too large to send, before anything is written.
    """
    if organization is None and kind != MessageKind.SYSTEM:
        raise ValueError("only system mail may be sent without an organisation")
    if route is None:
        route = system_route(organization=organization)
    if not (route.is_relay or route.is_outbox) and (transport_named(route.transport) is None or organization is None):
        raise ValueError(f"no transport {route.transport!r} for this message")
    address, name = _recipient(to)
    if idempotency_key:
        found = _existing(organization, idempotency_key)
        if found is not None:
            return found
    extra = _clean_headers(headers)
    language = language or (organization.language if organization is not None else settings.LANGUAGE_CODE)
    with translation.override(language):
        subject_text, text, html = _render(subject, template, context, text, html)
    if html and html_transform is not None:
        html = html_transform(html)
    from_email = from_email or settings.DEFAULT_FROM_EMAIL
    message_id = extra.setdefault("Message-ID", new_message_id(from_email))
    extra.setdefault("Content-Language", language)
    if unsubscribe_url:
        extra["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        extra["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    reason = _blocking_reason(organization, address, kind, respect_suppression)
    files = list(attachments)
    if any(len(f.content) > attachment_files.max_bytes() for f in files) or (
        sum(len(f.content) for f in files) > attachment_files.max_total_bytes()
    ):
        raise ValidationError({"attachments": [_("The attachments are too large to send by e-mail.")]})
    row = OutgoingMessage(
        organization=organization,
        kind=kind,
        to_address=address,
        to_name=name,
        contact=contact,
        from_email=from_email,
        reply_to=reply_to,
        subject=subject_text,
        text_body=text,
        html_body=html,
        headers=extra,
        message_id=message_id,
        language=language,
        state=MessageState.SUPPRESSED if reason else MessageState.OUTBOX if route.is_outbox else MessageState.QUEUED,
        suppressed_reason=reason,
        idempotency_key=idempotency_key,
        created_by=actor,
        next_attempt_at=timezone.now(),
        transport=route.transport,
        transport_ref=route.ref,
    )
    try:
        with transaction.atomic():
            row.save(force_insert=True)
    except IntegrityError:
        if not idempotency_key:
            raise
        found = _existing(organization, idempotency_key)  # written meanwhile by a concurrent caller
        if found is None:
            raise
        return found
    if files:
        _store_attachments(row, files)
    if row.state == MessageState.QUEUED:
        transaction.on_commit(lambda: _enqueue_send(row.pk))
    elif row.state == MessageState.OUTBOX:
        logger.info("e-mail %s to %s kept in the outbox: no SMTP server is configured", row.pk, row.to_address)
    return row


def _store_attachments(row: OutgoingMessage, files: list[Attachment]) -> None:
    """Each file under the organisation and the message (vinculo/messaging/attachments.py); the
    files written are removed again when the rows cannot be saved."""
    key = f"{row.pk}-{attachment_files.message_key(row.message_id)[:16]}"
    written: list[str] = []
    try:
        rows = []
        for index, item in enumerate(files, start=1):
            path = attachment_files.attachment_path(
                organization_id=row.organization_id, area="outgoing", key=key, index=index
            )
            written.append(attachment_files.attachment_store(path, item.content))
            rows.append(
                OutgoingAttachment(
                    organization=row.organization,
                    message=row,
                    filename=attachment_files.clean_filename(item.filename),
                    mimetype=attachment_files.clean_content_type(item.mimetype),
                    file=written[-1],
                    size=len(item.content),
                )
            )
        OutgoingAttachment.dangerously_unscoped.bulk_create(rows)
    except BaseException:
        attachment_files.attachments_delete(written)
        raise


def _enqueue_send(message_id: int) -> None:
    """Hand the stored message to a worker; if that fails, the row is stored all the same and the
    workers' sweep sends it within seconds: never a 500 after the commit."""
    try:
        send_outgoing.enqueue(message_id)
    except Exception:
        logger.exception("could not enqueue outgoing message %s; the workers' sweep will send it", message_id)
