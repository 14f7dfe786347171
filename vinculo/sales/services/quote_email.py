"""A quote e-mailed as a PDF from its page or the API: an outgoing message (vinculo.messaging)
with the PDF attached, queued in the same transaction that marks the quote as sent and puts
`quote.sent` on the timeline. Apart from `documents` because the PDF module imports it."""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import formataddr
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _
from django_scopes import scope

from vinculo.accounts.models import Membership
from vinculo.accounts.permissions import require_write
from vinculo.core.audit import audit_update, diff, snapshot
from vinculo.messaging.models import MessageKind, MessageState, OutgoingMessage, SuppressionReason
from vinculo.messaging.outgoing_selectors import outgoing_attachment_list
from vinculo.messaging.services.outgoing import Attachment, message_queue
from vinculo.messaging.transports import member_route
from vinculo.sales import pdf
from vinculo.sales.models import Quote, QuoteStatus
from vinculo.sales.services.documents import (
    DOCUMENT_AUDITED,
    DocumentConflict,
    emit_document_event,
    lock_quote,
    quote_properties,
)

Errors = dict[str, list[str]]

MAX_EMAIL_SUBJECT = 300
MAX_EMAIL_MESSAGE = 20_000


@dataclass
class QuoteEmailed:
    """A quote e-mailed: the quote (sent now, if it was a draft) and its queued outgoing message."""

    quote: Quote
    message: OutgoingMessage


def _clean_key(value: Any) -> str:
    key = value.strip() if isinstance(value, str) else ""
    if len(key) > 100 or not key.isprintable():
        raise ValidationError({"idempotency_key": [_("At most %(n)s characters.") % {"n": 100}]})
    return key


def quote_email_defaults(*, actor: Membership, quote: Quote) -> dict[str, str]:
    """What the "Send by e-mail" form offers: the quote's contact's address, a subject, a note."""
    contact = quote.contact
    name = contact.first_name if contact is not None else ""
    greeting = _("Hello %(name)s,") % {"name": name} if name else _("Hello,")
    body = _("Please find attached our quote %(number)s.") % {"number": quote.number}
    return {
        "to": contact.email if contact is not None else "",
        "subject": _("Quote %(number)s from %(org)s") % {"number": quote.number, "org": actor.organization.name},
        "message": f"{greeting}\n\n{body}\n\n{actor.user.full_name}\n",
    }


def _clean_quote_email(to: Any, subject: Any, message: Any) -> tuple[str, str, str]:
    errors: Errors = {}
    to = to.strip() if isinstance(to, str) else ""
    try:
        validate_email(to)
    except ValidationError:
        errors["to"] = [_("Enter a valid e-mail address.")]
    subject = subject.strip() if isinstance(subject, str) else ""
    if not subject:
        errors["subject"] = [_("This field is required.")]
    elif len(subject) > MAX_EMAIL_SUBJECT:
        errors["subject"] = [_("At most %(n)s characters.") % {"n": MAX_EMAIL_SUBJECT}]
    elif any(ch in subject for ch in "\r\n\x00"):
        errors["subject"] = [_("Write the subject on one line.")]
    message = message.replace("\r\n", "\n") if isinstance(message, str) else ""
    if len(message) > MAX_EMAIL_MESSAGE:
        errors["message"] = [_("At most %(n)s characters.") % {"n": MAX_EMAIL_MESSAGE}]
    if errors:
        raise ValidationError(errors)
    return to, subject, message


def quote_email(
    *, actor: Membership, quote: Quote, to: Any, subject: Any, message: Any, idempotency_key: Any = ""
) -> QuoteEmailed:
    """E-mail the quote as a PDF attachment: queue an outgoing message, mark a draft as sent, and
    put `quote.sent` on the timeline with the address and the attachment.

    It leaves by the member's route (vinculo/messaging/transports.py): through the SMTP server of
    their own mailbox, or of the organisation's default sender, From that mailbox's address with
    the member's name; without one, through the install's relay From the install, Reply-To the
    member.

    An accepted or declined quote is refused (DocumentConflict). An address on the suppression
    list is refused with its reason (ValidationError on `to`); the outgoing row is kept as a
    record (state `suppressed`) and the quote does not change.

    `idempotency_key` (the form's, or an API client's): the same key for the same quote e-mails
    once; sending it again returns the first message and writes nothing (a double click, a retried
    request).
    """
    require_write(actor)
    to, subject, message = _clean_quote_email(to, subject, message)
    key = _clean_key(idempotency_key)
    with transaction.atomic():
        quote = lock_quote(quote)
        if key:  # under the quote's lock: two requests with one key cannot both pass
            key = f"quote:{quote.pk}:{key}"
            with scope(organization=quote.organization):
                earlier = OutgoingMessage.objects.filter(organization=quote.organization, idempotency_key=key).first()
            if earlier is not None:
                return QuoteEmailed(quote=quote, message=earlier)
        if quote.status not in (QuoteStatus.DRAFT, QuoteStatus.SENT):
            raise DocumentConflict(
                _("Only a draft or sent quote can be e-mailed; this quote is %(status)s.")
                % {"status": quote.get_status_display().lower()}
            )
        user = actor.user
        contact = quote.contact
        route = member_route(organization=quote.organization, user=user)
        outgoing = message_queue(
            organization=quote.organization,
            kind=MessageKind.ONE_OFF,
            to=to,
            contact=contact,
            from_email=formataddr((user.full_name, route.address)) if route.address else "",
            reply_to="" if route.address else formataddr((user.full_name, user.email)),
            route=route,
            subject=subject,
            text=message,
            language=(contact.language if contact is not None else "") or quote.organization.language,
            attachments=[
                Attachment(
                    filename=pdf.filename(quote.number),
                    content=pdf.quote_pdf(quote=quote, organization=quote.organization),
                    mimetype="application/pdf",
                )
            ],
            idempotency_key=key,
            actor=user,
        )
        if outgoing.state != MessageState.SUPPRESSED:
            if quote.status == QuoteStatus.DRAFT:
                before = snapshot(quote, DOCUMENT_AUDITED)
                quote.status = QuoteStatus.SENT
                quote.save(update_fields=["status", "updated_at"])
                audit_update(
                    instance=quote,
                    actor=user,
                    changes=diff(before, snapshot(quote, DOCUMENT_AUDITED)),
                    organization=actor.organization,
                )
            properties = {
                **quote_properties(quote),
                "to": outgoing.to_address,
                "outgoing_message_id": outgoing.pk,
                "attachments": outgoing_attachment_list(outgoing),
            }
            emit_document_event(quote, actor, "quote.sent", properties)
            return QuoteEmailed(quote=quote, message=outgoing)
    reason = SuppressionReason(outgoing.suppressed_reason).label
    raise ValidationError(
        {
            "to": [
                _("%(address)s is on the suppression list (%(reason)s): nothing was sent.")
                % {"address": outgoing.to_address, "reason": reason}
            ]
        }
    )
