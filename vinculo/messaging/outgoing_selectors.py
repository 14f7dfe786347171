"""Reads of outgoing e-mail for the pages that show what was sent (the e-mail threads, the files
sent with a message)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.http import Http404
from django_scopes import scope

from vinculo.accounts.models import Membership, Organization
from vinculo.contacts.selectors import contact_queryset
from vinculo.messaging.models import OutgoingAttachment, OutgoingMessage


def outgoing_by_message_id(*, organization: Organization, message_ids: Iterable[str]) -> dict[str, OutgoingMessage]:
    """The organisation's outgoing rows with these Message-IDs (one query), by Message-ID: how a
    thread's message learns whether it has really gone out."""
    wanted = [m for m in set(message_ids) if m]
    if not wanted:
        return {}
    with scope(organization=organization):
        rows = OutgoingMessage.objects.filter(organization=organization, message_id__in=wanted).only(
            "message_id", "state", "last_error", "attempts", "next_attempt_at", "suppressed_reason", "created_by"
        )
        return {row.message_id: row for row in rows}


def outgoing_attachment_list(message: OutgoingMessage) -> list[dict[str, Any]]:
    """The message's files as a timeline entry lists them (vinculo/contacts/attachments.py): id,
    name, type, size, and where they are downloaded from (`outgoing`)."""
    rows = OutgoingAttachment.dangerously_unscoped.filter(message_id=message.pk)
    return [
        {"source": "outgoing", "id": row.pk, "name": row.filename, "type": row.mimetype, "size": row.size}
        for row in rows.order_by("id")
    ]


def outgoing_attachment_get(*, actor: Membership, pk: Any) -> OutgoingAttachment:
    """A file sent with a message, for a member who may see the message's contact; 404 when it is
    missing, of another organisation, of install-level mail, or of a contact they may not see."""
    visible = contact_queryset(actor=actor)
    try:
        return (
            OutgoingAttachment.objects.filter(
                organization_id=actor.organization_id,
                message__organization_id=actor.organization_id,
                message__contact__in=visible,
            )
            .select_related("message")
            .get(pk=int(pk))
        )
    except (OutgoingAttachment.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise Http404 from exc
