"""What notifies members of what happens below messaging, where nothing can call it directly:

- the event log's consumer `messaging.notifications` (delivered durably and exactly once,
  docs/adr/0005): a contact or company given to a member by someone else (`*.created` with an
  owner, `*.updated` that changed it), and the members mentioned with @ in a new note;
- the outgoing-mail worker's failure listener: an e-mail that failed for good is told to the member
  who wrote it, or, for system mail to a member (a reminder), to that member, in the app.

Sales and touchpoints, above messaging, call `services.notifications.notify` themselves. The
consumer name is stored in the outbox rows: do not rename it.
"""

from __future__ import annotations

from django.urls import reverse

from vinculo.accounts.models import Membership
from vinculo.contacts.models import Company, Contact, LifecycleStage, Note
from vinculo.contacts.selectors import company_queryset, contact_queryset
from vinculo.core.consumers import register_consumer
from vinculo.core.models import Event
from vinculo.messaging.failed_mail import register_failure_listener
from vinculo.messaging.mentions import mentioned_members
from vinculo.messaging.models import MessageKind, OutgoingMessage
from vinculo.messaging.notification_kinds import MAIL_FAILED, MENTIONED
from vinculo.messaging.services.notifications import NOTIFICATION_MAIL_PREFIX, notify, notify_assigned

CONSUMER = "messaging.notifications"
EVENT_TYPES = ("contact.created", "contact.updated", "company.created", "company.updated", "note.added")


def _via(event: Event) -> str:
    return str((event.properties or {}).get("via") or "")


def notify_on_event(event: Event) -> None:
    """Runs in the event's organisation scope (the delivery's savepoint)."""
    if event.type == "note.added":
        _mentions(event)
    elif event.type.startswith(("contact.", "company.")):
        _assigned(event)


def _assigned(event: Event) -> None:
    """The record's new owner, unless they did it themselves; a web form's new contact is told as
    a lead from the form (touchpoints) instead."""
    owner_id = (event.properties or {}).get("owner_id")
    if not owner_id or (event.actor_id is not None and event.actor_id == owner_id):
        return
    if _via(event).startswith("web_form:"):
        return
    org = event.organization
    if event.type.startswith("contact."):
        contact = Contact.objects.filter(pk=event.contact_id).first() if event.contact_id else None
        if contact is None:
            return
        record = "lead" if contact.lifecycle_stage == LifecycleStage.LEAD else "contact"
        name, url = str(contact), reverse("contacts:contact_detail", args=[org.slug, contact.pk])
    else:
        company = Company.objects.filter(pk=event.company_id).first() if event.company_id else None
        if company is None:
            return
        record, name = "company", company.name
        url = reverse("contacts:company_detail", args=[org.slug, company.pk])
    notify_assigned(
        organization=org,
        recipient=owner_id,
        actor=event.actor,
        via=_via(event),  # an automatic write: the notification says what did it
        record=record,
        name=name,
        url=url,
        key=f"assigned:event:{event.pk}",
    )


def _mentions(event: Event) -> None:
    """Each member the note mentions (not its author), when they may see its contact or company."""
    note_id = (event.properties or {}).get("note_id")
    if not isinstance(note_id, int):
        return
    note = Note.objects.filter(pk=note_id).select_related("contact", "company", "author").first()
    if note is None:
        return
    org = event.organization
    if note.contact_id is not None:
        subject: Contact | Company = note.contact  # type: ignore[assignment]
        url = reverse("contacts:contact_detail", args=[org.slug, note.contact_id])
    else:
        subject = note.company  # type: ignore[assignment]
        url = reverse("contacts:company_detail", args=[org.slug, note.company_id])
    for membership in mentioned_members(organization_id=org.pk, text=note.body):
        if membership.user_id == note.author_id or not _may_see(membership, subject):
            continue
        notify(
            organization=org,
            recipient=membership.user,
            kind=MENTIONED,
            key=f"mention:note:{note.pk}",
            url=f"{url}#note-{note.pk}",
            params={"record": str(subject), "detail": note.body[:140]},
            actor=note.author,
        )


def _may_see(membership: Membership, subject: Contact | Company) -> bool:
    if isinstance(subject, Contact):
        return contact_queryset(actor=membership).filter(pk=subject.pk).exists()
    return company_queryset(actor=membership).filter(pk=subject.pk).exists()


def notify_failed_message(message: OutgoingMessage) -> None:
    """An e-mail that failed for good (told after its failure is stored): its writer is told, or the
    member it was for (system mail), with a link to the message in the outbox (its reason and a
    retry). A failed notification e-mail is told in the app only (never by another e-mail)."""
    reason = message.last_error
    if message.organization_id is None:
        return
    recipient_id = message.created_by_id
    org_members = Membership.objects.filter(organization_id=message.organization_id).select_related("organization")
    if recipient_id is None and message.kind == MessageKind.SYSTEM:
        member = org_members.filter(user__email__iexact=message.to_address).first()
        recipient_id = member.user_id if member is not None else None
    membership = org_members.filter(user_id=recipient_id).first() if recipient_id else None
    if membership is None:
        return
    org = membership.organization
    url = reverse("messaging:outbox_message", args=[org.slug, message.pk])
    to_self = message.to_address.lower() == membership.user.email.lower()
    notify(
        organization=org,
        recipient=membership.user,
        kind=MAIL_FAILED,
        key=f"mail_failed:{message.pk}",
        url=url,
        params={"subject": message.subject[:200], "to": message.to_address, "detail": reason[:300]},
        email_allowed=not to_self and not message.idempotency_key.startswith(NOTIFICATION_MAIL_PREFIX),
    )


def register() -> None:
    register_consumer(name=CONSUMER, patterns=EVENT_TYPES, handler=notify_on_event)
    register_failure_listener(notify_failed_message)
