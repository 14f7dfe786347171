"""Outbound e-mail: a member writes to a contact from the contact's page.

The message is queued as an outgoing message (vinculo.messaging) and sent by the task worker
through SMTP, retried while the server is away; the request never talks SMTP. Its route and From
address: the member's own mailbox when it sends (its SMTP server, From its address: SPF and DKIM
align), else the organisation's default shared sender (From its address, with the member's name),
else the install's relay (vinculo/touchpoints/services/mail_send.py); through the relay it goes
From the member's own connected mailbox address when they have one, else from DEFAULT_FROM_EMAIL
with Reply-To the member, so that the answer reaches a person. It carries its own Message-ID and, when
it answers a thread, In-Reply-To (the thread's last message) and References, so that the
contact's mail client and the next fetch put the reply in the same thread.

The thread's EmailMessage is written in the same transaction as the outgoing row and carries the
same Message-ID, which links the two (`OutgoingMessage.message_id`). An address on the
organisation's suppression list is refused: the outgoing row is kept (state `suppressed`, with the
reason), nothing is sent or put on the thread, and the form says why.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from email.utils import formataddr, parseaddr
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vinculo.accounts.models import Membership
from vinculo.accounts.permissions import require_write
from vinculo.contacts.models import Contact
from vinculo.contacts.selectors import contact_queryset
from vinculo.core.events import emit
from vinculo.messaging.models import MessageKind, MessageState, OutgoingMessage, SuppressionReason
from vinculo.messaging.services.outgoing import message_queue
from vinculo.messaging.transports import member_route
from vinculo.touchpoints.models import EmailMessage, EmailThread
from vinculo.touchpoints.selectors.mail import email_thread_queryset, sending_mailbox
from vinculo.touchpoints.services.mail_in import event_message_id, snippet
from vinculo.touchpoints.services.mail_send import TRANSPORT
from vinculo.touchpoints.services.threading import normalize_subject, thread_refresh

logger = logging.getLogger(__name__)

MAX_SUBJECT = 300
MAX_BODY = 20_000
MAX_REFERENCES = 20
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass
class Draft:
    """What the compose form offers: the recipient, and the subject when answering a thread."""

    to: str
    subject: str
    thread: EmailThread | None


def reply_subject(subject: str) -> str:
    return subject if normalize_subject(subject) != subject.casefold().strip() else f"Re: {subject}"


def email_draft(*, actor: Membership, contact: Contact, thread: EmailThread | None = None) -> Draft:
    subject = reply_subject(thread.subject) if thread is not None and thread.subject else ""
    return Draft(to=contact.email, subject=subject, thread=thread)


def _clean(
    actor: Membership, contact: Contact, subject: Any, body: Any, thread: Any
) -> tuple[str, str, EmailThread | None]:
    errors: dict[str, list[str]] = {}
    if not contact_queryset(actor=actor).filter(pk=contact.pk).exists():
        errors.setdefault("__all__", []).append(_("No such contact."))
    if not contact.email:
        errors.setdefault("to", []).append(_("This contact has no e-mail address."))
    subject = subject.strip() if isinstance(subject, str) else ""
    if not subject:
        errors.setdefault("subject", []).append(_("This field is required."))
    elif len(subject) > MAX_SUBJECT:
        errors.setdefault("subject", []).append(_("At most %(n)s characters.") % {"n": MAX_SUBJECT})
    elif _CONTROL.search(subject):
        errors.setdefault("subject", []).append(_("Write the subject on one line."))
    body = body.replace("\r\n", "\n") if isinstance(body, str) else ""
    if not body.strip():
        errors.setdefault("body", []).append(_("This field is required."))
    elif len(body) > MAX_BODY:
        errors.setdefault("body", []).append(_("At most %(n)s characters.") % {"n": MAX_BODY})
    found: EmailThread | None = None
    if thread not in (None, ""):
        thread_id = thread.pk if isinstance(thread, EmailThread) else thread
        try:
            found = email_thread_queryset(actor=actor).filter(contacts=contact).get(pk=int(thread_id))
        except (EmailThread.DoesNotExist, ValueError, TypeError, OverflowError):
            errors.setdefault("thread", []).append(_("No such conversation with this contact."))
    if errors:
        raise ValidationError(errors)
    return subject, body, found


def email_send(*, actor: Membership, contact: Contact, subject: Any, body: Any, thread: Any = None) -> EmailMessage:
    """Send a plain-text e-mail to the contact's primary address, store it on the thread (`thread`:
    one of the contact's threads, or None for a new one) and put `email.sent` on the timeline."""
    require_write(actor)
    subject, body, found = _clean(actor, contact, subject, body, thread)
    user = actor.user
    route = member_route(organization=actor.organization, user=user)
    mailbox_id: int | None = int(route.ref) if route.transport == TRANSPORT else None
    reply_to: list[str] = []
    if route.address:
        from_email = formataddr((user.full_name, route.address))
    elif (mailbox := sending_mailbox(actor=actor)) is not None:
        from_email = formataddr((user.full_name, mailbox.email_address))
        mailbox_id = mailbox.pk
    else:
        from_email = settings.DEFAULT_FROM_EMAIL
        reply_to = [formataddr((user.full_name, user.email))]
    from_address = parseaddr(from_email)[1].lower()
    headers: dict[str, str] = {}
    in_reply_to, references = "", []
    if found is not None:
        last = found.messages.order_by("-sent_at", "-id").first()
        if last is not None:
            in_reply_to = last.message_id
            references = [*last.references, last.message_id][-MAX_REFERENCES:]
            headers["In-Reply-To"] = in_reply_to
            headers["References"] = " ".join(references)
    with transaction.atomic():
        outgoing = message_queue(
            organization=actor.organization,
            kind=MessageKind.ONE_OFF,
            to=contact.email,
            contact=contact,
            from_email=from_email,
            reply_to=", ".join(reply_to),
            subject=subject,
            text=body,
            headers=headers,
            actor=user,
            route=route,
        )
        if outgoing.state != MessageState.SUPPRESSED:
            return _store_sent(
                actor=actor,
                contact=contact,
                thread=found,
                mailbox_id=mailbox_id,
                message_id=outgoing.message_id,
                in_reply_to=in_reply_to,
                references=references,
                from_address=from_address,
                subject=subject,
                body=body,
            )
    logger.info("e-mail to contact %s suppressed (%s)", contact.pk, outgoing.suppressed_reason)
    raise ValidationError({"to": [suppressed_message(outgoing)]})


def suppressed_message(outgoing: OutgoingMessage) -> str:
    reason = SuppressionReason(outgoing.suppressed_reason).label if outgoing.suppressed_reason else ""
    return _("%(address)s is on the suppression list (%(reason)s): nothing was sent.") % {
        "address": outgoing.to_address,
        "reason": reason,
    }


@transaction.atomic
def _store_sent(
    *,
    actor: Membership,
    contact: Contact,
    thread: EmailThread | None,
    mailbox_id: int | None,
    message_id: str,
    in_reply_to: str,
    references: list[str],
    from_address: str,
    subject: str,
    body: str,
) -> EmailMessage:
    now = timezone.now()
    if thread is None:
        thread = EmailThread.objects.create(
            organization=actor.organization,
            subject=subject,
            normalized_subject=normalize_subject(subject),
            last_message_at=now,
        )
    message = EmailMessage.objects.create(
        organization=actor.organization,
        thread=thread,
        mailbox_id=mailbox_id,
        direction=EmailMessage.Direction.OUTBOUND,
        message_id=message_id,
        in_reply_to=in_reply_to,
        references=references,
        from_address=from_address,
        from_name=actor.user.full_name[:200],
        to=[contact.email],
        subject=subject,
        text_body=body,
        sent_at=now,
        sent_by=actor.user,
    )
    message.contacts.add(contact)
    thread.contacts.add(contact)
    thread_refresh(thread)
    emit(
        organization=actor.organization,
        type="email.sent",
        contact=contact,
        actor=actor.user,
        source="email",
        occurred_at=now,
        message_id=event_message_id(message_id, contact, True),
        properties={
            "subject": subject,
            "to": contact.email,
            "snippet": snippet(body),
            "thread_id": thread.pk,
            "email_message_id": message.pk,
        },
    )
    Contact.objects.filter(pk=contact.pk).update(last_activity_at=now)
    return message
