"""Template context of the messaging layer: the bell's unread count in the navigation bar."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from vinculo.messaging.models import Notification


def notifications(request: HttpRequest) -> dict[str, Any]:
    """`notification_unread_count`: the member's unread notifications in the current organisation;
    one indexed count (recipient, organisation, read_at), made only when a template reads it (a
    template calls a callable: `{% with n=notification_unread_count %}`)."""
    org = getattr(request, "org", None)
    user = getattr(request, "user", None)
    if org is None or user is None or not user.is_authenticated:
        return {}

    def count() -> int:
        return Notification.dangerously_unscoped.filter(
            recipient_id=user.pk, organization_id=org.pk, read_at__isnull=True
        ).count()

    return {"notification_unread_count": count}
