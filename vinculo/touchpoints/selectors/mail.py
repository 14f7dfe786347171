"""Reads of the e-mail integration: mailboxes (a member sees the shared ones and their own, never
another member's), threads, messages and their attachments (seen by whoever may see one of their
contacts: the same rule as the thread page)."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404

from vinculo.accounts.models import Membership
from vinculo.accounts.permissions import can_write
from vinculo.contacts.models import Contact
from vinculo.contacts.panels import Panel, register_panel
from vinculo.contacts.selectors import contact_queryset
from vinculo.messaging.attachments import Download
from vinculo.touchpoints.models import EmailAttachment, EmailMessage, EmailThread, Mailbox


def mailbox_queryset(*, actor: Membership) -> QuerySet[Mailbox]:
    return Mailbox.objects.filter(Q(user__isnull=True) | Q(user_id=actor.user_id)).select_related("user")


def mailbox_get(*, actor: Membership, pk: Any) -> Mailbox:
    """The mailbox, or 404 when missing, of another organisation or another member's own."""
    try:
        return mailbox_queryset(actor=actor).get(pk=int(pk))
    except (Mailbox.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise Http404 from exc


def sending_mailbox(*, actor: Membership) -> Mailbox | None:
    """The member's own active mailbox, whose address their e-mails are sent from."""
    return Mailbox.objects.filter(user_id=actor.user_id, is_active=True).order_by("id").first()


def sending_mailbox_for(*, organization_id: int, user_id: int) -> Mailbox | None:
    """The mailbox whose SMTP server sends what this member writes: their own that sends, else the
    organisation's default sender (a shared mailbox), else None (the install's relay)."""
    senders = Mailbox.objects.filter(organization_id=organization_id).exclude(smtp_host="").order_by("id")
    own = senders.filter(user_id=user_id).first()
    return own if own is not None else senders.filter(user__isnull=True, is_default_sender=True).first()


def email_thread_queryset(*, actor: Membership) -> QuerySet[EmailThread]:
    """Threads with at least one contact the actor may see."""
    visible = contact_queryset(actor=actor).filter(email_threads=OuterRef("pk"))
    return EmailThread.objects.filter(Exists(visible))


def email_thread_list(*, actor: Membership, contact: Contact | None = None) -> QuerySet[EmailThread]:
    threads = email_thread_queryset(actor=actor)
    if contact is not None:
        threads = threads.filter(contacts=contact)
    return threads.prefetch_related("contacts").order_by("-last_message_at", "-id")


def email_thread_get(*, actor: Membership, pk: Any) -> EmailThread:
    """The thread with its messages (oldest first) and their contacts, or 404."""
    messages = (
        EmailMessage.objects.select_related("sent_by", "mailbox")
        .prefetch_related("attachments")
        .order_by("sent_at", "id")
    )
    try:
        return (
            email_thread_queryset(actor=actor)
            .prefetch_related(Prefetch("messages", queryset=messages), "contacts")
            .get(pk=int(pk))
        )
    except (EmailThread.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise Http404 from exc


def email_message_get(*, actor: Membership, pk: Any) -> EmailMessage:
    try:
        return (
            EmailMessage.objects.filter(thread__in=email_thread_queryset(actor=actor))
            .select_related("thread", "sent_by")
            .prefetch_related("contacts", "attachments")
            .get(pk=int(pk))
        )
    except (EmailMessage.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise Http404 from exc


def email_attachment_get(*, actor: Membership, pk: Any) -> EmailAttachment:
    """A kept attachment of an e-mail the actor may see (one of its thread's contacts is visible to
    them); 404 when missing, not kept, of another organisation or of contacts they may not see."""
    try:
        return (
            EmailAttachment.objects.filter(message__thread__in=email_thread_queryset(actor=actor))
            .exclude(file="")
            .get(pk=int(pk))
        )
    except (EmailAttachment.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise Http404 from exc


def email_attachment_download(attachment: EmailAttachment) -> Download:
    """The stored file, to hand out as a download (vinculo.messaging.attachments.attachment_response);
    404 when the file is missing from storage."""
    try:
        stream = attachment.file.open("rb")
    except OSError as exc:
        raise Http404 from exc
    return Download(filename=attachment.filename, content_type=attachment.content_type, stream=stream)


# --- the "E-mail" panel on a contact's page ---------------------------------------------------------

PANEL_ROWS = 5


def email_panel(request: Any, record: Contact) -> dict[str, Any]:
    """The contact's latest conversations and the "Write" button (registered by register())."""
    actor = request.membership
    threads = list(
        email_thread_queryset(actor=actor).filter(contacts=record).order_by("-last_message_at", "-id")[:PANEL_ROWS]
    )
    return {"record": record, "threads": threads, "can_write": can_write(actor)}


def register() -> None:
    register_panel(
        "contact", Panel(name="touchpoints.email", template="touchpoints/mail/panel.html", loader=email_panel, order=15)
    )
