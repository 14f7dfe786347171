"""Reads of the Outbox page: the organisation's outgoing mail as its members may see it.

Owners and admins see all of the organisation's mail; any other member sees the mail they sent
and the mail sent to them (reminders, notifications). Anything else — another organisation's
message, install-level mail, a message they may not see — answers 404, the same as a missing one.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from vinculo.accounts.models import Membership
from vinculo.accounts.permissions import can_manage_org
from vinculo.messaging.models import MessageState, OutgoingAttachment, OutgoingMessage

# the filters of the page: every message, or those in one state
OUTBOX_FILTERS = ("all", MessageState.OUTBOX, MessageState.FAILED, MessageState.QUEUED, MessageState.SENT)


def outbox_queryset(*, actor: Membership) -> QuerySet[OutgoingMessage]:
    rows = OutgoingMessage.objects.filter(organization_id=actor.organization_id)
    if not can_manage_org(actor):
        rows = rows.filter(Q(created_by_id=actor.user_id) | Q(to_address=actor.user.email.strip().lower()))
    return rows


def outbox_list(*, actor: Membership, state: str = "all") -> QuerySet[OutgoingMessage]:
    """Newest first, in `state` (one of OUTBOX_FILTERS; "all" or anything else: every state)."""
    rows = outbox_queryset(actor=actor)
    if state in OUTBOX_FILTERS and state != "all":
        rows = rows.filter(state=state)
    return rows.select_related("created_by").order_by("-created_at", "-id")


def outbox_counts(*, actor: Membership) -> dict[str, int]:
    """How many of the member's visible messages are kept and how many failed (the page's tabs)."""
    rows = outbox_queryset(actor=actor).filter(state__in=[MessageState.OUTBOX, MessageState.FAILED])
    counts = {MessageState.OUTBOX.value: 0, MessageState.FAILED.value: 0}
    for row in rows.order_by().values("state").annotate(n=Count("id")):
        counts[row["state"]] = row["n"]
    return counts


def outbox_message_get(*, actor: Membership, pk: Any) -> OutgoingMessage:
    try:
        return outbox_queryset(actor=actor).select_related("created_by", "contact").get(pk=int(pk))
    except (OutgoingMessage.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise Http404 from exc


def outbox_attachments(message: OutgoingMessage) -> list[OutgoingAttachment]:
    return list(OutgoingAttachment.objects.filter(message_id=message.pk, organization_id=message.organization_id or 0))


def outbox_attachment_get(*, actor: Membership, pk: Any) -> OutgoingAttachment:
    """A file of a message the member may see in the outbox; 404 otherwise."""
    try:
        return (
            OutgoingAttachment.objects.filter(
                organization_id=actor.organization_id, message__in=outbox_queryset(actor=actor)
            )
            .select_related("message")
            .get(pk=int(pk))
        )
    except (OutgoingAttachment.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise Http404 from exc
