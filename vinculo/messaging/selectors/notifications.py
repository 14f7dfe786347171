"""Reads of a member's notifications: the bell's unread count and latest few, the paginated list,
and their channel per kind. Always the member's own, in the active organisation's scope."""

from __future__ import annotations

from typing import Literal

from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet

from vinculo.accounts.models import Membership
from vinculo.core.pagination import Page, paginate
from vinculo.messaging.models import Notification, NotificationPreference
from vinculo.messaging.notification_kinds import NotificationChannel, notification_kind_list

BELL_SIZE = 8
Order = Literal["newest", "unread"]


def notification_queryset(*, actor: Membership) -> QuerySet[Notification]:
    """The member's notifications in this organisation (another member's are not found: 404)."""
    return Notification.objects.filter(recipient_id=actor.user_id)


def notification_unread_count(*, actor: Membership) -> int:
    """One indexed count (recipient, organisation, read_at)."""
    return notification_queryset(actor=actor).filter(read_at__isnull=True).count()


def notification_latest(*, actor: Membership, limit: int = BELL_SIZE) -> list[Notification]:
    return list(notification_queryset(actor=actor).select_related("actor").order_by("-created_at", "-id")[:limit])


def notification_list(
    *, actor: Membership, order: Order = "newest", unread_only: bool = False, page: int = 1, per_page: int = 25
) -> Page:
    """Newest first, or the unread ones first (each part newest first)."""
    queryset = notification_queryset(actor=actor).select_related("actor")
    if unread_only:
        queryset = queryset.filter(read_at__isnull=True)
    if order == "unread":
        unread = ExpressionWrapper(Q(read_at__isnull=True), output_field=BooleanField())
        queryset = queryset.annotate(unread=unread).order_by("-unread", "-created_at", "-id")
    else:
        queryset = queryset.order_by("-created_at", "-id")
    return paginate(queryset, page=page, per_page=per_page)


def notification_preferences(*, actor: Membership) -> dict[str, str]:
    """Every kind's channel for the member: their choice, else the kind's default."""
    chosen = dict(NotificationPreference.objects.filter(user_id=actor.user_id).values_list("kind", "channel"))
    return {
        kind.key: chosen[kind.key] if chosen.get(kind.key) in NotificationChannel.values else kind.default_channel
        for kind in notification_kind_list()
    }
