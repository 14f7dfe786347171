"""What sales tells its members (vinculo/messaging/services/notifications.py): a deal or an activity
given to them by someone else, and the reminder of an activity (its own kind, declared here)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vinculo.accounts.models import User
from vinculo.messaging.notification_kinds import NotificationChannel, NotificationKind, register_notification_kind
from vinculo.messaging.services.notifications import notify, notify_assigned
from vinculo.sales.models import Activity, Deal

REMINDER = "reminder"


def _reminder_values(values: dict[str, Any]) -> dict[str, Any]:
    """The activity's time in the reader's time zone (the active one)."""
    try:
        due = dt.datetime.fromisoformat(str(values.get("due_at") or ""))
    except ValueError:
        return values
    return {**values, "time": timezone.localtime(due).strftime("%H:%M")}


def register() -> None:
    """Declare the reminder kind (from SalesConfig.ready())."""
    register_notification_kind(
        NotificationKind(
            key=REMINDER,
            label=_("Activity reminders"),
            description=_("An activity of mine is about to begin (its reminder time has come)."),
            sentences={"": _("Reminder: %(record)s at %(time)s")},
            # the reminder was an e-mail before it was a notification: both, until the member chooses
            default_channel=NotificationChannel.BOTH,
            icon="bi-alarm",
            order=30,
            prepare=_reminder_values,
        )
    )


def notify_deal_assigned(*, deal: Deal, actor: User | None, event_id: int) -> None:
    """The deal's owner, when someone else made them its owner (a rule counts: `actor` is who
    created the deal)."""
    notify_assigned(
        organization=deal.organization,
        recipient=deal.owner_id,
        actor=actor,
        record="deal",
        name=deal.title,
        url=reverse("sales:deal_detail", args=[deal.organization.slug, deal.pk]),
        key=f"assigned:event:{event_id}",
    )


def notify_activity_assigned(*, activity: Activity, actor: User | None, cause: str) -> None:
    """The activity's assignee, when someone else put it in their agenda; `cause` tells this
    assignment from another of the same activity (its version)."""
    notify_assigned(
        organization=activity.organization,
        recipient=activity.assignee_id,
        actor=actor,
        record="activity",
        name=activity.subject,
        url=reverse("sales:activity_detail", args=[activity.organization.slug, activity.pk]),
        key=f"assigned:activity:{activity.pk}:{cause}",
    )


def notify_reminder(*, activity: Activity, mail: Callable[[], object]) -> None:
    """The reminder of an activity to its assignee: in the app, and/or `mail` (the reminder e-mail)."""
    notify(
        organization=activity.organization,
        recipient=activity.assignee,
        kind=REMINDER,
        key=f"reminder:{activity.pk}:{activity.due_at.isoformat()}",
        url=reverse("sales:activity_detail", args=[activity.organization.slug, activity.pk]),
        params={"record": activity.subject, "due_at": activity.due_at.isoformat()},
        mail=mail,
    )
